"""The relay's cost, both sides alive together: an `execute` of `pass`, a `kernel_info`
round trip, a cell printing 100,000 lines, and a kernel's start-up.

For a per-request latency, ``alternating_samples`` does the warm-up and the alternation;
otherwise alternate the sides with ``ctx.sides_in_turn(round)`` so slow drift of the machine
lands on both sides equally.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from harness import SIDE_LABELS, BenchError, Context, CpuTime, RunningKernel, gc_paused
from rows import Row, benchmark, median_row, percentile_rows, prov_row

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
