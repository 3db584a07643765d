"""The runtime probe as a plain module (no kernel): its summaries of real numpy, pandas and
scikit-learn values, its change detection and the notes it hands to the proxy, compared with
the golden files in tests/golden/probe/ (their format: README.md there). provstore's test
provstore/tests/probe_golden.rs reads the same files, so a change on either side breaks a test.

PROV_UPDATE_GOLDEN=1 rewrites each golden file's "info" and "answer" parts from what the probe
produces now; the "reads" parts (what provstore makes of them) are written by hand.
"""

from __future__ import annotations

import json
import os
import sys
import time
import types

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from probe_module import GOLDEN_DIR, ProbeShell, collect_expression, load_probe, notes_of

UPDATE = os.environ.get("PROV_UPDATE_GOLDEN") == "1"
VALUE_FILES = sorted(p.name for p in GOLDEN_DIR.glob("*.json")
                     if p.name not in ("notes.json", "fingerprints.json"))


def read(name: str):
    return json.loads((GOLDEN_DIR / name).read_text())


def write(name: str, data) -> None:
    (GOLDEN_DIR / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def as_sent(value):
    """`value` as the proxy receives it: through JSON, as IPython sends application/json."""
    return json.loads(json.dumps(value))


def build(code: str):
    """The value a golden case's code binds to `value`, built in a namespace like a notebook's."""
    ns = {"__name__": "__main__", "np": np, "pd": pd, "StandardScaler": StandardScaler}
    exec(code, ns)
    return ns["value"]


def note_of(shell, msg_id: str, code: str, tags=()):
    """The note of request `msg_id` running `code`, as the proxy reads it from the answer."""
    return notes_of(shell.execute(msg_id, code, tags), msg_id)[msg_id]


@pytest.fixture
def probe_shell():
    s = ProbeShell()
    try:
        yield s
    finally:
        s.close()


@pytest.mark.parametrize("name", VALUE_FILES)
def test_summaries_match_the_golden_files(name):
    summaries = load_probe().summaries
    cases = read(name)
    assert cases, f"{name} holds no case"
    for case in cases:
        got = as_sent(summaries.tagged_info(build(case["python"])))
        if UPDATE:
            case["info"] = got
        else:
            assert got == case["info"], f"{name}: {case['about']}"
    if UPDATE:
        write(name, cases)


def bound_info(value, budget=10.0, limit=None):
    """The info of `value` in a note's `bound` entry: its description and fingerprint."""
    probe = load_probe()
    info = probe.changes.describe(value)
    probe.fingerprints.add_fingerprints([["value", id(value), info]], {"value": value},
                                        budget=budget, limit=limit)
    return info


def test_fingerprints_match_the_golden_file():
    cases = read("fingerprints.json")
    for case in cases:
        got = as_sent(bound_info(build(case["python"])))
        if UPDATE:
            case["info"] = got
        else:
            assert got == case["info"], case["about"]
    if UPDATE:
        write("fingerprints.json", cases)


def normalise_ids(answer, ids: dict[int, int]):
    """The answer with each object id replaced by its order of first appearance (1, 2, ...), so
    the golden file is the same on every run; equal ids stay equal."""
    if not isinstance(answer, dict) or "application/json" not in answer.get("data", {}):
        return answer
    for note in answer["data"]["application/json"].values():
        for entry in note.get("bound", []):
            entry[1] = ids.setdefault(entry[1], len(ids) + 1)
        for entry in note.get("tagged", {}).values():
            entry[0] = ids.setdefault(entry[0], len(ids) + 1)
    return answer


def test_notes_match_the_golden_file(probe_shell):
    golden = read("notes.json")
    ids: dict[int, int] = {}
    try:
        for cell in golden["cells"]:
            answer = probe_shell.execute(cell["msg_id"], cell["code"], cell["tags"])
            got = normalise_ids(as_sent(answer), ids)
            expression = collect_expression(cell["tags"])
            if UPDATE:
                cell["expression"], cell["answer"] = expression, got
            else:
                assert expression == cell["expression"], cell["msg_id"]
                assert got == cell["answer"], cell["msg_id"]
    finally:
        sys.modules.pop("provgoldenpkg", None)
    if UPDATE:
        write("notes.json", golden)


# --- properties no single golden case shows ---------------------------------------------------


def test_equal_values_hash_alike_whatever_their_layout():
    summaries = load_probe().summaries
    a = np.arange(12, dtype="float64").reshape(3, 4)
    c, f = summaries.summary(a), summaries.summary(np.asfortranarray(a))
    assert c["sha256"] == f["sha256"] and c == f
    assert summaries.summary(a + 1)["sha256"] != c["sha256"]
    d1 = summaries.summary({"a": [1, 2], "b": {3, 4}})
    d2 = summaries.summary({"b": {4, 3}, "a": [1, 2]})
    assert d1 == d2
    assert summaries.summary({"a": [2, 1], "b": {3, 4}})["sha256"] != d1["sha256"]
    df = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]})
    assert summaries.summary(df) == summaries.summary(df.copy())
    assert summaries.summary(df.assign(x=[1.0, 2.5]))["sha256"] != summaries.summary(df)["sha256"]


