"""`%files` as JupyterLab draws it: a cell writes a CSV, the next reads it, a shell command (which
the trial does not record) changes one byte of it, a third cell reads it again; `%files` answers
with a table per file, not JupyterLab's JSON tree, and marks the last read as changed outside."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jlab import Lab, Notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from file_rows import Access, indexed_execution, recorded_rows  # noqa: E402

NAME = "files.ipynb"
WRITE = "with open('e2e_houses.csv', 'w') as f:\n    f.write('rooms,price\\n3,250\\n')"
READ = "text = open('e2e_houses.csv').read()"
CHANGE = "!printf 'rooms,price\\n3,251\\n' > e2e_houses.csv"
READ_AGAIN = "again = open('e2e_houses.csv').read()"


@pytest.fixture(scope="module")
def files_cell(lab: Lab):
    """The `%files` cell, after the cells above ran."""
    root = lab.server.root
    with lab.step("files-run"):
        nb, _ = lab.run_cells("e2e-files", NAME, [WRITE])
        written = (root / "e2e_houses.csv").read_bytes()
        nb.run(READ)
        nb.run(CHANGE)
        changed = (root / "e2e_houses.csv").read_bytes()
        assert changed != written, "the shell command changed the file"
        nb.run(READ_AGAIN)
    accesses = [Access(WRITE, "e2e_houses.csv", "write", written),
                Access(READ, "e2e_houses.csv", "read", written),
                Access(READ_AGAIN, "e2e_houses.csv", "read", changed)]
    ids = [indexed_execution(lab.server.db, a.code) for a in accesses]
    assert recorded_rows(lab.server.db, ids) == len(accesses), "the probe noted each cell's file"
    with lab.step("files-magic"):
        cell = nb.run("%files")
    return nb, cell


def check_page(lab: Lab, cell) -> None:
    with lab.answer("files-answer", cell) as answer:
        table, header = Notebook.only_table(answer)
        assert header[:2] == ["execution", "access"], header
        Notebook.expect_rows(table, [
            ["In[1]", "write"],
            ["as In[1] wrote it"],
            ["In[4]", "! changed outside since In[1] wrote it"],
        ])
        expect(answer).to_contain_text("e2e_houses.csv → /")


def test_files_answer_is_a_table_per_file(lab: Lab, files_cell):
    _, cell = files_cell
    check_page(lab, cell)
