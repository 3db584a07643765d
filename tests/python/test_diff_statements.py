"""The trial diff at statement level through real python-prov kernels (issue 12, point 1): a
house-price experiment with scikit-learn run twice, the second time with another `max_depth`,
set in the same cell as a seeded split and a literal feature list. `provctl diff` and
`%trial_diff` report the hyperparameter, the model, its predictions and their error as changed,
and nothing that merely shares a cell with the changed line; a cell of only prov magics is not
code of the experiment."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import KERNEL_NAME, run_magic, start_kernel, stop_kernel
from test_store import provctl, provctl_json, wait_for

pytestmark = pytest.mark.prov

CELLS = [
    "import numpy as np\n"
    "import pandas as pd\n"
    "from sklearn.model_selection import train_test_split\n"
    "from sklearn.tree import DecisionTreeRegressor\n"
    "from sklearn.metrics import mean_absolute_error",
    # Synthetic houses from a seeded generator.
    "rng = np.random.default_rng(42)\n"
    "n = 400\n"
    "houses = pd.DataFrame({\n"
    "    'sqft': rng.normal(1500, 400, n).round(),\n"
    "    'bedrooms': rng.integers(1, 6, n),\n"
    "    'age': rng.integers(0, 80, n),\n"
    "})\n"
    "houses['price'] = (50_000 + 120 * houses['sqft'] + 8_000 * houses['bedrooms']\n"
    "                   - 300 * houses['age'] + rng.normal(0, 20_000, n))",
    # The hyperparameter beside the features and the seeded split.
    "max_depth = {max_depth}\n"
    "features = ['sqft', 'bedrooms', 'age']\n"
    "X = houses[features]\n"
    "y = houses['price']\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)",
    "model = DecisionTreeRegressor(max_depth=max_depth, random_state=0)\n"
    "model.fit(X_train, y_train)\n"
    "predictions = model.predict(X_test)\n"
    "mae = mean_absolute_error(y_test, predictions)\n"
    "print(round(mae, 1))",
]

CHANGED = {"max_depth", "model", "predictions", "mae"}
UNCHANGED = {"X", "y", "X_train", "X_test", "y_train", "y_test", "features", "houses", "rng",
             "n", "np", "pd", "train_test_split", "DecisionTreeRegressor",
             "mean_absolute_error"}


def run_experiment(kernel, max_depth: int) -> float:
    printed = ""
    for code in CELLS:
        printed = kernel.run(code.replace("{max_depth}", str(max_depth)))
    return float(printed)


def executions(db: Path, trial: str) -> int:
    return provctl_json(db, "show", trial)["trial"]["executions"]


@pytest.fixture(params=["statements", "content"])
def two_depths(tmp_path: Path, request):
    """Trial 1 with max_depth 3, trial 2 with max_depth 6 and a cell of only prov magics; both
    kernels still running. Run twice: with the probe's content fingerprints off, so the
    statements alone judge the arrays and the model, and with them on (the default), where
    content judges them; the verdicts must be the same."""
    db = tmp_path / "prov.db"
    env = {"PROV_FINGERPRINT_BUDGET": "0"} if request.param == "statements" else {}
    first = start_kernel(KERNEL_NAME, db, cwd=tmp_path, env=env)
    second = None
    try:
        mae3 = run_experiment(first, 3)
        second = start_kernel(KERNEL_NAME, db, cwd=tmp_path, env=env)
        mae6 = run_experiment(second, 6)
        assert mae3 != mae6, "the depth should change the error"
        # prov's own cell, in the second trial only: not code of the experiment.
        reply, _ = second.execute("%tag_var mae\n%trials")
        assert reply["content"]["status"] == "ok", reply["content"]
        wait_for(lambda: executions(db, "1") >= len(CELLS)
                 and executions(db, "2") >= len(CELLS) + 1,
                 timeout=30, what="both trials recorded")
        yield second, db, request.param
    finally:
        for k in (second, first):
            if k is not None:
                stop_kernel(k)


def statuses(values: list[dict]) -> dict[str, str]:
    return {v["name"]: v["status"] for v in values}


def test_one_hyperparameter_diffs_to_what_is_computed_from_it(two_depths):
    second, db, judged_by = two_depths
    full = provctl_json(db, "diff", "1", "2", "--all")
    by_name = statuses(full["values"])
    assert UNCHANGED | CHANGED <= by_name.keys(), by_name
    changed = {name for name, status in by_name.items() if status != "equal"}
    assert changed == CHANGED, full["values"]
    compared_by = {v["name"]: v["compared_by"] for v in full["values"]}
    assert compared_by["max_depth"] == "value" and compared_by["mae"] == "value"
    if judged_by == "statements":
        # The model and the predictions are known by their types only: the statements decide.
        for name in ("model", "predictions", "X_train", "features", "np"):
            assert compared_by[name] == "dependencies", compared_by
    else:
        for name in ("model", "predictions", "X_train"):
            assert compared_by[name] == "content", compared_by
        assert compared_by["np"] == "dependencies", compared_by

    diff = provctl_json(db, "diff", "1", "2")
    assert {v["name"] for v in diff["values"]} == CHANGED, diff["values"]
    # The code: the changed cell, and no trace of the cell of prov magics.
    assert [op["op"] for op in diff["code"]] == ["replace"], diff["code"]
    unified = diff["code"][0]["unified"]
    assert "-max_depth = 3" in unified and "+max_depth = 6" in unified, unified
    assert all("%tag_var" not in (op.get("unified") or "") for op in diff["code"])
    text = provctl(db, "diff", "1", "2").stdout
    assert "X_train" not in text and "%trials" not in text, text

    # The magic in the second kernel says the same.
    answer = run_magic(second, "%trial_diff 1")
    assert statuses(answer.json["values"]) == statuses(diff["values"])
    assert answer.json["code"] == diff["code"]
    assert "X_train" not in answer["text/plain"], answer["text/plain"]
    everything = run_magic(second, "%trial_diff 1 --all")
    assert statuses(everything.json["values"]) == by_name
    # With --all, prov's own cell is listed too.
    assert any("%tag_var mae" in (op.get("unified") or "") for op in everything.json["code"])


def test_a_changed_line_taints_only_its_readers_in_its_cell(tmp_path: Path):
    """One cell, run with k = 1 and k = 2: what reads k (directly or through a name made from
    it in the same cell) is changed; what does not is equal, even made after it."""
    db = tmp_path / "prov.db"
    code = ("import numpy as np\n"
            "k = {k}\n"
            "scaled = np.arange(5) * k\n"
            "base = np.arange(5)\n"
            "total = scaled + base\n"
            "ones = np.ones(3)\n"
            "base = base * 2\n")
    for k in (1, 2):
        kernel = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
        try:
            kernel.run(code.replace("{k}", str(k)))
            wait_for(lambda: executions(db, str(k)) >= 1, what=f"trial {k} recorded")
        finally:
            stop_kernel(kernel)
    full = provctl_json(db, "diff", "1", "2", "--all")
    by_name = statuses(full["values"])
    assert {name for name, s in by_name.items() if s != "equal"} == {"k", "scaled", "total"}, \
        full["values"]
    assert by_name["base"] == by_name["ones"] == by_name["np"] == "equal"
