"""The benchmarks: each measures one thing on both sides and returns Rows.

To add one, write a function here decorated with ``@benchmark(...)``; it
receives a :class:`harness.Context` plus its settings and returns a list of
:class:`harness.Row` (``percentile_rows`` and ``median_row`` build them).
For a per-request latency, ``alternating_samples`` does the warm-up and the
alternation; otherwise alternate the sides with ``ctx.sides_in_turn(round)``
so slow drift of the machine lands on both sides equally.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from harness import (
    SIDE_LABELS,
    BenchError,
    Context,
    CpuTime,
    Row,
    RunningKernel,
    benchmark,
    gc_paused,
    median,
    median_row,
    percentile_rows,
    prov_row,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Built by scripts/bench.sh (cargo build --release, plus the example).
PROVCTL = REPO_ROOT / "target" / "release" / "provctl"
SYNTH_STORE = REPO_ROOT / "target" / "release" / "examples" / "synth_store"
EXAMPLES = REPO_ROOT / "examples"
EXECUTE_LABEL = "execute `pass`, recording on"


def alternating_samples(
    ctx: Context,
    measure: Callable[[RunningKernel], float],
    total: int,
    warmup: int,
    block: int,
) -> tuple[dict[str, list[float]], dict[str, CpuTime]]:
    """``total`` timings of ``measure`` per side, in alternating blocks.

    Returns the timings and, per side, the kernel processes' CPU seconds per
    call over the timed part (idle time between blocks included, which is
    the same wall time for both sides).

    Blocks rather than single requests keep each side warm: switching side
    on every request made both ~25 % slower in trials.  Short blocks (10)
    still alternate often enough, AB then BA, to spread drift (another
    build starting on the 2-core machine) evenly over both sides.  Both
    sides are warmed up with ``warmup`` untimed calls first.
    """
    assert ctx.pair is not None, "needs_pair benchmark run without the pair"
    for label in SIDE_LABELS:
        for _ in range(warmup):
            measure(ctx.pair[label])
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    cpu_before = {label: ctx.pair[label].cpu_seconds() for label in SIDE_LABELS}
    for round_index in range(math.ceil(total / block)):
        for label in ctx.sides_in_turn(round_index):
            kernel = ctx.pair[label]
            count = min(block, total - len(samples[label]))
            kernel.drain_iopub()
            with gc_paused():
                for _ in range(count):
                    samples[label].append(measure(kernel))
    cpu_per_call = {
        label: (ctx.pair[label].cpu_seconds() - cpu_before[label]) / total for label in SIDE_LABELS
    }
    return samples, cpu_per_call


def cpu_row(
    benchmark: str, cpu_per_call: dict[str, CpuTime], calls: int, unit: str = "µs", per: str = "request"
) -> Row:
    """Kernel-side CPU per call; the note gives prov-kernel's own share."""
    scale = {"µs": 1e6, "ms": 1e3}[unit]
    relay = cpu_per_call["prov"].launched * scale
    return Row(
        benchmark=benchmark,
        metric="kernel CPU",
        unit=unit,
        direct=cpu_per_call["direct"].total * scale,
        prov=cpu_per_call["prov"].total * scale,
        samples=calls,
        note=f"kernel CPU per {per}, of which prov-kernel itself {relay:,.0f} {unit}",
    )


@benchmark(
    "execute",
    full={"executes": 500, "warmup": 50, "block": 10},
    quick={"executes": 40, "warmup": 10, "block": 5},
)
def execute_pass(ctx: Context, executes: int, warmup: int, block: int) -> list[Row]:
    """`pass` latency: send until both execute_reply and iopub idle arrived."""
    samples, cpu = alternating_samples(
        ctx, lambda kernel: kernel.execute("pass")[0], executes, warmup, block
    )
    note = (
        "prov-kernel records every execution into its store (recording is always on), "
        "so these are the figures with recording on; the store this run wrote is in the "
        "second table"
    )
    return [
        *percentile_rows(EXECUTE_LABEL, samples, {50: 1.05, 95: 1.10}, note=note),
        cpu_row(EXECUTE_LABEL, cpu, executes),
    ]


@benchmark(
    "kernel_info",
    full={"requests": 200, "warmup": 20, "block": 10},
    quick={"requests": 20, "warmup": 5, "block": 5},
)
def kernel_info(ctx: Context, requests: int, warmup: int, block: int) -> list[Row]:
    """kernel_info round trip: send until kernel_info_reply arrived."""
    samples, cpu = alternating_samples(ctx, lambda kernel: kernel.kernel_info(), requests, warmup, block)
    return [
        *percentile_rows("kernel_info round trip", samples, {50: None, 95: None}),
        cpu_row("kernel_info round trip", cpu, requests),
    ]


