"""Value capture through the runtime probe, with a real python-prov kernel and its SQLite store:
summaries of tagged variables (numpy, pandas, scikit-learn, containers, broken objects), the
bound on huge objects, clients' own user_expressions, and the packages a trial imported."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import KERNEL_NAME, Kernel, shell_reply, start_kernel, stop_kernel
from test_store import wait_for

pytestmark = pytest.mark.prov


def rows(db: Path, name: str) -> list[dict]:
    """The captured rows of `name`, in execution order."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT e.execution_count, v.type_name, v.value_json, v.summary_json"
            " FROM captured_values v JOIN executions e ON e.id = v.execution_id"
            " WHERE v.name = ? ORDER BY e.seq", (name,)).fetchall()
    return [{"count": c, "type": t, "value": None if v is None else json.loads(v),
             "summary": None if s is None else json.loads(s)} for c, t, v, s in found]


def captured(k: Kernel, name: str, n: int) -> list[dict]:
    """Waits until `name` has at least `n` captured rows, and returns them."""
    return wait_for(lambda: (lambda r: r if len(r) >= n else None)(rows(k.db, name)),
                    what=f"{n} captured rows of {name}")


def summarised(k: Kernel, name: str, n: int) -> list[dict]:
    """Waits until `name` has at least `n` captured rows with a summary, and returns those."""
    def found():
        with_summary = [r for r in rows(k.db, name) if r["summary"] is not None]
        return with_summary if len(with_summary) >= n else None
    return wait_for(found, what=f"{n} summaries of {name}")


def summary_after(k: Kernel, code: str, name: str) -> dict:
    """Runs `code` and returns the summary of `name` captured by that execution."""
    before = len(rows(k.db, name))
    k.run(code)
    return captured(k, name, before + 1)[-1]["summary"]


def expression(k: Kernel, expr: str, code: str = "pass") -> dict:
    """Runs `code` with the user expression `expr`; returns every user expression answered."""
    reply, _ = k.execute(code, user_expressions={"mine": expr})
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"]["user_expressions"]


def test_array_summaries_are_stable_and_see_one_element_change(kernel):
    k = kernel
    k.run("import numpy as np\narr = np.arange(10, dtype='float64')\n%tag_var arr")
    first = captured(k, "arr", 1)[-1]
    assert first["type"] == "numpy.ndarray"
    s = first["summary"]
    assert s["kind"] == "ndarray" and s["shape"] == [10] and s["dtype"] == "float64"
    assert (s["min"], s["max"], s["mean"], s["nan_count"]) == (0.0, 9.0, 4.5, 0)
    assert s["sampled"] is False and len(s["sha256"]) == 64

    # An equal array built again: same summary. One element changed in place: another hash.
    assert summary_after(k, "arr = np.arange(10, dtype='float64')", "arr") == s
    changed = summary_after(k, "arr[3] = 99", "arr")
    assert changed["sha256"] != s["sha256"] and changed["max"] == 99.0
    # Only mentioning it without changing it records nothing new.
    n = len(rows(k.db, "arr"))
    k.run("print(arr.sum())")
    k.run("y = 1")
    wait_for(lambda: rows(k.db, "y"), what="the next cell recorded")
    assert len(rows(k.db, "arr")) == n
    # NaN: counted, and the stats stay JSON numbers or strings.
    nan = summary_after(k, "arr[0] = np.nan", "arr")
    assert nan["nan_count"] == 1 and nan["min"] == 1.0


def test_dataframe_summaries_are_equal_between_identical_runs(tmp_path: Path):
    code = ("import pandas as pd\n"
            "df = pd.DataFrame({'a': [1.0, 2.0, None], 'b': ['x', 'y', 'z'], 'c': [1, 2, 3]})\n"
            "%tag_var df")
    summaries = []
    for run in range(2):
        k = start_kernel(KERNEL_NAME, tmp_path / f"run{run}.db", cwd=tmp_path)
        try:
            k.run(code)
            summaries.append(captured(k, "df", 1)[-1]["summary"])
            if run == 1:
                changed = summary_after(k, "df.loc[1, 'b'] = 'Y'", "df")
        finally:
            stop_kernel(k)
    assert summaries[0] == summaries[1]
    s = summaries[0]
    assert s["kind"] == "dataframe" and s["shape"] == [3, 3] and s["sampled"] is False
    a, b, c = s["columns"]
    assert a == {"name": "a", "dtype": "float64", "min": 1.0, "max": 2.0, "mean": 1.5,
                 "nan_count": 1}
    assert set(b) == {"name", "dtype"} and b["dtype"] in ("object", "str")  # pandas 2 / 3
    assert (c["min"], c["max"], c["mean"]) == (1, 3, 2.0)
    assert changed["sha256"] != s["sha256"] and changed["shape"] == [3, 3]


