"""The experiment loop end to end: the example notebook run twice through the prov kernel with
nbclient, differing only in its parameter C, then compared with `provctl diff` and followed
with `provctl values` and `provctl plot`.

The notebook (examples/churn_regularisation.ipynb) sets C and seed, tags C, accuracy, model and
data, builds a seeded DataFrame, fits a logistic regression with C and plots its coefficients.
Reading its code gives what must differ when only C does: C itself, what was computed from
it (model, accuracy, the coefficients and the figure), and nothing else.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import EXAMPLES_DIR, KERNEL_NAME, REPO_ROOT
from test_store import provctl, provctl_json

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import run_notebooks  # noqa: E402

pytestmark = pytest.mark.prov

NOTEBOOK = EXAMPLES_DIR / "churn_regularisation.ipynb"
FIRST_C, SECOND_C = 1.0, 0.01

# Names the second run's C reaches, read off the notebook's code.
DEPEND_ON_C = {"C", "model", "accuracy", "coef", "fig", "ax"}
# Names computed without C: the same in both runs.
INDEPENDENT = {"seed", "rng", "n", "data", "logit", "features", "X_train", "X_test",
               "y_train", "y_test", "scaler"}


def run_experiment(db: Path, cwd: Path, monkeypatch, c: float | None) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if c is not None:
        assert run_notebooks.apply_params(nb, [("C", repr(c))], NOTEBOOK)
    monkeypatch.setenv("PROV_DB", str(db))
    monkeypatch.setenv("JPY_SESSION_NAME", str(NOTEBOOK))
    # As run_notebooks.py --name-trials does: the kernel names its trial after the parameters.
    monkeypatch.setenv("PROV_TRIAL_NAME", run_notebooks.parameters_name(nb))
    NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=120, startup_timeout=60,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def printed_accuracy(nb: nbformat.NotebookNode) -> float:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if "test accuracy" in text:
                return float(text.rsplit(" ", 1)[1])
    raise AssertionError("the notebook printed no accuracy")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The notebook as it is (C = 1.0), then with C = 0.01, into one store."""
    tmp = tmp_path_factory.mktemp("experiment")
    db = tmp / "prov.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        first = run_experiment(db, tmp, monkeypatch, None)
        second = run_experiment(db, tmp, monkeypatch, SECOND_C)
    return db, first, second


def test_diff_reports_exactly_the_parameter_and_what_depends_on_it(two_runs):
    db, first, second = two_runs
    assert printed_accuracy(first) != printed_accuracy(second), "pick C values that matter"
    diff = provctl_json(db, "diff", "1", "2")
    assert (diff["left"]["id"], diff["right"]["id"]) == (1, 2)

    by_name = {v["name"]: v for v in diff["values"]}
    changed = {name for name, v in by_name.items() if v["status"] == "changed"}
    assert changed == DEPEND_ON_C, json.dumps(diff["values"], indent=1)[:4000]
    assert all(v["status"] != "equal" for v in diff["values"]), "no equal entries without --all"
    assert by_name["C"]["left"] == FIRST_C and by_name["C"]["right"] == SECOND_C
    assert by_name["accuracy"]["left"] == pytest.approx(printed_accuracy(first), abs=1e-3)
    assert by_name["accuracy"]["right"] == pytest.approx(printed_accuracy(second), abs=1e-3)

    # The code differs in the parameters cell only: one replaced execution, In[1] for In[1].
    assert [(op["op"], op["left"], op["right"]) for op in diff["code"]] == [("replace", [1], [1])]
    # Same packages, same Python: nothing to report.
    assert diff["environment"] == []


def test_diff_all_lists_the_equal_values_too(two_runs):
    db, _, _ = two_runs
    diff = provctl_json(db, "diff", "1", "2", "--all")
    status = {v["name"]: v["status"] for v in diff["values"]}
    assert {n for n, s in status.items() if s == "changed"} == DEPEND_ON_C
    assert INDEPENDENT <= {n for n, s in status.items() if s == "equal"}
    ops = [op["op"] for op in diff["code"]]
    assert ops.count("replace") == 1 and "equal" in ops


def test_diff_text_names_the_parameter_and_the_accuracy(two_runs):
    db, _, _ = two_runs
    text = provctl(db, "diff", "1", "2").stdout
    assert "-C = 1.0" in text and "+C = 0.01" in text, text
    assert "accuracy" in text


def test_tagged_values_follow_the_trials(two_runs):
    db, first, second = two_runs
    values = provctl_json(db, "values", "accuracy")
    assert [v["trial"] for v in values] == [1, 2]
    assert [v["value"] for v in values] == pytest.approx(
        [printed_accuracy(first), printed_accuracy(second)], abs=1e-3)
    assert all(v["type"] == "float" for v in values)

    plot = db.parent / "accuracy.svg"
    provctl(db, "plot", "accuracy", "-o", str(plot))
    root = ET.parse(plot).getroot()
    assert root.tag.endswith("svg")
    labels = "".join(root.itertext())
    assert "C=1.0, seed=7" in labels and "C=0.01, seed=7" in labels, labels


def test_runs_are_named_after_their_parameters(two_runs):
    db, _, _ = two_runs
    names = [t["name"] for t in provctl_json(db, "trials")]
    assert names == ["C=1.0, seed=7", "C=0.01, seed=7"]
    # The names work wherever a trial is asked for.
    diff = provctl_json(db, "diff", "C=1.0, seed=7", "C=0.01, seed=7")
    assert (diff["left"]["id"], diff["right"]["id"]) == (1, 2)