@benchmark(
    "stream",
    full={"lines": 100_000, "runs": 5},
    quick={"lines": 100_000, "runs": 1},
)
def print_stream(ctx: Context, lines: int, runs: int) -> list[Row]:
    """Receive a `print(i)` loop's stdout in full, until the kernel is idle.

    Every run checks the concatenated stdout is exactly the expected text,
    so a proxy that drops or reorders stream messages fails loudly instead
    of looking fast.
    """
    assert ctx.pair is not None, "needs_pair benchmark run without the pair"
    code = f"for i in range({lines}): print(i)"
    expected = "".join(f"{i}\n" for i in range(lines))
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    message_counts: dict[str, list[int]] = {label: [] for label in SIDE_LABELS}

    def run_once(label: str, source: str, want: str) -> tuple[float, int]:
        chunks: list[str] = []

        def collect(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
                chunks.append(msg["content"]["text"])

        kernel = ctx.pair[label]
        kernel.drain_iopub()
        elapsed, _ = kernel.execute(source, on_iopub=collect)
        text = "".join(chunks)
        if text != want:
            got = text.count("\n")
            raise BenchError(
                f"{label} kernel: stdout of {source!r} is wrong: {got} lines "
                f"(want {want.count(chr(10))}), {len(chunks)} stream messages"
            )
        return elapsed, len(chunks)

    warmup_lines = 1000
    warmup_expected = "".join(f"{i}\n" for i in range(warmup_lines))
    for label in SIDE_LABELS:
        run_once(label, f"for i in range({warmup_lines}): print(i)", warmup_expected)
    cpu_used = dict.fromkeys(SIDE_LABELS, CpuTime(0.0, 0.0))
    for round_index in range(runs):
        for label in ctx.sides_in_turn(round_index):
            cpu_before = ctx.pair[label].cpu_seconds()
            with gc_paused():
                elapsed, messages = run_once(label, code, expected)
            cpu_used[label] += ctx.pair[label].cpu_seconds() - cpu_before
            samples[label].append(elapsed)
            message_counts[label].append(messages)
    counts = ", ".join(
        f"{label} {min(message_counts[label])}-{max(message_counts[label])}" for label in SIDE_LABELS
    )
    note = f"all lines verified; stream messages per run: {counts}"
    name = f"stream {lines:,} lines"
    cpu_per_run = {label: used / runs for label, used in cpu_used.items()}
    return [
        median_row(name, samples, target=1.05, note=note),
        cpu_row(name, cpu_per_run, runs, unit="ms", per="run"),
    ]


@benchmark("startup", full={"runs": 5}, quick={"runs": 1}, needs_pair=False)
def startup(ctx: Context, runs: int) -> list[Row]:
    """Kernel start-up: KernelManager.start_kernel until wait_for_ready returns.

    Runs with no other kernel alive.  jupyter_client's wait_for_ready ends by
    draining iopub until it has been quiet 0.2 s, so both sides carry that
    fixed 0.2 s; the ratio understates relative differences accordingly.
    """
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    for round_index in range(runs):
        for label in ctx.sides_in_turn(round_index):
            started = time.perf_counter()
            with ctx.started(label):
                samples[label].append(time.perf_counter() - started)
    note = "includes jupyter_client's fixed 0.2 s iopub flush in wait_for_ready"
    return [median_row("start-up to ready", samples, note=note)]


# --------------------------------------------------------------------------
# The store: its size, and provctl reading it (prov only: no direct side)
# --------------------------------------------------------------------------


def need_binary(path: Path, build: str) -> Path:
    """``path`` if it is built, else a BenchError saying how to build it."""
    if not os.access(path, os.X_OK):
        raise BenchError(f"{path.relative_to(REPO_ROOT)} is missing: run `{build}` (bash scripts/bench.sh does)")
    return path


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


def store_counts(db: Path) -> tuple[int, int]:
    """(trials, executions) recorded in ``db``, as `provctl trials --json` reports them."""
    trials = json.loads(provctl(db, "trials", "--json").stdout)
    return len(trials), sum(trial["executions"] for trial in trials)


def synth_store(db: Path, executions: int) -> None:
    """A new store at ``db`` with one trial of ``executions`` synthetic executions."""
    binary = need_binary(SYNTH_STORE, "cargo build --release -p provstore --example synth_store")
    db.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(binary), str(db), str(executions)], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"synth_store failed ({done.returncode}): {done.stderr.strip()}")


def run_notebook(ctx: Context, notebook: Path, db: Path, cwd: Path) -> None:
    """Execute ``notebook`` with nbclient through the prov kernel, recording into ``db``.

    The kernel's output goes to the kernel log.  Cells tagged
    ``raises-exception`` may fail (nbclient's rule); any other failure
    stops the benchmark.
    """
    import nbformat  # local: only these benchmarks need nbclient
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    kernel_name = ctx.kernel_names["prov"]
    ctx.kernel_log.write(f"==== {time.strftime('%H:%M:%S')} running {notebook.name} ({kernel_name})\n")
    ctx.kernel_log.flush()
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=300, startup_timeout=60)
    # JPY_SESSION_NAME names the notebook of the trial, as Jupyter's server would.
    env = dict(os.environ, PROV_DB=str(db), JPY_SESSION_NAME=notebook.name)
    try:
        client.execute(cwd=str(cwd), env=env, stdout=ctx.kernel_log, stderr=ctx.kernel_log)
    except CellExecutionError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"{notebook.name} failed under {kernel_name}: {first}") from exc


