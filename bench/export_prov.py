"""W3C PROV export: `provctl export 1 --format prov-json|prov-n|prov-o` of a trial of 1,000
executions with dataflow (the issue asks for well under a second), as a whole process.

The store is provstore/examples/synth_deps.rs's working session (variables, dict keys, frame
columns, failures, runtime notes), cached as `provctl_deps`'s is. Each format is exported once
untimed (page cache, and a check that the PROV-JSON holds an activity per execution and the
trial's), then `runs` times, formats in turn, stdout to /dev/null.
"""

from __future__ import annotations

import json

from deps import deps_store
from stores import PROVCTL, median_ms_row, need_binary, provctl, store_bytes, time_rounds
from harness import BenchError, Context
from rows import Row, benchmark

FORMATS = ["prov-json", "prov-n", "prov-o"]


@benchmark("export_prov", full={"executions": 1000, "runs": 7}, quick={"executions": 1000, "runs": 2},
           needs_pair=False)
def export_prov(ctx: Context, executions: int, runs: int) -> list[Row]:
    """`provctl export 1 --format prov-json|prov-n|prov-o` of a 1,000-execution trial, as a whole process."""
    db, origin = deps_store(executions)
    argv = [str(need_binary(PROVCTL, "cargo build --release")), "--db", str(db), "export", "1", "--format"]
    sizes: dict[str, int] = {}
    for fmt in FORMATS:
        out = provctl(db, "export", "1", "--format", fmt).stdout
        sizes[fmt] = len(out.encode())
        if fmt == "prov-json" and len(json.loads(out)["activity"]) != executions + 1:
            raise BenchError(f"the PROV-JSON of {executions:,} executions lacks activities")
    samples = time_rounds({fmt: argv + [fmt] for fmt in FORMATS}, runs, "provctl export --format")
    label = f"provctl export (W3C PROV), {executions:,} executions"
    return [
        median_ms_row(label, f"median, {fmt}", times, fmt,
                      f"{sizes[fmt]:,} bytes; store {store_bytes(db):,} bytes, {origin}", target=500.0)
        for fmt, times in samples.items()
    ]
