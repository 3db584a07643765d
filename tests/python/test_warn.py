"""Live warnings through a real python-prov kernel: `%prov_warn on` makes the cell that causes a
stale result or a data leak say so on stderr, one line per finding, before its idle, and no
other cell; off (the default) nothing is added; `PROV_WARN=1` starts the kernel with them on; a
bad argument is a clear error. A warning never changes the reply's status."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from conftest import KERNEL_NAME, Kernel, error_text, execute_in_cell, iopub_until_idle, \
    magic_answer, shell_reply, start_kernel, stop_kernel
from test_checks import SPLIT, run_in

pytestmark = pytest.mark.prov


def warnings(outputs: list[dict]) -> list[str]:
    """The lines prov wrote on stderr in a cell."""
    text = "".join(o["content"]["text"] for o in outputs
                   if o["msg_type"] == "stream" and o["content"]["name"] == "stderr")
    return [line for line in text.splitlines() if line.startswith("prov ")]


def stale_story(k: Kernel) -> list[list[str]]:
    """x = 1 in cell a, y = x * 2 in cell b, a re-run unchanged, then edited and re-run: the
    warnings of each of those four cells."""
    return [warnings(run_in(k, code, cell)) for code, cell in
            [("x = 1", "a"), ("y = x * 2", "b"), ("x = 1", "a"), ("x = 2", "a")]]


@pytest.fixture
def warned_kernel(tmp_path: Path) -> Iterator[Kernel]:
    k = start_kernel(KERNEL_NAME, tmp_path / "prov.db", cwd=tmp_path, env={"PROV_WARN": "1"})
    try:
        yield k
    finally:
        stop_kernel(k)


def test_off_by_default_nothing_is_added(kernel: Kernel):
    answer = magic_answer(run_in(kernel, "%prov_warn", "w"))
    assert answer.json["live_warnings"] is False
    assert "are off" in answer["text/plain"]
    assert stale_story(kernel) == [[], [], [], []]
    run_in(kernel, SPLIT, "split")
    outputs = run_in(kernel, "model = Model().fit(X_test, y_test)", "leak")
    assert outputs == [], outputs


def test_on_the_cell_that_makes_a_result_stale_says_so(kernel: Kernel):
    answer = magic_answer(run_in(kernel, "%prov_warn on", "w"))
    assert answer.json["live_warnings"] is True
    first, reader, same, edited = stale_story(kernel)
    assert first == reader == same == [], (first, reader, same)
    assert len(edited) == 1, edited
    line = edited[0]
    assert line.startswith("prov warning (stale-result): In[3] used `x` from In[2]"), line
    assert "edited and re-run since (In[5])" in line, line
    # What the cell shows is its own: the warning is not one of its recorded outputs, and the
    # check over the whole trial agrees.
    assert warnings(run_in(kernel, "y = x * 2", "b")) == []
    run_in(kernel, "%prov_warn off", "w")
    assert warnings(run_in(kernel, "x = 3", "a")) == []


def test_a_circle_and_the_stale_reader_are_one_line_each(kernel: Kernel):
    run_in(kernel, "%prov_warn on", "w")
    run_in(kernel, "x = 1", "a")
    run_in(kernel, "y = x + 1", "b")
    lines = warnings(run_in(kernel, "x = y + 1", "a"))
    assert len(lines) == 2, lines
    assert lines[0].startswith("prov warning (stale-result): In[3] used `x` from In[2]")
    assert lines[1].startswith("prov warning (stale-result): out-of-order execution: "
                               "In[4] read `y` from In[3], In[3] read `x` from In[2]"), lines[1]


def test_fitting_on_the_test_part_warns_in_that_cell_only(kernel: Kernel):
    run_in(kernel, "%prov_warn on", "w")
    assert warnings(run_in(kernel, SPLIT, "split")) == []
    assert warnings(run_in(kernel, "model = Model()\nmodel.fit(X_train, y_train)", "train")) == []
    assert warnings(run_in(kernel, "shifted = [v + 1 for v in X_test]", "shift")) == []
    lines = warnings(run_in(kernel, "m = Model()\n_ = m.fit(shifted, y_test)", "leak"))
    assert len(lines) == 1, lines
    assert lines[0].startswith("prov error (data-leakage): In[5] line 2: `m.fit(shifted, y_test)` "
                               "fits on `shifted`, `y_test`"), lines[0]
    assert "split in In[2] line 11" in lines[0], lines[0]
    assert warnings(run_in(kernel, "score = len(X_test)", "score")) == []


def test_the_warning_comes_after_the_cells_own_output_and_before_its_idle(kernel: Kernel):
    run_in(kernel, "%prov_warn on", "w")
    run_in(kernel, SPLIT, "split")
    outputs = run_in(kernel, "print('fitting')\nmodel = Model().fit(X_test, y_test)", "leak")
    kinds = [(o["msg_type"], o["content"].get("name")) for o in outputs]
    assert kinds == [("stream", "stdout"), ("stream", "stderr")], kinds
    assert outputs[0]["content"]["text"] == "fitting\n"
    # Signed by the proxy (jupyter_client checked the signature), parented to the request.
    assert outputs[1]["header"]["username"] == "prov-kernel"


def test_prov_warn_1_turns_them_on_from_the_start(warned_kernel: Kernel):
    assert stale_story(warned_kernel)[3] != []
    answer = magic_answer(run_in(warned_kernel, "%prov_warn", "w"))
    assert answer.json["live_warnings"] is True


def test_a_bad_argument_is_a_clear_error(kernel: Kernel):
    msg_id = execute_in_cell(kernel.kc, "%prov_warn maybe", "w")
    reply = shell_reply(kernel.kc, msg_id)
    iopub_until_idle(kernel.kc, msg_id)
    assert reply["content"]["status"] == "error"
    text = error_text(reply)
    assert "maybe" in text and "usage: %prov_warn [on|off]" in text, text
    answer = magic_answer(run_in(kernel, "%prov_warn", "w"))
    assert answer.json["live_warnings"] is False


def test_a_failing_cell_keeps_its_error_and_still_warns(kernel: Kernel):
    run_in(kernel, "%prov_warn on", "w")
    run_in(kernel, "x = 1", "a")
    run_in(kernel, "y = x * 2", "b")
    msg_id = execute_in_cell(kernel.kc, "x = 2\n1 / 0", "a")
    reply = shell_reply(kernel.kc, msg_id)
    outputs = iopub_until_idle(kernel.kc, msg_id)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "ZeroDivisionError"
    kinds = [o["msg_type"] for o in outputs]
    assert kinds == ["error", "stream"], kinds
    assert warnings(outputs)[0].startswith("prov warning (stale-result): In[3] used `x` from In[2]")


def test_turning_them_on_in_a_cell_judges_that_cell_already(kernel: Kernel):
    run_in(kernel, "x = 1", "a")
    run_in(kernel, "y = x * 2", "b")
    lines = warnings(run_in(kernel, "%prov_warn on\nx = 2", "a"))
    assert len(lines) == 1 and "edited and re-run since (In[3])" in lines[0], lines
    assert warnings(run_in(kernel, "%prov_warn off\nx = 3", "a")) == []
