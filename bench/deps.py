"""`provctl deps VAR --json` on a synthetic trial of 100,000 executions, and the store it reads
(also `provctl export`'s).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from harness import BenchError, Context
from rows import Row, benchmark, median, prov_row
from stores import EXAMPLES_BIN, PROVCTL, cached_store, need_binary, provctl, store_bytes, time_rounds

SYNTH_DEPS = EXAMPLES_BIN / "synth_deps"
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
    samples = time_rounds({var: argv + [var, "--json"] for var in variables}, runs, "provctl deps")
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
