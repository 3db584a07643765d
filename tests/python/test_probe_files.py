"""The files the user's code opens, as the probe notes them (`files`, kernel/src/probe/files.py;
format: tests/golden/probe/README.md): every opener the issue names, read and write and both,
the line of the top-level statement, sampling over the hash limit, the housekeeping files that
never appear, the openers that are not seen, odd names and files gone by the end of the cell.

The probe runs as a plain module in a real IPython shell (probe_module.ProbeShell), in a
scratch folder; the golden example `files/notes.json` is checked here and read by the store's test.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sqlite3  # noqa: F401 - imported before the probe looks, as a notebook's import would be
import subprocess
import sys
import time

import pandas as pd  # noqa: F401 - imported before any probe looks: no `packages` in the notes
import pytest

from probe_module import GOLDEN_DIR, ProbeShell, load_probe, notes_of

UPDATE = os.environ.get("PROV_UPDATE_GOLDEN") == "1"
# The scratch folder's path in the golden file, so it reads the same on every machine.
GOLDEN_FOLDER = "/home/user/project"
READ_MTIME = 1700000000.5  # set on the golden example's inputs before the first cell
WRITE_MTIME = 1700000100.25  # a file a cell wrote has the mtime of that moment: shown as this


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = ProbeShell()
    s.folder = tmp_path
    try:
        yield s
    finally:
        s.close()


def files_of(shell, msg_id: str, code: str) -> list[dict]:
    """The `files` of the note of `code` run as request `msg_id` (asserting it succeeded)."""
    answer = shell.execute(msg_id, code)
    assert answer is not None, f"{code!r} failed"
    return notes_of(answer, msg_id)[msg_id].get("files", [])


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def brief(entries: list[dict]) -> list[tuple]:
    """(path, access, line) of each entry, in order."""
    return [(e["path"], e["access"], e["line"]) for e in entries]


def check_entry(entry: dict, folder) -> None:
    """An entry as the contract says: every key, the resolved path absolute, the hash that of
    the file as it is now (the tests leave each file as the cell left it)."""
    assert set(entry) == {"path", "resolved", "access", "line", "size", "mtime", "sha256",
                          "sampled"}, entry
    resolved = entry["resolved"]
    assert resolved == os.path.realpath(os.path.join(folder, entry["path"])), entry
    assert entry["sampled"] is False
    assert entry["size"] == os.path.getsize(resolved)
    assert entry["mtime"] == os.stat(resolved).st_mtime
    assert entry["sha256"] == sha(resolved)


OPENERS = [
    # (about, code run first, code whose files are checked, want (path, access, line))
    ("open() read", "open('in.txt', 'w').write('a\\n')", "x = 1\ntext = open('in.txt').read()",
     [("in.txt", "read", 2)]),
    ("open() write", "", "with open('out.txt', 'w') as f:\n    f.write('b')",
     [("out.txt", "write", 1)]),
    ("open() append", "open('log.txt', 'w').write('1\\n')", "open('log.txt', 'a').write('2\\n')",
     [("log.txt", "write", 1)]),
    ("pathlib", "from pathlib import Path\nPath('p.txt').write_text('p')",
     "t = Path('p.txt').read_text()\nPath('q.txt').write_text(t)\nwith Path('p.txt').open() as f:"
     "\n    f.read()", [("p.txt", "read", 1), ("q.txt", "write", 2), ("p.txt", "read", 3)]),
    ("pandas", "import pandas as pd\npd.DataFrame({'a': [1, 2]}).to_csv('in.csv', index=False)",
     "df = pd.read_csv('in.csv')\ndf.to_csv('out.csv')", [("in.csv", "read", 1),
                                                       ("out.csv", "write", 2)]),
    ("numpy", "import numpy as np\nnp.savetxt('m.txt', np.eye(2))",
     "np.save('a.npy', np.arange(3))\nb = np.load('a.npy')\nc = np.loadtxt('m.txt')",
     [("a.npy", "write", 1), ("a.npy", "read", 2), ("m.txt", "read", 3)]),
    ("pickle", "import pickle",
     "with open('o.pkl', 'wb') as f:\n    pickle.dump({'k': 1}, f)\n"
     "with open('o.pkl', 'rb') as f:\n    o = pickle.load(f)",
     [("o.pkl", "write", 1), ("o.pkl", "read", 3)]),
    ("json", "import json",
     "json.dump([1], open('j.json', 'w'))\n\nj = json.load(open('j.json'))",
     [("j.json", "write", 1), ("j.json", "read", 3)]),
    ("csv", "import csv\nopen('r.csv', 'w').write('a,b\\n1,2\\n')",
     "rows = list(csv.reader(open('r.csv', newline='')))\n"
     "csv.writer(open('w.csv', 'w', newline='')).writerows(rows)",
     [("r.csv", "read", 1), ("w.csv", "write", 2)]),
]


@pytest.mark.parametrize("about,setup,code,want", OPENERS, ids=[o[0] for o in OPENERS])
def test_every_opener_is_seen(shell, about, setup, code, want):
    import gc

    if setup:
        files_of(shell, "m0", setup)
    entries = files_of(shell, "m1", code)
    gc.collect()  # files the cell left open (json.dump(open(...))) are flushed and closed
    assert brief(entries) == want
    for entry in entries:
        check_entry(entry, shell.folder)


def test_a_mode_that_reads_and_writes_gives_both_and_a_truncating_one_only_the_write(shell):
    files_of(shell, "m0", "import os\nfor n in 'abcd':\n    open(n, 'w').write(n * 3)")
    entries = files_of(shell, "m1", "with open('a', 'r+') as f:\n    f.write('x')\n"
                                    "open('b', 'a+').close()\nopen('c', 'w+').close()\n"
                                    "os.close(os.open('d', os.O_RDWR))")
    assert brief(entries) == [("a", "read", 1), ("a", "write", 1), ("b", "read", 3),
                              ("b", "write", 3), ("c", "write", 4), ("d", "read", 5),
                              ("d", "write", 5)]
    # A read is the content as opened, the write the content as left.
    assert entries[0]["sha256"] == hashlib.sha256(b"aaa").hexdigest()
    assert entries[1]["sha256"] == hashlib.sha256(b"xaa").hexdigest()
    assert entries[4]["size"] == 0


def test_the_line_is_the_top_level_statement_of_the_running_cell(shell):
    open(shell.folder / "data.txt", "w").write("d")
    files_of(shell, "m0", "def load(p):\n    with open(p) as f:\n        return f.read()")
    entries = files_of(shell, "m1", "a = 1\nb = 2\nc = load('data.txt')")
    assert brief(entries) == [("data.txt", "read", 3)]
    # A statement over several lines is noted at its first; a def in the same cell at the call.
    entries = files_of(shell, "m2", "\n\nx = [\n    load('data.txt'),\n]\n"
                                    "def again():\n    return load('data.txt')\n\n"
                                    "@staticmethod\ndef twice():\n    pass\ny = again()")
    assert brief(entries) == [("data.txt", "read", 3), ("data.txt", "read", 12)]
    # The same file read twice by one statement is one entry; by another statement, another.
    entries = files_of(shell, "m3", "for i in range(3):\n    load('data.txt')\nload('data.txt')")
    assert brief(entries) == [("data.txt", "read", 1), ("data.txt", "read", 3)]


def test_cells_ipython_runs_its_own_way_are_attributed_too(shell):
    """A nested run_cell, top-level await, line and cell magics, generators and lambdas: the
    open is noted once, at the running cell's top-level statement."""
    open(shell.folder / "x.csv", "w").write("x")
    cells = {
        "x = 1\nget_ipython().run_cell(\"t = open('x.csv').read()\")\ny = open('x.csv').read()":
            [("x.csv", "read", 2), ("x.csv", "read", 3)],
        "import asyncio\nawait asyncio.sleep(0)\nz = open('x.csv').read()": [("x.csv", "read", 3)],
        "%time w = open('x.csv').read()": [("x.csv", "read", 1)],
        "%%time\nq = 1\nw = open('x.csv').read()": [("x.csv", "read", 1)],
        "def gen():\n    yield open('x.csv').read()\nlist(gen())": [("x.csv", "read", 3)],
        "f = lambda: open('x.csv').read()\nv = [f() for _ in range(2)]": [("x.csv", "read", 2)],
    }
    for i, (code, want) in enumerate(cells.items()):
        assert brief(files_of(shell, f"m{i}", code)) == want, code


