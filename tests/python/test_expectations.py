"""Expectations through the real kernel: a notebook (cells with ids, as JupyterLab sends them)
runs twice, in two trials; the second run raises an upstream threshold, so the assert
downstream fails. `%expectations` shows that expectation flipped (passed in trial 1, failed in
trial 2 with its message; the assert after it not reached) and agrees with `provctl
expectations --json`; the trial diff lists both with the threshold as the explanation; the
failing cell's error is exactly what plain ipykernel shows for the same cells."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import (KERNEL_NAME, REFERENCE_KERNEL, Kernel, execute_in_cell, iopub_until_idle,
                      magic_answer, shell_reply, start_kernel, stop_kernel)
from test_store import provctl, provctl_json

pytestmark = pytest.mark.prov

CHECK = ("ratio = acc / threshold\n"
         "assert ratio > 1, f'acc {acc} is below {threshold}'  # the model must beat it\n"
         "assert acc < 1\n")
CHECK_SOURCE = "assert ratio > 1, f'acc {acc} is below {threshold}'"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def run_notebook(k: Kernel, threshold: float) -> dict:
    """The three cells in order, each in its own cell id; the last one's reply content."""
    content = {}
    for cell_id, code in [("params", f"threshold = {threshold}"), ("train", "acc = 0.8"),
                          ("check", CHECK)]:
        msg_id = execute_in_cell(k.kc, code, cell_id)
        content = shell_reply(k.kc, msg_id)["content"]
        iopub_until_idle(k.kc, msg_id)
    return content


def error_of(content: dict) -> tuple:
    return (content["status"], content.get("ename"), content.get("evalue"),
            [ADDRESS.sub("0xADDR", line) for line in content.get("traceback", [])])


def test_a_parameter_change_flips_an_expectation(tmp_path: Path):
    db = tmp_path / "prov.db"
    first = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        assert run_notebook(first, 0.5)["status"] == "ok"
    finally:
        stop_kernel(first)

    second = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        failed = run_notebook(second, 0.9)
        reply, outputs = second.execute("%expectations")
        assert reply["content"]["status"] == "ok", reply["content"]
        answer = magic_answer(outputs)
    finally:
        stop_kernel(second)

    assert answer.json == [
        {"source": CHECK_SOURCE, "cell_id": "check", "history": [
            {"trial": 1, "execution_count": 3, "outcome": "passed", "message": None},
            {"trial": 2, "execution_count": 3, "outcome": "failed",
             "message": "acc 0.8 is below 0.9"}]},
        {"source": "assert acc < 1", "cell_id": "check", "history": [
            {"trial": 1, "execution_count": 3, "outcome": "passed", "message": None},
            {"trial": 2, "execution_count": 3, "outcome": "not reached", "message": None}]},
    ]
    text = answer["text/plain"]
    assert text.startswith("Expectations of trial 2: 2 asserts, 0 passed, 1 failed, "
                           "1 not reached\n"), text
    assert "1✓ 2✗" in text and "1✓ 2·" in text, text
    assert "acc 0.8 is below 0.9" in text, text
    assert "<table" in answer["text/html"]
    assert provctl_json(db, "expectations") == answer.json
    assert provctl_json(db, "expectations", "--trial", "1") == answer.json
    assert provctl(db, "expectations").stdout == text

    # The trial diff names the flipped expectations, explained by the parameter upstream.
    diff = provctl_json(db, "diff", "1", "2")
    flipped = {e["source"]: e for e in diff["expectations"]}
    assert set(flipped) == {CHECK_SOURCE, "assert acc < 1"}, diff["expectations"]
    assert (flipped[CHECK_SOURCE]["left"], flipped[CHECK_SOURCE]["right"]) == ("passed", "failed")
    # acc is the same in both trials: only the threshold (and the ratio made from it) changed.
    assert flipped[CHECK_SOURCE]["explained_by"] == ["ratio", "threshold"], flipped
    assert flipped["assert acc < 1"]["right"] == "not reached"
    diff_text = provctl(db, "diff", "1", "2").stdout
    assert "expectations" in diff_text and "ratio, threshold" in diff_text, diff_text

    # The failing cell fails exactly as under plain ipykernel: same error, same traceback.
    reference = start_kernel(REFERENCE_KERNEL, tmp_path / "reference.db", cwd=tmp_path)
    try:
        plain = run_notebook(reference, 0.9)
    finally:
        stop_kernel(reference)
    assert failed["ename"] == "AssertionError"
    assert error_of(failed) == error_of(plain)
