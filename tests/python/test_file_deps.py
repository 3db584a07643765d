"""Data files in the dataflow, through a real kernel: a cell writes a CSV and a later one reads
it, so the writing cell is in the reader's deps, its slice and the graph; `provctl deps PATH`
answers for the file; a file that came from outside is named as an input, and the slice
rebuilt as a script runs in an empty folder given those inputs.

These need the probe's `files` note: until the probe records it, each test is skipped.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_magic
from test_dataflow import deps, kernel_that_ran
from test_store import provctl

pytestmark = pytest.mark.prov

CELLS = [
    "import pandas as pd",
    "df = pd.DataFrame({'x': [1, 2, 3], 'y': [2, 4, 7]})\ndf.to_csv('houses.csv', index=False)",
    "unrelated = 5",
    "raw = pd.read_csv('raw.csv')\nback = pd.read_csv('houses.csv')\n"
    "mae = float((back.y - 2 * back.x).abs().mean()) + len(raw)",
]


def needs_file_notes(db: Path) -> None:
    """The probe recorded the files In[2] wrote (else every answer below would be vacuous)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT d.runtime FROM execution_dataflow d JOIN executions e ON e.id = d.execution_id "
            "WHERE e.execution_count = 2 ORDER BY e.id DESC LIMIT 1"
        ).fetchone()
    note = json.loads(row[0]) if row and row[0] else {}
    assert "files" in note, note


def counts(answer: dict) -> list:
    return [e["execution_count"] for e in answer["executions"]]


def test_the_writer_of_a_csv_is_in_the_readers_deps_slice_and_graph(tmp_path: Path):
    (tmp_path / "raw.csv").write_text("a\n1\n2\n")
    with kernel_that_ran(tmp_path, CELLS) as kernel:
        needs_file_notes(kernel.db)
        magic = run_magic(kernel, "%backwards_deps houses.csv")
        db = kernel.db
    assert counts(magic.json) == [1, 2]
    answer = deps(db, "mae")
    assert counts(answer) == [1, 2, 4]
    [outside] = answer["inputs"]
    assert outside["path"] == "raw.csv"
    assert outside["resolved"] == str((tmp_path / "raw.csv").resolve())
    for asked in ["houses.csv", str(tmp_path / "houses.csv"), str((tmp_path / "houses.csv").resolve())]:
        assert counts(deps(db, asked)) == [1, 2], asked
    graph = json.loads(provctl(db, "graph", "--json").stdout)
    ids = {e["execution_count"]: e["execution_id"] for e in graph["executions"]}
    written = [f for f in graph["files"] if f["path"] == "houses.csv"]
    assert [(f["written_by"], f["read_by"]) for f in written] == [(ids[2], [ids[4]])]
    picture = tmp_path / "graph.png"
    provctl(db, "graph", "-o", str(picture))
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_the_slice_runs_in_an_empty_folder_given_its_inputs(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "raw.csv").write_text("a\n1\n2\n")
    with kernel_that_ran(work, CELLS) as kernel:
        needs_file_notes(kernel.db)
        db = kernel.db
    slice_json = json.loads(provctl(db, "slice", "mae", "--json").stdout)
    code = "\n".join(s["text"] for s in slice_json["statements"])
    assert "to_csv('houses.csv'" in code and "unrelated" not in code
    script = tmp_path / "rebuild.py"
    provctl(db, "slice", "mae", "-o", str(script))
    assert "raw.csv" in script.read_text().split("# In[")[0], script.read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    for needed in slice_json["inputs"]:
        shutil.copy(needed["resolved"], empty / needed["path"])
    script.write_text(script.read_text() + "\nprint(repr(mae))\n")
    ran = subprocess.run([sys.executable, str(script)], cwd=empty, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == repr(1 / 3 + 2)


def test_content_changed_outside_is_not_the_writers(tmp_path: Path):
    cells = [
        "open('n.txt', 'w').write('1')",
        "first = int(open('n.txt').read())",
        # A child process writes it: the probe cannot see that, so the next read's content
        # came from outside.
        "import os\nos.system('echo 5 > n.txt')",
        "second = int(open('n.txt').read())",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        needs_file_notes(kernel.db)
        db = kernel.db
    assert counts(deps(db, "first")) == [1, 2]
    answer = deps(db, "second")
    assert counts(answer) == [4], answer
    assert [i["path"] for i in answer["inputs"]] == ["n.txt"]