def test_values_over_the_limit_are_sampled(monkeypatch):
    probe = load_probe()
    for module in (probe.hashing, probe.frames, probe.tensors):
        monkeypatch.setattr(module, "LIMIT", 1024)
    a = np.arange(200_000, dtype="float64")
    s = probe.summaries.summary(a)
    assert s["sampled"] is True and s["nbytes"] == a.nbytes
    assert s["min"] == 0.0 and s["max"] == 199_999.0
    b = a.copy()
    b[0] = -1.0  # in the first of the chunks read
    assert probe.summaries.summary(b)["sha256"] != s["sha256"]
    frame = probe.summaries.summary(pd.DataFrame({"x": np.arange(100_000)}))
    assert frame["sampled"] is True and frame["shape"] == [100_000, 1]
    assert frame["columns"][0]["max"] == 99_999
    big = probe.summaries.summary(list(range(200_000)))
    assert big["sampled"] is True and big["length"] == 200_000


def test_a_summary_that_raises_is_noted_as_failed_and_warns_nothing(recwarn):
    summaries = load_probe().summaries

    class Broken:
        def __repr__(self):
            raise RuntimeError("x" * 1000)

    failed = summaries.summary(Broken())
    assert failed["kind"] == "failed" and failed["error"].startswith("RuntimeError: xxx")
    assert len(failed["error"]) == 300
    with np.errstate(all="raise"):
        quiet = summaries.summary(np.array([np.nan, np.inf, -np.inf]))
    assert quiet["min"] == "-inf" and quiet["max"] == "inf" and quiet["mean"] == "nan"
    assert not recwarn.list


def test_value_limit_parses_sizes():
    parse = load_probe().limits.parse_size
    assert parse("1k", 7) == 1024 and parse("2M", 7) == 2 << 20 and parse(" 1.5g ", 7) == 3 << 29
    assert parse("", 7) == 7 and parse("-3", 7) == 7 and parse("lots", 7) == 7


def test_ipython_names_are_not_the_users(probe_shell):
    changes = load_probe().changes
    assert all(changes.auto_name(n) for n in ("_", "__", "_7", "_i7", "_ii", "In", "Out", "_oh"))
    assert not any(changes.auto_name(n) for n in ("_x", "_ix", "x_1", "i7", "data"))
    answer = probe_shell.execute("m1", "x = 1\nx")
    bound = notes_of(answer, "m1")["m1"]["bound"]
    assert [entry[0] for entry in bound] == ["x"], "_1, _i1, _, Out are IPython's"


def test_the_snapshot_without_id_notes_exactly_what_id_would():
    """Change detection tells objects apart by object.__hash__ (no audit event per name) where
    that is the object's address, as in CPython; the same cells give the same bound and deleted
    names, with the same ids, as a snapshot by id() does, whatever the values' own __hash__."""
    import random

    changes = load_probe().changes
    assert changes._identity is object.__hash__, "CPython: the snapshot calls no id()"

    class Hashed:
        def __init__(self, h):
            self.h = h

        def __hash__(self):  # equal hashes for different objects must not hide a rebinding
            return self.h

    rng = random.Random(16)
    kinds = [lambda: rng.random(), lambda: rng.randrange(-2**60, 2**60), lambda: [1, 2],
             lambda: {"k": 1}, lambda: Hashed(1), lambda: Hashed(-1), lambda: None, lambda: "s",
             lambda: (1, "x"), lambda: 10**30, lambda: rng.choice([True, False]), lambda: len]
    ns = {"In": [], "_i1": "x = 1", "_": None}
    new, old = changes.Bindings(ns), changes.Bindings(ns, identity=id)
    noted = 0
    for _ in range(300):
        for _ in range(rng.randrange(0, 6)):
            name = f"v{rng.randrange(40)}"
            if rng.random() < 0.2:
                ns.pop(name, None)
            elif rng.random() < 0.2 and ns.get(name) is not None:
                ns[f"v{rng.randrange(40)}"] = ns[name]  # an alias: the same object again
            else:
                ns[name] = rng.choice(kinds)()
        if rng.random() < 0.1:
            ns[f"_i{rng.randrange(2, 9)}"] = "pass"  # IPython's own, never noted
        got, want = new.changes(ns), old.changes(ns)
        assert got == want
        noted += len(got[0]) + len(got[1])
        for name, ident, _ in got[0]:
            assert ident == id(ns[name])
    assert noted > 300, "the cells bound and deleted names"


