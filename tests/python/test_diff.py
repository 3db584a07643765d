"""Comparing trials through real python-prov kernels: two runs of the same cells on one store,
differing in one parameter, read back with `provctl diff` and the %trial_diff /
%trial_intersection_diff magics."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from conftest import KERNEL_NAME, run_magic, start_kernel, stop_kernel
from test_store import provctl, provctl_json, wait_for

pytestmark = pytest.mark.prov

CELLS = [
    "from sklearn.datasets import make_classification\n"
    "from sklearn.linear_model import LogisticRegression",
    "C = {C}",
    "X, y = make_classification(random_state=0)",
    "model = LogisticRegression(C=C).fit(X, y)",
    "acc = model.score(X, y)\nprint(acc)",
]

SECTIONS = ["left", "right", "code", "inputs", "values", "expectations", "environment", "outputs"]


def run_cells(kernel, c: str) -> float:
    printed = ""
    for code in CELLS:
        printed = kernel.run(code.format(C=c))
    return float(printed)


def recorded(db: Path, trial: str, n: int) -> bool:
    return provctl_json(db, "show", trial)["trial"]["executions"] >= n


@pytest.fixture
def two_runs(tmp_path: Path):
    """Trial 1 with C = 1.0, trial 2 with C = 0.001, both kernels still running."""
    db = tmp_path / "prov.db"
    first = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    second = None
    try:
        acc1 = run_cells(first, "1.0")
        second = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
        acc2 = run_cells(second, "0.001")
        assert acc1 != acc2, "the parameter should change the accuracy"
        wait_for(lambda: recorded(db, "1", len(CELLS)) and recorded(db, "2", len(CELLS)),
                 what="both trials recorded")
        yield first, second, db
    finally:
        for k in (second, first):
            if k is not None:
                stop_kernel(k)


def test_one_parameter_changes_exactly_what_depends_on_it(two_runs):
    first, second, db = two_runs
    diff = provctl_json(db, "diff", "1", "2")
    assert list(diff) == SECTIONS
    assert (diff["left"]["id"], diff["right"]["id"]) == (1, 2)
    changed = {v["name"] for v in diff["values"] if v["status"] == "changed"}
    assert changed == {"C", "model", "acc"}, diff["values"]
    assert all(v["status"] != "equal" for v in diff["values"])
    by_name = {v["name"]: v for v in diff["values"]}
    assert (by_name["C"]["left"], by_name["C"]["right"]) == (1.0, 0.001)
    assert by_name["C"]["compared_by"] == "value"
    # A fitted model is known by its content fingerprint now (issue 12, point 3), not its type only.
    assert by_name["model"]["compared_by"] == "content"
    assert by_name["acc"]["left"] != by_name["acc"]["right"]

    assert [op["op"] for op in diff["code"]] == ["replace"], diff["code"]
    op = diff["code"][0]
    assert op["left"] == [2] and op["right"] == [2]
    assert "-C = 1.0" in op["unified"] and "+C = 0.001" in op["unified"]
    # The accuracy printed differs (a convergence warning may differ too).
    printed = [o for o in diff["outputs"] if o["right"]["execution_count"] == 5]
    assert [o["status"] for o in printed] == ["changed"], diff["outputs"]
    assert all(e["status"] != "equal" for e in diff["environment"])

    full = provctl_json(db, "diff", "1", "2", "--all")
    statuses = {v["name"]: v["status"] for v in full["values"]}
    assert statuses["X"] == statuses["y"] == "equal"
    assert {"C", "model", "acc"} <= statuses.keys()
    assert {op["op"] for op in full["code"]} == {"equal", "replace"}
    assert any(e["name"] == "python" and e["status"] == "equal" for e in full["environment"])
    # Changed first, then equal.
    order = [v["status"] for v in full["values"]]
    assert order == sorted(order, key=["changed", "added", "removed", "equal"].index)

    text = provctl(db, "diff", "1", "2").stdout
    assert "-C = 1.0" in text and "+C = 0.001" in text, text
    assert "model" in text and "changed" in text, text

    # The magic in the second kernel: trial 1 against this one, the same document.
    data = run_magic(second, "%trial_diff 1")
    assert set(data) == {"text/plain", "text/html"}
    answer = data.json
    for key in SECTIONS[2:]:
        assert answer[key] == diff[key], key
    assert (answer["left"]["id"], answer["right"]["id"]) == (1, 2)
    assert "+C = 0.001" in data["text/plain"]
    assert "C = 0.001" in data["text/html"] and "<script" not in data["text/html"]

    data = run_magic(second, "%trial_intersection_diff 1 2")
    values = data.json["values"]
    assert {v["name"] for v in values[:3]} == {"C", "model", "acc"}
    assert all(v["status"] == "equal" for v in values[3:])
    assert {"X", "y"} <= {v["name"] for v in values}
    assert "changed" in data["text/plain"]


def test_unknown_trials_are_clear_errors(two_runs):
    first, second, db = two_runs
    reply, outputs = second.execute("%trial_diff 99")
    content = reply["content"]
    assert content["status"] == "error"
    assert "99" in content["evalue"] and "provctl trials" in content["evalue"], content
    assert content["traceback"] == [f"{content['ename']}: {content['evalue']}"]
    reply, _ = second.execute("%trial_diff")
    assert "usage: %trial_diff T1 [T2] [--all]" in reply["content"]["evalue"]
    reply, _ = second.execute("%trial_intersection_diff 1 --all")
    assert "unknown option --all" in reply["content"]["evalue"]
    assert second.run("print(C)") == "0.001\n"

    result = provctl(db, "diff", "1", "99", check=False)
    assert result.returncode == 2
    assert "99" in result.stderr and result.stdout == ""


def test_changed_figures_are_shown_side_by_side(two_runs):
    first, second, db = two_runs
    plot = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, acc]);"
    for k in (first, second):
        _, outputs = k.execute(plot)
        assert any("image/png" in m["content"].get("data", {}) for m in outputs), outputs
    wait_for(lambda: recorded(db, "1", len(CELLS) + 1), what="the first plot recorded")
    data = run_magic(second, "%trial_diff 1")
    figures = [o for o in data.json["outputs"]
               if any("image/png" in out["mime_types"] for out in o["right"]["outputs"])]
    assert [o["status"] for o in figures] == ["changed"], data.json["outputs"]
    html = data["text/html"]
    assert html.count("data:image/png;base64,") == 2, html[:2000]
    # Both pictures are in one table row: left, then right.
    first_img, second_img = html.index("data:image/png;base64,"), html.rindex("data:image/png;base64,")
    assert "</tr>" not in html[first_img:second_img]
    # Each is the kernel's own PNG: decoded once, it is a PNG file.
    for encoded in re.findall(r'data:image/png;base64,([^"]+)"', html):
        assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")


HASH_LINE = re.compile(r"\[[a-z]+/[\w.+-]+ [0-9a-f]{12}\]")


def test_magic_answers_stay_out_of_the_outputs_and_diffs_do_not_nest(two_runs):
    """Both trials ask prov things (%trials, %backwards_deps with its picture); the second
    also ran %trial_diff. The outputs section holds only what the code showed: the printed
    accuracy, never prov's answers nor a line of MIME-type hashes; --all lists the answers,
    each as one line. A third trial diffing the second does not nest the second's diff."""
    first, second, db = two_runs
    for k in (first, second):
        run_magic(k, "%trials")
        assert run_magic(k, "%backwards_deps acc").pictures, "a picture to leave out"
    run_magic(second, "%trial_diff 1")
    wait_for(lambda: recorded(db, "1", len(CELLS) + 2) and recorded(db, "2", len(CELLS) + 3),
             what="the magics recorded")
    # The recorder marks prov's answers in the store.
    shown = provctl_json(db, "show", "2")["executions"]
    marked = [e for e in shown if any("application/vnd.prov.magic-answer" in o["mime_types"]
                                      for o in e["outputs"])]
    assert [e["code"] for e in marked] == ["%trials", "%backwards_deps acc", "%trial_diff 1"]

    diff = provctl_json(db, "diff", "1", "2")
    outputs = diff["outputs"]
    assert [o["right"]["execution_count"] for o in outputs] == [5], outputs
    for o in outputs:
        for side in (o["left"], o["right"]):
            assert all("magic" not in out for out in side["outputs"]), side
    text = provctl(db, "diff", "1", "2").stdout
    outputs_text = text[text.index("\noutputs"):]
    assert not HASH_LINE.search(text), text
    assert "trials" not in outputs_text and "depends on" not in outputs_text, outputs_text

    full = provctl(db, "diff", "1", "2", "--all").stdout
    assert not HASH_LINE.search(full), full
    assert "[prov's answer to %trial_diff 1]" in full, full
    assert full.count("Diff of") == 1, full

    third = start_kernel(KERNEL_NAME, db, cwd=db.parent)
    try:
        answer = run_magic(third, "%trial_diff 2")
        html, plain = answer["text/html"], answer["text/plain"]
        assert plain.count("Diff of") == 1 and html.count("Diff of") == 1, plain
        assert not HASH_LINE.search(plain) and not HASH_LINE.search(html), plain
        assert all("magic" not in out for o in answer.json["outputs"]
                   for side in (o["left"], o["right"]) if side for out in side["outputs"])
    finally:
        stop_kernel(third)