def test_series_summary(kernel):
    k = kernel
    k.run("import pandas as pd\ns = pd.Series([1, 2, 3], name='n')\n%tag_var s")
    s = captured(k, "s", 1)[-1]["summary"]
    assert s["kind"] == "series" and s["name"] == "n" and s["shape"] == [3]
    assert (s["min"], s["max"], s["mean"]) == (1, 3, 2.0)


def test_a_huge_array_is_captured_within_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROV_VALUE_LIMIT", "1M")
    k = start_kernel(KERNEL_NAME, tmp_path / "prov.db", cwd=tmp_path)
    try:
        k.run("import numpy as np\nbig = np.ones((2048, 1024), dtype='float64')")  # 16 MiB
        start = time.monotonic()
        k.run("%tag_var big")
        s = summarised(k, "big", 1)[-1]["summary"]
        assert s["sampled"] is True
        assert s["shape"] == [2048, 1024] and s["dtype"] == "float64"
        assert s["nbytes"] == 16 << 20 and s["min"] == 1.0 and s["max"] == 1.0
        changed = summary_after(k, "big[0, 0] = 5", "big")
        assert changed["sampled"] is True and changed["sha256"] != s["sha256"]
        assert time.monotonic() - start < 20  # generous: a full hash is not the point here
    finally:
        stop_kernel(k)


def test_a_broken_object_breaks_nothing(kernel):
    k = kernel
    k.run(
        "class Broken:\n"
        "    def __repr__(self): raise RuntimeError('no repr')\n"
        "    def __eq__(self, other): raise RuntimeError('no eq')\n"
        "    def __len__(self): raise RuntimeError('no len')\n"
        "    def get_params(self, deep=True): raise RuntimeError('no params')\n"
        "    __hash__ = object.__hash__\n"
        "b = Broken()")
    reply, outputs = k.execute("%tag_var b")
    assert reply["content"]["status"] == "ok"
    assert not [m for m in outputs if m["msg_type"] in ("error", "stream")], outputs
    reply, outputs = k.execute("b = Broken()\nb.x = 1\nprint('fine')")
    assert reply["content"]["status"] == "ok"
    assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == ["fine\n"]
    found = summarised(k, "b", 2)
    for row in found:
        assert row["type"] == "__main__.Broken" or row["type"].endswith("Broken")
        assert row["summary"]["kind"] == "failed"
        assert "RuntimeError" in row["summary"]["error"]


def test_estimator_summary_changes_after_fit(kernel):
    k = kernel
    k.run("from sklearn.linear_model import LogisticRegression\n"
          "model = LogisticRegression(C=0.5, max_iter=50)\n%tag_var model")
    s = captured(k, "model", 1)[-1]["summary"]
    assert s["kind"] == "estimator"
    assert s["class"].endswith("LogisticRegression")
    assert s["params"]["C"] == 0.5 and s["params"]["max_iter"] == 50
    assert s["fitted_sha256"] is None
    fitted = summary_after(k, "model.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])", "model")
    assert fitted["fitted_sha256"] and fitted["params"] == s["params"]
    refit = summary_after(k, "model.fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 1, 1])", "model")
    assert refit["fitted_sha256"] != fitted["fitted_sha256"]


