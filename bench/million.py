"""Queries on a store of 1,000,000 executions over 1,000 trials (issue 16, point 4).

The store is built by provstore/examples/synth_million.rs (sessions recorded through
provstore's writer, copied into the other trials in SQL: see that file) once per hash of the
sources that decide its bytes, and cached under bench/out/million-store.  Each query runs as a
whole `provctl` process, as a person or a script would run it, stdout to /dev/null.
"""

from __future__ import annotations

import json
from pathlib import Path

from stores import EXAMPLES_BIN, PROVCTL, cached_store, need_binary, provctl, store_bytes, time_rounds
from harness import BenchError, Context
from rows import Row, benchmark, median, percentile, prov_row

SYNTH_MILLION = EXAMPLES_BIN / "synth_million"
# What decides the store's bytes: the generator (and the sessions it shares with synth_deps and
# synth_diff), provstore's writer and schema, pyflow's analysis.
MILLION_SOURCES = ["provstore/examples/synth_million.rs", "provstore/examples/million", "provstore/examples/common", "provstore/src", "pyflow/src"]


def million_store(trials: int, executions: int) -> tuple[Path, str]:
    """The cached store of ``trials`` trials and ``executions`` executions; (path, how it came)."""
    binary = need_binary(SYNTH_MILLION, "cargo build --release -p provstore --example synth_million")
    return cached_store(
        "million-store", f"{trials}-{executions}", MILLION_SOURCES, [str(binary), str(trials), str(executions)],
        f"{executions:,} executions in {trials:,} trials, a few minutes", 3600,
    )


def build_log(db: Path) -> str:
    """What synth_million printed when it built ``db`` (its timings and checks), on one line."""
    log = db.parent / "complete"
    return "; ".join(line.strip() for line in log.read_text(encoding="utf-8").splitlines() if line.strip())


def ms_rows(label: str, times: list[float], target: float | None, note: str) -> list[Row]:
    """Median (against ``target``) and p95 rows of ``times`` (seconds), in ms."""
    return [
        prov_row(label, "median", "ms", median(times) * 1e3, len(times), note=note, target=target),
        prov_row(label, "p95", "ms", percentile(times, 95) * 1e3, len(times)),
    ]


@benchmark(
    "provctl_million",
    full={
        "trials": 1000,
        "executions": 1_000_000,
        "variables": ["v150", "v37", "df", "config", "v299"],
        "value": "v150",
        "runs": 15,
    },
    quick={"trials": 1000, "executions": 1_000_000, "variables": ["v150", "df"], "value": "v150", "runs": 3},
    needs_pair=False,
)
def provctl_million(
    ctx: Context, trials: int, executions: int, variables: list[str], value: str, runs: int
) -> list[Row]:
    """`provctl deps`, `diff`, `values` and `trials` on a store of 1,000,000 executions.

    deps: each variable of the latest trial (`deps VAR --json`); diff: the two trials of
    5,000 executions (`diff A B --json`); values: one variable across all trials (text);
    trials: the first page (text).  Each command once untimed (page cache, and a check of
    its answer), then ``runs`` timed runs, the commands in turn.
    """
    db, origin = million_store(trials, executions)
    size = store_bytes(db)
    listed = json.loads(provctl(db, "trials", "--json", "--all").stdout)
    counted = sum(t["executions"] for t in listed)
    if len(listed) != trials or counted != executions:
        raise BenchError(f"the million store has {len(listed)} trials and {counted:,} executions")
    left, right, latest = listed[-3], listed[-2], listed[-1]
    exe = str(need_binary(PROVCTL, "cargo build --release"))
    base = [exe, "--db", str(db)]
    commands = {f"deps {var}": base + ["deps", var, "--json"] for var in variables}
    commands["diff"] = base + ["diff", str(left["id"]), str(right["id"]), "--json"]
    commands["values"] = base + ["values", value]
    commands["trials"] = base + ["trials"]
    commands["start"] = [exe, "--version"]
    # Untimed first runs: the page cache, and the answers checked.
    sizes: dict[str, int] = {}
    for var in variables:
        answer = json.loads(provctl(db, "deps", var, "--json").stdout)
        if answer["trial"]["id"] != latest["id"] or not answer["executions"]:
            raise BenchError(f"provctl deps {var}: not an answer from the latest trial")
        sizes[var] = len(answer["executions"])
    diff = json.loads(provctl(db, "diff", str(left["id"]), str(right["id"]), "--json").stdout)
    changed = sorted(v["name"] for v in diff["values"] if v["status"] == "changed")
    if diff["left"]["executions"] != left["executions"] or "p" not in changed:
        raise BenchError(f"provctl diff on the million store: not the expected answer (changed {changed})")
    values = json.loads(provctl(db, "values", value, "--json").stdout)
    in_trials = len({v["trial"] for v in values})
    distinct = len({json.dumps(v["value"]) for v in values})
    page = provctl(db, "trials").stdout
    if "older trials not listed" not in page:
        raise BenchError("provctl trials on the million store listed every trial: not a page")
    samples = time_rounds(commands, runs)
    per_var = {var: median(samples[f"deps {var}"]) * 1e3 for var in variables}
    deps_times = [t for var in variables for t in samples[f"deps {var}"]]
    start_ms = median(samples["start"]) * 1e3
    common = f"whole process, stdout to /dev/null; `provctl --version` alone takes {start_ms:.1f} ms (median)"
    rows = [
        prov_row(
            "provctl deps --json, 1M-execution store",
            "median over variables",
            "ms",
            median(list(per_var.values())),
            len(deps_times),
            note=(
                f"{common}; the latest trial ({latest['executions']:,} executions), median of {runs} runs per "
                "variable: " + ", ".join(f"{v} {per_var[v]:.1f} ms ({sizes[v]} executions)" for v in variables)
            ),
            target=10.0,
        ),
        prov_row("provctl deps --json, 1M-execution store", "p95 of all runs", "ms",
                 percentile(deps_times, 95) * 1e3, len(deps_times)),
        *ms_rows(
            f"provctl diff --json, 2 x {left['executions']:,} in the 1M store",
            samples["diff"],
            50.0,
            f"{common}; trials {left['id']} and {right['id']}: {len(diff['code'])} code ops, "
            f"{len(changed)} changed values",
        ),
        *ms_rows(
            f"provctl values {value}, 1M store",
            samples["values"],
            100.0,
            f"{common}; text; {len(values):,} values in {in_trials:,} trials, {distinct:,} distinct",
        ),
        *ms_rows(
            "provctl trials (first page), 1M store",
            samples["trials"],
            100.0,
            f"{common}; text; the latest 50 of {trials:,} trials with tags and key values",
        ),
        prov_row(
            f"store, {executions:,} executions in {trials:,} trials",
            "size per execution",
            "bytes",
            size / executions,
            executions,
            note=f"{size:,} bytes in all (after a checkpoint), {origin}; its build: {build_log(db)}",
        ),
    ]
    return rows