def test_a_probe_that_breaks_never_breaks_the_users_open(shell):
    files = load_probe().files
    open(shell.folder / "x.csv", "w").write("x")

    def broken(*args, **kwargs):
        raise RuntimeError("probe bug")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "file_hash", broken)
        entries = files_of(shell, "m1", "t = open('x.csv').read()\nprint(t)")
        assert shell.shell.user_ns["t"] == "x"
        assert [(e["path"], e["sha256"], e["size"]) for e in entries] == [("x.csv", None, None)]
        patch.setattr(files.Files, "_opened", broken)
        assert files_of(shell, "m2", "u = open('x.csv').read()") == []
        assert shell.shell.user_ns["u"] == "x"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "_by_statement", broken)
        answer = shell.execute("m3", "v = open('x.csv').read()")
    note = notes_of(answer, "m3")["m3"]
    assert "v" in [b[0] for b in note["bound"]] and "files" not in note, "the rest is noted"


def test_resolved_follows_links_of_the_file_and_of_its_folders(shell):
    real = shell.folder / "real"
    real.mkdir()
    (real / "data.csv").write_text("d")
    (shell.folder / "linked").symlink_to(real)
    (real / "alias.csv").symlink_to(real / "data.csv")
    entries = files_of(shell, "m1", "a = open('linked/data.csv').read()\n"
                                    "b = open('real/alias.csv').read()\n"
                                    "import os\nos.chdir('real')\nc = open('data.csv').read()\n"
                                    "os.chdir('..')")
    target = str((real / "data.csv").resolve())
    assert [(e["path"], e["resolved"], e["line"]) for e in entries] == [
        ("linked/data.csv", target, 1), ("real/alias.csv", target, 2), ("data.csv", target, 5)]


