"""The benchmarks: each measures one thing on both sides and returns Rows.

To add one, write a function here decorated with ``@benchmark(...)``; it
receives a :class:`harness.Context` plus its settings and returns a list of
:class:`harness.Row`.  Alternate the sides with ``ctx.sides_in_turn(round)``
so slow drift of the machine lands on both sides equally.
"""

from __future__ import annotations

import math
import time
from typing import Any

from harness import (
    SIDE_LABELS,
    BenchError,
    Context,
    Row,
    benchmark,
    gc_paused,
    median,
    percentile_rows,
)


def blocks_in_turn(ctx: Context, total: int, block: int):
    """Yield (side, count) so each side gets ``total`` items in alternating blocks.

    Blocks rather than single requests keep each side warm: switching side
    on every request made both ~25 % slower in trials.  Short blocks (10)
    still alternate often enough, AB then BA, to spread drift (another
    build starting on the 2-core machine) evenly over both sides.
    """
    done = dict.fromkeys(SIDE_LABELS, 0)
    for round_index in range(math.ceil(total / block)):
        for label in ctx.sides_in_turn(round_index):
            count = min(block, total - done[label])
            if count > 0:
                done[label] += count
                yield label, count


@benchmark(
    "execute",
    full={"executes": 500, "warmup": 50, "block": 10},
    quick={"executes": 40, "warmup": 10, "block": 5},
)
def execute_pass(ctx: Context, executes: int, warmup: int, block: int) -> list[Row]:
    """`pass` latency: send until both execute_reply and iopub idle arrived."""
    assert ctx.pair is not None
    for label in SIDE_LABELS:
        for _ in range(warmup):
            ctx.pair[label].execute("pass")
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    for label, count in blocks_in_turn(ctx, executes, block):
        kernel = ctx.pair[label]
        kernel.drain_iopub()
        with gc_paused():
            for _ in range(count):
                samples[label].append(kernel.execute("pass")[0])
    return percentile_rows("execute `pass`", samples, {50: 1.05, 95: 1.10})


@benchmark(
    "kernel_info",
    full={"requests": 200, "warmup": 20, "block": 10},
    quick={"requests": 20, "warmup": 5, "block": 5},
)
def kernel_info(ctx: Context, requests: int, warmup: int, block: int) -> list[Row]:
    """kernel_info round trip: send until kernel_info_reply arrived."""
    assert ctx.pair is not None
    for label in SIDE_LABELS:
        for _ in range(warmup):
            ctx.pair[label].kernel_info()
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    for label, count in blocks_in_turn(ctx, requests, block):
        kernel = ctx.pair[label]
        kernel.drain_iopub()
        with gc_paused():
            for _ in range(count):
                samples[label].append(kernel.kernel_info())
    return percentile_rows("kernel_info round trip", samples, {50: None, 95: None})


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
    assert ctx.pair is not None
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
    for label in SIDE_LABELS:
        run_once(label, f"for i in range({warmup_lines}): print(i)",
                 "".join(f"{i}\n" for i in range(warmup_lines)))
    for round_index in range(runs):
        for label in ctx.sides_in_turn(round_index):
            with gc_paused():
                elapsed, messages = run_once(label, code, expected)
            samples[label].append(elapsed)
            message_counts[label].append(messages)
    counts = ", ".join(
        f"{label} {min(message_counts[label])}-{max(message_counts[label])}" for label in SIDE_LABELS
    )
    return [
        Row(
            benchmark=f"stream {lines:,} lines",
            metric="median",
            unit="ms",
            direct=median(samples["direct"]) * 1e3,
            prov=median(samples["prov"]) * 1e3,
            samples=runs,
            target=1.05,
            note=f"all lines verified; stream messages per run: {counts}",
        )
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
    return [
        Row(
            benchmark="start-up to ready",
            metric="median",
            unit="ms",
            direct=median(samples["direct"]) * 1e3,
            prov=median(samples["prov"]) * 1e3,
            samples=runs,
            note="includes jupyter_client's fixed 0.2 s iopub flush in wait_for_ready",
        )
    ]