def test_new_packages_are_noted_once_with_their_version(probe_shell):
    module = types.ModuleType("provfakepkg")
    module.__version__ = "3.1.4"
    try:
        sys.modules["provfakepkg"] = module
        sys.modules["provfakepkg.sub"] = types.ModuleType("provfakepkg.sub")
        sys.modules["_provprivate"] = types.ModuleType("_provprivate")
        first = note_of(probe_shell, "m1", "pass")
        # Every note says which names changed, here none (the dataflow uses that silence).
        assert first == {"bound": [], "deleted": [], "packages": {"provfakepkg": "3.1.4"}}
        second = note_of(probe_shell, "m2", "pass")
        assert second == {"bound": [], "deleted": []}, "noted once"
    finally:
        for name in ("provfakepkg", "provfakepkg.sub", "_provprivate"):
            sys.modules.pop(name, None)


def test_ipythons_own_imports_are_noted_only_when_the_cell_imports_them(probe_shell, monkeypatch):
    packages = load_probe().packages
    monkeypatch.setattr(packages, "MACHINERY", frozenset({"provlazy", "provlazy2"}))
    try:
        for name in ("provlazy", "provlazy2"):
            module = types.ModuleType(name)
            module.__version__ = "1.0"
            sys.modules[name] = module
            # IPython importing it while the cell runs: not the cell's.
            msg_id = "m1" if name == "provlazy" else "m2"
            answer = probe_shell.execute(msg_id, "pass" if name == "provlazy" else f"import {name}")
            noted = notes_of(answer, msg_id)
            if name == "provlazy":
                assert "packages" not in noted["m1"], noted
            else:
                assert noted["m2"]["packages"] == {"provlazy2": "1.0"}
    finally:
        for name in ("provlazy", "provlazy2"):
            sys.modules.pop(name, None)
    imports = packages.imports
    assert imports("import os, jedi as j", "jedi") and imports("  from jedi.api import x", "jedi")
    assert not imports("import jedies", "jedi") and not imports("x = 'import jedi'", "jedi")


def test_a_cell_that_changed_no_name_answers_with_no_data(probe_shell):
    """The common `pass`: the only note is this request's and says nothing changed, so the
    answer is the probe's NOTHING (no formatter runs, no JSON travels); the proxy reads it as
    that note. Anything more (a waiting note of a failed cell, a tag) goes as JSON."""
    probe_shell.execute("m1", "x = 1")
    assert probe_shell.execute("m2", "pass") == {"status": "ok", "data": {}, "metadata": {}}
    assert probe_shell.execute("m3", "1/0") is None
    answer = probe_shell.execute("m4", "pass")
    assert answer["data"]["application/json"] == {
        "m3": {"bound": [], "deleted": []}, "m4": {"bound": [], "deleted": []}}
    answer = probe_shell.execute("m5", "pass", tags=["x"])
    assert notes_of(answer, "m5")["m5"]["tagged"]["x"][1] == {"type": "int", "value": 1}
    # No note at all (the probe could not make one): said explicitly, so the proxy invents no
    # "nothing changed" for it.
    probe = probe_shell.probe
    bindings, probe.bindings = probe.bindings, None  # changes() raises
    try:
        answer = probe_shell.execute("m6", "y = 2")
    finally:
        probe.bindings = bindings
    assert answer["data"]["application/json"] == {}


