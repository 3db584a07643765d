"""Aliasing and hidden state through a real kernel (issue 12): a mutation through one name is a
new version of every name it reaches, inside one cell as across cells, through containers and
shallow copies; calls that change hidden state (a closure's `nonlocal`, a cache) are versions of
it. Each case runs its cells in python-prov, then asks `provctl deps --json` (executions by
In[n]) or `--statements`, or `%slice`, whose code must compute the notebook's value in a fresh
Python. Expectations were worked out by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_magic
from test_dataflow import deps, kernel_that_ran

pytestmark = pytest.mark.prov


def slice_value(kernel, variable: str):
    """`%slice VAR` in the notebook, its code run in a fresh Python: VAR's value there."""
    code = run_magic(kernel, f"%slice {variable}")["text/plain"]
    program = code + f"\nimport json as _json\nprint(_json.dumps({variable}))\n"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, (code, result.stderr)
    return code, json.loads(result.stdout.strip().splitlines()[-1])


def notebook_value(kernel, variable: str):
    reply, outputs = kernel.execute(f"import json as _j; print(_j.dumps({variable}))")
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    return json.loads(text.strip().splitlines()[-1])


def statements(db: Path, variable: str) -> list[str]:
    """The statements behind VAR (`provctl deps VAR --statements --json`), as their code."""
    answer = deps(db, variable, "--statements")
    return [s["text"].strip() for e in answer["executions"] for s in e["statements"]]


def counts(db: Path, variable: str) -> list[int]:
    return [e["execution_count"] for e in deps(db, variable)["executions"]]


def test_alias_and_append_in_one_cell_slice_computes_the_notebook_value(tmp_path: Path):
    cells = ["a = [1, 2]\nb = a\nunrelated = 'x'\nb.append(3)\nc = sum(a) * 2"]
    with kernel_that_ran(tmp_path, cells) as kernel:
        code, value = slice_value(kernel, "c")
        assert value == notebook_value(kernel, "c") == 12
        assert "b.append(3)" in code and "unrelated" not in code
        assert statements(kernel.db, "c") == ["a = [1, 2]", "b = a", "b.append(3)",
                                               "c = sum(a) * 2"]


def test_int_alias_rebound_by_plus_equals_is_not_a_change_in_one_cell(tmp_path: Path):
    cells = ["a = 5\nb = a\nb += 1\nc = a * 2"]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert statements(kernel.db, "c") == ["a = 5", "c = a * 2"]
        _, value = slice_value(kernel, "c")
        assert value == 10


def test_item_of_a_list_changed_through_its_own_name(tmp_path: Path):
    cells = [
        "rows = [[1], [2]]",
        "first = rows[0]",
        "other = rows[1]",
        "first.append(9)",
        "n = len(rows[0])",
        "m = len(rows[1])",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "n") == [1, 2, 4, 5]
        assert counts(kernel.db, "m") == [1, 6]
        _, value = slice_value(kernel, "n")
        assert value == notebook_value(kernel, "n") == 2


def test_an_int_item_is_no_alias(tmp_path: Path):
    cells = ["nums = [1, 2]", "first = nums[0]", "first += 1", "s = sum(nums)"]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "s") == [1, 4]


def test_in_one_cell_an_int_item_is_no_alias_and_a_list_item_is(tmp_path: Path):
    cells = ["nums = [1, 2]\nrows = [[1], [2]]\nk = nums[0]\nk += 1\nfirst = rows[0]\n"
             "first.append(9)\ns = sum(nums)\nn = len(rows[0])"]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert statements(kernel.db, "s") == ["nums = [1, 2]", "s = sum(nums)"]
        assert statements(kernel.db, "n") == ["rows = [[1], [2]]", "first = rows[0]",
                                              "first.append(9)", "n = len(rows[0])"]


def test_object_stored_in_a_dict_then_changed_through_its_own_name(tmp_path: Path):
    cells = [
        "class Model:\n    def __init__(self):\n        self.w = 0\n"
        "    def fit(self, X):\n        self.w = sum(X)\n        return self\n"
        "    def predict(self, x):\n        return self.w * x",
        "model = Model()",
        "models = {}",
        "models['m'] = model",
        "X = [1, 2, 3]",
        "model.fit(X)",
        "models['n'] = 5",
        "p = models['m'].predict(2)",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "p") == [1, 2, 3, 4, 5, 6, 8]
        code, value = slice_value(kernel, "p")
        assert value == notebook_value(kernel, "p") == 12
        assert "models['n']" not in code


