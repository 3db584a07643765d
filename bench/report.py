"""Machine facts and the two outputs: JSON for tools, Markdown for people.

Kept apart from the measuring code so a later change to the report layout
cannot disturb timings, and so the JSON schema is defined in one place.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from rows import Row

JSON_SCHEMA_VERSION = 1


def _cpu_model() -> str:
    """CPU model name from /proc/cpuinfo, or platform's guess elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    """Installed version of ``package`` in this interpreter, or 'missing'."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def _command_output(argv: list[str], cwd: str | None = None) -> str:
    """First line of a command's stdout, or '' if it fails (facts are best effort)."""
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = done.stdout.strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else ""


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies over all CPUs from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat", encoding="utf-8") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy_fraction(seconds: float = 1.0) -> float | None:
    """Share of all cores busy over the next ``seconds``, before any kernel runs.

    Unlike the load average, which still remembers the release build that
    scripts/bench.sh ran a moment ago, this sees only what else is running
    now, which is what disturbs the measurements.
    """
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def machine_facts(repo_root: Path) -> dict[str, Any]:
    """Facts that decide whether two result sets are comparable at all."""
    import zmq  # local: only needed here, and already a jupyter_client dependency

    commit = _command_output(["git", "rev-parse", "--short", "HEAD"], cwd=str(repo_root))
    dirty = _command_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=str(repo_root))
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "os": platform.platform(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "cpu_busy_before_run": cpu_busy_fraction(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "ipykernel": _version("ipykernel"),
        "jupyter_client": _version("jupyter_client"),
        "pyzmq": zmq.__version__,
        "libzmq": zmq.zmq_version(),
        "git_commit": commit + ("-dirty" if dirty else "") if commit else "unknown",
    }


def write_json(path: Path, report: dict[str, Any]) -> None:
    """Write the machine-readable report; rows carry ratio and verdict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(report, schema_version=JSON_SCHEMA_VERSION)
    payload["rows"] = [row.to_json() for row in report["rows"]]
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def _figure(value: float) -> str:
    """Three significant-ish figures: 0.412, 41.2, 4120."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def scrub_paths(text: str, paths: dict[str, str]) -> str:
    """``text`` with each machine-specific path replaced by its stand-in.

    The committed report must not be tied to one clone, venv or temporary
    directory: the checkout becomes ``.`` (so ``./target/...``), the
    scratch directory ``<scratch dir>``, and so on.  Longest path first, so
    the scratch directory wins over the temporary directory holding it; a
    path only matches whole (``/tmp`` does not match inside ``/var/tmp``
    or ``/tmpfoo``).
    """
    for path in sorted(paths, key=len, reverse=True):
        path_re = re.compile(r"(?<![\w./-])" + re.escape(path.rstrip("/")) + r"(?![\w.-])")
        text = path_re.sub(lambda _m, new=paths[path]: new, text)
    return text


def _percent(fraction: float | None) -> str:
    return f"{fraction:.0%}" if fraction is not None else "n/a"


def _loads(load: list[float] | None) -> str:
    return ", ".join(f"{x:.2f}" for x in load) if load else "n/a"


def _verdict(row: Row) -> str:
    if row.passed is None:
        return "—"
    return "pass" if row.passed else "**FAIL**"


def _markdown_table(columns: list[tuple[str, bool]], body: list[list[str]]) -> str:
    """A Markdown table, also readable as plain text: ``columns`` are (header, right-aligned)."""
    lines = [[name for name, _ in columns], ["---:" if right else "---" for _, right in columns], *body]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _target(row: Row, unit: str = "") -> str:
    """The row's target as `≤ 1.05` (a ratio) or `≤ 100 ms` (with ``unit``), `—` for none."""
    if row.target is None:
        return "—"
    return f"≤ {_figure(row.target)} {unit}" if unit else f"≤ {row.target:.2f}"


def results_table(rows: list[Row]) -> str:
    """The prov-against-direct rows as a Markdown table (also readable as plain text)."""
    columns = [("Benchmark", False), ("Metric", False), ("direct", True), ("prov", True),
               ("prov/direct", True), ("target", True), ("result", False)]
    body = [
        [row.benchmark, f"{row.metric} ({row.unit}, n={row.samples})", _figure(row.direct), _figure(row.prov),
         f"{row.ratio:.3f}", _target(row), _verdict(row)]
        for row in rows
        if not row.prov_only
    ]
    return _markdown_table(columns, body)


def prov_table(rows: list[Row]) -> str:
    """The prov-only rows (store size, provctl), which have no direct side to compare with.

    Their target, where they have one, is an absolute figure in the row's unit.
    """
    columns = [("Benchmark", False), ("Metric", False), ("prov", True), ("n", True), ("target", True),
               ("result", False)]
    body = [
        [row.benchmark, f"{row.metric} ({row.unit})", _figure(row.prov), f"{row.samples:,}",
         _target(row, row.unit), _verdict(row)]
        for row in rows
        if row.prov_only
    ]
    return _markdown_table(columns, body)


def others_table(rows: list[Row]) -> str:
    """Rows that also carry figures of other kernels (ipyflow), side by side with direct and prov."""
    names = list(dict.fromkeys(name for row in rows for name in row.others))
    columns = [("Benchmark", False), ("Metric", False), ("direct", True), ("prov", True)]
    columns += [(name, True) for name in names] + [(f"{name}/direct", True) for name in names]
    body = []
    for row in rows:
        if not row.others or row.direct is None:
            continue
        values, ratios = [], []
        for name in names:
            value = row.others.get(name)
            if value is None or math.isnan(value):
                values.append("not measured")
                ratios.append("—")
            else:
                bound = "≥ " if name in row.others_at_least else ""
                values.append(bound + _figure(value))
                ratios.append(f"{bound}{value / row.direct:.1f}" if row.direct else "—")
        body.append([row.benchmark, f"{row.metric} ({row.unit})", _figure(row.direct), _figure(row.prov),
                     *values, *ratios])
    return _markdown_table(columns, body)


# Why a target is not met yet, one `## <benchmark>` section per benchmark (hand-written: the
# measured reasons, with the commands that measured them); shown only while a row of that
# benchmark fails, so a fixed target's explanation leaves the report by itself.
OPEN_TARGETS = Path(__file__).with_name("open_targets.md")


def open_target_reasons(path: Path) -> dict[str, str]:
    """{benchmark: its section's text} from ``path`` (none when the file is missing)."""
    if not path.exists():
        return {}
    reasons: dict[str, str] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            name = line[3:].strip()
            reasons[name] = ""
        elif name is not None:
            reasons[name] += line + "\n"
    return {name: text.strip() for name, text in reasons.items()}


def open_targets_section(rows: list[Row], path: Path) -> list[str]:
    """The section on targets not met: each failing benchmark's figure and, from ``path``, what
    costs the rest and why; a failing benchmark with no explanation says so."""
    failing = list(dict.fromkeys(row.benchmark for row in rows if row.passed is False))
    if not failing:
        return []
    reasons = open_target_reasons(path)
    parts = ["## Targets not met: what costs the rest", ""]
    for name in failing:
        figures = "; ".join(
            f"{row.metric} {row.ratio:.3f} (target ≤ {row.target:.2f})" if not row.prov_only
            else f"{row.metric} {_figure(row.prov)} {row.unit} (target ≤ {_figure(row.target)} {row.unit})"
            for row in rows
            if row.benchmark == name and row.passed is False
        )
        parts += [f"### {name}", "", f"Reached: {figures}.", ""]
        parts += [reasons.get(name, "No explanation written yet (bench/open_targets.md)."), ""]
    return parts


def render_markdown(report: dict[str, Any]) -> str:
    """BENCHMARKS.md: results first, then how and where they were obtained."""
    facts = report["machine"]
    kernels = report["kernels"]
    rows: list[Row] = report["rows"]
    # dict: the p50 and p95 rows of one benchmark share their note; list it once.
    notes = list(dict.fromkeys(f"- {row.benchmark}: {row.note}" for row in rows if row.note))
    warnings = [f"- {warning}" for warning in report["warnings"]]
    load = facts["load_average_at_start"]
    parts = [
        "# Benchmarks",
        "",
        "prov-kernel against plain ipykernel, measured in one run with both kernels",
        "driven by jupyter_client.  *direct* is the venv's `python3` kernelspec",
        "(`python -m ipykernel_launcher`); *prov* is `python-prov` (prov-kernel",
        "relaying to the same ipykernel).  Lower ratios are better.",
        "",
        f"Generated {report['generated_at']} by `{report['command']}`"
        f" in {report['duration_s']:.0f} s (git {facts['git_commit']}).",
        "Do not edit the figures by hand: rerun the command.",
        "",
        "## Results",
        "",
    ]
    if not all(row.prov_only for row in rows):
        parts += [results_table(rows), ""]
    if any(row.others for row in rows):
        parts += [
            "The same work on other kernels in the same run, for comparison (no target):",
            "",
            others_table(rows),
            "",
        ]
    if any(row.prov_only for row in rows):
        parts += [
            "Figures of prov alone (plain ipykernel has no store; n is executions",
            "for the store rows, timed runs for provctl and pyflow's runs for the",
            "analysis; targets here are absolute):",
            "",
            prov_table(rows),
            "",
        ]
    skipped = report.get("optional_skipped") or {}
    if skipped:
        parts += [
            "Not in this run: the optional benchmarks (minutes long; `bash scripts/bench.sh --team`",
            "runs them with the others, `--only NAME` alone):",
            "",
            *[f"- {name}: {description}" for name, description in skipped.items()],
            "",
        ]
    if notes:
        parts += ["Notes:", "", *notes, ""]
    parts += open_targets_section(rows, report.get("open_targets", OPEN_TARGETS))
    errors = [f"- {name}: {message}" for name, message in report["errors"].items()]
    if errors:
        parts += ["## Failed benchmarks", "", *errors, ""]
    if warnings:
        parts += ["## Warnings seen during the run", "", *warnings, ""]
    parts += [
        "## Machine",
        "",
        f"- CPU: {facts['cpu_model']}, {facts['cores']} cores "
        f"({facts['usable_cores']} usable by the run)",
        f"- OS: {facts['os']}",
        f"- Other work: {_percent(facts.get('cpu_busy_before_run'))} of the CPUs busy in the second"
        f" before the run; load average (1, 5, 15 min) at start {_loads(load)},"
        f" at end {_loads(facts.get('load_average_at_end'))}",
        f"- Python {facts['python']}, ipykernel {facts['ipykernel']}, "
        f"jupyter_client {facts['jupyter_client']}, pyzmq {facts['pyzmq']} (libzmq {facts['libzmq']})",
        "",
        "## Kernels",
        "",
    ]
    for label, spec in kernels.items():
        parts.append(f"- {label}: `{spec['name']}` from `{spec['resource_dir']}`: `{' '.join(spec['argv'])}`")
    parts += [
        "",
        "## Method",
        "",
        "- Both kernels of the latency and stream benchmarks are alive at the same",
        "  time and are measured alternately in blocks (A B, B A, ...), so drift",
        "  of the machine lands on both; each side is warmed up first.",
        "- execute `pass`: clock runs from sending execute_request until both the",
        "  execute_reply and the iopub `idle` status for that request were received.",
        "  Recording on: prov-kernel records every execution into its store and",
        "  cannot be told not to, so every prov figure here includes recording;",
        "  the store this run wrote is listed under *Figures of prov alone*.",
        "- kernel_info: clock runs from sending the request to receiving the reply.",
        "- stream: `for i in range(100000): print(i)`, timed as above; stdout is",
        "  checked to be exactly the 100,000 expected lines on every run.",
        "- kernel CPU: user + system CPU time of the kernel's processes (prov:",
        "  prov-kernel plus its ipykernel child) from /proc over the timed part,",
        "  per request or per stream run; resolution 10 ms over the whole benchmark.",
        "  ipykernel's share still moves with other load (cache contention), but",
        "  prov-kernel's own share (in the notes) is the steadiest figure here: it",
        "  is the relay's cost when the wall-clock ratios are too noisy to judge.",
        "- start-up: `KernelManager.start_kernel` until `client.wait_for_ready`",
        "  returns, with no other kernel running.",
        "- store size: bytes of the main database file plus its WAL after",
        "  `PRAGMA wal_checkpoint(TRUNCATE)`, once no kernel writes to it;",
        "  executions as counted by `provctl trials --json --all`.  Each example notebook",
        "  (`examples/*.ipynb`) is run with nbclient through `python-prov` into a",
        "  fresh store, then a second time into the same store: code and payloads",
        "  already stored are kept once, so the second run adds less.  An empty",
        "  store (schema and one trial, no executions) is the fixed part.  SQLite",
        "  grows in whole pages (4 KiB), so with a handful of executions the",
        "  per-execution figures move in steps of 4096 / executions.",
        "- provctl show: a store with one trial of 10,000 synthetic executions is",
        "  written through the provstore API (`provstore/examples/synth_store.rs`:",
        "  250 cells re-run in turn, each printing a line, every 5th returning a",
        "  table, every 50th showing a 20 KB image, every 100th failing), since a",
        "  real kernel needs over a minute for 10,000 executes.  Then",
        "  `provctl --db STORE show 1` and `... show 1 --json` are timed as whole",
        "  processes with stdout to /dev/null, alternately, after one untimed run",
        "  of each.",
        "- pyflow analysis: `cargo bench -p pyflow`'s first figure (its bench",
        "  binary, found with `cargo bench -p pyflow --no-run`, stopped after that",
        "  line): `analyze_cell` on a 2,000-statement cell, 100 runs in process.",
        "- 2,000-statement cell: 2,000 one-line statements (`x1 = x0 + 1` chains,",
        "  a call, a list or a dict subscript every few lines) executed on fresh",
        "  `python3` and `python-prov` kernels, alive together, alternately (A B,",
        "  B A, ...) after two untimed runs each, timed as execute `pass`; the",
        "  store prov wrote for it alone is measured too.  Then, when it installs",
        "  from PyPI, the same cell on a fresh ipyflow kernel: once (re-runs on",
        "  ipyflow get much slower), compared with the first runs of the other",
        "  two, and a second time within a limit, for the note.  ipyflow goes",
        "  into its own venv, `bench/out/ipyflow/venv` (never `.venv`), once; its",
        "  kernelspec is written under `bench/out/ipyflow/kernels` with that",
        "  venv's interpreter.  If it cannot be installed, does not start or",
        "  fails the cell, the table says *not measured* and the note says why.",
        "- provctl deps: a store with one trial of 100,000 executions written",
        "  through the kernel's writer path by `provstore/examples/synth_deps.rs`",
        "  (a 300-cell notebook session with dataflow facts), cached under",
        "  `bench/out/deps-store/` keyed by the hash of that file, `provstore/src`",
        "  and `pyflow/src` (so a change to the store's layout rebuilds it, ~1 min).",
        "  `provctl --db STORE deps VAR --json` is timed as a whole process, stdout",
        "  to /dev/null, for each listed variable in turn after one untimed run",
        "  each; the in-process figures are synth_deps' own, on the same store.",
        "- provctl at 1,000,000 executions (`provctl_million`): a store of 1,000",
        "  trials holding 1,000,000 executions, built by",
        "  `provstore/examples/synth_million.rs` and cached under",
        "  `bench/out/million-store/` (keyed like the deps store; ~4 min to build,",
        "  ~1.3 GB).  Eight working sessions of synth_deps' notebook (920 to 1,060",
        "  executions, each its own seed, `v150` tagged) are recorded through",
        "  provstore's `Writer`, as a kernel records; 989 more trials are copies of",
        "  them made in SQL, one statement per table (new ids, UUIDs, message ids and",
        "  start times; integer values shifted by the copy's number, so a variable",
        "  differs from trial to trial), checked against their originals (same",
        "  `deps` answers and code, other values); then synth_diff's two trials of",
        "  5,000 executions and a last session (3,120 executions: the latest trial)",
        "  are recorded through the writer.  `provctl deps VAR --json` (the latest",
        "  trial), `diff A B --json` (the 5,000-execution pair), `values VAR` and",
        "  `trials` (its first page: the latest 50) are timed as whole processes,",
        "  stdout to /dev/null, in turn, after one untimed run each; `provctl",
        "  --version` alone is timed with them (process start-up, no store).",
        "- team store on PostgreSQL (`team`, optional: `bash scripts/bench.sh --team`):",
        "  a throwaway server (`scripts/pg.sh`, fsync off) under `bench/out/team/`, its",
        "  store built once per hash of `bench/team.py`, `team/src`, `provstore/src`,",
        "  `provctl/src` and synth_diff: synth_diff's two trials of 5,000 executions",
        "  pushed by `provctl push`, then 100 users x 1,000 trials x 100 executions",
        "  made in SQL (`INSERT … SELECT generate_series`; users, hosts, notebooks,",
        "  tags and start times spread over 180 days; one captured value per",
        "  execution and a tagged `acc` at every 50th).  The clones have no bundle:",
        "  the list and `values` never read one.  `provctl trials --remote team`,",
        "  `values acc --remote team` and `diff team:A team:B --json` (the pushed",
        "  pair) are timed as whole processes in turn, after one untimed run each;",
        "  `provctl push team 1` of a 5,000-execution trial after deleting its",
        "  remote row (untimed) each time.  The plans PostgreSQL ran for them",
        "  (auto_explain) are saved to `bench/out/team-explain.txt`.",
        "- The client's garbage collector is paused within a block and run between",
        "  blocks.  Kernels run in a scratch directory outside the repository, with",
        "  `PROV_DB` pointing into it, so prov records into a fresh store.",
        "- Noise: on the 2-core development machine, busy with other builds, plain",
        "  ipykernel against itself (A/A) gave p50 ratios from 0.71 to 1.14 and p95",
        "  ratios from 0.88 to 1.19, so on a busy machine a single run cannot judge",
        "  5 % targets; rerun on an idle machine, or several times.  A/A run:",
        "  `.venv/bin/python bench/bench.py --kernels python3,python3",
        "  --only execute,kernel_info,stream,startup`.",
        "- Raw figures: `bench/out/latest.json` (not committed).  Quick smoke run:",
        "  `bash scripts/bench.sh --quick`; one benchmark: `--only NAME`",
        "  (neither rewrites this file).",
        "",
        "## Adding a benchmark",
        "",
        "Write a function decorated with `@benchmark(name, full={...}, quick={...})`",
        "in the file under `bench/` of its concern (`bench/benchmarks.py` imports them",
        "in order), or in a module of its own that `bench/bench.py` imports, as",
        "`bench/million.py`; it gets a `Context` and its settings and returns `Row`s.",
        "It then appears here and in the JSON.",
        "",
    ]
    paths = report.get("local_paths") or {report.get("repo_root", ""): "."}
    return scrub_paths("\n".join(parts), {p: new for p, new in paths.items() if p})