def test_a_file_over_the_limit_is_hashed_from_samples(shell, monkeypatch):
    files = load_probe().files
    monkeypatch.setattr(files, "HASH_LIMIT", 4096)
    big = shell.folder / "big.bin"
    data = bytearray(os.urandom(1 << 20))
    big.write_bytes(data)
    first = files_of(shell, "m1", "b = open('big.bin', 'rb').read()")[0]
    assert first["sampled"] is True and first["size"] == 1 << 20
    assert first["sha256"] != sha(big), "not the whole file's hash"
    again = files_of(shell, "m2", "b = open('big.bin', 'rb').read()")[0]
    assert again["sha256"] == first["sha256"], "the same content hashes alike"
    data[0] ^= 1  # in the first chunk read
    big.write_bytes(data)
    changed = files_of(shell, "m3", "b = open('big.bin', 'rb').read()")[0]
    assert changed["sha256"] != first["sha256"]
    big.write_bytes(data + b"!")  # a size change alone changes the hash
    assert files_of(shell, "m4", "b = open('big.bin', 'rb').read()")[0]["sha256"] != \
        changed["sha256"]
    small = shell.folder / "small.txt"
    small.write_bytes(b"x" * 4096)
    entry = files_of(shell, "m5", "s = open('small.txt').read()")[0]
    assert entry["sampled"] is False and entry["sha256"] == sha(small), "at the limit: whole"


def test_the_hash_limit_reads_sizes_like_the_value_limit():
    parse = load_probe().limits.parse_size
    assert parse("64k", 1) == 65536 and parse("16M", 1) == 16 << 20
    assert load_probe().files.HASH_LIMIT == parse(os.environ.get("PROV_FILE_HASH_LIMIT", ""),
                                                  16 << 20)


def test_a_failed_cell_still_notes_what_it_read(shell):
    open(shell.folder / "in.txt", "w").write("1")
    assert shell.execute("m1", "v = open('in.txt').read()\nint('x')") is None
    answer = shell.execute("m2", "pass")
    notes = notes_of(answer, "m2")
    assert brief(notes["m1"]["files"]) == [("in.txt", "read", 1)]
    assert "files" not in notes["m2"]


def test_a_file_gone_by_the_end_keeps_what_was_read(shell):
    open(shell.folder / "tmp.txt", "w").write("t")
    entries = files_of(shell, "m1", "import os\nt = open('tmp.txt').read()\n"
                                    "open('scratch.txt', 'w').write('s')\n"
                                    "os.remove('tmp.txt')\nos.remove('scratch.txt')")
    assert brief(entries) == [("tmp.txt", "read", 2), ("scratch.txt", "write", 3)]
    assert entries[0]["sha256"] == hashlib.sha256(b"t").hexdigest() and entries[0]["size"] == 1
    assert (entries[1]["size"], entries[1]["mtime"], entries[1]["sha256"]) == (None, None, None)