def test_a_tagged_name_mentioned_but_unchanged_is_not_noted_again(probe_shell):
    probe_shell.execute("m1", "xs = [1, 2]", tags=["xs"])
    probe_shell.execute("m2", "print(len(xs))", tags=["xs"])
    answer = probe_shell.execute("m3", "ys = xs", tags=["xs"])
    assert "summaries" not in notes_of(answer, "m3")["m3"]
    answer = probe_shell.execute("m4", "xs.append(3)", tags=["xs"])
    noted = notes_of(answer, "m4")["m4"]["summaries"]["xs"]
    assert noted["summary"]["length"] == 3
    answer = probe_shell.execute("m5", "xsum = sum(ys)\nys.append(4)", tags=["xs"])
    assert "summaries" not in notes_of(answer, "m5")["m5"], \
        "xs is not mentioned (xsum is another name)"


# --- installed in a real kernel ---------------------------------------------------------------


@pytest.mark.prov
def test_the_installed_probe_leaves_the_users_namespace_alone(tmp_path):
    """The probe is installed silently as the package _prov_probe: %who and dir() read as in a
    plain ipykernel, and every probe module is in sys.modules."""
    from conftest import KERNEL_NAME, REFERENCE_KERNEL, start_kernel, stop_kernel

    code = "%who\nprint(sorted(dir()))"
    seen = {}
    for name in (KERNEL_NAME, REFERENCE_KERNEL):
        k = start_kernel(name, tmp_path / f"{name}.db", cwd=tmp_path)
        try:
            seen[name] = k.run(code)
            if name == KERNEL_NAME:
                modules = k.run("import sys as _s\nprint(sorted(m for m in _s.modules"
                                " if m.startswith('_prov_probe')))\ndel _s")
        finally:
            stop_kernel(k)
    assert seen[KERNEL_NAME] == seen[REFERENCE_KERNEL]
    assert seen[KERNEL_NAME].startswith("Interactive namespace is empty.")
    expected = ["_prov_probe"] + [f"_prov_probe.{p.stem}" for p in
                                  (GOLDEN_DIR.parents[2] / "kernel" / "src" / "probe").glob("*.py")
                                  if p.stem != "__init__"]
    assert modules.strip() == repr(sorted(expected))


@pytest.mark.prov
def test_execute_replies_are_plain_ipykernels_whatever_user_expressions_were_sent(tmp_path):
    """The probe's expression rides on every execute_request and its answer on every reply:
    what a client gets back is still exactly what plain ipykernel sends for the same requests,
    its own user_expressions included (values, rich reprs, errors, none at all), whether or
    not a name is tagged (which changes the probe's expression), for cells that bind nothing,
    bind names or fail."""
    from conftest import KERNEL_NAME, REFERENCE_KERNEL, start_kernel, stop_kernel

    requests = [
        ("pass", {}),
        ("pass", {"mine": "1 + 1"}),
        ("x = [1, 2]", {"len": "len(x)", "repr": "x", "none": "None"}),
        ("y = 3", {"bad": "1/0", "missing": "not_defined_anywhere", "syntax": "1 +"}),
        ("x.append(3)", {"rich": "__import__('fractions').Fraction(1, 3)",
                         "text": "'caf\u00e9 \\ \"q\"'"}),
        ("1/0", {"never": "x"}),
        ("z = 1", {"__prov_probe_not__": "z"}),
    ]
    seen = {}
    for name in (KERNEL_NAME, REFERENCE_KERNEL):
        k = start_kernel(name, tmp_path / f"{name}.db", cwd=tmp_path)
        try:
            replies = []
            for tagged in (False, True):
                if tagged and name == KERNEL_NAME:
                    # Tags change the probe's expression; the tagging cell is not compared.
                    k.run("%tag_var x", store_history=False)
                for code, expressions in requests:
                    reply, _ = k.execute(code, user_expressions=expressions)
                    content = reply["content"]
                    if content["status"] == "error":
                        # ipykernel's traceback names its temporary cell file (its pid), and
                        # engine_info its own uuid.
                        content.pop("traceback")
                        content["engine_info"].pop("engine_uuid")
                    replies.append(content)
        finally:
            stop_kernel(k)
        seen[name] = replies
    assert seen[KERNEL_NAME] == seen[REFERENCE_KERNEL]
    answered = [r["user_expressions"] for r in seen[KERNEL_NAME]]
    assert answered[1] == {"mine": {"status": "ok", "data": {"text/plain": "2"}, "metadata": {}}}
    assert answered[3]["bad"]["ename"] == "ZeroDivisionError"
    assert answered[5] == {}, "a failed cell answers no expression"


