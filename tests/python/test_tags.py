"""Tagging through a real python-prov kernel: %tag_var, %untag_var, %tag_cell and %tags in
cells, read back with %tags (every MIME type) and `provctl tags --json`."""

from __future__ import annotations

import pytest

from conftest import execute_in_cell, iopub_until_idle, magic_answer, run_magic, shell_reply
from test_store import provctl, provctl_json, wait_for

pytestmark = pytest.mark.prov


def test_tags_are_set_listed_and_removed(kernel):
    k = kernel
    k.run("df = [1, 2, 3]")
    data = run_magic(k, "%tag_var df input")
    assert "df" in data["text/plain"]
    assert data.json["label"] == "input"
    run_magic(k, "model = sum(df)\n%tag_var model")
    data = run_magic(k, "%tag_var model final")
    assert data.json["retagged"] is True
    run_magic(k, "tmp = 1\n%tag_var tmp")
    run_magic(k, "%untag_var tmp")

    # The stage marks the execution of the cell it is in.
    kc = k.kc
    msg_id = execute_in_cell(kc, "%tag_cell train\nscore = model * 2", "cell-train")
    reply = shell_reply(kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]
    train_count = reply["content"]["execution_count"]
    assert "train" in magic_answer(iopub_until_idle(kc, msg_id))["text/plain"]

    data = run_magic(k, "%tags")
    assert set(data) == {"text/plain", "text/html"}
    answer = data.json
    assert [(v["name"], v["label"]) for v in answer["variables"]] == [
        ("df", "input"), ("model", "final")]
    assert "model" in data["text/plain"] and "final" in data["text/plain"]
    assert "tmp" not in data["text/plain"]
    assert "train" in data["text/html"]

    def stage_recorded():
        tags = provctl_json(k.db, "tags")
        stages = tags["stages"]
        return tags if stages and stages[0]["execution_count"] is not None else None

    tags = wait_for(stage_recorded, what="the stage's execution recorded")
    assert [v["name"] for v in tags["variables"]] == ["df", "model"]
    assert tags["variables"][0]["execution_count_at_tagging"] is not None
    stage = tags["stages"][0]
    assert stage["label"] == "train"
    assert stage["execution_count"] == train_count
    assert stage["cell_id"] == "cell-train"
    assert "Tags of trial" in provctl(k.db, "tags").stdout


def test_wrong_arguments_are_errors(kernel):
    k = kernel
    for code, usage in [
        ("%tag_var", "usage: %tag_var VAR [LABEL]"),
        ("%tag_var a b c", "usage: %tag_var VAR [LABEL]"),
        ("%untag_var", "usage: %untag_var VAR"),
        ("%tag_cell", "usage: %tag_cell LABEL"),
        ("%tags extra", "usage: %tags"),
    ]:
        reply, outputs = k.execute(code)
        assert reply["content"]["status"] == "error", code
        assert usage in reply["content"]["evalue"], reply["content"]["evalue"]
    reply, _ = k.execute("%untag_var never_tagged")
    assert reply["content"]["status"] == "error"
    assert "not tagged" in reply["content"]["evalue"]
    assert provctl(k.db, "tags", "--trial", "nope", check=False).returncode == 2