def test_a_name_that_is_not_utf8_travels_as_json(shell):
    raw = b"caf\xe9.csv"
    with open(os.path.join(os.fsencode(shell.folder), raw), "wb") as f:
        f.write(b"a\n")
    answer = shell.execute("m1", "import os\nname = os.fsdecode(b'caf\\xe9.csv')\n"
                                 "t = open(name).read()\nu = open(b'caf\\xe9.csv').read()")
    # As ipykernel sends it: UTF-8, strictly (a lone surrogate would not encode).
    sent = json.dumps(answer, ensure_ascii=False).encode("utf-8")
    entries = notes_of(json.loads(sent), "m1")["m1"]["files"]
    assert brief(entries) == [("caf\\xe9.csv", "read", 3), ("caf\\xe9.csv", "read", 4)]
    assert entries[0]["resolved"] == os.fsdecode(os.fsencode(shell.folder)) + "/caf\\xe9.csv"
    assert entries[0]["sha256"] == hashlib.sha256(b"a\n").hexdigest()


def test_housekeeping_files_never_appear(shell, tmp_path, monkeypatch):
    """A module imported from the working folder (its source and bytecode), matplotlib building
    its font cache, a traceback and a warning reading source lines: none is the user's data.
    The data file the imported module reads at import is."""
    (tmp_path / "mylib.py").write_text(
        "import json\nCONFIG = json.load(open('config.json'))\n"
        "def fail():\n    raise ValueError('no')\n")
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mplconfig"))
    monkeypatch.syspath_prepend(str(tmp_path))  # as a kernel's sys.path holds its folder
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # its __pycache__ is written too
    monkeypatch.delitem(sys.modules, "mylib", raising=False)
    entries = files_of(shell, "m1", "import mylib")
    assert brief(entries) == [("config.json", "read", 1)]
    assert shell.execute("m2", "mylib.fail()") is None
    # In a kernel a warning is shown through warnings.formatwarning, which reads its line.
    answer = shell.execute("m3", "import linecache, traceback, warnings\nlinecache.clearcache()\n"
                                 "print(warnings.formatwarning('careful', UserWarning, "
                                 "mylib.__file__, 6))\ntry:\n    mylib.fail()\n"
                                 "except ValueError:\n    traceback.print_exc()")
    notes = notes_of(answer, "m3")
    assert "files" not in notes["m2"] and "files" not in notes["m3"], notes
    entries = files_of(shell, "m4", "import matplotlib\nmatplotlib.use('Agg')\n"
                                    "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
                                    "plt.title('t')\nplt.savefig('plot.png')")
    assert (tmp_path / "mplconfig").is_dir(), "matplotlib used the folder the test gave it"
    assert brief(entries) == [("plot.png", "write", 6)]
    assert not any("matplotlib" in e["resolved"] for e in entries)
    # The standard library, site-packages and /proc: read by the user's own call, still not data.
    entries = files_of(shell, "m5", "import os, IPython\nfrom pathlib import Path\n"
                                    "src = Path(os.__file__).read_text()\n"
                                    "status = Path('/proc/self/status').read_text()\n"
                                    "site = Path(IPython.__file__).read_text()")
    assert entries == []


def test_directories_descriptors_and_other_threads_are_not_noted(shell):
    open(shell.folder / "f.txt", "w").write("f")
    entries = files_of(shell, "m1", "import os, threading\nfd = os.open('.', os.O_RDONLY)\n"
                                    "os.close(fd)\ng = open(os.open('f.txt', os.O_RDONLY))\n"
                                    "g.close()\nt = threading.Thread(target=lambda: "
                                    "open('f.txt').read())\nt.start()\nt.join()")
    # The descriptor's open() is no path; os.open on the file is the read.
    assert brief(entries) == [("f.txt", "read", 4)]


NOT_SEEN = [
    ("sqlite3.connect", "con = sqlite3.connect('d.db')\ncon.execute('create table t (x)')\n"
                        "con.commit()\ncon.close()", "d.db"),
    ("a subprocess", "import subprocess\nsubprocess.run(['sh', '-c', 'echo x > sub.txt'])", "sub.txt"),
    ("C's fopen through ctypes",
     "import ctypes, ctypes.util\nlibc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
     "libc.fopen.restype = ctypes.c_void_p\nfp = libc.fopen(b'c.txt', b'w')\n"
     "libc.fclose(ctypes.c_void_p(fp))", "c.txt"),
]


@pytest.mark.parametrize("about,code,made", NOT_SEEN, ids=[n[0] for n in NOT_SEEN])
def test_what_the_probe_does_not_see(shell, about, code, made):
    """The files.py doc's list of openers the audit hook cannot see, kept true: each really opens
    its file, and the note has no entry for it."""
    files_of(shell, "m0", "import sqlite3")
    entries = files_of(shell, "m1", code)
    assert (shell.folder / made).exists(), f"{about} made no file"
    assert entries == []


