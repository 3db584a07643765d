"""The data files the user's code opened during a cell: the note key `files` (format:
tests/golden/probe/README.md), in order of first access, with a content hash of each.

Seen: every open made through Python. One audit hook (`sys.addaudithook`) listens for the event
`open`, which CPython raises for builtins/io `open`, `io.open_code` and `os.open`, and so for
pathlib and every library that opens a path through them: pandas `read_csv`/`to_csv`, numpy
`load`/`save`/`loadtxt`/`fromfile`/`tofile`/`memmap`, pickle, json, csv, shutil, gzip, zipfile,
matplotlib's `savefig`. An open is the user's when it happens while a cell runs (IPython's
pre_run_cell .. post_run_cell), on the cell's thread, with the cell's own code on the stack: the
outermost frame running top-level code in the user's namespace, whose current line is the
top-level statement's. So an open by IPython's or ipykernel's machinery (history, tracebacks,
display hooks after the cell) or by another thread is not the user's.

Not seen: files opened by C code without Python's open, such as `sqlite3.connect`, pyarrow's
own I/O (`pd.read_parquet`/`to_parquet` given a local path, `pyarrow.parquet`, `pyarrow.csv`),
h5py and netCDF (pandas' `read_feather` opens the file itself: seen); anything a subprocess
or a shell escape (`!cat f`) opens; opens on threads other than the cell's (a thread pool the
user starts included); an open of a file descriptor (an int is not a path); modules imported by
the import system (a user's own `mylib.py` imported from the working folder is code, not data;
a data file that module's top-level code opens while imported is seen). tests/python/
test_probe_files.py checks the ones it can run.

Left out as not the user's data: files under sys.prefix, base_prefix and exec_prefix, the
standard library and site-packages, IPython's folder and history file, Jupyter's runtime, config
and data folders, matplotlib's config and cache folders and font folders, /proc, /sys, /dev,
/etc and the time zone database, the store (PROV_DB, its folder, `.prov/` in the working folder),
ipykernel's temporary cell files, directories and other files that are not regular files, and
reads by `linecache` (tracebacks and warnings read source lines). A folder on that list that
holds the working folder is not left out (a notebook kept under /usr/src/app stays visible).

A read is hashed when it is opened (the content the code is about to read), a write when the
cell ends (the content as left; null when the file is gone). sha256 of the whole file up to
PROV_FILE_HASH_LIMIT bytes (default 16 MiB, suffixes k/M/G, as PROV_FINGERPRINT_LIMIT): about
10 ms at most per file where sha256 runs at 1.5 GB/s, a small share of what reading that much
data costs the code itself. Above it, the size and 64 evenly spaced 64 KiB chunks (`sampled:
true`), a bounded 4 MiB read whatever the size: a 100 MB CSV read by pandas costs a few ms more
(bench/files.py measures it). The content itself is never kept. Nothing here raises into the
user's code or changes what an open returns.

What the hook costs everywhere: audit hooks cannot be removed, and CPython calls every hook for
every audited event of the process. The hook returns at once for anything but an open during a
cell, but calling a Python hook at all costs about 0.1-0.2 us an event. A `pass` raises about 7
events, a cell binding 1,000 scalars about 3,000 (IPython compiles each statement; the probe
calls id() per binding). Code that calls `id()` in a hot loop pays it per call: `copy.deepcopy`
of 100,000 small dicts took 30-50 % longer with any hook installed, even one doing nothing.
"""

import ast
import os
import stat
import sys
from _thread import get_ident
from hashlib import sha256

from .limits import CHUNK, CHUNKS, parse_size

HASH_LIMIT = parse_size(os.environ.get("PROV_FILE_HASH_LIMIT", ""), 16 << 20)
# Entries a cell's note holds at most: a cell opening more files notes the first ones.
MAX_FILES = 10000
READ_BUFFER = 1 << 20

_ACCMODE = getattr(os, "O_ACCMODE", 3)
_FIXED_DIRS = ("/proc", "/sys", "/dev", "/etc", "/usr/share/zoneinfo", "/usr/share/fonts",
               "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts")
