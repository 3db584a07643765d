"""Comparing trials: `provctl diff 1 2 --json` of two synthetic trials of 5,000 executions."""

from __future__ import annotations

import json
from pathlib import Path

from harness import BenchError, Context
from rows import Row, benchmark, prov_row
from stores import PROVCTL, median_ms_row, need_binary, provctl, run_example, store_bytes, time_rounds

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
    if not db.exists():
        run_example("synth_diff", db, str(executions), "1", timeout=600)
    output = provctl(db, "diff", "1", "2", "--json").stdout
    answer = json.loads(output)
    changed = {v["name"] for v in answer["values"] if v["status"] == "changed"}
    if answer["left"]["executions"] != executions or "p" not in changed or "m55" not in changed:
        raise BenchError(f"provctl diff --json on the synthetic store is not the expected answer: changed {sorted(changed)}")
    argv = [str(need_binary(PROVCTL, "cargo build --release")), "--db", str(db), "diff", "1", "2", "--json"]
    times = time_rounds({"provctl diff": argv}, runs)["provctl diff"]
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