def test_fingerprints_follow_content_and_are_bounded():
    a = np.random.rand(1000)
    first = bound_info(a)["fingerprint"]
    assert first == bound_info(a.copy())["fingerprint"] and first["sampled"] is False
    assert bound_info(np.random.rand(1000))["fingerprint"] != first, "another draw"
    m = np.arange(12.0).reshape(3, 4)
    assert bound_info(m)["fingerprint"] == bound_info(np.asfortranarray(m))["fingerprint"]
    # Over the limit: a sample, which still sees a change in a sampled chunk.
    big = np.arange(200_000, dtype="float64")
    sampled = bound_info(big, limit=1024)["fingerprint"]
    assert sampled["sampled"] is True
    changed = big.copy()
    changed[0] = -1
    assert bound_info(changed, limit=1024)["fingerprint"]["sha256"] != sampled["sha256"]
    frame = pd.DataFrame({"x": np.arange(100_000)})
    assert bound_info(frame, limit=1024)["fingerprint"]["sampled"] is True
    assert bound_info(frame.head(99_999), limit=1024)["fingerprint"] != \
        bound_info(frame, limit=1024)["fingerprint"], "the shape is in a sampled hash"
    # An estimator's parameters and fitted state both count.
    X = np.arange(6.0).reshape(3, 2)
    fitted = bound_info(StandardScaler().fit(X))["fingerprint"]
    assert bound_info(StandardScaler().fit(X + 1))["fingerprint"] != fitted
    assert bound_info(StandardScaler(with_mean=False).fit(X))["fingerprint"] != fitted
    assert bound_info(StandardScaler().fit(X))["fingerprint"] == fitted


def test_a_cell_binding_a_thousand_arrays_stays_within_its_budget():
    fingerprints = load_probe().fingerprints
    ns = {f"a{i}": np.random.rand(20_000) for i in range(1000)}
    bound = [[k, id(v), {"type": "numpy.ndarray"}] for k, v in ns.items()]
    budget = 0.05
    start = time.perf_counter()
    fingerprints.add_fingerprints(bound, ns, budget=budget)
    spent = time.perf_counter() - start
    done = sum("fingerprint" in info for _, _, info in bound)
    assert 0 < done < 1000, "some fingerprinted, the rest left to the dependencies"
    # One fingerprint at most runs past the budget (each is bounded by the limit).
    assert spent < budget + 0.05, spent
    assert all("fingerprint" not in info for _, _, info in bound[done + 1:])
    off = [[k, id(v), {"type": "numpy.ndarray"}] for k, v in list(ns.items())[:3]]
    fingerprints.add_fingerprints(off, ns, budget=0)
    assert all("fingerprint" not in info for _, _, info in off), "a zero budget turns them off"


def test_a_fingerprint_that_raises_is_left_out_quietly(recwarn):
    class Odd:
        def get_params(self, deep=False):
            raise RuntimeError("no")

    info = bound_info(Odd())
    assert "fingerprint" not in info and info["type"].endswith("Odd")
    assert not recwarn.list


def test_a_value_changed_in_place_is_fingerprinted_again_once(probe_shell):
    probe_shell.execute("m1", "import numpy as np\nX = np.zeros(4)")
    first = note_of(probe_shell, "m2", "X[0] = 1")
    assert set(first) == {"bound", "deleted", "fingerprints"}, first
    assert first["bound"] == [] and first["deleted"] == []
    assert first["fingerprints"]["X"]["type"] == "numpy.ndarray"
    assert first["fingerprints"]["X"]["fingerprint"]["sampled"] is False
    read = note_of(probe_shell, "m3", "print(X.sum())")
    assert "fingerprints" not in read, "read only: no fingerprint"
    again = note_of(probe_shell, "m4", "X.sort()\nY = X")
    assert set(again["fingerprints"]) == {"X"}, "Y is bound (its info has the fingerprint)"
    assert again["bound"][0][2]["fingerprint"] == again["fingerprints"]["X"]["fingerprint"]
    # A name after a dot is an attribute, not the variable.
    assert "fingerprints" not in note_of(probe_shell, "m5", "np.X = 1")