_HOME_DIRS = (".fonts", ".local/share/fonts", "Library/Fonts")
# Modules whose opens are the interpreter's housekeeping wherever they are called from.
_IMPORT_SYSTEM = frozenset(("importlib._bootstrap", "importlib._bootstrap_external", "zipimport",
                            "_frozen_importlib", "_frozen_importlib_external"))

# The recorder of the cell running now (None between cells): the one audit hook, added once per
# process (hooks cannot be removed), hands it the `open` events.
_active = None
_hooked = False
# The one read buffer, allocated at the first hash (hashing happens on the cell's thread only).
_buffer = None


def _hook(event, args):
    # Called for every audited event in the process: anything but an open during a cell
    # returns at once.
    if event == "open" and _active is not None:
        _active.opened(args)


def _text(path):
    """A path as JSON can carry it: str, each byte that is not UTF-8 written as `\\xNN`."""
    try:
        raw = os.fsencode(path)
    except Exception:
        raw = path.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def file_hash(path, size, limit=None):
    """(sha256 hex, sampled) of the file at `path`, `size` bytes long: the whole content up to
    `limit` (HASH_LIMIT), else the size and CHUNKS evenly spaced chunks of CHUNK bytes."""
    global _buffer
    limit = HASH_LIMIT if limit is None else limit
    h = sha256()
    with open(path, "rb", buffering=0) as f:
        if size <= limit:
            if _buffer is None:
                _buffer = bytearray(READ_BUFFER)
            view = memoryview(_buffer)
            while True:
                n = f.readinto(_buffer)
                if not n:
                    break
                h.update(view[:n])
            return h.hexdigest(), False
        h.update(b"size %d;" % size)
        step = max((size - CHUNK) // (CHUNKS - 1), 1)
        for i in range(CHUNKS):
            f.seek(min(i * step, max(size - CHUNK, 0)))
            h.update(f.read(CHUNK))
        return h.hexdigest(), True


def _content(path):
    """size, mtime, sha256 and sampled of the regular file at `path`; None when it is gone or
    is no regular file."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        sha, sampled = file_hash(path, st.st_size)
        return {"size": st.st_size, "mtime": st.st_mtime, "sha256": sha, "sampled": sampled}
    except Exception:
        return None


def _blank_lines(text):
    """How many whitespace-only lines `text` starts with."""
    n = 0
    for line in text.split("\n"):
        if line.strip():
            break
        n += 1
    return n


def statement_lines(code):
    """[(first, last)] lines of the top-level statements of `code` (a decorated definition starts
    at its first decorator); [] when it does not parse."""
    try:
        tree = ast.parse(code)
    except Exception:
        return []
    spans = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        spans.append((first, getattr(node, "end_lineno", None) or node.lineno))
    return spans


class Files:
    """Records the files the user's code opens while a cell runs (see the module's doc)."""

    def __init__(self, shell):
        global _hooked
        self.shell = shell
        self.thread = None
        self.busy = False
        self.entries = []
        self.keys = set()  # (resolved, access, line) noted
        self.quick = set()  # (path as given, cwd, access, line) seen: a repeated open returns at once
        self.folders_seen = {}  # folder -> resolved, this cell
        self.folders, self.exact = _housekeeping(shell)
        self.matplotlib = False
        if not _hooked:
            sys.addaudithook(_hook)
            _hooked = True

    def start(self, info=None):
        """pre_run_cell: start recording, unless a cell is running already (a nested run_cell)."""
        global _active
        if _active is self and self._cell_frame(sys._getframe(1)) is not None:
            return
        self.entries, self.keys, self.quick, self.folders_seen = [], set(), set(), {}
        self.thread = get_ident()
        _active = self

    def finish(self, result=None):
        """post_run_cell: stop recording; the cell's entries, writes hashed as left, each line
        that of its top-level statement."""
        global _active
        if _active is not self or self._cell_frame(sys._getframe(1)) is not None:
            return []  # not recording, or the end of a nested cell: the outer one goes on
        _active = None
        entries, self.entries, self.keys, self.quick = self.entries, [], set(), set()
        if not entries:
            return []
        self.busy = True
        try:
            for entry in entries:
                if entry["access"] == "write":
                    found = _content(entry["resolved_os"])
                    if found:
                        entry.update(found)
            return _by_statement(entries, result, self.shell)
        finally:
            self.busy = False

    def close(self):
        """Stops recording for good (the hook stays, doing nothing for this recorder)."""
        global _active
        if _active is self:
            _active = None

    def _cell_frame(self, frame):
        """The outermost frame running top-level code in the user's namespace, or None."""
        ns = self.shell.user_global_ns
        cell = None
        while frame is not None:
            if frame.f_globals is ns and frame.f_code.co_name == "<module>":
                cell = frame
            frame = frame.f_back
        return cell

    def opened(self, args):
        """The audit event `open` (args: path, mode, flags), from `_hook`."""
        if self.busy or get_ident() != self.thread or len(self.entries) >= MAX_FILES:
            return
        self.busy = True
        try:
            self._opened(args, sys._getframe(2))  # the frame that called open
        except Exception:  # the probe must never disturb the user's work
            pass
        finally:
            self.busy = False

    def _opened(self, args, caller):
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return  # a file descriptor is not a path
        if caller.f_code.co_filename.startswith(("<frozen importlib", "<frozen zipimport")) \
                or caller.f_globals.get("__name__") in _IMPORT_SYSTEM:
            return
        ns = self.shell.user_global_ns
        cell = None
        frame = caller
        while frame is not None:
            globals_ = frame.f_globals
            if globals_ is ns:
                if frame.f_code.co_name == "<module>":
                    cell = frame
            elif globals_.get("__name__") == "linecache":
                return  # a traceback or warning reading source lines
            frame = frame.f_back
        if cell is None:
            return
        line = cell.f_lineno
        given = os.fspath(path)
        if not isinstance(flags, int):
            flags = _flags(mode)
        access = flags & _ACCMODE
        reads = access != os.O_WRONLY and not flags & os.O_TRUNC
        writes = access != os.O_RDONLY
        cwd = os.getcwd()
        quick = (given, cwd, reads, writes, line)
        if quick in self.quick:
            return
        self.quick.add(quick)
        resolved_os = self._resolve(os.path.join(os.fsdecode(cwd), os.fsdecode(given)))
        if self._housekeeping(resolved_os):
            return
        try:
            st = os.stat(resolved_os)
        except OSError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            return  # a directory, a device, a pipe: no data file
        entry = {"path": _text(given), "resolved": _text(resolved_os), "line": line,
                 "size": None, "mtime": None, "sha256": None, "sampled": False}
        if reads and st is not None:
            self._add(dict(entry, access="read", **(_content(resolved_os) or {})), resolved_os)
        if writes:
            self._add(dict(entry, access="write"), resolved_os)

    def _resolve(self, path):
        """os.path.realpath of an absolute path, its folder's resolved once per cell (a cell
        reading a thousand files of one folder resolves the folder once)."""
        folder, name = os.path.split(path)
        real = self.folders_seen.get(folder)
        if real is None:
            real = self.folders_seen[folder] = os.path.realpath(folder)
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        full = os.path.join(real, name)
        return os.path.realpath(full) if os.path.islink(full) else full

    def _add(self, entry, resolved_os):
        key = (entry["resolved"], entry["access"], entry["line"])
        if key not in self.keys and len(self.entries) < MAX_FILES:
            self.keys.add(key)
            entry["resolved_os"] = resolved_os
            self.entries.append(entry)

    def _housekeeping(self, resolved):
        if not self.matplotlib and "matplotlib" in sys.modules:
            self.matplotlib = _add_matplotlib(self.folders)
        if resolved in self.exact:
            return True
        return any(_under(resolved, folder) for folder in self.folders)


