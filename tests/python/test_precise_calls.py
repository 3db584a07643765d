"""How values change through calls and hidden state (issue 12), through a real kernel: cell
sequences run in python-prov, then `provctl deps VAR --json` must list exactly the executions
(by In[n]) that made VAR's current value: no fewer (a miss) and no more (an over-report).

Covered: a call changing its argument (a notebook function's parameter, `random.shuffle`,
`np.random.shuffle`, `out=`, an unknown function, said to be an assumption), functions known to
only read, `del` of a key or an attribute, a binding an exception skipped, the global random
generators' seeds, `@names` in `df.query` strings. Expectations were worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import KERNEL_NAME, run_magic, start_kernel, stop_kernel
from test_dataflow import run_cells, recorded_count
from test_store import provctl, wait_for

pytestmark = pytest.mark.prov

# A module the analysis knows nothing about: its function changes what it is given.
HELPERS = "def clean(d, *rest):\n    d['cleaned'] = True\n"

# (name, cells, {variable: expected In[n] of the executions it depends on})
CASES = [
    ("a notebook function fitting its parameter changes the argument only",
     ["from sklearn.linear_model import LinearRegression",
      "import numpy as np",
      "X = np.arange(6.0).reshape(3, 2)",
      "y = np.array([1.0, 2.0, 3.5])",
      "clf = LinearRegression()",
      "def train(m, a, b):\n    m.fit(a, b)",
      "train(clf, X, y)",
      "w = clf.coef_"],
     {"w": [1, 2, 3, 4, 5, 6, 7, 8], "X": [2, 3], "y": [2, 4]}),
    ("parameters map through keywords and a nested notebook call",
     ["def fit_model(est, data):\n    est.append(len(data))",
      "def train(model, rows):\n    fit_model(data=rows, est=model)",
      "log = []",
      "rows = [1, 2]",
      "train(rows=rows, model=log)",
      "last = log[-1]"],
     {"last": [1, 2, 3, 4, 5, 6], "rows": [4]}),
    ("random.shuffle changes its argument",
     ["import random", "deck = [1, 2, 3, 4]", "random.shuffle(deck)", "top = deck[0]"],
     {"top": [1, 2, 3, 4]}),
    ("np.random.shuffle changes its argument",
     ["import numpy as np", "arr = np.arange(5)", "np.random.shuffle(arr)", "first = arr[0]"],
     {"first": [1, 2, 3, 4]}),
    ("out= is the array written into",
     ["import numpy as np", "a = np.ones(3)", "b = np.full(3, 2.0)",
      "np.multiply(a, b, out=a)", "c = a.sum()"],
     {"c": [1, 2, 3, 4, 5], "b": [1, 3]}),
    ("functions known to only read leave their arguments alone",
     ["import numpy as np", "X = np.arange(4.0)", "m = np.mean(X)",
      "print(len(X), sorted(X))", "Z = X * 2"],
     {"X": [1, 2], "Z": [1, 2, 5]}),
    ("del of a key is a change of the dict, not of its other keys",
     ["d = {'a': 1, 'b': 2}", "del d['a']", "keys = list(d)", "vb = d['b']"],
     {"keys": [1, 2, 3], "vb": [1, 4]}),
    ("del of an attribute is a change of the object",
     ["class O:\n    pass", "o = O()", "o.x = 1", "o.y = 2", "del o.x", "keep = o"],
     {"keep": [1, 2, 4, 5, 6]}),
    ("a binding an exception skipped keeps the older version",
     ["x = 1", "def f():\n    raise ValueError('no')",
      "try:\n    x = f()\nexcept Exception:\n    pass", "y = x + 1"],
     {"y": [1, 4]}),
    ("a binding inside try that happened is a new version",
     ["x = 1", "try:\n    x = 5\nexcept Exception:\n    pass", "y = x + 1"],
     {"y": [2, 3]}),
    ("random.seed is a dependency of later draws",
     ["import random", "random.seed(0)", "u = 7", "a = random.random()", "b = random.random()"],
     {"a": [1, 2, 4], "b": [1, 2, 4, 5], "u": [3]}),
    ("np.random.seed is a dependency of later draws; a seeded generator is an object",
     ["import numpy as np", "np.random.seed(1)", "rng = np.random.default_rng(0)",
      "v = np.random.rand(2)", "g = rng.normal()"],
     {"v": [1, 2, 4], "g": [1, 3, 5]}),
    ("@names in a query string are reads",
     ["import pandas as pd", "df = pd.DataFrame({'a': [1, 5, 9]})", "cutoff = 4", "other = 0",
      "hi = df.query('a > @cutoff')"],
     {"hi": [1, 2, 3, 5]}),
]


def deps(db: Path, variable: str) -> dict:
    result = provctl(db, "deps", variable, "--json", check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ran(tmp_path: Path, cells: list[str]):
    """A python-prov kernel (cwd holding `helpers.py`) that ran and recorded `cells`."""
    (tmp_path / "helpers.py").write_text(HELPERS)
    db = tmp_path / "prov.db"
    kernel = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    run_cells(kernel, cells)
    wait_for(lambda: recorded_count(db) >= len(cells), what="all cells recorded")
    return kernel


@pytest.mark.parametrize("name,cells,expected", CASES, ids=[c[0] for c in CASES])
def test_deps(tmp_path: Path, name, cells, expected):
    kernel = ran(tmp_path, cells)
    try:
        for variable, want in expected.items():
            answer = deps(kernel.db, variable)
            got = [e["execution_count"] for e in answer["executions"]]
            assert got == want, f"{name}: {variable}: {answer['executions']}"
            # Nothing here is an assumption: every change is known.
            assert not any(s.get("assumed") for e in answer["executions"] for s in e["statements"])
    finally:
        stop_kernel(kernel)


def test_an_unknown_function_may_change_its_argument_and_the_answer_says_it_is_assumed(
    tmp_path: Path,
):
    cells = [
        "from helpers import clean",
        "df = {'a': 1}",
        "n = 3",
        "clean(df, n)",
        "out = len(df)",
    ]
    kernel = ran(tmp_path, cells)
    try:
        answer = deps(kernel.db, "out")
        assert [e["execution_count"] for e in answer["executions"]] == [1, 2, 3, 4, 5]
        [call] = [e for e in answer["executions"] if e["execution_count"] == 4]
        assert call["statements"][0]["assumed"] == ["clean(df) may change df"]
        # A number passed along cannot change in place: not even an assumption.
        assert [e["execution_count"] for e in deps(kernel.db, "n")["executions"]] == [3]
        text = run_magic(kernel, "%backwards_deps out --statements")["text/plain"]
        assert "assumed  clean(df) may change df" in text, text
        # It was right to assume: the module's function did change the dict.
        [check] = [e for e in run_magic(kernel, "%backwards_deps df").json["executions"]
                   if e["execution_count"] == 4]
        assert "df" in check["defines"]
    finally:
        stop_kernel(kernel)