def test_copy_shares_members_and_deepcopy_does_not(tmp_path: Path):
    cells = [
        "import copy",
        "cfg = {'layers': [1]}",
        "shallow = copy.copy(cfg)",
        "deep = copy.deepcopy(cfg)",
        "shallow['layers'].append(2)",
        "deep['layers'].append(3)",
        "n = len(cfg['layers'])",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "n") == [1, 2, 3, 5, 7]
        _, value = slice_value(kernel, "n")
        assert value == notebook_value(kernel, "n") == 2


def test_dataclasses_replace_shares_members(tmp_path: Path):
    cells = [
        "import dataclasses\n@dataclasses.dataclass\nclass P:\n    lr: float\n    layers: list",
        "p = P(0.1, [8])",
        "q = dataclasses.replace(p, lr=0.2)",
        "q.layers.append(16)",
        "n = len(p.layers)",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "n") == [1, 2, 3, 4, 5]
        _, value = slice_value(kernel, "n")
        assert value == notebook_value(kernel, "n") == 2


def test_for_loop_variable_changes_what_it_iterates(tmp_path: Path):
    cells = ["rows = [[1], [2]]", "for r in rows:\n    r.append(0)", "rows.append([5])",
             "n = sum(len(x) for x in rows)"]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "n") == [1, 2, 3, 4]
        _, value = slice_value(kernel, "n")
        assert value == notebook_value(kernel, "n") == 5


# ---- hidden state ----

def test_closure_counter_calls_depend_on_earlier_calls(tmp_path: Path):
    cells = [
        "def make_counter():\n    n = 0\n    def counter():\n        nonlocal n\n        n += 1\n"
        "        return n\n    return counter",
        "counter = make_counter()",
        "a = counter()",
        "unrelated = 7",
        "b = counter()",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "b") == [1, 2, 3, 5]
        assert counts(kernel.db, "a") == [1, 2, 3]
        code, value = slice_value(kernel, "b")
        assert value == notebook_value(kernel, "b") == 2
        assert "unrelated" not in code


def test_cached_function_call_reads_the_earlier_call(tmp_path: Path):
    cells = [
        "import functools",
        "@functools.lru_cache(maxsize=None)\ndef f():\n    return k * 10",
        "k = 1",
        "a = f()",
        "k = 2",
        "b = f()",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        # b is the cached 10, computed from k = 1 (In[3]) by the call in In[4].
        assert counts(kernel.db, "b") == [1, 2, 3, 4, 5, 6]
        _, value = slice_value(kernel, "b")
        assert value == notebook_value(kernel, "b") == 10


def test_generator_body_runs_when_consumed(tmp_path: Path):
    cells = [
        "data = [1, 2, 3]",
        "def gen():\n    for x in data:\n        yield x * k",
        "g = gen()",
        "k = 10",
        "total = sum(g)",
        "g2 = gen()",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "total") == [1, 2, 3, 4, 5]
        assert counts(kernel.db, "g2") == [2, 6]
        _, value = slice_value(kernel, "total")
        assert value == notebook_value(kernel, "total") == 60


def test_class_attribute_seen_through_an_instance(tmp_path: Path):
    cells = [
        "class Model:\n    rate = 0.1",
        "m = Model()",
        "Model.rate = 0.2",
        "Model.other = 5",
        "r = m.rate",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "r") == [1, 2, 3, 5]
        _, value = slice_value(kernel, "r")
        assert value == notebook_value(kernel, "r") == 0.2


def test_decorated_function_call_runs_the_wrapper(tmp_path: Path):
    cells = [
        "scale = 2",
        "def scaled(fn):\n    def wrapper():\n        return fn() * scale\n    return wrapper",
        "@scaled\ndef base():\n    return 1",
        "scale = 3",
        "r = base()",
    ]
    with kernel_that_ran(tmp_path, cells) as kernel:
        assert counts(kernel.db, "r") == [1, 2, 3, 4, 5]
        _, value = slice_value(kernel, "r")
        assert value == notebook_value(kernel, "r") == 3