def test_collections_and_a_tagged_scalar(kernel):
    k = kernel
    k.run("xs = [3, 1, 2]\nd = {'b': 1, 'a': [1, 2]}\nst = {3, 1, 2}\n"
          "%tag_var xs\n%tag_var d\n%tag_var st")
    xs = captured(k, "xs", 1)[-1]["summary"]
    assert xs["kind"] == "collection" and xs["type"] == "list" and xs["length"] == 3
    d = captured(k, "d", 1)[-1]["summary"]
    assert d["type"] == "dict" and d["length"] == 2
    st = captured(k, "st", 1)[-1]["summary"]
    # Same content in another order: a dict and a set hash alike.
    assert summary_after(k, "d = {'a': [1, 2], 'b': 1}", "d")["sha256"] == d["sha256"]
    assert summary_after(k, "st = {2, 3, 1}", "st")["sha256"] == st["sha256"]
    appended = summary_after(k, "xs.append(4)", "xs")
    assert appended["length"] == 4 and appended["sha256"] != xs["sha256"]

    k.run("acc = 0.5\n%tag_var acc")
    k.run("acc = 0.75")
    k.run("acc = 0.9")
    found = captured(k, "acc", 3)
    assert [r["value"] for r in found] == [0.5, 0.75, 0.9]
    assert all(r["type"] == "float" and r["summary"] is None for r in found)


def test_user_expressions_are_returned_unchanged_with_tags(kernel):
    k = kernel
    k.run("xs = [1, 2]\n%tag_var xs")
    answers = expression(k, "len(xs) + 40", code="xs.append(3)")
    assert set(answers) == {"mine"}
    assert answers["mine"]["status"] == "ok"
    assert answers["mine"]["data"]["text/plain"] == "43"
    answers = expression(k, "1/0")
    assert set(answers) == {"mine"} and answers["mine"]["status"] == "error"
    captured(k, "xs", 2)


def test_the_probe_imports_nothing_the_user_did_not(kernel):
    k = kernel
    k.run("xs = [1, 2, 3]\n%tag_var xs")
    k.run("xs.append(4)")
    captured(k, "xs", 2)
    answers = expression(k, "sorted(m for m in ('numpy', 'pandas', 'torch', 'tensorflow')"
                            " if m in __import__('sys').modules)")
    assert answers["mine"]["data"]["text/plain"] == "[]"


def test_packages_imported_by_the_trial(kernel):
    k = kernel
    k.run("import numpy\nimport json\nimport numpy.linalg")
    version = k.run("print(numpy.__version__)").strip()
    with sqlite3.connect(k.db) as conn:
        def packages():
            found = dict(conn.execute("SELECT name, version FROM trial_packages").fetchall())
            return found or None
        found = wait_for(packages, what="the trial's packages")
    assert found.get("numpy") == version
    assert "json" not in found and "pandas" not in found
    assert not [name for name in found if name.startswith("_")]


def test_what_ipython_imports_for_a_traceback_is_not_the_trials(kernel):
    """The first error makes IPython import stack_data (with executing, asttokens, pure_eval)
    to format the traceback; those are IPython's packages, not the notebook's."""
    k = kernel
    reply, _ = k.execute("1/0")
    assert reply["content"]["status"] == "error"
    assert "ok" in k.run("import sys\nprint('ok' if 'stack_data' in sys.modules else 'no')")
    k.run("import numpy")
    with sqlite3.connect(k.db) as conn:
        def packages():
            found = dict(conn.execute("SELECT name, version FROM trial_packages").fetchall())
            return found if "numpy" in found else None
        found = wait_for(packages, what="the trial's packages")
    machinery = {"stack_data", "executing", "asttokens", "pure_eval"}
    assert not machinery & set(found), found


def test_a_tag_holds_for_cells_queued_behind_it(kernel):
    """Run All: every request is sent before the first reply; the tag still applies from the
    cell that sets it."""
    k = kernel
    kc = k.kc
    codes = ["xs = [1]\n%tag_var xs", "xs.append(2)", "xs.append(3)"]
    ids = [kc.execute(code) for code in codes]
    for msg_id in ids:
        assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
    found = summarised(k, "xs", 3)
    assert [r["summary"]["length"] for r in found] == [1, 2, 3]


def test_a_tag_in_a_failing_cell_does_not_hold(kernel):
    k = kernel
    reply, _ = k.execute("ys = [1]\n%tag_var ys\n1/0")
    assert reply["content"]["status"] == "error"
    k.run("ys = [1, 2]")
    k.run("zs = [0]\n%tag_var zs")
    summarised(k, "zs", 1)
    # Rows for the failed cell's binding and the next one, neither summarised: not tagged.
    found = wait_for(lambda: (lambda r: r if len(r) == 2 else None)(rows(k.db, "ys")),
                     what="both bindings of ys")
    assert [r["summary"] for r in found] == [None, None]
