"""`%files` and `provctl files` through a real python-prov kernel: a cell writes a CSV, the next
reads it, something outside the trial changes one byte of it, a third cell reads it again. The
answer lists the file once, its three accesses in order with their hashes, and marks the last
read as changed outside since In[1] wrote it; `%files` and `provctl files --json` agree.
The rows are the probe's: the test checks them against the bytes on disk after each cell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Kernel, magic_answer
from file_rows import Access, indexed_execution, recorded_rows
from test_store import provctl, provctl_json

pytestmark = pytest.mark.prov

WRITE = "with open('houses.csv', 'w') as f:\n    f.write('rooms,price\\n3,250\\n')"
READ = "text = open('houses.csv').read()"
READ_AGAIN = "again = open('houses.csv').read()"
CHANGED = b"rooms,price\n3,251\n"


def run_cells(k: Kernel, folder: Path) -> list[Access]:
    """Runs the three cells (In[1..3]), changing the file from outside before the third; returns
    the accesses they made, with the bytes each saw."""
    csv = folder / "houses.csv"
    k.run(WRITE)
    written = csv.read_bytes()
    assert written == b"rooms,price\n3,250\n"
    k.run(READ)
    csv.write_bytes(CHANGED)
    k.run(READ_AGAIN)
    return [Access(WRITE, "houses.csv", "write", written),
            Access(READ, "houses.csv", "read", written),
            Access(READ_AGAIN, "houses.csv", "read", CHANGED)]


def probe_rows(k: Kernel, accesses: list[Access]) -> int:
    return recorded_rows(k.db, [indexed_execution(k.db, a.code) for a in accesses])


def check_answers(k: Kernel, folder: Path, accesses: list[Access]) -> None:
    """`provctl files --json` holds ACCESSES, `%files` shows them with the mark and agrees."""
    rows = provctl_json(k.db, "files")
    assert [(r["execution_count"], r["access"], r["sha256"], r["size"], r["sampled"])
            for r in rows] == [(n, a.access, a.sha256, a.size, False)
                               for n, a in enumerate(accesses, 1)]
    assert {r["path"] for r in rows} == {"houses.csv"}
    assert {r["resolved"] for r in rows} == {os.path.realpath(folder / "houses.csv")}

    reply, outputs = k.execute("%files")
    assert reply["content"]["status"] == "ok", reply["content"]
    answer = magic_answer(outputs)
    assert answer.json == rows
    text = answer["text/plain"]
    assert text.startswith("Files of trial 1: 1 file, 3 accesses (2 read, 1 written); 1 file "
                           "changed where the trial did not change it\n"), text
    assert "houses.csv → " in text, text
    assert "! changed outside since In[1] wrote it" in text, text
    assert "as In[1] wrote it" in text, text
    assert accesses[0].sha256[:12] in text and accesses[0].sha256 not in text, text
    assert "<table" in answer["text/html"]
    assert provctl(k.db, "files").stdout == text

    reply, outputs = k.execute("%files 1")
    assert magic_answer(outputs).json == rows
    reply, _ = k.execute("%files nope")
    assert reply["content"]["status"] == "error"
    assert "nope" in reply["content"]["evalue"], reply["content"]["evalue"]


def test_files_answer_what_the_cells_opened(kernel: Kernel, tmp_path: Path):
    k = kernel
    accesses = run_cells(k, tmp_path)
    assert probe_rows(k, accesses) == len(accesses), "the probe noted each cell's file"
    check_answers(k, tmp_path, accesses)
