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
import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from jupyter_client.kernelspec import KernelSpecManager

from harness import (
    DEFAULT_TIMEOUT_S as DEFAULT_EXECUTE_TIMEOUT_S,
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
    percentile,
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
        prov_row(
            EXECUTE_LABEL,
            "prov-kernel's own CPU per execute",
            "µs",
            cpu["prov"].launched * 1e6,
            executes,
            target=200,
        ),
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
            samples[form].append(timed_process(argv + forms[form], f"provctl show ({form})"))
    label = f"provctl show, {executions:,} executions"
    return [
        median_ms_row(
            label,
            f"median, {form}",
            times,
            form,
            f"{output_bytes[form]:,} bytes of output; synthetic store of {size:,} bytes",
        )
        for form, times in samples.items()
    ]


# --------------------------------------------------------------------------
# Dataflow: analysis time, a 2,000-statement cell, provctl deps
# --------------------------------------------------------------------------

OUT_DIR = REPO_ROOT / "bench" / "out"
SYNTH_DEPS = REPO_ROOT / "target" / "release" / "examples" / "synth_deps"
BIG_CELL_LABEL = "2,000-statement cell"


def pyflow_bench_binary() -> Path:
    """The executable `cargo bench -p pyflow` runs (benches/bench.rs), built if needed.

    Asked of cargo itself (``--no-run --message-format=json``), since its
    file name carries a hash; scripts/bench.sh has built it already, so this
    takes a fraction of a second.
    """
    argv = ["cargo", "bench", "-p", "pyflow", "--bench", "bench", "--no-run", "--message-format=json"]
    try:
        done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"`{' '.join(argv[:5])}` failed: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BenchError(f"`cargo bench -p pyflow --no-run` failed ({done.returncode}): {tail}")
    for line in done.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "bench":
            if msg.get("executable"):
                return Path(msg["executable"])
    raise BenchError("cargo did not name the executable of pyflow's bench target")


ANALYSIS_LINE = re.compile(
    r"analyze_cell, (?P<statements>[\d,]+) statements \((?P<lines>\d+) lines, (?P<kib>\d+) KiB\), "
    r"(?P<runs>\d+) runs: median (?P<median>[\d.]+) ms, min (?P<min>[\d.]+) ms, "
    r"p95 (?P<p95>[\d.]+) ms, max (?P<max>[\d.]+) ms"
)


@benchmark("analysis", full={"repeats": 1}, quick={"repeats": 1}, needs_pair=False)
def analysis(ctx: Context, repeats: int) -> list[Row]:
    """pyflow's analysis of a 2,000-statement cell, from `cargo bench -p pyflow`.

    Runs pyflow's own benchmark binary (pyflow/benches/bench.rs) and reads
    its first line, the analyze_cell figures (100 runs in process); the rest
    of that binary (dependency queries on pyflow's in-memory structure) is
    not needed here, so it is stopped once the line has been read.
    ``repeats`` > 1 runs the binary that many times and keeps the run with
    the lowest median (not used by default).
    """
    binary = pyflow_bench_binary()
    found: list[re.Match[str]] = []
    for _ in range(repeats):
        with subprocess.Popen(
            [str(binary), "--bench"], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            try:
                assert proc.stdout is not None
                first = proc.stdout.readline()
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        match = ANALYSIS_LINE.search(first)
        if not match:
            raise BenchError(f"pyflow's bench printed no analyze_cell figures; its first line: {first.strip()!r}")
        found.append(match)
    best = min(found, key=lambda m: float(m["median"]))
    runs = int(best["runs"])
    label = f"pyflow analysis, {best['statements']}-statement cell"
    note = (
        f"pyflow/benches/bench.rs (`cargo bench -p pyflow`, its first line): analyze_cell on a cell of "
        f"{best['statements']} statements ({best['lines']} lines, {best['kib']} KiB: assignments, calls, "
        f"subscripts, methods, loops, functions, f-strings, comprehensions), {runs} runs in one process; "
        f"min {float(best['min']):.3f} ms, max {float(best['max']):.3f} ms; the target applies to the median"
    )
    return [
        prov_row(label, "median", "ms", float(best["median"]), runs, note=note, target=5.0),
        prov_row(label, "p95", "ms", float(best["p95"]), runs),
    ]


# Lines of the 2,000-statement cell by position modulo 20 (any other: "x{i} =
# {last} + 1"): {i} is the line's number, {p} and {pp} the one and two before,
# {last} the latest x variable.
BIG_CELL_LINES = {
    5: "x{i} = abs({last} - 3)",
    10: "l{i} = [{last}, {last} + 1, {last} + 2]",
    11: "l{p}.append({last})",
    12: "x{i} = l{pp}[0] + l{pp}[-1]",
    15: "d{i} = {{'a': {last}}}",
    16: "d{p}['b'] = {last} * 2",
    17: "x{i} = d{pp}['a'] + d{pp}['b'] - {last}",
    19: "x{i} = max({last}, 1) % 1000003",
}


def big_cell_code(statements: int = 2000) -> str:
    """A cell of exactly ``statements`` trivial top-level statements, one per line.

    Mostly ``x{i} = x{j} + 1`` chains, with a call every 20 lines
    (``abs``, ``max``), lists built, appended to and subscripted, and dicts
    built, stored into by key and read by key.  Runs in plain Python (no
    imports), the same on every kernel, and ends with the chain's value.
    """
    lines = ["x0 = 0"]
    last = "x0"
    for i in range(1, statements):
        template = BIG_CELL_LINES.get(i % 20, "x{i} = {last} + 1")
        line = template.format(i=i, p=i - 1, pp=i - 2, last=last)
        lines.append(line)
        if line.startswith("x"):
            last = f"x{i}"
    return "\n".join(lines) + "\n"


def big_cell_result(code: str) -> tuple[int, str]:
    """(value, name) of the cell's last ``x`` variable, computed here for checking."""
    namespace: dict[str, Any] = {}
    exec(compile(code, "<big cell>", "exec"), namespace)  # noqa: S102 - our own generated code
    last = max((int(name[1:]) for name in namespace if name.startswith("x") and name[1:].isdigit()))
    return namespace[f"x{last}"], f"x{last}"


# ipyflow is installed into its own venv under bench/out (never into .venv,
# which the tests use), once; its kernelspec is written next to it with the
# absolute interpreter path (ipyflow's own spec says plain "python", which
# jupyter_client would replace by *this* interpreter, which has no ipyflow).
IPYFLOW_DIR = OUT_DIR / "ipyflow"
IPYFLOW_VENV = IPYFLOW_DIR / "venv"
IPYFLOW_KERNELS = IPYFLOW_DIR / "kernels"
IPYFLOW_STAMP = IPYFLOW_DIR / "installed"
IPYFLOW_FAILED = IPYFLOW_DIR / "failed"
# After a failed install, do not try again for this long (delete
# bench/out/ipyflow/failed to retry at once).
IPYFLOW_RETRY_AFTER_S = 6 * 3600


def ipyflow_kernelspec(install_timeout: float) -> tuple[KernelSpecManager | None, str]:
    """(spec manager holding the `ipyflow` kernelspec, its version) or (None, why not).

    Installs ``ipyflow`` from PyPI into bench/out/ipyflow/venv on first use
    (bounded by ``install_timeout`` seconds); later runs reuse it.  Never
    raises: ipyflow is a comparison, not part of what is under test.
    """
    import sys  # local: only for the interpreter that creates the venv

    python = IPYFLOW_VENV / "bin" / "python"
    if not IPYFLOW_STAMP.exists():
        if IPYFLOW_FAILED.exists() and time.time() - IPYFLOW_FAILED.stat().st_mtime < IPYFLOW_RETRY_AFTER_S:
            reason = IPYFLOW_FAILED.read_text(encoding="utf-8").strip()
            return None, f"{reason} (cached; delete bench/out/ipyflow/failed to retry)"
        print(f"[bench]   installing ipyflow from PyPI into {IPYFLOW_VENV} (once)", flush=True)
        IPYFLOW_DIR.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + install_timeout
        base = getattr(sys, "_base_executable", None) or sys.executable
        steps = [
            [base, "-m", "venv", "--clear", str(IPYFLOW_VENV)],
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
             "--timeout", "30", "--retries", "2", "ipyflow"],
        ]
        with open(IPYFLOW_DIR / "install.log", "w", encoding="utf-8") as log:
            for argv in steps:
                remaining = deadline - time.monotonic()
                why = ""
                try:
                    done = subprocess.run(
                        argv, stdout=log, stderr=subprocess.STDOUT, timeout=max(remaining, 1), check=False
                    )
                    if done.returncode != 0:
                        why = f"`{' '.join(argv[2:4])} ... ipyflow` exited {done.returncode}"
                except subprocess.TimeoutExpired:
                    why = f"install did not finish within {install_timeout:.0f} s"
                except OSError as exc:
                    why = f"cannot run {argv[0]}: {exc}"
                if why:
                    reason = f"pip install ipyflow failed: {why} (see bench/out/ipyflow/install.log)"
                    IPYFLOW_FAILED.write_text(reason + "\n", encoding="utf-8")
                    return None, reason
        IPYFLOW_FAILED.unlink(missing_ok=True)
        IPYFLOW_STAMP.write_text(time.strftime("%Y-%m-%d %H:%M:%S UTC\n", time.gmtime()), encoding="utf-8")
    version = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version as v; "
         "print(v('ipyflow'), v('ipykernel'), v('ipython'))"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    if version.returncode != 0:
        return None, f"ipyflow's venv is broken ({version.stderr.strip()[-200:]}); delete bench/out/ipyflow"
    ipyflow_v, ipykernel_v, ipython_v = version.stdout.split()
    spec_dir = IPYFLOW_KERNELS / "ipyflow"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(python), "-m", "ipyflow.kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipyflow, bench)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    manager = KernelSpecManager(kernel_dirs=[str(IPYFLOW_KERNELS)])
    return manager, f"ipyflow {ipyflow_v} (ipykernel {ipykernel_v}, IPython {ipython_v})"


@benchmark(
    "big_cell",
    full={
        "runs": 20,
        "warmup": 2,
        "ipyflow": True,
        "install_timeout": 600,
        "ipyflow_timeout": 180,
        "ipyflow_rerun_timeout": 60,
    },
    quick={
        "runs": 3,
        "warmup": 1,
        "ipyflow": True,
        "install_timeout": 600,
        "ipyflow_timeout": 20,
        "ipyflow_rerun_timeout": 0,
    },
    needs_pair=False,
)
def big_cell(
    ctx: Context,
    runs: int,
    warmup: int,
    ipyflow: bool,
    install_timeout: float,
    ipyflow_timeout: float,
    ipyflow_rerun_timeout: float,
) -> list[Row]:
    """A 2,000-statement cell executed on python3, python-prov and (if it installs) ipyflow.

    python3 and python-prov: fresh kernels, alive together, in their own
    scratch directory (so prov's store of this benchmark is measured on its
    own), ``warmup`` untimed runs each, then ``runs`` timed runs each, the
    order flipping every round; timed as the execute benchmark (send until
    reply and idle).  Afterwards each kernel's last value of the chain must
    equal what this script computed.

    ipyflow then gets a fresh kernel of its own, after the other two are shut
    down: re-running the cell on it gets much slower each time (in trials a
    first run took 24 s, a second over 120 s), so its figure is the first
    run on a fresh kernel, within ``ipyflow_timeout`` seconds, compared with
    the other two's first runs; a second run, within
    ``ipyflow_rerun_timeout`` seconds, goes into the note.  A run that does not finish is killed and
    reported as a lower bound; if ipyflow cannot be installed or does not
    start, the row says why.  ipyflow never fails the benchmark.
    """
    code = big_cell_code(2000)
    want, last_name = big_cell_result(code)
    cwd = Path(ctx.workdir) / "big_cell"
    cwd.mkdir(parents=True, exist_ok=True)
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    first: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        kernels: dict[str, RunningKernel] = {}
        for label in SIDE_LABELS:
            kernel = RunningKernel.start(label, ctx.kernel_names[label], str(cwd), ctx.kernel_log)
            stack.callback(lambda k=kernel: (k.shutdown(), ctx.warnings.extend(k.warnings)))
            kernels[label] = kernel

        def run(label: str) -> float:
            kernels[label].drain_iopub()
            with gc_paused():
                return kernels[label].execute(code)[0]

        db = cwd / ".prov" / "prov.db"
        for label in SIDE_LABELS:
            first[label] = run(label)
            if label == "prov":
                after_first = store_used_bytes(db)
            for _ in range(warmup - 1):
                run(label)
        for round_index in range(runs):
            for label in ctx.sides_in_turn(round_index):
                samples[label].append(run(label))
        at_end = store_used_bytes(db)
        for label in SIDE_LABELS:
            got = evaluate(kernels[label], last_name)
            if got != repr(want):
                raise BenchError(f"{label} kernel: {last_name} is {got}, want {want!r}")
    store_size = store_bytes(db)
    _, recorded = store_counts(db)

    ipyflow_ms, ipyflow_text = big_cell_ipyflow(
        ctx, code, want, last_name, ipyflow, install_timeout, ipyflow_timeout, ipyflow_rerun_timeout
    )
    note = (
        f"{code.count(chr(10)):,} lines, {len(code) // 1024} KiB, one statement per line "
        "(`x1 = x0 + 1` chains, `abs`/`max` calls, lists built, appended to and subscripted, "
        f"dicts built and subscripted); fresh kernels, {warmup} untimed run(s) each (the first: direct "
        f"{first['direct'] * 1e3:,.0f} ms, prov {first['prov'] * 1e3:,.0f} ms), then {runs} timed runs each; "
        f"every kernel's {last_name} checked afterwards; {ipyflow_text}"
    )
    rows = percentile_rows(BIG_CELL_LABEL, samples, {50: 1.10, 95: None}, note=note)
    cold = Row(
        benchmark=BIG_CELL_LABEL,
        metric="1st run, fresh kernel",
        unit="ms",
        direct=first["direct"] * 1e3,
        prov=first["prov"] * 1e3,
        samples=1,
        note=note,
        others={"ipyflow": ipyflow_ms},
    )
    if ipyflow_ms == ipyflow_timeout * 1e3 and "1st run killed" in ipyflow_text:
        cold.others_at_least = {"ipyflow"}
    rows.append(cold)
    rows.append(
        prov_row(
            f"store, {BIG_CELL_LABEL}",
            "per execution",
            "bytes",
            store_size / recorded,
            recorded,
            note=(
                f"the store prov wrote for this benchmark alone (its own directory): {recorded} executions "
                f"of the cell (warm-ups included), {store_size:,} bytes after a WAL checkpoint"
            ),
        )
    )
    reruns = warmup - 1 + runs
    rows.append(
        prov_row(
            f"store, {BIG_CELL_LABEL}",
            "added per re-run",
            "bytes",
            (at_end - after_first) / reruns,
            reruns,
            note=(
                f"pages in use after the 1st run {after_first:,} bytes, after {reruns} re-runs of the same "
                f"code {at_end:,} bytes (read while the kernel lives, once the writer settled)"
            ),
            target=50_000,
        )
    )
    return rows


def big_cell_ipyflow(
    ctx: Context,
    code: str,
    want: int,
    last_name: str,
    enabled: bool,
    install_timeout: float,
    limit: float,
    rerun_limit: float,
) -> tuple[float, str]:
    """ipyflow's time for the first run of ``code`` on a fresh kernel, in ms, and a note.

    A second run on the same kernel, within ``rerun_limit`` s (0: none), goes
    into the note only.  The figure is NaN when ipyflow was not measured,
    and the note says why; for a first run killed at ``limit`` it is the
    limit itself (a lower bound) and the note says so.
    """
    if not enabled:
        return math.nan, "ipyflow: not measured (switched off in the benchmark's settings)"
    spec_manager, about = ipyflow_kernelspec(install_timeout)
    if spec_manager is None:
        return math.nan, f"ipyflow: not measured ({about})"
    try:
        kernel = RunningKernel.start(
            "ipyflow", "ipyflow", ctx.workdir, ctx.kernel_log, spec_manager=spec_manager, startup_timeout=60
        )
    except BenchError as exc:
        return math.nan, f"ipyflow: not measured (its kernel did not start within 60 s: {exc})"
    try:
        times: list[float | None] = []  # None: killed at its limit
        for run_limit in (limit, rerun_limit)[: 2 if rerun_limit > 0 else 1]:
            kernel.drain_iopub()
            try:
                with gc_paused():
                    times.append(kernel.execute(code, timeout=run_limit)[0])
            except BenchError as exc:
                if "within" not in str(exc):
                    return math.nan, f"ipyflow: not measured (the cell failed on it: {exc})"
                # Still computing: kill it now, so it does not load the machine.
                with contextlib.suppress(Exception):
                    kernel.manager.shutdown_kernel(now=True)
                times.append(None)
                break
            if len(times) == 1:  # check the first run's result before running again
                try:
                    got = evaluate(kernel, last_name)
                except BenchError as exc:
                    got = f"<no answer: {exc}>"
                if got != repr(want):
                    return math.nan, f"ipyflow: not measured ({last_name} is {got}, want {want!r})"
        described = [
            f"{t * 1e3:,.0f} ms" if t is not None else f"killed at its {run_limit:.0f} s limit (a lower bound)"
            for t, run_limit in zip(times, (limit, rerun_limit))
        ]
        text = f"ipyflow: {about}, on a fresh kernel: 1st run {described[0]}"
        if len(described) > 1:
            text += f", 2nd run of the same cell on that kernel {described[1]}"
        text += "; ipyflow's re-runs get slower, so it is not run repeatedly like the others"
        return (times[0] if times[0] is not None else limit) * 1e3, text
    finally:
        kernel.shutdown()
        ctx.warnings.extend(kernel.warnings)


def evaluate(kernel: RunningKernel, expression: str) -> str:
    """repr of ``expression`` in ``kernel``, via user_expressions (not recorded as a cell of its own)."""
    msg_id = kernel.client.execute("", silent=True, store_history=False, user_expressions={"v": expression})
    arrival = kernel.wait_for(msg_id, want_reply=True, want_idle=True)
    assert arrival.reply is not None
    value = arrival.reply["content"].get("user_expressions", {}).get("v", {})
    if value.get("status") != "ok":
        return f"<error: {value.get('ename', value)}>"
    return value.get("data", {}).get("text/plain", "")


def source_hash(paths: list[Path]) -> str:
    """sha256 over the given files and every *.rs under the given directories, in path order."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        files += sorted(path.rglob("*.rs")) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(REPO_ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


# What decides the bytes of the synthetic dependency store: the generator,
# and the writer path it goes through (provstore's writer and schema, pyflow's
# analysis).  A store cached under another hash is rebuilt, since reading a
# store laid out by older code would time the old layout.
DEPS_STORE_SOURCES = ["provstore/examples/synth_deps.rs", "provstore/src", "pyflow/src"]

SYNTH_DEPS_QUERY = re.compile(
    r"Store::backwards_deps on (?P<n>\d+) random current variables: median (?P<median>[\d.]+) ms, "
    r"p95 (?P<p95>[\d.]+) ms, max (?P<max>[\d.]+) ms"
)
SYNTH_DEPS_WHOLE = re.compile(
    r"open store \+ resolve trial \+ backwards_deps \+ JSON .*?, (?P<n>\d+) variables: "
    r"median (?P<median>[\d.]+) ms, p95 (?P<p95>[\d.]+) ms, max (?P<max>[\d.]+) ms"
)
SYNTH_DEPS_SIZES = re.compile(r"answer size: executions median (?P<median>\d+), p95 (?P<p95>\d+), max (?P<max>\d+)")


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


def deps_store(executions: int) -> tuple[Path, str]:
    """The cached synthetic store of one trial of ``executions``, built once; (path, how it came)."""
    binary = need_binary(SYNTH_DEPS, "cargo build --release -p provstore --example synth_deps")
    return cached_store(
        "deps-store", str(executions), DEPS_STORE_SOURCES, [str(binary), str(executions), "1"],
        f"{executions:,} executions", 1800,
    )


@benchmark(
    "provctl_deps",
    full={
        "executions": 100_000,
        "variables": ["v37", "v150", "v299", "df", "lst100", "d200", "config"],
        "runs": 7,
        "queries": 300,
    },
    quick={"executions": 100_000, "variables": ["v150", "df"], "runs": 2, "queries": 30},
    needs_pair=False,
)
def provctl_deps(ctx: Context, executions: int, variables: list[str], runs: int, queries: int) -> list[Row]:
    """`provctl deps VAR --json` on a synthetic trial of 100,000 executions, as a whole process.

    The store is written by provstore/examples/synth_deps.rs through the
    kernel's writer path (a 300-cell notebook session with dataflow facts),
    once, and cached under bench/out/deps-store keyed by the hash of the
    sources that decide its layout.  Each variable is queried once untimed
    (page cache; its answer is checked), then ``runs`` times, variables in
    turn.  synth_deps is then run on the same store for its in-process
    figures (Store::backwards_deps without process start or output).
    """
    db, origin = deps_store(executions)
    argv = [str(need_binary(PROVCTL, "cargo build --release")), "--db", str(db), "deps"]
    sizes: dict[str, int] = {}
    output_bytes: dict[str, int] = {}
    for var in variables:
        output = provctl(db, "deps", var, "--json").stdout
        output_bytes[var] = len(output.encode())
        answer = json.loads(output)
        if answer.get("trial", {}).get("executions") != executions:
            raise BenchError(f"provctl deps {var}: the trial has {answer.get('trial', {}).get('executions')} executions, want {executions}")
        sizes[var] = len(answer["executions"])
    samples: dict[str, list[float]] = {var: [] for var in variables}
    for round_index in range(runs):
        order = variables if round_index % 2 == 0 else variables[::-1]
        for var in order:
            samples[var].append(timed_process(argv + [var, "--json"], f"provctl deps {var}"))
    medians = {var: median(times) * 1e3 for var, times in samples.items()}
    per_var = ", ".join(
        f"{var} {medians[var]:.1f} ms ({sizes[var]:,} executions, {output_bytes[var]:,} bytes of JSON)"
        for var in variables
    )
    label = f"provctl deps --json, {executions:,} executions"
    rows = [
        prov_row(
            label,
            "median over variables",
            "ms",
            median(list(medians.values())),
            runs * len(variables),
            note=(
                f"whole process, stdout to /dev/null; median of {runs} runs per variable: {per_var}; "
                f"store {store_bytes(db):,} bytes, {origin}"
            ),
            target=20.0,
        ),
        prov_row(label, "slowest variable's median", "ms", max(medians.values()), runs, target=20.0),
        prov_row(label, "max of all runs", "ms", max(max(t) for t in samples.values()) * 1e3, runs * len(variables)),
    ]
    # In-process figures, from the generator's query mode on the same store.
    done = subprocess.run(
        [str(SYNTH_DEPS), str(db), str(executions), str(queries)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    query = SYNTH_DEPS_QUERY.search(done.stdout)
    whole = SYNTH_DEPS_WHOLE.search(done.stdout)
    answer_sizes = SYNTH_DEPS_SIZES.search(done.stdout)
    if done.returncode != 0 or not query:
        ctx.warnings.append(
            f"provctl_deps: synth_deps' in-process query figures unavailable (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-300:]}"
        )
        return rows
    inproc = f"{label}, in process"
    sizes_note = (
        f"; answers hold {answer_sizes['median']} executions (median), max {answer_sizes['max']}"
        if answer_sizes else ""
    )
    rows.append(
        prov_row(
            inproc,
            "Store::backwards_deps median",
            "ms",
            float(query["median"]),
            int(query["n"]),
            note=(
                f"printed by synth_deps on the same store, {query['n']} random current variables: "
                f"median {query['median']} ms, p95 {query['p95']} ms, max {query['max']} ms{sizes_note}"
                + (
                    f"; open store + resolve trial + backwards_deps + JSON ({min(100, queries)} variables): "
                    f"median {whole['median']} ms, p95 {whole['p95']} ms, max {whole['max']} ms"
                    if whole else ""
                )
            ),
            target=20.0,
        )
    )
    rows.append(prov_row(inproc, "Store::backwards_deps p95", "ms", float(query["p95"]), int(query["n"])))
    if whole:
        rows.append(
            # synth_deps times at most 100 of its queries this way (its line always says 100).
            prov_row(inproc, "open + query + JSON median", "ms", float(whole["median"]), min(100, queries))
        )
    return rows


CAPTURE_SCALARS_LABEL = "cell binding 1,000 scalars"
CAPTURE_ARRAY_LABEL = "mutating a tagged 1 GiB array"
CAPTURE_FRAME_LABEL = "binding a 1 GiB DataFrame"


@contextlib.contextmanager
def own_pair(ctx: Context, name: str) -> Any:
    """Fresh kernels for both sides, alive together, in their own scratch directory (so prov's
    store of this benchmark is its own); shut down whatever happens."""
    cwd = Path(ctx.workdir) / name
    cwd.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        kernels: dict[str, RunningKernel] = {}
        for label in SIDE_LABELS:
            kernel = RunningKernel.start(label, ctx.kernel_names[label], str(cwd), ctx.kernel_log)
            stack.callback(lambda k=kernel: (k.shutdown(), ctx.warnings.extend(k.warnings)))
            kernels[label] = kernel
        yield kernels, cwd


def timed_rounds(
    ctx: Context, kernels: dict[str, RunningKernel], code: str, runs: int, warmup: int
) -> dict[str, list[float]]:
    """``warmup`` untimed then ``runs`` timed executions of ``code`` per side, the order of the
    sides flipping every round."""
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}

    def run(label: str) -> float:
        kernels[label].drain_iopub()
        with gc_paused():
            return kernels[label].execute(code)[0]

    for label in SIDE_LABELS:
        for _ in range(warmup):
            run(label)
    for round_index in range(runs):
        for label in ctx.sides_in_turn(round_index):
            samples[label].append(run(label))
    return samples


@benchmark(
    "capture_scalars",
    full={"scalars": 1000, "runs": 60, "warmup": 5},
    quick={"scalars": 1000, "runs": 10, "warmup": 2},
    needs_pair=False,
)
def capture_scalars(ctx: Context, scalars: int, runs: int, warmup: int) -> list[Row]:
    """A cell binding 1,000 scalars, run again and again: the runtime probe's cost per binding.

    Every run binds every name to a new object (the cell is compiled anew, so its constants
    are new objects), so prov's probe notes all of them, with type and value, each time, and
    the store gets 1,000 captured values per execution. Fresh kernels of both sides in their
    own directory, alive together; timed as the execute benchmark (send until reply and idle).
    Afterwards each kernel's last value is checked.
    """
    code = "\n".join(f"s{i} = {i} + 0.5" for i in range(scalars))
    last = f"s{scalars - 1}"
    with own_pair(ctx, "capture_scalars") as (kernels, cwd):
        samples = timed_rounds(ctx, kernels, code, runs, warmup)
        for label in SIDE_LABELS:
            got = evaluate(kernels[label], last)
            if got != repr(scalars - 1 + 0.5):
                raise BenchError(f"{label} kernel: {last} is {got}, want {scalars - 1 + 0.5!r}")
    db = cwd / ".prov" / "prov.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (values,) = conn.execute("SELECT COUNT(*) FROM captured_values").fetchone()
    note = (
        f"{scalars:,} lines `sN = N + 0.5`, every name rebound each run; {warmup} untimed runs per "
        f"side, then {runs} timed; prov stored {values:,} captured values in all (type and value "
        "of each binding)"
    )
    return percentile_rows(CAPTURE_SCALARS_LABEL, samples, {50: 1.10, 95: None}, note=note)


@benchmark(
    "capture_big_array",
    full={"mib": 1024, "runs": 20, "warmup": 2, "overhead_ms": 100.0},
    quick={"mib": 1024, "runs": 4, "warmup": 1, "overhead_ms": 100.0},
    needs_pair=False,
)
def capture_big_array(ctx: Context, mib: int, runs: int, warmup: int, overhead_ms: float) -> list[Row]:
    """A tagged 1 GiB float64 array mutated in place (`big[0] += 1`) by every execution.

    On prov the array is tagged (`%tag_var big`), so every execution makes the probe summarise
    it: over PROV_VALUE_LIMIT (default 256 MiB) that is shape, dtype, a hash of 64 evenly
    spaced 64 KiB chunks and statistics of 65,536 evenly spaced elements, so the work is
    bounded whatever the size. The direct side runs the same cell untagged. Checked: every
    summary prov stored says sampled, with the right shape. The second row is the summary's
    cost per execution, prov p50 minus direct p50 (target: at most ``overhead_ms``).
    """
    elements = mib * (1 << 20) // 8
    code = "big[0] += 1"
    with own_pair(ctx, "capture_big_array") as (kernels, cwd):
        for label, kernel in kernels.items():
            kernel.execute(f"import numpy as np\nbig = np.ones({elements}, dtype='float64')", timeout=120)
            if label == "prov":
                kernel.execute("%tag_var big")
        samples = timed_rounds(ctx, kernels, code, runs, warmup)
    db = cwd / ".prov" / "prov.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        found = [json.loads(s) for (s,) in conn.execute(
            "SELECT summary_json FROM captured_values WHERE name = 'big' AND summary_json IS NOT NULL")]
    if len(found) < runs + warmup + 1:
        raise BenchError(f"prov stored {len(found)} summaries of big, want {runs + warmup + 1}")
    wrong = [s for s in found if not s.get("sampled") or s.get("shape") != [elements]]
    if wrong:
        raise BenchError(f"summaries not sampled or of the wrong shape: {wrong[:2]}")
    note = (
        f"a {mib:,} MiB float64 array, tagged on prov; {warmup} untimed runs per side, then {runs} "
        f"timed; prov stored {len(found)} summaries of it, all sampled"
    )
    return rows_with_cost(CAPTURE_ARRAY_LABEL, samples, note, "summary", runs, overhead_ms)


def rows_with_cost(label: str, samples: dict[str, list[float]], note: str, what: str, runs: int,
                   overhead_ms: float) -> list[Row]:
    """p50 and p95 rows, and the cost per execution of prov's `what` (p50 prov - direct)."""
    rows = percentile_rows(label, samples, {50: None, 95: None}, note=note)
    rows.append(
        prov_row(
            label,
            f"{what} cost (p50 prov - direct)",
            "ms",
            (percentile(samples["prov"], 50) - percentile(samples["direct"], 50)) * 1e3,
            runs,
            note=f"the time the bounded {what} adds to each execution",
            target=overhead_ms,
        )
    )
    return rows


@benchmark(
    "capture_big_frame",
    full={"mib": 1024, "runs": 20, "warmup": 2, "overhead_ms": 100.0},
    quick={"mib": 1024, "runs": 4, "warmup": 1, "overhead_ms": 100.0},
    needs_pair=False,
)
def capture_big_frame(ctx: Context, mib: int, runs: int, warmup: int, overhead_ms: float) -> list[Row]:
    """A cell binding a 1 GiB DataFrame (8 float64 columns), untagged: `df = base.copy(deep=False)`.

    Every execution binds `df` to a new DataFrame over the same 1 GiB of data (no copy), so the
    direct side does almost nothing and prov's probe fingerprints a 1 GiB frame each time: over
    PROV_FINGERPRINT_LIMIT (16 MiB) that is its shape, columns and the pandas hash of 65,536
    evenly spaced rows. Checked: prov stored a sampled fingerprint of `df` for every
    execution. The second row is the fingerprint's cost per execution, prov p50 minus direct
    p50 (target: at most ``overhead_ms``).
    """
    rows_n = mib * (1 << 20) // (8 * 8)
    code = "df = base.copy(deep=False)"
    with own_pair(ctx, "capture_big_frame") as (kernels, cwd):
        for kernel in kernels.values():
            kernel.execute(
                "import numpy as np\nimport pandas as pd\n"
                f"base = pd.DataFrame(np.ones(({rows_n}, 8)), columns=list('abcdefgh'))",
                timeout=180,
            )
        samples = timed_rounds(ctx, kernels, code, runs, warmup)
    db = cwd / ".prov" / "prov.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        found = [json.loads(s) for (s,) in conn.execute(
            "SELECT fingerprint_json FROM captured_values WHERE name = 'df'"
            " AND fingerprint_json IS NOT NULL")]
    if len(found) < runs + warmup:
        raise BenchError(f"prov stored {len(found)} fingerprints of df, want {runs + warmup}")
    if not all(f.get("sampled") for f in found):
        raise BenchError(f"fingerprints not sampled: {found[:2]}")
    note = (
        f"a {mib:,} MiB DataFrame ({rows_n:,} rows, 8 float64 columns) bound anew by every "
        f"execution, untagged; {warmup} untimed runs per side, then {runs} timed; prov stored "
        f"{len(found)} fingerprints of it, all sampled"
    )
    return rows_with_cost(CAPTURE_FRAME_LABEL, samples, note, "fingerprint", runs, overhead_ms)
