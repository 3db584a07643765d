"""Dataflow through a real kernel: cell sequences run in python-prov, then `provctl deps VAR
--json` must list exactly the executions (by In[n]) that made VAR's current value. Each case
exercises one rule of the analysis; the expectations were worked out by hand.

Also: `provctl slice` output run by nbclient in a fresh kernel rebuilds the value, and
`%backwards_deps` in the notebook agrees with `provctl deps`.
"""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import KERNEL_NAME, REFERENCE_KERNEL, run_magic, start_kernel, stop_kernel, shell_reply, iopub_until_idle
from test_store import provctl, wait_for

pytestmark = pytest.mark.prov

# (name, cells, variable, expected In[n] of the executions it depends on)
CASES = [
    ("method call mutates",
     ["lst = [1]", "lst.append(2)", "x = 5", "y = sum(lst)"], "y", [1, 2, 4]),
    ("literal keys are separate",
     ["d = {}", "d['a'] = 1", "d['b'] = 2", "va = d['a']"], "va", [1, 2, 4]),
    ("augmented assignment",
     ["n = 1", "other = 2", "n += 10", "m = n"], "m", [1, 3, 4]),
    ("function reads globals at call time",
     ["k = 3", "def f():\n    return k * 2", "k = 4", "r = f()"], "r", [2, 3, 4]),
    ("global write in a called function",
     ["def g():\n    global z\n    z = w + 1", "w = 1", "g()", "q = z"], "q", [1, 2, 3, 4]),
    ("comprehension variables do not leak",
     ["i = 10", "sq = [i * i for i in range(3)]", "t = i"], "t", [1, 3]),
    ("del ends a history",
     ["v = 1", "del v", "v = 2", "w2 = v"], "w2", [3, 4]),
    ("aliases share mutations",
     ["a = [1]", "b = a", "b.append(2)", "s = len(a)"], "s", [1, 2, 3, 4]),
    ("a cell failing half-way defines only what ran",
     ["v1 = 1", "v1 = 2\n1 / 0\nv1 = 3", "w1 = v1"], "w1", [2, 3]),
    ("a cell that does not parse breaks nothing",
     ["p0 = 1", "this is not python", "p = p0 + 1"], "p", [1, 3]),
    ("IPython syntax is masked",
     ["files = !echo one two", "%time h = 1", "nfiles = len(files)"], "nfiles", [1, 3]),
    ("exec is seen by the runtime probe",
     ["exec('ex = 5')", "fx = ex + 1"], "fx", [1, 2]),
    ("re-running a cell is a new execution",
     ["c = 1", "c = 1", "e2 = c + 1"], "e2", [2, 3]),
]


def run_cells(kernel, cells):
    for code in cells:
        msg_id = kernel.kc.execute(code)
        shell_reply(kernel.kc, msg_id)
        iopub_until_idle(kernel.kc, msg_id)


@contextmanager
def kernel_that_ran(tmp_path: Path, cells):
    """A python-prov kernel that has run `cells` and recorded them all; shut down on exit."""
    db = tmp_path / "prov.db"
    kernel = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        run_cells(kernel, cells)
        wait_for(lambda: recorded_count(db) >= len(cells), what="all cells recorded")
        yield kernel
    finally:
        stop_kernel(kernel)


def deps(db: Path, variable: str, *extra: str) -> dict:
    result = provctl(db, "deps", variable, *extra, "--json", check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def recorded_count(db: Path) -> int:
    out = provctl(db, "trials", "--json", check=False).stdout
    return json.loads(out)[0]["executions"] if out.strip() else 0


@pytest.mark.parametrize("name,cells,variable,expected", CASES, ids=[c[0] for c in CASES])
def test_deps(tmp_path: Path, name, cells, variable, expected):
    with kernel_that_ran(tmp_path, cells) as kernel:
        answer = deps(kernel.db, variable)
    assert answer["variable"] == variable
    got = [e["execution_count"] for e in answer["executions"]]
    assert got == expected, f"{name}: {answer['executions']}"
    defined_before: set[str] = set()
    for execution in answer["executions"]:
        assert {"execution_count", "cell_id", "code", "defines", "uses"} <= set(execution)
        # `uses` are values from earlier executions of the answer, never the cell's own.
        assert {base(u) for u in execution["uses"]} <= defined_before, execution
        defined_before |= {base(d) for d in execution["defines"]}
    assert variable in answer["executions"][-1]["defines"]


def base(symbol: str) -> str:
    """`d['a']` and `o.x` belong to `d` and `o`."""
    return symbol.split("[")[0].split(".")[0]


def test_unknown_variable_lists_similar_names(tmp_path: Path):
    with kernel_that_ran(tmp_path, ["learning_rate = 0.1"]) as kernel:
        reply, outputs = kernel.execute("%backwards_deps learning_rat")
        assert reply["content"]["status"] == "error"
        assert "learning_rate" in reply["content"]["evalue"]
        result = provctl(kernel.db, "deps", "learning_rat", check=False)
    assert result.returncode == 2
    assert "learning_rate" in result.stderr


def test_backwards_deps_magic_agrees_with_provctl(tmp_path: Path):
    """A realistic pandas/sklearn sequence: the magic shows the right executions and a picture,
    and `provctl deps --json` gives the same executions."""
    cells = [
        "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
        "rng = np.random.default_rng(0)\ndf = pd.DataFrame({'a': rng.normal(size=200), 'b': rng.normal(size=200)})",
        "df['label'] = (df['a'] + df['b'] > 0).astype(int)",
        "unrelated = df.describe()",
        "C = 0.5",
        "model = LogisticRegression(C=C).fit(df[['a', 'b']], df['label'])",
        "acc = model.score(df[['a', 'b']], df['label'])",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        answer = run_magic(kernel, "%backwards_deps acc")
        [picture] = answer.pictures
        assert picture["image/svg+xml"].lstrip().startswith("<svg")
        assert base64.b64decode(picture["image/png"]).startswith(b"\x89PNG")
        magic = [e["execution_count"] for e in answer.json["executions"]]
        answer = deps(kernel.db, "acc")
    got = [e["execution_count"] for e in answer["executions"]]
    assert got == [1, 2, 3, 5, 6, 7]
    assert magic == got


def test_slice_rebuilds_the_value_in_a_fresh_kernel(tmp_path: Path):
    cells = [
        "import math",
        "base = [3, 1, 2]",
        "noise = 'ignored'",
        "base.sort()",
        "def scale(xs):\n    return [x * factor for x in xs]",
        "factor = math.sqrt(4)",
        "print('unrelated output')",
        "result = scale(base) + [len(base)]",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        db = kernel.db
    notebook = tmp_path / "slice.ipynb"
    provctl(db, "slice", "result", "-o", str(notebook))
    nb = nbformat.read(notebook, as_version=4)
    sources = "\n".join(c.source for c in nb.cells)
    assert "noise" not in sources and "unrelated output" not in sources
    nb.cells.append(nbformat.v4.new_code_cell("print(repr(result))"))
    NotebookClient(nb, kernel_name=REFERENCE_KERNEL, timeout=60,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert printed.strip() == repr([2.0, 4.0, 6.0, 3])
