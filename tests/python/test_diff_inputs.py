"""The trial diff's inputs through real python-prov kernels (issue 13, "In comparisons"): the
same notebook run twice with one byte of its input CSV changed diffs to exactly that input
file, the values computed from it and their outputs, and nothing else: not the line beside the
reading one, not the values made without the file, not the code or the environment.

It needs the probe's `files` note (issue 13, "Capture"); until the probe records files, the
test skips, saying so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import KERNEL_NAME, run_magic, start_kernel, stop_kernel
from test_store import provctl, provctl_json, wait_for

pytestmark = pytest.mark.prov

CELLS = [
    "import pandas as pd\n"
    "class Box:\n"
    "    def __init__(self, content):\n"
    "        self.content = content",
    # The reading lines (`raw` is known by its type only, and read nothing that changed but the
    # file), and a line beside them that reads no file.
    "houses = pd.read_csv('houses.csv')\n"
    "raw = Box(open('houses.csv').read())\n"
    "limit = Box(3)",
    # Computed from the file (a value known by its type only among them), and not.
    "total = Box(houses['price'].sum())\n"
    "steps = Box(list(range(limit.content)))",
    "print(float(houses['price'].mean()))",
    "print(len(steps.content))",
]

CHANGED = {"houses", "raw", "total"}
UNCHANGED = {"pd", "Box", "limit", "steps"}


def write_houses(folder: Path, last_price: str) -> None:
    (folder / "houses.csv").write_text(
        "sqft,price\n1200,250000\n1500,310000\n1800," + last_price + "\n")


def executions(db: Path, trial: str) -> int:
    return provctl_json(db, "show", trial)["trial"]["executions"]


def notes_have_files(db: Path) -> bool:
    """Whether the probe put a `files` key in any recorded note."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT runtime FROM execution_dataflow WHERE runtime IS NOT NULL").fetchall()
    return any("files" in json.loads(r[0]) for r in rows if r[0])


def run_trial(db: Path, folder: Path, trial: str):
    """The notebook in a new kernel, in `folder`, recorded as `trial`: the kernel, running."""
    kernel = start_kernel(KERNEL_NAME, db, cwd=folder)
    try:
        for code in CELLS:
            kernel.run(code)
        wait_for(lambda: executions(db, trial) >= len(CELLS), timeout=30,
                 what=f"trial {trial} recorded")
    except BaseException:
        stop_kernel(kernel)
        raise
    return kernel


@pytest.fixture
def two_runs(tmp_path: Path):
    """Trial 1 with the CSV as written, trial 2 after one byte of it changed (`9` for `0`, the
    same size); the second kernel still running."""
    db = tmp_path / "prov.db"
    write_houses(tmp_path, "370000")
    stop_kernel(run_trial(db, tmp_path, "1"))
    assert notes_have_files(db), "the probe noted the files the cells opened"
    write_houses(tmp_path, "370009")
    second = run_trial(db, tmp_path, "2")
    try:
        yield second, db
    finally:
        stop_kernel(second)


def test_one_changed_byte_diffs_to_the_file_its_values_and_their_outputs(two_runs):
    second, db = two_runs
    diff = provctl_json(db, "diff", "1", "2")
    # The input file, and only it.
    assert [(i["path"], i["status"]) for i in diff["inputs"]] == [("houses.csv", "changed")], \
        diff["inputs"]
    entry = diff["inputs"][0]
    assert entry["left"]["sha256"] != entry["right"]["sha256"]
    assert entry["left"]["size"] == entry["right"]["size"]
    assert entry["left"]["sampled"] is False
    # The values computed from it, and no other.
    assert {v["name"] for v in diff["values"]} == CHANGED, diff["values"]
    assert all(v["status"] == "changed" for v in diff["values"])
    # Their output: the mean price's cell only.
    assert len(diff["outputs"]) == 1, diff["outputs"]
    assert diff["outputs"][0]["right"]["execution_count"] == 4
    # Nothing else.
    assert diff["code"] == [] and diff["environment"] == [], diff

    full = provctl_json(db, "diff", "1", "2", "--all")
    by_name = {v["name"]: v["status"] for v in full["values"]}
    assert UNCHANGED <= by_name.keys(), by_name
    assert all(by_name[n] == "equal" for n in UNCHANGED), by_name
    assert all(not n.startswith("/") for n in by_name), by_name

    text = provctl(db, "diff", "1", "2").stdout
    row = next(line for line in text.splitlines() if "houses.csv" in line)
    assert "changed" in row and entry["left"]["sha256"][:8] in row, row

    # The magic in the second kernel says the same.
    answer = run_magic(second, "%trial_diff 1")
    assert answer.json["inputs"] == diff["inputs"]
    assert {v["name"] for v in answer.json["values"]} == CHANGED
    assert "houses.csv" in answer["text/html"]
    both = run_magic(second, "%trial_intersection_diff 1")
    assert [i["path"] for i in both.json["inputs"]] == ["houses.csv"]
