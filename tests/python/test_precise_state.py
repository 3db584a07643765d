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
from test_store import provctl, wait_for

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
    answer = deps(db, known(db, variable), "--statements")
    return [s["text"].strip() for e in answer["executions"] for s in e["statements"]]


def counts(db: Path, variable: str) -> list[int]:
    return [e["execution_count"] for e in deps(db, known(db, variable))["executions"]]


def known(db: Path, variable: str) -> str:
    """VAR, once the store answers for it: the dataflow index of a cell is written just after
    its row, so the last cell may be recorded a moment before it is indexed."""
    wait_for(lambda: provctl(db, "deps", variable, check=False).returncode == 0,
             what=f"{variable} indexed")
    return variable


def check(tmp_path: Path, cells: list[str], variable: str, executions: list[int], value,
          also: dict[str, list[int]] | None = None) -> str:
    """Runs `cells`; VAR's executions (In[n]) must be `executions` (and those of each name in
    `also` its list), and VAR's slice, run in a fresh Python, must compute `value`, the
    notebook's value. Returns the slice's code."""
    with kernel_that_ran(tmp_path, cells) as kernel:
        for name, want in {variable: executions, **(also or {})}.items():
            assert counts(kernel.db, name) == want, name
        code, got = slice_value(kernel, variable)
        assert got == notebook_value(kernel, variable) == value
    return code


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
    check(tmp_path, cells, "n", [1, 2, 4, 5], 2, also={"m": [1, 6]})


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
    code = check(tmp_path, cells, "p", [1, 2, 3, 4, 5, 6, 8], 12)
    assert "models['n']" not in code


# (name, cells, variable, its executions by In[n], its value)
SHARED_MEMBERS = [
    ("copy.copy shares members, copy.deepcopy does not",
     ["import copy", "cfg = {'layers': [1]}", "shallow = copy.copy(cfg)",
      "deep = copy.deepcopy(cfg)", "shallow['layers'].append(2)", "deep['layers'].append(3)",
      "n = len(cfg['layers'])"], "n", [1, 2, 3, 5, 7], 2),
    ("dataclasses.replace shares the members it keeps",
     ["import dataclasses\n@dataclasses.dataclass\nclass P:\n    lr: float\n    layers: list",
      "p = P(0.1, [8])", "q = dataclasses.replace(p, lr=0.2)", "q.layers.append(16)",
      "n = len(p.layers)"], "n", [1, 2, 3, 4, 5], 2),
    ("a for loop's variable is an item of what it iterates",
     ["rows = [[1], [2]]", "for r in rows:\n    r.append(0)", "rows.append([5])",
      "n = sum(len(x) for x in rows)"], "n", [1, 2, 3, 4], 5),
]


@pytest.mark.parametrize("name,cells,variable,executions,value", SHARED_MEMBERS,
                         ids=[c[0] for c in SHARED_MEMBERS])
def test_changes_through_shared_members(tmp_path: Path, name, cells, variable, executions,
                                        value):
    check(tmp_path, cells, variable, executions, value)


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
    code = check(tmp_path, cells, "b", [1, 2, 3, 5], 2, also={"a": [1, 2, 3]})
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
    # b is the cached 10, computed from k = 1 (In[3]) by the call in In[4]; the call in In[6]
    # also reads k = 2 (In[5]): whether the cache answers is not known statically.
    check(tmp_path, cells, "b", [1, 2, 3, 4, 5, 6], 10)


def test_generator_body_runs_when_consumed(tmp_path: Path):
    cells = [
        "data = [1, 2, 3]",
        "def gen():\n    for x in data:\n        yield x * k",
        "g = gen()",
        "k = 10",
        "total = sum(g)",
        "g2 = gen()",
    ]
    check(tmp_path, cells, "total", [1, 2, 3, 4, 5], 60, also={"g2": [2, 6]})


def test_class_attribute_seen_through_an_instance(tmp_path: Path):
    cells = [
        "class Model:\n    rate = 0.1",
        "m = Model()",
        "Model.rate = 0.2",
        "Model.other = 5",
        "r = m.rate",
    ]
    check(tmp_path, cells, "r", [1, 2, 3, 5], 0.2)


def test_decorated_function_call_runs_the_wrapper(tmp_path: Path):
    cells = [
        "scale = 2",
        "def scaled(fn):\n    def wrapper():\n        return fn() * scale\n    return wrapper",
        "@scaled\ndef base():\n    return 1",
        "scale = 3",
        "r = base()",
    ]
    check(tmp_path, cells, "r", [1, 2, 3, 4, 5], 3)
