"""`provctl replay`: notebooks recorded through the prov kernel (nbclient, real ipykernel
child, real store), replayed in a fresh kernel by provctl's own Jupyter client, and the report
checked: every execution of the example notebooks reproduced; unseeded randomness named as
the first divergence with its cause; a changed input file named as the cause; `--until`; a
gone input file refused before anything starts; the `--json` contract; `--strict`; a missing
kernelspec; and the replay trial comparable with `%trial_diff`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import EXAMPLES_DIR, KERNEL_NAME, REPO_ROOT, run_magic, start_kernel, stop_kernel

pytestmark = pytest.mark.prov

PROVCTL = REPO_ROOT / "target" / "release" / "provctl"


def provctl(db: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """provctl against `db`, finding kernelspecs where this Python's Jupyter does."""
    env = dict(os.environ, JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"))
    env.pop("PROV_DB", None)
    return subprocess.run(
        [str(PROVCTL), "--db", str(db), *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def replay_json(db: Path, *args: str) -> dict:
    result = provctl(db, "replay", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def record(cells: list[str] | Path, folder: Path, db: Path, monkeypatch) -> nbformat.NotebookNode:
    """Runs a notebook (a file, or cells) through the prov kernel in `folder`, recording into
    `db`: one trial."""
    if isinstance(cells, Path):
        nb = nbformat.read(cells, as_version=4)
    else:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    monkeypatch.setenv("PROV_DB", str(db))
    NotebookClient(
        nb, kernel_name=KERNEL_NAME, timeout=120, startup_timeout=60, allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    ).execute()
    return nb


def trial_count(db: Path) -> int:
    result = provctl(db, "trials", "--all", "--json")
    assert result.returncode == 0, result.stderr
    return len(json.loads(result.stdout))


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("*.ipynb")), ids=lambda p: p.name)
def test_example_notebooks_reproduce(path: Path, tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    nb = record(path, tmp_path, db, monkeypatch)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    report = replay_json(db, "1")
    assert report["source_trial"] == 1 and report["replay_trial"] == 2
    bad = [e for e in report["executions"] if e["status"] != "reproduced"]
    assert bad == [], json.dumps(bad, indent=1)
    assert report["summary"] == {"reproduced": len(code_cells), "differs": 0, "error": 0}
    assert [e["execution_count"] for e in report["executions"]] == [
        c.execution_count for c in code_cells
    ]
    assert report["first_divergence"] is None
    # The replay is a trial like any other, recorded as a replay of trial 1, and named.
    shown = json.loads(provctl(db, "show", report["replay_name"], "--json").stdout)
    assert len(shown["executions"]) == len(code_cells)
    assert report["replay_name"] == "replay-of-1"


def test_unseeded_randomness_is_the_first_divergence(tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    record(["import random", "print(random.random())", "x = 40 + 2\nprint(x)"], tmp_path, db,
           monkeypatch)
    result = provctl(db, "replay", "1", "--json")
    # It ran: exit 0 whatever the verdict.
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"source_trial", "replay_trial", "summary", "executions",
                           "first_divergence"}
    assert report["summary"] == {"reproduced": 2, "differs": 1, "error": 0}
    statuses = [(e["execution_count"], e["status"]) for e in report["executions"]]
    assert statuses == [(1, "reproduced"), (2, "differs"), (3, "reproduced")]
    first = report["first_divergence"]
    assert first["execution_count"] == 2
    assert first["cause"]["kind"] == "unseeded-randomness"
    assert "In[2] draws random numbers" in first["cause"]["message"]
    difference = first["differences"][0]
    assert difference["kind"] == "output" and difference["what"] == "stdout"
    assert difference["expected"] != difference["got"]
    assert set(report["executions"][1]) >= {"execution_count", "status", "differences"}

    # --strict: 1 when anything differs, after printing the report.
    strict = provctl(db, "replay", "1", "--strict")
    assert strict.returncode == 1
    assert "1 reproduced" not in strict.stdout and "2 reproduced, 1 differ, 0 error" in strict.stdout
    assert "likely cause (unseeded-randomness)" in strict.stdout
    assert "did not reproduce (--strict)" in strict.stderr
    # The second replay got a name of its own.
    assert "replay-of-1-2" in strict.stdout

    # Text output and an HTML copy.
    html = tmp_path / "report.html"
    shown = provctl(db, "replay", "1", "--tolerance", "0", "-o", str(html))
    assert shown.returncode == 0, shown.stderr
    assert "In [2]" in shown.stdout and "differs" in shown.stdout
    assert "<table" in html.read_text()

    # %trial_diff compares the source with its replay as any two trials.
    k = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        answer = run_magic(k, "%trial_diff 1 replay-of-1")
    finally:
        stop_kernel(k)
    assert answer.json["right"]["name"] == "replay-of-1"
    changed = [o for o in answer.json["outputs"] if o["status"] == "changed"]
    assert [o["left"]["execution_count"] for o in changed] == [2], answer.json["outputs"]


def test_a_changed_input_file_is_named_as_the_cause(tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    (tmp_path / "data.txt").write_text("41\n")
    record(["n = int(open('data.txt').read())", "print(n + 1)"], tmp_path, db, monkeypatch)
    (tmp_path / "data.txt").write_text("99\n")
    report = replay_json(db, "1")
    first = report["first_divergence"]
    assert first["execution_count"] == 1, report  # the value of n differs already
    assert first["cause"]["kind"] == "input-file-changed"
    assert "`data.txt` (read by In[1])" in first["cause"]["message"]
    assert report["executions"][1]["differences"][0]["got"] == "100"


def test_until_stops_after_that_execution(tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    record(["a = 1", "b = a + 1\nprint(b)", "raise SystemExit('not reached')"], tmp_path, db,
           monkeypatch)
    report = replay_json(db, "1", "--until", "In[2]")
    assert [e["execution_count"] for e in report["executions"]] == [1, 2]
    assert report["summary"] == {"reproduced": 2, "differs": 0, "error": 0}
    bad = provctl(db, "replay", "1", "--until", "In[9]")
    assert bad.returncode == 2
    assert "has no In[9]" in bad.stderr


def test_a_gone_input_file_stops_the_replay_before_it_starts(tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    (tmp_path / "input.csv").write_text("a,b\n1,2\n")
    record(["rows = open('input.csv').read().splitlines()", "print(len(rows))"], tmp_path, db,
           monkeypatch)
    (tmp_path / "input.csv").unlink()
    before = trial_count(db)
    result = provctl(db, "replay", "1")
    assert result.returncode == 1
    assert "input.csv (read by In[1])" in result.stderr and "gone" in result.stderr
    assert trial_count(db) == before  # no kernel started, no trial recorded


def test_a_missing_kernelspec_is_a_clear_error(tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    record(["x = 1"], tmp_path, db, monkeypatch)
    result = provctl(db, "replay", "1", "--kernel", "no-such-kernel", timeout=60)
    assert result.returncode == 1
    assert "no kernelspec named `no-such-kernel`" in result.stderr


def test_a_kernel_that_dies_is_reported_not_waited_for(tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    flag = tmp_path / "die"
    # The source ran fine; in the replay the same cell finds the flag and kills the kernel.
    record(["import os, pathlib", "if pathlib.Path('die').exists(): os._exit(3)\nprint('alive')",
            "print('after')"], tmp_path, db, monkeypatch)
    flag.write_text("")
    report = replay_json(db, "1")
    statuses = [e["status"] for e in report["executions"]]
    assert statuses == ["reproduced", "error", "error"], report
    first = report["first_divergence"]
    assert first["execution_count"] == 2
    # Whether the store got the dead cell's record before the kernel went is a race: either
    # way the cause is the failed replay at In[2].
    assert first["cause"]["kind"] == "replay-failed"
    assert ("the kernel died while running In[2]" in first["cause"]["message"]
            or "could not run In[2]" in first["cause"]["message"]), first["cause"]
    assert report["executions"][2]["differences"][0]["kind"] == "not-run"


def test_an_execution_over_the_timeout_stops_the_replay(tmp_path: Path, monkeypatch):
    db = tmp_path / "prov.db"
    record(["import pathlib, time", "if pathlib.Path('slow').exists(): time.sleep(120)",
            "print('after')"], tmp_path, db, monkeypatch)
    (tmp_path / "slow").write_text("")
    started = time.monotonic()
    report = replay_json(db, "1", "--timeout", "3")
    assert time.monotonic() - started < 60
    assert [e["status"] for e in report["executions"]] == ["reproduced", "error", "error"]
    assert "no answer within 3 s" in report["executions"][1]["differences"][0]["got"]
    assert report["first_divergence"]["cause"]["kind"] == "replay-failed"
    # A name already taken is refused before anything starts.
    taken = provctl(db, "replay", "1", "--name", "replay-of-1")
    assert taken.returncode == 2 and "a trial is called that already" in taken.stderr
