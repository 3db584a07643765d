"""A variable across trials through real python-prov kernels sharing one store: %var_values,
%var_evolution (and their noWorkflow aliases), %trials with tags and key values, and
`provctl values` / `provctl plot` reading the same record."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import KERNEL_NAME, run_magic, start_kernel, stop_kernel
from test_store import provctl, provctl_json

pytestmark = pytest.mark.prov

SVG = "image/svg+xml"


def trial(db: Path, tmp_path: Path, name: str, *accs: float):
    """Starts a kernel on `db`, names its trial, sets `acc` to each of `accs` in turn (one
    cell each) and tags it; returns the running kernel."""
    k = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        run_magic(k, f"%trial_name {name}")
        for acc in accs:
            k.run(f"acc = {acc}")
        run_magic(k, "%tag_var acc metric")
    except BaseException:
        stop_kernel(k)
        raise
    return k


def test_a_variable_across_trials(tmp_path: Path):
    db = tmp_path / "prov.db"
    for name, acc in [("lr=0.1", 0.81), ("lr=0.01", 0.93)]:
        stop_kernel(trial(db, tmp_path, name, acc))
    k = trial(db, tmp_path, "lr=1", 0.2, 0.5)
    try:
        expected = [("lr=0.1", 0.81), ("lr=0.01", 0.93), ("lr=1", 0.2), ("lr=1", 0.5)]

        # %var_values: every version, trial by trial, in every form.
        data = run_magic(k, "%var_values acc")
        assert set(data) == {"text/plain", "text/html"}
        rows = data.json
        assert [(r["trial_name"], r["value"]) for r in rows] == expected
        assert [r["trial"] for r in rows] == [1, 2, 3, 3]
        assert all(r["type"] == "float" and r["label"] == "metric" for r in rows)
        assert rows[2]["execution_count"] < rows[3]["execution_count"]
        assert "acc: 4 values in 3 trials" in data["text/plain"]
        assert "lr=0.01" in data["text/html"]
        assert run_magic(k, "%var_tag_values acc").json == rows

        # provctl reads the same record.
        values = provctl_json(db, "values", "acc")
        assert [(v["trial"], v["execution_count"], v["type"], v["value"]) for v in values] == [
            (r["trial"], r["execution_count"], r["type"], r["value"]) for r in rows]

        # %var_evolution: each trial's last value, as a picture with the trial names.
        data = run_magic(k, "%var_evolution acc")
        assert set(data) == {"text/plain", "text/html"}
        [picture] = data.pictures
        assert {SVG, "image/png", "text/plain"} == set(picture)
        assert base64.b64decode(picture["image/png"]).startswith(b"\x89PNG")
        evolution = data.json
        assert evolution["variable"] == "acc"
        assert evolution["statistic"] == "mean"
        assert [(p["trial_name"], p["value"]) for p in evolution["points"]] == [
            ("lr=0.1", 0.81), ("lr=0.01", 0.93), ("lr=1", 0.5)]
        assert evolution["skipped"] == []
        svg = picture[SVG]
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        for name in ["lr=0.1", "lr=0.01", "lr=1"]:
            assert f">{name}<" in svg, name
        assert "acc across trials" in data["text/plain"]
        assert run_magic(k, "%var_tag_plot acc").pictures[0][SVG] == svg

        # provctl plot draws the same picture.
        out = tmp_path / "acc.svg"
        said = provctl(db, "plot", "acc", "-o", str(out)).stdout
        assert str(out) in said
        assert out.read_text() == svg

        # %trials: the tag and the value each trial ended with.
        data = run_magic(k, "%trials")
        text = data["text/plain"]
        assert "tags / key values" in text
        for shown in ["acc=0.81", "acc=0.93", "acc=0.5"]:
            assert shown in text, text
        listed = data.json
        assert [t["tags"] for t in listed] == [[{"name": "acc", "label": "metric"}]] * 3
        assert [t["key_values"][0]["value"] for t in listed] == [0.81, 0.93, 0.5]
        assert all("status" in t and "executions" in t for t in listed)
        assert provctl_json(db, "trials")[2]["key_values"][0]["text"] == "0.5"
    finally:
        stop_kernel(k)


def test_wrong_variables_and_arguments_are_errors_in_the_cell(kernel):
    k = kernel
    k.run("accuracy = 0.9")
    reply, _ = k.execute("%var_values acuracy")
    assert reply["content"]["status"] == "error"
    message = reply["content"]["evalue"]
    assert "no value of `acuracy`" in message, message
    assert "accuracy" in message, message
    for code, usage in [
        ("%var_values", "usage: %var_values VAR"),
        ("%var_evolution accuracy --stat median", "usage: %var_evolution VAR"),
        ("%var_tag_plot", "usage: %var_evolution VAR"),
    ]:
        reply, _ = k.execute(code)
        assert reply["content"]["status"] == "error", code
        assert usage in reply["content"]["evalue"], reply["content"]["evalue"]
    # A value with no number (an untagged array has only its type recorded) is listed as
    # skipped, not drawn; the magic still answers.
    k.run("import numpy as np\narr = np.arange(3.0)")
    evolution = run_magic(k, "%var_evolution arr")
    answer = evolution.json
    assert len(answer["points"]) + len(answer["skipped"]) == 1, answer
    if answer["skipped"]:
        assert evolution.pictures == []
        assert "Skipped" in evolution["text/plain"]
    # The kernel keeps working.
    assert k.run("print(accuracy * 2)") == "1.8\n"
    assert provctl(k.db, "values", "nope", check=False).returncode == 2