def test_pyarrow_and_h5py_are_not_seen(shell):
    """Listed as not seen; checked where the libraries are installed (they are not in
    tests/requirements.txt): pandas hands a local parquet path to pyarrow's C++ I/O, and h5py
    opens through the HDF5 library. A feather file pandas opens itself, and is seen."""
    pytest.importorskip("pyarrow")
    assert files_of(shell, "m1", "import pandas as pd\n"
                                 "pd.DataFrame({'a': [1]}).to_parquet('t.parquet')\n"
                                 "t = pd.read_parquet('t.parquet')") == []
    assert (shell.folder / "t.parquet").exists()
    seen = files_of(shell, "m2", "pd.DataFrame({'a': [1]}).to_feather('t.feather')\n"
                                 "f = pd.read_feather('t.feather')")
    assert brief(seen) == [("t.feather", "write", 1), ("t.feather", "read", 2)]
    pytest.importorskip("h5py")
    assert files_of(shell, "m3", "import h5py, numpy as np\nwith h5py.File('d.h5', 'w') as f:\n"
                                 "    f['x'] = np.arange(3)\nwith h5py.File('d.h5', 'r') as f:\n"
                                 "    x = f['x'][:]") == []
    assert (shell.folder / "d.h5").exists()


def test_an_open_outside_a_cell_is_not_noted(shell):
    open(shell.folder / "f.txt", "w").write("f")
    files = shell.probe.files
    open(shell.folder / "f.txt").read()  # between cells: nothing records
    assert files.entries == []
    assert files_of(shell, "m1", "pass") == []


def test_the_golden_example(shell):
    """tests/golden/probe/files/notes.json: cells run in order in a scratch folder (shown as
    GOLDEN_FOLDER); their answers' files as the probe notes them."""
    golden = json.loads((GOLDEN_DIR / "files" / "notes.json").read_text())
    folder = str(shell.folder)
    for name, content in golden["inputs"].items():
        path = shell.folder / name
        path.write_text(content)
        os.utime(path, (READ_MTIME, READ_MTIME))
    for cell in golden["cells"]:
        answer = shell.execute(cell["msg_id"], cell["code"])
        if answer is not None:
            for note in answer["data"]["application/json"].values():
                for entry in note.get("files", []):
                    entry["resolved"] = entry["resolved"].replace(folder, GOLDEN_FOLDER)
                    if entry["path"] in golden["inputs"] and entry["access"] == "read":
                        assert entry["mtime"] == READ_MTIME
                    elif entry["mtime"] not in (None, READ_MTIME):  # written by a cell just now
                        assert abs(entry["mtime"] - time.time()) < 60
                        entry["mtime"] = WRITE_MTIME
                for entry in note.get("bound", []):
                    entry[1] = 0  # ids differ on every run; the store's test ignores them
        got = json.loads(json.dumps(answer))
        if UPDATE:
            cell["answer"] = got
        else:
            assert got == cell["answer"], cell["msg_id"]
    if UPDATE:
        (GOLDEN_DIR / "files" / "notes.json").write_text(json.dumps(golden, indent=2, ensure_ascii=False)
                                               + "\n")


