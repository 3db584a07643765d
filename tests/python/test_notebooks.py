"""Every notebook in examples/ gives the same outputs under the kernel under
test as under plain ipykernel (python3), executed with nbclient.

Only outputs, execution counts and language_info are compared (not timing
metadata), after normalising what legitimately differs between two runs:
widget model ids, memory addresses and where a stream was split into
messages. Images are compared byte for byte (the examples are seeded, so they
are deterministic).

Cells that use prov's magics are tagged "prov". Under the prov kernel they run
as they are, and the magics' own answers (display_data marked with
metadata "prov") are set aside; under any other kernel their magic lines run
as comments, which is exactly the code the prov proxy hands to ipykernel. So
the comparison still covers everything the code itself printed.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import EXAMPLES_DIR, KERNEL_NAME, REFERENCE_KERNEL, _is_prov_kernel

NOTEBOOKS = sorted(EXAMPLES_DIR.glob("*.ipynb"))

ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
UUID_HEX = re.compile(r"\b[0-9a-f]{32}\b")
IPYKERNEL_TMP = re.compile(r"/tmp/ipykernel_\d+/\d+\.py")


def test_examples_exist():
    assert NOTEBOOKS, f"no notebooks in {EXAMPLES_DIR}"


@pytest.fixture(scope="module", autouse=True)
def warm_matplotlib_cache():
    """The first matplotlib import in a fresh venv prints "building the font
    cache" to stderr; do it here so it cannot show up in only one run."""
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], check=True)


PROV_TAG = "prov"


def is_prov_cell(cell) -> bool:
    return PROV_TAG in cell.get("metadata", {}).get("tags", [])


def comment_out_magics(nb: nbformat.NotebookNode) -> None:
    """What the prov proxy does to the cells' code before ipykernel sees it."""
    for cell in nb.cells:
        if cell.cell_type == "code" and is_prov_cell(cell):
            cell.source = "\n".join(
                f"# {line}" if line.startswith("%") else line for line in cell.source.split("\n")
            )


def execute(path: Path, kernel_name: str, cwd: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    if not _is_prov_kernel(kernel_name):
        comment_out_magics(nb)
    NotebookClient(
        nb, kernel_name=kernel_name, timeout=60, startup_timeout=60,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    return nb


def _scrub(value):
    if isinstance(value, str):
        value = ADDRESS.sub("0xADDR", value)
        value = IPYKERNEL_TMP.sub("/tmp/ipykernel_PID/CELL.py", value)
        return UUID_HEX.sub("UUID", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def coalesce_streams(outputs: list) -> list[dict]:
    """Merge consecutive stream outputs of the same name: where ipykernel
    splits a stream into messages depends on timing (its iopub thread flushes
    on a timer), not on the code."""
    merged: list[dict] = []
    for out in copy.deepcopy(outputs):
        out.pop("transient", None)
        prev = merged[-1] if merged else None
        if (out["output_type"] == "stream" and prev is not None
                and prev["output_type"] == "stream" and prev["name"] == out["name"]):
            prev["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def is_magic_answer(output) -> bool:
    return output.get("output_type") == "display_data" and PROV_TAG in output.get("metadata", {})


def normalize(nb: nbformat.NotebookNode) -> dict:
    """What must match between kernels: per cell, its execution count and
    outputs (without prov's answers to magics, counted apart); plus the
    language_info the kernel reported."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        answers = [o for o in cell.outputs if is_magic_answer(o)]
        cells.append({
            "id": cell.id,
            "execution_count": cell.execution_count,
            "outputs": _scrub(coalesce_streams([o for o in cell.outputs if not is_magic_answer(o)])),
            "prov_cell": is_prov_cell(cell),
            "magic_answers": [o["metadata"][PROV_TAG]["magic"] for o in answers
                              if not o["metadata"][PROV_TAG].get("picture")],
        })
    return {"language_info": nb.metadata.get("language_info"), "cells": cells}


def output_kinds(norm: dict) -> set[str]:
    kinds = set()
    for cell in norm["cells"]:
        for out in cell["outputs"]:
            kinds.add(out["output_type"])
            if out["output_type"] == "stream":
                kinds.add(f"stream:{out['name']}")
            kinds.update(f"mime:{m}" for m in out.get("data", {}))
    return kinds


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Execute each notebook once per kernel, lazily, and cache the result."""
    cache: dict[tuple[str, str], dict] = {}

    def run(path: Path, kernel_name: str) -> dict:
        key = (path.name, kernel_name)
        if key not in cache:
            cwd = tmp_path_factory.mktemp(f"{path.stem}-{kernel_name}")
            cache[key] = normalize(execute(path, kernel_name, cwd))
        return cache[key]

    return run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_same_outputs_as_ipykernel(path: Path, executed):
    reference = executed(path, REFERENCE_KERNEL)
    under_test = executed(path, KERNEL_NAME)
    assert reference["language_info"] == under_test["language_info"]
    assert len(reference["cells"]) == len(under_test["cells"])
    for ref, got in zip(reference["cells"], under_test["cells"]):
        ref = {k: v for k, v in ref.items() if k != "magic_answers"}
        got = dict(got)
        answers = got.pop("magic_answers")
        assert got == ref, f"cell {ref['id']} differs between {REFERENCE_KERNEL} and {KERNEL_NAME}"
        if answers:
            assert got["prov_cell"], f"cell {ref['id']} uses prov magics but is not tagged 'prov'"


@pytest.mark.prov
def test_magic_cells_get_answers(executed):
    """Every %line of a cell tagged "prov" is answered by prov, once, in order."""
    for path in NOTEBOOKS:
        for cell, norm in zip(
            [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"],
            executed(path, KERNEL_NAME)["cells"],
        ):
            lines = [line for line in cell.source.split("\n") if line.startswith("%")]
            if is_prov_cell(cell):
                assert norm["magic_answers"] == lines, f"{path.name} cell {cell.id}"
            else:
                assert norm["magic_answers"] == [], f"{path.name} cell {cell.id}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_ran(path: Path, executed):
    norm = executed(path, KERNEL_NAME)
    counts = [c["execution_count"] for c in norm["cells"]]
    assert counts == list(range(1, len(counts) + 1))


def test_examples_cover_rich_outputs(executed):
    """Together the examples exercise every kind of output we promise to relay."""
    kinds = set()
    for path in NOTEBOOKS:
        kinds |= output_kinds(executed(path, KERNEL_NAME))
    expected = {
        "stream:stdout", "stream:stderr", "display_data", "execute_result", "error",
        "mime:text/html", "mime:text/markdown", "mime:image/png",
        "mime:application/vnd.jupyter.widget-view+json",
    }
    assert expected <= kinds, f"missing: {sorted(expected - kinds)}"


def test_update_display_and_clear_output_applied(executed):
    """update_display_data replaced the first displays in place, and
    clear_output left only the final print in its cell."""
    norm = executed(EXAMPLES_DIR / "sales_report.ipynb", KERNEL_NAME)
    texts = [
        [o.get("text") or o.get("data", {}).get("text/markdown") or o.get("data", {}).get("text/html")
         for o in cell["outputs"]]
        for cell in norm["cells"]
    ]
    assert any(
        t[:1] and t[0].startswith("Checking regions: 4 of 4") and t[1:] == ["<em>status: done</em>"]
        for t in texts
    ), texts
    assert any(len(t) == 1 and t[0].startswith("monthly totals:") for t in texts), texts
