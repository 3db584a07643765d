"""Values compared by content through real python-prov kernels (issue 12, point 3): a notebook
with unseeded randomness run twice diffs its arrays, frame and models as changed by their
content fingerprints; the same notebook seeded diffs to nothing, and outputs that differ only
in what is volatile by nature (ipykernel's temporary cell file in a warning, a memory address,
%timeit) are equal, with the diff saying what it ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import KERNEL_NAME, start_kernel, stop_kernel
from test_store import provctl, provctl_json, wait_for

pytestmark = pytest.mark.prov

CELLS = [
    "import numpy as np\nimport pandas as pd\nimport warnings\n"
    "from sklearn.cluster import KMeans\nfrom sklearn.ensemble import RandomForestClassifier",
    "{seed}zdata = np.random.rand(200, 2)",
    "frame = pd.DataFrame(zdata, columns=['a', 'b'])\nlabels = (frame['a'] > 0.5).astype(int)",
    "kmeans = KMeans(n_clusters=3, n_init=1{state})\nkmeans.fit(zdata)\nypred = kmeans.predict(zdata)",
    "forest = RandomForestClassifier(n_estimators=5{state}).fit(zdata, labels)",
    "rows = len(frame)\nzeros = np.zeros(rows)",
    # Fitted in place in a later cell, on data that is the same in every run.
    "fixed = np.arange(40.0).reshape(20, 2)\nfixed_labels = np.arange(20) % 2\n"
    "forest2 = RandomForestClassifier(n_estimators=3{state})",
    "forest2.fit(fixed, fixed_labels);",
    # Outputs whose only differences are volatile by nature.
    "warnings.warn('careful')",
    "class Thing:\n    pass\nThing()",
    "%timeit -n 20 -r 2 sum(range(100))",
]

RANDOM = {"zdata", "frame", "labels", "kmeans", "ypred", "forest", "forest2"}


def run_notebook(tmp_path: Path, db: Path, seeded: bool) -> None:
    seed = "np.random.seed(0)\n" if seeded else ""
    state = ", random_state=0" if seeded else ""
    k = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        for code in CELLS:
            k.run(code.format(seed=seed, state=state))
    finally:
        stop_kernel(k)


@pytest.fixture(params=[False, True], ids=["unseeded", "seeded"])
def two_trials(tmp_path: Path, request):
    db = tmp_path / "prov.db"
    for _ in range(2):
        run_notebook(tmp_path, db, seeded=request.param)
    wait_for(lambda: all(provctl_json(db, "show", t)["trial"]["executions"] >= len(CELLS)
                         for t in ("1", "2")), what="both trials recorded")
    return db, request.param


def test_randomness_diffs_by_content_and_a_seed_diffs_to_nothing(two_trials):
    db, seeded = two_trials
    diff = provctl_json(db, "diff", "1", "2", "--all")
    values = {v["name"]: v for v in diff["values"]}
    for name in RANDOM:
        assert values[name]["compared_by"] == "content", values[name]
        expected = "equal" if seeded else "changed"
        assert values[name]["status"] == expected, values[name]
    # The same content whatever the draw: equal by content, not changed by dependencies.
    assert (values["zeros"]["status"], values["zeros"]["compared_by"]) == ("equal", "content")
    assert (values["rows"]["status"], values["rows"]["compared_by"]) == ("equal", "value")
    assert values["np"]["compared_by"] == "dependencies"
    for name in ("fixed", "fixed_labels"):
        assert (values[name]["status"], values[name]["compared_by"]) == ("equal", "content")

    default = provctl_json(db, "diff", "1", "2")
    changed = {v["name"] for v in default["values"]}
    assert changed == (set() if seeded else RANDOM), default["values"]
    assert default["code"] == [] and default["outputs"] == [], default["outputs"]
    text = provctl(db, "diff", "1", "2").stdout
    assert "ignoring what differs from run to run by nature" in text.lower(), text
    if seeded:
        assert "ran the same code in the same order, with the same values" in text, text
    else:
        assert "content" in text and "kmeans" in text, text


def test_volatile_output_parts_are_ignored_and_named(two_trials):
    db, _ = two_trials
    diff = provctl_json(db, "diff", "1", "2", "--all")
    by_count = {o["right"]["execution_count"]: o for o in diff["outputs"]}

    def texts(n: int) -> tuple[str, str]:
        entry = by_count[n]
        return tuple("".join(o["text"] or "" for o in entry[side]["outputs"])
                     for side in ("left", "right"))

    warned = texts(9)
    assert "/ipykernel_" in warned[0] and warned[0] != warned[1], warned
    assert by_count[9]["status"] == "equal"
    assert by_count[9]["ignored"] == ["ipykernel temporary path"]
    shown = texts(10)
    assert " at 0x" in shown[0], shown
    assert by_count[10]["status"] == "equal"
    assert by_count[10].get("ignored", []) == (["memory address"] if shown[0] != shown[1] else [])
    timed = texts(11)
    assert "per loop" in timed[0], timed
    assert by_count[11]["status"] == "equal", by_count[11]
    assert by_count[11].get("ignored", []) == (["timing"] if timed[0] != timed[1] else [])
    assert "ipykernel temporary path" in diff["volatile_ignored"]
