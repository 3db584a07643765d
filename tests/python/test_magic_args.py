"""A prov magic's arguments through a real python-prov kernel: shell words (quotes group words,
an unclosed quote is an error), clap's checks worded for the cell (what was wrong, the magic's
usage, no terminal colours, no pointer to a program's --help), `%magic --help`; and a wrong
argument loses nothing: the cell's code runs, the execution is recorded, later cells run."""

from __future__ import annotations

import pytest

from conftest import magic_answer, run_magic
from test_store import provctl, provctl_json, recorded, wait_for

pytestmark = pytest.mark.prov


def magic_error(kernel, code: str) -> str:
    """The message of a cell whose magic failed, checked to read well in a notebook."""
    reply, outputs = kernel.execute(code)
    content = reply["content"]
    assert content["status"] == "error", content
    assert content["ename"] == "ProvMagicError"
    errors = [m for m in outputs if m["msg_type"] == "error"]
    assert [m["content"]["evalue"] for m in errors] == [content["evalue"]], outputs
    message = content["evalue"]
    assert "\x1b" not in message, repr(message)
    assert "For more information" not in message and "Usage:" not in message, message
    return message


def test_a_wrong_argument_is_a_clear_error_and_loses_nothing(kernel):
    k = kernel
    k.run("x = 1")

    # An unclosed quote is an error, not a name running to the end of the line; the cell's
    # code still runs (the magic answers after it).
    message = magic_error(k, "y = 2\n%trial_name \"lr 0.1")
    assert "quote is not closed" in message, message
    assert "usage: %trial_name NAME" in message, message
    assert message.startswith('%trial_name "lr 0.1: '), message
    assert provctl_json(k.db, "show", "1")["trial"]["name"] is None

    message = magic_error(k, "%backwards_deps x --nope")
    assert "unknown option --nope" in message, message
    assert "usage: %backwards_deps VAR [--statements]" in message, message
    assert "more: %backwards_deps --help" in message, message

    message = magic_error(k, "%var_evolution --stat max")
    assert "<VAR>" in message and "usage: %var_evolution VAR" in message, message

    message = magic_error(k, "%var_evolution x --stat median")
    assert "mean, min, max, len" in message, message

    # --help is the magic's help, as its answer.
    help = run_magic(k, "%backwards_deps --help")
    assert "Usage: %backwards_deps VAR [--statements]" in help["text/plain"], help["text/plain"]
    assert "--statements" in help["text/plain"] and "<pre" in help["text/html"]
    assert help.json["magic"] == "%backwards_deps"
    assert "Usage: %trial_diff T1 [T2] [--all]" in run_magic(k, "%trial_diff -h")["text/plain"]

    # Quotes group words; the same argument clap parses for provctl.
    answer = run_magic(k, "%trial_name 'lr 0.1'")
    assert answer.json["trial"]["name"] == "lr 0.1", answer.json
    assert k.run("print(x + y)") == "3\n"

    cells = [
        "x = 1",
        "y = 2\n%trial_name \"lr 0.1",
        "%backwards_deps x --nope",
        "%var_evolution --stat max",
        "%var_evolution x --stat median",
        "%backwards_deps --help",
        "%trial_diff -h",
        "%trial_name 'lr 0.1'",
        "print(x + y)",
    ]
    executions = wait_for(lambda: len(recorded(k.db, "lr 0.1")) == len(cells)
                          and recorded(k.db, "lr 0.1"), what="every cell recorded")
    assert [e["code"] for e in executions] == cells
    statuses = [e["status"] for e in executions]
    assert statuses == ["ok", "error", "error", "error", "error", "ok", "ok", "ok", "ok"], statuses

    deps = provctl_json(k.db, "deps", "y", "--trial", "lr 0.1")
    assert any("y = 2" in e["code"] for e in deps["executions"]), deps
    bad = provctl(k.db, "deps", "y", "--nope", check=False)
    assert bad.returncode == 2 and "--nope" in bad.stderr
    assert provctl(k.db, "diff", "1", check=False).returncode == 2


def test_tags_change_only_when_the_arguments_parse(kernel):
    """Tags are applied at the cell's request; a call whose quote is not closed applies none."""
    k = kernel
    k.run("acc = 0.5")
    magic_error(k, "%tag_var acc 'metric")
    assert provctl_json(k.db, "tags")["variables"] == []
    run_magic(k, "%tag_var \"acc\" 'metric'")
    tags = run_magic(k, "%tags").json
    assert [(v["name"], v["label"]) for v in tags["variables"]] == [("acc", "metric")]
    _, outputs = k.execute("acc = 0.7")
    assert k.run("print(acc)") == "0.7\n"
    values = provctl_json(k.db, "values", "acc")
    assert [v["value"] for v in values][-1] == 0.7, values
    assert magic_answer(k.execute("%untag_var acc")[1]).json is not None
