"""`%prov_check` and `provctl check` through a real python-prov kernel: a notebook that fits on
the test part of a split (data-leakage), one whose cell is edited and re-run under a cell that
read it (stale-result), each with a twin that must stay silent; the example notebooks give no
findings; the JSON contract and the exit codes (`--strict`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import KERNEL_NAME, Kernel, execute_in_cell, iopub_until_idle, magic_answer, \
    shell_reply
from test_notebooks import NOTEBOOKS
from test_store import provctl, provctl_json

pytestmark = pytest.mark.prov

SPLIT = ("def train_test_split(X, y):\n    return X[:6], X[6:], y[:6], y[6:]\n\n"
         "class Model:\n    def fit(self, X, y):\n        self.n = len(X)\n        return self\n\n"
         "X = list(range(10))\ny = [v % 2 for v in X]\n"
         "X_train, X_test, y_train, y_test = train_test_split(X, y)")


def run_in(k: Kernel, code: str, cell_id: str) -> list[dict]:
    msg_id = execute_in_cell(k.kc, code, cell_id)
    reply = shell_reply(k.kc, msg_id)
    outputs = iopub_until_idle(k.kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]
    return outputs


def findings(k: Kernel, rule: str) -> list[dict]:
    return [f for f in provctl_json(k.db, "check") if f["rule"] == rule]


def test_leakage_is_found_and_fitting_on_training_data_is_not(kernel: Kernel):
    run_in(kernel, SPLIT, "split")
    run_in(kernel, "model = Model()\nmodel.fit(X_train, y_train)\nscore = len(X_test)", "train")
    assert findings(kernel, "data-leakage") == []
    run_in(kernel, "shifted = [v + 1 for v in X_test]\nModel().fit(shifted, y_test)", "leak")
    found = findings(kernel, "data-leakage")
    assert [(f["severity"], f["executions"]) for f in found] == [("error", [1, 3])]
    assert "In[3] line 2" in found[0]["message"]
    assert "`shifted`" in found[0]["message"]

    outputs = run_in(kernel, "%prov_check", "check")
    answer = magic_answer(outputs)
    assert [f["rule"] for f in answer.json] == ["data-leakage"]
    assert answer.json == provctl_json(kernel.db, "check", "1")
    assert "error  data-leakage  In[1] In[3]" in answer["text/plain"]
    assert "data-leakage" in answer["text/html"]


def test_an_edited_and_rerun_cell_makes_its_readers_stale(kernel: Kernel):
    run_in(kernel, "x = 1", "a")
    run_in(kernel, "y = x * 2", "b")
    run_in(kernel, "x = 1", "a")
    assert findings(kernel, "stale-result") == []
    run_in(kernel, "x = 2", "a")
    found = findings(kernel, "stale-result")
    assert [f["executions"] for f in found] == [[2, 1, 4]], found
    assert "edited and re-run" in found[0]["message"]
    run_in(kernel, "y = x * 2", "b")
    assert findings(kernel, "stale-result") == []


def test_strict_exit_codes_and_the_json_contract(kernel: Kernel):
    run_in(kernel, "x = 1", "a")
    clean = provctl(kernel.db, "check", "--strict")
    assert "no findings" in clean.stdout and "data-leakage" in clean.stdout
    run_in(kernel, "y = x * 2", "b")
    run_in(kernel, "x = 2", "a")
    plain = provctl(kernel.db, "check")
    assert plain.returncode == 0 and "warning  stale-result" in plain.stdout
    strict = provctl(kernel.db, "check", "--strict", "--json", check=False)
    assert strict.returncode == 1, strict.stderr
    rows = json.loads(strict.stdout)
    assert rows and all(set(r) == {"rule", "severity", "message", "executions"} for r in rows)
    assert all(isinstance(n, int) for r in rows for n in r["executions"])
    rules = provctl(kernel.db, "check", "--rules")
    assert "numeric-trouble" in rules.stdout
    unknown = provctl(kernel.db, "check", "nope", check=False)
    assert unknown.returncode == 2 and "nope" in unknown.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_example_notebooks_have_no_findings(path: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch):
    db = tmp_path / "prov.db"
    monkeypatch.setenv("PROV_DB", str(db))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=60, startup_timeout=60,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    result = provctl(db, "check", "--strict", "--json", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []
    assert os.path.exists(db)
