"""Fresh kernels of both sides for one benchmark, in a scratch directory of its own (so prov's
store of that benchmark is its own), and the timed rounds of a cell on them.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from harness import SIDE_LABELS, Context, RunningKernel, gc_paused
from rows import Row, percentile, percentile_rows, prov_row

@contextlib.contextmanager
def own_pair(ctx: Context, name: str) -> Iterator[tuple[dict[str, RunningKernel], Path]]:
    """Fresh kernels for both sides, alive together, in the scratch directory NAME (so prov's
    store of this benchmark is its own); shut down whatever happens. Yields the kernels by side
    and the directory."""
    cwd = Path(ctx.workdir) / name
    cwd.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        kernels: dict[str, RunningKernel] = {}
        for label in SIDE_LABELS:
            kernel = RunningKernel.start(label, ctx.kernel_names[label], str(cwd), ctx.kernel_log)
            stack.callback(lambda k=kernel: (k.shutdown(), ctx.warnings.extend(k.warnings)))
            kernels[label] = kernel
        yield kernels, cwd


def run_timed(kernel: RunningKernel, code: str) -> float:
    """Seconds one execution of ``code`` takes (send until reply and idle), with iopub drained
    first and the garbage collector paused."""
    kernel.drain_iopub()
    with gc_paused():
        return kernel.execute(code)[0]


def timed_rounds(
    ctx: Context, kernels: dict[str, RunningKernel], code: str, runs: int, warmup: int
) -> dict[str, list[float]]:
    """``warmup`` untimed then ``runs`` timed executions of ``code`` per side, the order of the
    sides flipping every round."""
    samples: dict[str, list[float]] = {label: [] for label in SIDE_LABELS}
    for label in SIDE_LABELS:
        for _ in range(warmup):
            run_timed(kernels[label], code)
    for round_index in range(runs):
        for label in ctx.sides_in_turn(round_index):
            samples[label].append(run_timed(kernels[label], code))
    return samples


def evaluate(kernel: RunningKernel, expression: str) -> str:
    """repr of ``expression`` in ``kernel``, via user_expressions (not recorded as a cell of its own)."""
    msg_id = kernel.client.execute("", silent=True, store_history=False, user_expressions={"v": expression})
    arrival = kernel.wait_for(msg_id, want_reply=True, want_idle=True)
    assert arrival.reply is not None
    value = arrival.reply["content"].get("user_expressions", {}).get("v", {})
    if value.get("status") != "ok":
        return f"<error: {value.get('ename', value)}>"
    return value.get("data", {}).get("text/plain", "")


def stored(cwd: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """The first column of every row of ``sql`` in the store prov's kernel wrote under ``cwd``
    (read once the pair is shut down)."""
    with contextlib.closing(sqlite3.connect(cwd / ".prov" / "prov.db")) as conn:
        return [value for (value,) in conn.execute(sql, params)]


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
