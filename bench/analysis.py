"""Dataflow analysis: pyflow's time on a 2,000-statement cell, and that cell run on both sides
(and on ipyflow, when it installs) with what it adds to prov's store.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager

from harness import SIDE_LABELS, BenchError, Context, RunningKernel, gc_paused
from rows import Row, benchmark, percentile_rows, prov_row
from pairs import evaluate, own_pair, run_timed
from stores import OUT_DIR, REPO_ROOT, store_bytes, store_counts, store_used_bytes

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
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    first: dict[str, float] = {}
    with own_pair(ctx, "big_cell") as (kernels, cwd):
        db = cwd / ".prov" / "prov.db"
        for label in SIDE_LABELS:
            first[label] = run_timed(kernels[label], code)
            if label == "prov":
                after_first = store_used_bytes(db)
            for _ in range(warmup - 1):
                run_timed(kernels[label], code)
        for round_index in range(runs):
            for label in ctx.sides_in_turn(round_index):
                samples[label].append(run_timed(kernels[label], code))
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
