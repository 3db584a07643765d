"""The runtime probe's cost: a cell binding 1,000 scalars, a tagged 1 GiB array mutated in
place, a 1 GiB DataFrame bound anew; fresh kernels of both sides for each.
"""

from __future__ import annotations

import json
from typing import Any

from harness import SIDE_LABELS, BenchError, Context
from rows import Row, benchmark, percentile_rows
from pairs import evaluate, own_pair, rows_with_cost, stored, timed_rounds

CAPTURE_SCALARS_LABEL = "cell binding 1,000 scalars"
CAPTURE_ARRAY_LABEL = "mutating a tagged 1 GiB array"
CAPTURE_FRAME_LABEL = "binding a 1 GiB DataFrame"
# The 1 GiB array's and the 1 GiB DataFrame's: the same size, runs and target.
ONE_GIB_SETTINGS: dict[str, Any] = {
    "full": {"mib": 1024, "runs": 20, "warmup": 2, "overhead_ms": 100.0},
    "quick": {"mib": 1024, "runs": 4, "warmup": 1, "overhead_ms": 100.0},
    "needs_pair": False,
}


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
    (values,) = stored(cwd, "SELECT COUNT(*) FROM captured_values")
    note = (
        f"{scalars:,} lines `sN = N + 0.5`, every name rebound each run; {warmup} untimed runs per "
        f"side, then {runs} timed; prov stored {values:,} captured values in all (type and value "
        "of each binding)"
    )
    return percentile_rows(CAPTURE_SCALARS_LABEL, samples, {50: 1.10, 95: None}, note=note)


@benchmark("capture_big_array", **ONE_GIB_SETTINGS)
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
    found = [json.loads(s) for s in stored(
        cwd, "SELECT summary_json FROM captured_values WHERE name = 'big' AND summary_json IS NOT NULL")]
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


@benchmark("capture_big_frame", **ONE_GIB_SETTINGS)
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
    found = [json.loads(s) for s in stored(
        cwd, "SELECT fingerprint_json FROM captured_values WHERE name = 'df' AND fingerprint_json IS NOT NULL")]
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
