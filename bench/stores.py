"""The store and provctl as the benchmarks see them: the built binaries, a store's size, a
whole `provctl` process timed, synthetic stores built once per hash of the sources that decide
their bytes, and the row of what the benchmark run itself recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from harness import BenchError
from rows import Row, median, prov_row

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "bench" / "out"
# Built by scripts/bench.sh (cargo build --release, plus the examples).
PROVCTL = REPO_ROOT / "target" / "release" / "provctl"
EXAMPLES_BIN = REPO_ROOT / "target" / "release" / "examples"


def need_binary(path: Path, build: str) -> Path:
    """``path`` if it is built, else a BenchError saying how to build it."""
    if not os.access(path, os.X_OK):
        raise BenchError(f"{path.relative_to(REPO_ROOT)} is missing: run `{build}` (bash scripts/bench.sh does)")
    return path


def store_used_bytes(db: Path, settle: float = 5.0) -> int:
    """Bytes of the store's pages in use (free pages not counted) as a reader sees them, while
    its kernel is alive: read until two readings 0.3 s apart agree (the writer indexes an
    execution just after its idle), at most ``settle`` seconds."""
    def used() -> int:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
            size = conn.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * size

    deadline = time.monotonic() + settle
    last = used()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = used()
        if now == last:
            break
        last = now
    return last


def store_bytes(db: Path) -> int:
    """Bytes the store takes on disk, its write-ahead log folded in.

    ``PRAGMA wal_checkpoint(TRUNCATE)`` first copies the WAL into the main
    file and empties it, so the figure does not depend on when SQLite last
    checkpointed.  Call it only once no kernel writes to the store.
    """
    if not db.exists():
        raise BenchError(f"no store at {db}: did the prov kernel record anything?")
    with contextlib.closing(sqlite3.connect(db)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise BenchError(f"store {db} is still in use: its WAL could not be checkpointed")
    wal = db.with_name(db.name + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def provctl(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run provctl on ``db``; a failure is a BenchError with its message."""
    argv = [str(need_binary(PROVCTL, "cargo build --release")), "--db", str(db), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise BenchError(f"provctl {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def timed_process(argv: list[str], what: str) -> float:
    """Seconds one run of ``argv`` takes as a whole process, stdout to /dev/null (only the run
    is timed); a failure is a BenchError naming ``what``."""
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"{what} failed: {done.stderr.decode().strip()}")
    return elapsed


def time_rounds(commands: dict[str, list[str]], runs: int, what: str = "") -> dict[str, list[float]]:
    """``runs`` timed runs (``timed_process``) of each command, the commands in turn (reversed
    every other round, so drift of the machine lands on all of them alike); a failure names
    ``what`` and the command's key."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for round_index in range(runs):
        for name in names if round_index % 2 == 0 else names[::-1]:
            samples[name].append(timed_process(commands[name], f"{what} ({name})" if what else name))
    return samples


def median_ms_row(label: str, metric: str, times: list[float], what: str, rest: str,
                  target: float | None = None) -> Row:
    """The median of ``times`` (seconds, one per timed run) as a prov row in ms, its note
    `WHAT: min N ms, max N ms; REST`."""
    spread = f"min {min(times) * 1e3:.0f} ms, max {max(times) * 1e3:.0f} ms"
    return prov_row(label, metric, "ms", median(times) * 1e3, len(times), note=f"{what}: {spread}; {rest}",
                    target=target)


def store_counts(db: Path) -> tuple[int, int]:
    """(trials, executions) recorded in ``db``, as `provctl trials --json --all` reports them."""
    trials = json.loads(provctl(db, "trials", "--json", "--all").stdout)
    return len(trials), sum(trial["executions"] for trial in trials)


def run_example(name: str, db: Path, *args: str, timeout: float) -> None:
    """Runs provstore's example NAME (a generator of synthetic stores) as `NAME DB ARGS`; a
    failure is a BenchError with its message."""
    binary = need_binary(EXAMPLES_BIN / name, f"cargo build --release -p provstore --example {name}")
    db.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([str(binary), str(db), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise BenchError(f"{name} failed ({done.returncode}): {done.stderr.strip()}")


def synth_store(db: Path, executions: int) -> None:
    """A new store at ``db`` with one trial of ``executions`` synthetic executions."""
    run_example("synth_store", db, str(executions), timeout=300)


def source_hash(paths: list[Path]) -> str:
    """sha256 over the given files and every *.rs under the given directories, in path order."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        files += sorted(path.rglob("*.rs")) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(REPO_ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cached_store(kind: str, prefix: str, sources: list[str], argv: list[str], what: str,
                 timeout: int) -> tuple[Path, str]:
    """A synthetic store built by ``argv`` (the store's path appended after the binary), once per
    hash of ``sources``, cached as ``bench/out/KIND/PREFIX-HASH/prov.db``; (path, how it came).

    Stores of the same prefix under other hashes are removed first: reading a store laid out by
    older code would time the old layout, and they take disk.
    """
    key = source_hash([REPO_ROOT / p for p in sources])
    directory = OUT_DIR / kind / f"{prefix}-{key}"
    db = directory / "prov.db"
    if (directory / "complete").exists() and db.exists():
        return db, f"cached store bench/out/{kind}/{directory.name}"
    for old in (OUT_DIR / kind).glob(f"{prefix}-*"):
        if old != directory:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    print(f"[bench]   building the synthetic store of {what} (once per source hash)", flush=True)
    started = time.monotonic()
    done = subprocess.run(
        [argv[0], str(db), *argv[1:]], cwd=directory, capture_output=True, text=True, timeout=timeout, check=False,
    )
    name = Path(argv[0]).name
    if done.returncode != 0:
        raise BenchError(f"{name} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}")
    (directory / "complete").write_text(done.stdout, encoding="utf-8")
    took = time.monotonic() - started
    return db, f"built this run in {took:.0f} s by {name}, cached as bench/out/{kind}/{directory.name}"


def run_store_row(workdir: str) -> Row | None:
    """What the benchmark run itself recorded: the store every prov kernel above wrote into.

    None when no prov kernel ran in ``workdir`` (e.g. --only store).  Taken
    after every kernel has shut down, so the checkpoint cannot disturb them.
    """
    db = Path(workdir) / ".prov" / "prov.db"
    if not db.exists():
        return None
    size = store_bytes(db)
    trials, executions = store_counts(db)
    per_execution = f"{size / executions:,.0f}" if executions else "n/a"
    return prov_row(
        "store, this benchmark run",
        "size",
        "bytes",
        size,
        executions,
        note=(
            f"the store this run's prov kernels wrote into: {trials} trials (one per kernel started), "
            f"{executions:,} executions (every execute above, warm-ups included), {per_execution} "
            "bytes per execution on average, most of it the stream benchmark's 100,000 printed lines "
            "(one payload of ~0.6 MB, stored once for all its runs)"
        ),
    )