@benchmark(
    "store",
    full={"notebooks": ["sales_report.ipynb", "iris_classifier.ipynb"]},
    quick={"notebooks": ["sales_report.ipynb"]},
    needs_pair=False,
)
def store_per_execution(ctx: Context, notebooks: list[str]) -> list[Row]:
    """Store bytes per execution: each example notebook run twice into a fresh store.

    The first run's figure is the whole store (schema included) over its
    executions; the second run, into the same store, shows what one more
    run adds per execution once code and payloads seen before are stored
    only once.  Sizes are taken after a WAL checkpoint (see store_bytes).
    """
    scratch = Path(ctx.workdir) / "store"
    empty_db = scratch / "empty.db"
    synth_store(empty_db, 0)
    empty = store_bytes(empty_db)
    rows = []
    for name in notebooks:
        notebook = EXAMPLES / name
        if not notebook.exists():
            raise BenchError(f"examples/{name} is missing")
        cwd = scratch / notebook.stem
        cwd.mkdir(parents=True)
        db = cwd / "prov.db"
        sizes, counts = [], []
        for _ in range(2):
            run_notebook(ctx, notebook, db, cwd)
            sizes.append(store_bytes(db))
            counts.append(store_counts(db))
        (trials1, execs1), (trials2, execs2) = counts
        if trials1 != 1 or trials2 != 2 or execs1 == 0 or execs2 != 2 * execs1:
            raise BenchError(
                f"{name}: expected 1 then 2 trials of the same number of executions, "
                f"got {trials1} trial(s) with {execs1} then {trials2} with {execs2}"
            )
        added = sizes[1] - sizes[0]
        label = f"store, {name}"
        rows.append(
            prov_row(
                label,
                "per execution, 1st run",
                "bytes",
                sizes[0] / execs1,
                execs1,
                note=(
                    f"1st run: {execs1} executions, store {sizes[0]:,} bytes, of which an empty "
                    f"store (schema, one trial) is {empty:,}: {(sizes[0] - empty) / execs1:,.0f} bytes "
                    f"per execution beyond it; 2nd run into the same store: +{execs2 - execs1} "
                    f"executions, +{added:,} bytes"
                ),
            )
        )
        rows.append(
            prov_row(label, "added per execution, 2nd run", "bytes", added / (execs2 - execs1), execs2 - execs1)
        )
    return rows


@benchmark(
    "provctl_show",
    full={"executions": 10_000, "runs": 7},
    quick={"executions": 10_000, "runs": 2},
    needs_pair=False,
)
def provctl_show(ctx: Context, executions: int, runs: int) -> list[Row]:
    """`provctl show` of a trial of many executions, as a whole process (text and --json).

    The store is written by provstore/examples/synth_store.rs (one trial of
    synthetic executions with outputs, some images and errors) because a
    real kernel needs ~8 ms per execute: 10,000 would take over a minute.
    Output goes to /dev/null; one untimed run of each form first (page
    cache, and a check that the JSON holds every execution).
    """
    db = Path(ctx.workdir) / "synthetic" / "prov.db"
    synth_store(db, executions)
    trials, recorded = store_counts(db)
    if (trials, recorded) != (1, executions):
        raise BenchError(f"synthetic store has {trials} trial(s), {recorded} executions; want 1, {executions}")
    size = store_bytes(db)
    forms = {"text": ["show", "1"], "--json": ["show", "1", "--json"]}
    output_bytes = {}
    for form, args in forms.items():
        output = provctl(db, *args).stdout
        output_bytes[form] = len(output.encode())
        if form == "--json" and len(json.loads(output)["executions"]) != executions:
            raise BenchError(f"provctl show --json did not list all {executions} executions")
    argv = [str(PROVCTL), "--db", str(db)]
    samples: dict[str, list[float]] = {form: [] for form in forms}
    for round_index in range(runs):
        order = list(forms) if round_index % 2 == 0 else list(forms)[::-1]
        for form in order:
            started = time.perf_counter()
            done = subprocess.run(
                argv + forms[form], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, check=False
            )
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise BenchError(f"provctl show ({form}) failed: {done.stderr.decode().strip()}")
            samples[form].append(elapsed)
    label = f"provctl show, {executions:,} executions"
    return [
        prov_row(
            label,
            f"median, {form}",
            "ms",
            median(times) * 1e3,
            runs,
            note=(
                f"{form}: min {min(times) * 1e3:.0f} ms, max {max(times) * 1e3:.0f} ms; "
                f"{output_bytes[form]:,} bytes of output; synthetic store of {size:,} bytes"
            ),
        )
        for form, times in samples.items()
    ]


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
