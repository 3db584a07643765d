"""Each check fires on a notebook built to trigger it, and stays silent on its twin, through the
real python-prov kernel run by nbclient (cells with ids, as a notebook server sends them): the
rules that `test_checks.py` does not already cover that way (numeric-trouble,
unseeded-randomness, expectation-failed, expectation-not-reached). Every notebook's findings
are read with `provctl check --json`, and a twin must give none at all (`--strict` exits 0)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import KERNEL_NAME
from test_store import provctl

pytestmark = pytest.mark.prov


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def run(nb: nbformat.NotebookNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        times: int = 1) -> list[dict]:
    """Runs `nb` `times` times (a trial each, the same cell ids) into one store; the findings of
    the last trial."""
    db = tmp_path / "prov.db"
    monkeypatch.setenv("PROV_DB", str(db))
    for _ in range(times):
        NotebookClient(copy.deepcopy(nb), kernel_name=KERNEL_NAME, timeout=60,
                       startup_timeout=60, allow_errors=True,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    result = provctl(db, "check", "--json", "--strict", check=False)
    found = json.loads(result.stdout)
    assert result.returncode == (1 if found else 0), result.stderr
    return found


def rules(found: list[dict]) -> list[str]:
    return [f["rule"] for f in found]


def test_a_tagged_array_gaining_nan_and_inf_is_numeric_trouble(tmp_path, monkeypatch):
    found = run(notebook("import numpy as np", "%tag_var z",
                         "x = np.array([1.0, 0.0, -1.0])",
                         "with np.errstate(all='ignore'):\n    z = np.log(x)"),
                tmp_path, monkeypatch)
    assert rules(found) == ["numeric-trouble"], found
    assert found[0]["executions"] == [4]
    assert "`z` now holds 1 NaN, -inf values" in found[0]["message"], found[0]["message"]


def test_a_finite_tagged_array_is_not(tmp_path, monkeypatch):
    found = run(notebook("import numpy as np", "%tag_var z",
                         "x = np.array([1.0, 2.0, 3.0])",
                         "with np.errstate(all='ignore'):\n    z = np.log(x)"),
                tmp_path, monkeypatch)
    assert found == []


def test_a_constant_column_of_a_tagged_frame_is_numeric_trouble(tmp_path, monkeypatch):
    found = run(notebook("import pandas as pd", "%tag_var df",
                         "df = pd.DataFrame({'a': [1, 2, 3], 'b': [5, 5, 5]})"),
                tmp_path, monkeypatch)
    assert rules(found) == ["numeric-trouble"], found
    assert "column `b` of `df` holds one value in every row" in found[0]["message"]


def test_a_frame_whose_columns_vary_is_not(tmp_path, monkeypatch):
    found = run(notebook("import pandas as pd", "%tag_var df",
                         "df = pd.DataFrame({'a': [1, 2, 3], 'b': [5, 6, 7]})"),
                tmp_path, monkeypatch)
    assert found == []


RANDOM = ("import random", "%tag_var acc", "acc = random.random()", "print(round(acc, 6))")


def test_a_notebook_run_twice_with_unseeded_randomness(tmp_path, monkeypatch):
    found = run(notebook(*RANDOM), tmp_path, monkeypatch, times=2)
    assert rules(found) == ["unseeded-randomness"], found
    message = found[0]["message"]
    assert message.startswith("trial 2 ran the same code on the same input files in the same "
                              "environment as trial 1, yet `acc` ("), message
    assert "and the output of In[4] differ" in message, message
    assert found[0]["executions"] == [3, 4]


def test_the_same_notebook_seeded_is_not(tmp_path, monkeypatch):
    seeded = (RANDOM[0] + "\nrandom.seed(0)",) + RANDOM[1:]
    found = run(notebook(*seeded), tmp_path, monkeypatch, times=2)
    assert found == []


def test_a_failing_assert_is_expectation_failed(tmp_path, monkeypatch):
    found = run(notebook("x = 0", "assert x > 0, 'x must be positive'"), tmp_path, monkeypatch)
    assert rules(found) == ["expectation-failed"], found
    assert found[0]["message"].startswith(
        "`assert x > 0, 'x must be positive'` failed in In[2] (line 1): x must be positive."
    ), found[0]["message"]
    assert found[0]["executions"] == [2]


def test_an_assert_that_passed_before_names_that_trial(tmp_path, monkeypatch):
    nb = notebook("x = 1", "assert x > 0, 'x must be positive'")
    assert run(nb, tmp_path, monkeypatch) == []
    nb.cells[0].source = "x = 0"
    found = run(nb, tmp_path, monkeypatch)
    assert rules(found) == ["expectation-failed"], found
    assert "It passed in trial 1: `%trial_diff 1 2`" in found[0]["message"], found[0]["message"]


def test_an_assert_below_an_error_is_expectation_not_reached(tmp_path, monkeypatch):
    found = run(notebook("rows = []", "mean = sum(rows) / len(rows)\nassert mean > 0"),
                tmp_path, monkeypatch)
    assert rules(found) == ["expectation-not-reached"], found
    assert found[0]["message"].startswith(
        "`assert mean > 0` (line 2) was not checked in In[2]: the cell stopped before it."
    ), found[0]["message"]


def test_asserts_that_ran_and_held_are_no_finding(tmp_path, monkeypatch):
    found = run(notebook("rows = [1, 2]", "mean = sum(rows) / len(rows)\nassert mean > 0"),
                tmp_path, monkeypatch)
    assert found == []