def _flags(mode):
    """os.open flags for an open() mode string (the audit event gives flags; this is a fallback)."""
    mode = mode or "r"
    if "+" in mode:
        flags = os.O_RDWR
    elif "r" in mode:
        flags = os.O_RDONLY
    else:
        flags = os.O_WRONLY
    return flags | (os.O_TRUNC if "w" in mode else 0)


def _by_statement(entries, result, shell):
    """The entries with each line mapped to the first line, in the cell as typed, of the top-level
    statement holding it; an entry equal to an earlier one (same resolved, access, line) dropped."""
    try:
        raw = result.info.raw_cell or ""
        code = getattr(result.info, "transformed_cell", None) or shell.transform_cell(raw)
        spans = statement_lines(code)
        # IPython drops a cell's leading blank lines before compiling it.
        shift = _blank_lines(raw) - _blank_lines(code)
    except Exception:
        spans, shift = [], 0
    out, keys = [], set()
    for entry in entries:
        entry.pop("resolved_os", None)
        line = entry["line"]
        if isinstance(line, int):
            for first, last in spans:
                if first <= line <= last:
                    line = first
                    break
            entry["line"] = line + shift
        else:
            entry["line"] = None
        key = (entry["resolved"], entry["access"], entry["line"])
        if key not in keys:
            keys.add(key)
            out.append({k: entry[k] for k in ("path", "resolved", "access", "line", "size",
                                               "mtime", "sha256", "sampled")})
    return out