# --------------------------------------------------------------------------
# Comparing trials: provctl diff
# --------------------------------------------------------------------------

SYNTH_DIFF = REPO_ROOT / "target" / "release" / "examples" / "synth_diff"


@benchmark(
    "provctl_diff",
    full={"executions": 5_000, "runs": 9},
    quick={"executions": 5_000, "runs": 3},
    needs_pair=False,
)
def provctl_diff(ctx: Context, executions: int, runs: int) -> list[Row]:
    """`provctl diff 1 2 --json` of two trials of 5,000 executions each, as a whole process.

    The store is written by provstore/examples/synth_diff.rs (a 250-cell notebook run again
    and again with dataflow facts and probe notes, the right trial with another parameter
    from its middle on, one execution skipped and one added, another numpy).  One untimed
    run first (page cache, and a check of the answer), then ``runs`` timed ones, stdout to
    /dev/null.
    """
    db = Path(ctx.workdir) / "synthetic-diff" / "prov.db"
    binary = need_binary(SYNTH_DIFF, "cargo build --release -p provstore --example synth_diff")
    db.parent.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        done = subprocess.run(
            [str(binary), str(db), str(executions), "1"], capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0:
            raise BenchError(f"synth_diff failed ({done.returncode}): {done.stderr.strip()}")
    output = provctl(db, "diff", "1", "2", "--json").stdout
    answer = json.loads(output)
    changed = {v["name"] for v in answer["values"] if v["status"] == "changed"}
    if answer["left"]["executions"] != executions or "p" not in changed or "m55" not in changed:
        raise BenchError(f"provctl diff --json on the synthetic store is not the expected answer: changed {sorted(changed)}")
    argv = [str(PROVCTL), "--db", str(db), "diff", "1", "2", "--json"]
    times: list[float] = []
    for _ in range(runs):
        times.append(timed_process(argv, "provctl diff"))
    label = f"provctl diff --json, 2 x {executions:,} executions"
    return [
        median_ms_row(
            label,
            "median",
            times,
            "whole process, stdout to /dev/null",
            f"{len(answer['code'])} code ops, {len(changed)} changed values, {len(output.encode()):,} bytes "
            f"of JSON; synthetic store of {store_bytes(db):,} bytes",
            target=100.0,
        ),
        prov_row(label, "max", "ms", max(times) * 1e3, runs),
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