def test_the_import_systems_opens_come_from_the_frames_files_py_expects():
    """The probe tells the import system's opens by the frame that calls open: check, in this
    Python, that an import's open comes from frozen importlib (or importlib._bootstrap_external)."""
    script = ("import os, sys, tempfile\nseen = []\n"
              "sys.addaudithook(lambda e, a: e == 'open' and 'provprobe_frame_check' in str(a[0])"
              " and seen.append((sys._getframe(1).f_code.co_filename,"
              " sys._getframe(1).f_globals.get('__name__'))))\n"
              "d = tempfile.mkdtemp()\n"
              "open(os.path.join(d, 'provprobe_frame_check.py'), 'w').write('x = 1')\n"
              "sys.path.insert(0, d)\nsys.dont_write_bytecode = True\n"
              "import provprobe_frame_check\nprint(repr(seen[1:]))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    seen = ast.literal_eval(out)
    assert seen, "the import opened the module through an audited open"
    for filename, module in seen:
        assert filename.startswith("<frozen importlib") or \
            module in load_probe().files._IMPORT_SYSTEM, (filename, module)


# --- through a real kernel --------------------------------------------------------------------


def stored_files(db) -> list[tuple[int, list[dict]]]:
    """(In[n], the `files` of its raw probe note) of every execution in the store, in order."""
    import sqlite3 as sql

    with sql.connect(db) as conn:
        rows = conn.execute(
            "SELECT e.execution_count, d.runtime FROM executions e"
            " LEFT JOIN execution_dataflow d ON d.execution_id = e.id ORDER BY e.id").fetchall()
    return [(count, json.loads(runtime).get("files", []) if runtime else [])
            for count, runtime in rows]


@pytest.mark.prov
def test_a_notebook_writing_then_reading_a_csv_through_the_kernel(tmp_path):
    """Cells run by prov-kernel, read back from the store's raw probe notes: the CSV one cell
    wrote is what the next read, by content; a file over PROV_FILE_HASH_LIMIT is sampled; a
    matplotlib figure shown inline, a traceback and IPython's history leave nothing."""
    from conftest import KERNEL_NAME, start_kernel, stop_kernel

    db = tmp_path / ".prov" / "prov.db"
    k = start_kernel(KERNEL_NAME, db, cwd=tmp_path, env={"PROV_FILE_HASH_LIMIT": "64k"})
    try:
        k.run("import pandas as pd\nhouses = pd.DataFrame({'area': [50, 80], 'price': [1, 2]})\n"
              "houses.to_csv('houses.csv', index=False)")
        k.run("df = pd.read_csv('houses.csv')\nprint(df.shape)")
        k.run("open('big.bin', 'wb').write(bytes(1 << 20))\nb = open('big.bin', 'rb').read()")
        k.run("%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
        reply, _ = k.execute("def f():\n    return 1 / 0\nf()")
        assert reply["content"]["status"] == "error"
        k.run("pass")
    finally:
        stop_kernel(k)
    stored = stored_files(db)
    assert [count for count, _ in stored] == [1, 2, 3, 4, 5, 6]
    by_count = dict(stored)
    csv = str(tmp_path.resolve() / "houses.csv")
    content = hashlib.sha256((tmp_path / "houses.csv").read_bytes()).hexdigest()
    assert [(e["resolved"], e["access"], e["line"], e["sha256"]) for e in by_count[1]] == \
        [(csv, "write", 3, content)]
    assert [(e["resolved"], e["access"], e["line"], e["sha256"]) for e in by_count[2]] == \
        [(csv, "read", 1, content)]
    big = by_count[3]
    assert [(e["path"], e["access"], e["sampled"], e["size"]) for e in big] == \
        [("big.bin", "write", True, 1 << 20), ("big.bin", "read", True, 1 << 20)]
    assert big[0]["sha256"] == big[1]["sha256"]
    assert by_count[4] == [] and by_count[5] == [] and by_count[6] == []


@pytest.mark.prov
def test_reading_a_missing_file_behaves_as_in_plain_ipykernel(tmp_path):
    """The same outputs and traceback, prov or not, for a cell whose read fails; and for one whose
    read works."""
    import re

    from conftest import KERNEL_NAME, REFERENCE_KERNEL, start_kernel, stop_kernel

    (tmp_path / "here.csv").write_text("a\n1\n")
    cells = ["import pandas as pd\nx = pd.read_csv('missing.csv')",
             "with open('missing.txt') as f:\n    f.read()",
             "print(pd.read_csv('here.csv').shape)\nprint(open('here.csv').read())"]
    seen = {}
    for name in (KERNEL_NAME, REFERENCE_KERNEL):
        k = start_kernel(name, tmp_path / f"{name}.db", cwd=tmp_path)
        try:
            got = []
            for code in cells:
                reply, outputs = k.execute(code)
                content = {key: reply["content"].get(key) for key in ("status", "ename", "evalue")}
                # The traceback names ipykernel's cell files, which hold the process id.
                traceback = [re.sub(r"ipykernel_\d+", "ipykernel_PID", line)
                             for line in reply["content"].get("traceback", [])]
                shown = [(m["msg_type"], {key: value for key, value in m["content"].items()
                                          if key not in ("execution_count",)})
                         for m in outputs]
                got.append((content, traceback, json.dumps(shown, sort_keys=True)))
            seen[name] = got
        finally:
            stop_kernel(k)
    assert seen[KERNEL_NAME] == seen[REFERENCE_KERNEL]
    assert seen[KERNEL_NAME][0][0]["ename"] == "FileNotFoundError"
