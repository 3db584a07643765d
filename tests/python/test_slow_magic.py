"""A slow magic holds back only its own cell.

A magic reads the store through the kernel's writer thread. While another process holds the store's
write lock, that thread waits to commit the cell before, and so does the magic behind it. The magic
cell's reply and idle wait with it (the answer goes in the cell, before the idle), but another
client's requests are answered and its iopub traffic published meanwhile: neither the shell
replies nor the iopub relay wait for one cell's magics. The assertions are about order (the other
client's round trip completes while the magic is provably still waiting, and the lock is released
only after), not about time.
"""

from __future__ import annotations

import sqlite3

import pytest

from conftest import (
    TIMEOUT,
    iopub_until_all_idle,
    iopub_until_idle,
    magic_answer,
    queued,
    receive,
    reply_to,
    shell_reply,
)

pytestmark = pytest.mark.prov


def wait_for_iopub(kc, msg_id: str, msg_type: str, state: str | None = None,
                   forbidden: str | None = None) -> None:
    """Reads kc's iopub until `msg_type` (with `execution_state` `state`) of `msg_id` arrives;
    fails if the idle of the request `forbidden` comes first."""
    what = f"{msg_type} {state or ''} of {msg_id}"
    for msg in receive(kc.get_iopub_msg, TIMEOUT, what):
        parent = msg["parent_header"].get("msg_id")
        idle = msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
        assert not (forbidden and parent == forbidden and idle), (
            "the magic cell went idle before the other client was answered"
        )
        if parent != msg_id or msg["msg_type"] != msg_type:
            continue
        if state is None or msg["content"].get("execution_state") == state:
            return


def test_another_client_is_answered_while_a_magic_waits_for_the_store(kernel):
    kernel.run("x = 1")
    other = kernel.new_client()
    lock = sqlite3.connect(kernel.db, timeout=TIMEOUT, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # writers wait, readers do not
        # This cell's commit waits for the lock (its idle goes out after at most 5 s, the
        # store's wait lasts 10 s); the magic's query waits behind it on the writer thread.
        kernel.kc.execute("y = 2")
        slow = kernel.kc.execute("%trials")
        # The magic cell's code (the magic line, commented out) ran: its magic is now waiting.
        wait_for_iopub(kernel.kc, slow, "execute_input")
        asked = other.kernel_info()
        reply = reply_to(other.get_shell_msg, asked)
        assert reply["msg_type"] == "kernel_info_reply"
        wait_for_iopub(other, asked, "status", "idle", forbidden=slow)
        # The magic really was waiting all along: its cell has no reply yet.
        waiting = [m for m in queued(kernel.kc.get_shell_msg)
                   if m["parent_header"].get("msg_id") == slow]
        assert waiting == [], "the magic did not wait for the store: this test proves nothing"
    finally:
        lock.rollback()
        lock.close()

    reply = shell_reply(kernel.kc, slow)
    outputs = iopub_until_idle(kernel.kc, slow)
    assert reply["content"]["status"] == "ok", reply["content"]
    answer = magic_answer(outputs)
    assert "trial" in answer["text/plain"].lower()


def test_a_clients_later_cells_stay_behind_its_magic_cell(kernel):
    """Run All: the cells after a slow magic cell are sent at once. Their messages reach that
    client after the magic cell's idle, as plain ipykernel orders them, never before (a `busy`
    of the next cell overtaking the idle would show the kernel idle while that cell runs)."""
    kernel.run("x = 1")
    lock = sqlite3.connect(kernel.db, timeout=TIMEOUT, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        kernel.kc.execute("y = 2")
        slow = kernel.kc.execute("%trials")
        after = kernel.kc.execute("print('after')")
        wait_for_iopub(kernel.kc, slow, "execute_input")
        # The next cell ran in the child meanwhile; its reply (shell) is not held.
        reply = reply_to(kernel.kc.get_shell_msg, after)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        lock.rollback()
        lock.close()
    order = []
    for msg in receive(kernel.kc.get_iopub_msg, TIMEOUT, f"idle of {after}"):
        parent = msg["parent_header"].get("msg_id")
        if parent in (slow, after) and msg["msg_type"] in ("status", "stream", "display_data"):
            state = msg["content"].get("execution_state", msg["msg_type"])
            order.append(("slow" if parent == slow else "after", state))
        if parent == after and msg["msg_type"] == "status" and \
                msg["content"]["execution_state"] == "idle":
            break
    slow_idle = order.index(("slow", "idle"))
    after_busy = order.index(("after", "busy"))
    assert slow_idle < after_busy, order
    assert ("slow", "display_data") in order[:slow_idle], order
    assert order[-1] == ("after", "idle") and ("after", "stream") in order, order


def test_run_all_magics_answer_about_the_magic_cells_before_them(kernel):
    """Run All over cells that tag a value and then ask for it: each cell's reply can arrive
    while the magics of the cell before still run, and that cell's execution, which holds the
    tagged value, is recorded only after them. Every `%var_values` must see the `%tag_var`
    just before it (the tagged value of a list is captured only in the tagging cell's own
    execution). Timing decides whether a proxy without that ordering gets this wrong (one did
    on a loaded CI machine); the recorder's own test (`recorder/tests.rs`) pins it down."""
    asked = {}
    for i in range(12):
        kernel.kc.execute(f"v{i} = list(range({i} + 100))")
        kernel.kc.execute(f"%tag_var v{i}")
        asked[kernel.kc.execute(f"%var_values v{i}")] = f"{i + 100}"
    outputs = iopub_until_all_idle(kernel.kc, list(asked))
    for msg_id, value in asked.items():
        reply = shell_reply(kernel.kc, msg_id)
        assert reply["content"]["status"] == "ok", reply["content"]
        assert value in magic_answer(outputs[msg_id])["text/plain"], (value, outputs[msg_id])