def _real(path):
    try:
        return os.path.realpath(os.path.expanduser(path))
    except Exception:
        return None


def _housekeeping(shell):
    """(folders, files) whose opens are not the user's data, resolved; a folder that holds the
    working folder is dropped (it would hide the user's own files)."""
    folders, exact = set(_FIXED_DIRS), set()
    folders.update(os.path.join("~", d) for d in _HOME_DIRS)
    folders.update(p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix,
                               getattr(sys, "base_exec_prefix", None)} if p)
    try:
        import sysconfig

        paths = sysconfig.get_paths()
        folders.update(paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths)
    except Exception:
        pass
    site = sys.modules.get("site")
    for name in ("getsitepackages", "getusersitepackages"):
        try:
            found = getattr(site, name)()
            folders.update([found] if isinstance(found, str) else found)
        except Exception:
            pass
    folders.update(p for p in (getattr(shell, "ipython_dir", None),) if p)
    try:
        exact.add(str(shell.history_manager.hist_file))
    except Exception:
        pass
    jupyter = sys.modules.get("jupyter_core.paths")
    for name in ("jupyter_runtime_dir", "jupyter_config_dir", "jupyter_data_dir"):
        try:
            folders.add(getattr(jupyter, name)())
        except Exception:
            pass
    try:
        import tempfile

        folders.add(os.path.join(tempfile.gettempdir(), "ipykernel_%d" % os.getpid()))
    except Exception:
        pass
    config = os.environ.get("XDG_CONFIG_HOME") or "~/.config"
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    folders.update([os.environ.get("MPLCONFIGDIR") or os.path.join(config, "matplotlib"),
                    os.path.join(cache, "matplotlib")])
    db = os.environ.get("PROV_DB")
    if db:
        exact.update(db + suffix for suffix in ("", "-wal", "-shm", "-journal"))
        folders.add(os.path.dirname(os.path.abspath(db)))
    folders.add(os.path.join(os.getcwd(), ".prov"))
    cwd = _real(os.getcwd()) or ""
    kept = {f for f in map(_real, folders) if f and not _under(cwd, f)}
    return kept, {f for f in map(_real, exact) if f}


def _add_matplotlib(folders):
    """Adds matplotlib's own config and cache folders once it is imported (it may have chosen a
    temporary one); whether that worked (else it is tried again at the next open)."""
    try:
        matplotlib = sys.modules["matplotlib"]
        cwd = _real(os.getcwd()) or ""
        for folder in (matplotlib.get_configdir(), matplotlib.get_cachedir()):
            folder = _real(folder)
            if folder and not _under(cwd, folder):
                folders.add(folder)
        return True
    except Exception:
        return False
