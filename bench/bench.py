"""Benchmark prov-kernel against plain ipykernel; see BENCHMARKS.md.

Normally run through ``bash scripts/bench.sh``, which builds prov-kernel,
installs its kernelspec into the venv and then calls this script with the
venv's Python (kernelspecs are looked up relative to that interpreter).

    python bench/bench.py [--quick] [--only NAME ...] [--markdown BENCHMARKS.md]

Writes bench/out/latest.json and bench/out/latest.md every run; the
``--markdown`` file is rewritten only by a full run of every benchmark
against the real kernels, so a smoke run never replaces published figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Look kernelspecs up in this venv before ~/.local/share/jupyter (as
# scripts/lib.sh does), so a user-level spec cannot shadow the one under test.
os.environ.setdefault("JUPYTER_PREFER_ENV_PATH", "1")

import benchmarks  # noqa: E402 - importing registers the benchmarks
import million  # noqa: E402,F401 - the 1,000,000-execution store's, after the others
import files  # noqa: E402,F401 - data files: a cell reading a 100 MB CSV
import export_prov  # noqa: E402,F401 - W3C PROV export of a 1,000-execution trial
import team  # noqa: E402,F401 - the team store on PostgreSQL, optional (--team)
from harness import (  # noqa: E402
    REGISTRY,
    SIDE_LABELS,
    BenchError,
    Context,
    Row,
    resolve_kernelspec,
    started_pair,
)
from report import machine_facts, prov_table, render_markdown, results_table, write_json  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "bench" / "out"
DEFAULT_KERNELS = "python3,python-prov"
# Above this share of CPU used by other work, the report carries a warning.
BUSY_WARNING_FRACTION = 0.25


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command line; ``--kernels`` is hidden, it exists for harness development."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few iterations")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this benchmark (repeatable or comma-separated): {', '.join(REGISTRY)}",
    )
    parser.add_argument(
        "--team",
        action="store_true",
        help="also run the optional benchmarks: the team store on PostgreSQL (minutes)",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--markdown", type=Path, help="report file to rewrite after a full run (e.g. BENCHMARKS.md)"
    )
    parser.add_argument("--json", type=Path, default=OUT_DIR / "latest.json", help="JSON output path")
    parser.add_argument("--command", help="command line to record in the report (default: this one)")
    # DIRECT,PROV kernelspec names: e.g. python3,python3 to develop the harness
    # before prov-kernel exists (the ratios should then sit near 1.0).
    parser.add_argument("--kernels", default=DEFAULT_KERNELS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def select_benchmarks(only: list[str] | None, optional: bool = False) -> list[str]:
    """Registry names to run, in registry order; unknown names are an error.

    Without ``only``: every benchmark, the optional ones only if ``optional``.
    """
    if not only:
        return [name for name, bench in REGISTRY.items() if optional or not bench.optional]
    wanted = {name.strip() for item in only for name in item.split(",") if name.strip()}
    unknown = sorted(wanted - REGISTRY.keys())
    if unknown:
        raise BenchError(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return [name for name in REGISTRY if name in wanted]


def run_benchmark(name: str, ctx: Context, quick: bool, rows: list[Row]) -> None:
    """Run one registered benchmark, appending its rows and echoing them."""
    bench = REGISTRY[name]
    settings = bench.quick if quick else bench.full
    print(f"[bench] {name}: {bench.description} {settings}", flush=True)
    started = time.monotonic()
    new_rows = bench.func(ctx, **settings)
    rows.extend(new_rows)
    for row in new_rows:
        if row.direct is None:
            print(f"[bench]   {row.benchmark} {row.metric}: prov {row.prov:,.3f} {row.unit}", flush=True)
            continue
        print(
            f"[bench]   {row.benchmark} {row.metric}: direct {row.direct:.3f} {row.unit}, "
            f"prov {row.prov:.3f} {row.unit}, ratio {row.ratio:.3f}",
            flush=True,
        )
    print(f"[bench]   ({time.monotonic() - started:.1f} s)", flush=True)


def run_all(names: list[str], ctx: Context, quick: bool, rows: list[Row]) -> dict[str, str]:
    """Shared-pair benchmarks first (both kernels alive), then the rest alone.

    A benchmark that fails is recorded and the others still run: one flaky
    kernel start at the end should not throw away a minute of figures.
    Returns {benchmark name: error message}.
    """
    errors: dict[str, str] = {}

    def attempt(name: str) -> None:
        try:
            run_benchmark(name, ctx, quick, rows)
        except BenchError as exc:
            errors[name] = str(exc)
            print(f"[bench]   FAILED: {exc}", file=sys.stderr, flush=True)

    paired = [name for name in names if REGISTRY[name].needs_pair]
    alone = [name for name in names if not REGISTRY[name].needs_pair]
    if paired:
        try:
            with started_pair(ctx) as pair:
                ctx.pair = pair
                try:
                    for name in paired:
                        attempt(name)
                finally:
                    ctx.pair = None
        except BenchError as exc:  # the pair itself did not start
            errors.update({name: str(exc) for name in paired if name not in errors})
            print(f"[bench] FAILED: {exc}", file=sys.stderr, flush=True)
    for name in alone:
        attempt(name)
    return errors


def preflight_warnings(kernels: dict[str, dict[str, Any]], facts: dict[str, Any]) -> list[str]:
    """Conditions that make the figures misleading without making them wrong.

    A busy machine (two cores: one other build is enough) turns 5 %
    targets into coin flips, and a kernelspec found outside this venv
    means something other than the freshly built binary is being measured.
    """
    warnings = []
    busy = facts.get("cpu_busy_before_run")
    if busy is not None and busy > BUSY_WARNING_FRACTION:
        warnings.append(
            f"machine busy: {busy:.0%} of the CPUs were in use by other work just before "
            "the run, so ratios are noisier than usual"
        )
    prefix = str(Path(sys.prefix).resolve())
    for label, spec in kernels.items():
        if not str(Path(spec["resource_dir"]).resolve()).startswith(prefix + "/"):
            warnings.append(
                f"{label} kernelspec {spec['name']!r} resolved to {spec['resource_dir']}, outside "
                f"this Python's prefix {prefix}; a user-level or JUPYTER_PATH spec shadows the venv's"
            )
    return warnings


def local_paths() -> dict[str, str]:
    """Paths of this machine that may turn up in messages, and their stand-ins.

    BENCHMARKS.md is committed, so it must not name this clone, the venv
    or temporary directories: report.render_markdown replaces each path
    (longest first) by its stand-in.  The scratch directory is added once
    it exists.
    """
    paths = {str(REPO_ROOT): "."}
    prefix = Path(sys.prefix).resolve()
    if not prefix.is_relative_to(REPO_ROOT):
        paths[str(prefix)] = "<venv>"
    paths[str(Path(tempfile.gettempdir()).resolve())] = "<tmp>"
    if len(Path.home().parts) > 1:
        paths[str(Path.home())] = "~"
    return paths


def raise_keyboard_interrupt(signum: int, _frame: Any) -> None:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so kernel shutdown still runs."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    """Run the selected benchmarks and write the reports; 0 on success."""
    args = parse_args(argv)
    if args.list:
        for name, bench in REGISTRY.items():
            print(f"{name:12} {bench.description}{' (optional)' if bench.optional else ''}")
        return 0
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_keyboard_interrupt)

    names = select_benchmarks(args.only, args.team)
    kernel_list = [name.strip() for name in args.kernels.split(",")]
    if len(kernel_list) != len(SIDE_LABELS) or not all(kernel_list):
        raise BenchError(f"--kernels wants DIRECT,PROV, got {args.kernels!r}")
    kernel_names = dict(zip(SIDE_LABELS, kernel_list))
    kernels = {label: resolve_kernelspec(name) for label, name in kernel_names.items()}
    for label, spec in kernels.items():
        print(f"[bench] {label}: {spec['name']} -> {' '.join(spec['argv'])}  ({spec['resource_dir']})")

    full_run = not args.quick and not args.only and args.kernels == DEFAULT_KERNELS
    report: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "repo_root": str(REPO_ROOT),
        # Machine-specific paths and what the Markdown report shows instead.
        "local_paths": local_paths(),
        "command": args.command or shlex.join([Path(sys.executable).name, *sys.argv]),
        "quick": args.quick,
        "benchmarks": names,
        # Optional benchmarks left out, so the report can say how to run them.
        "optional_skipped": {n: b.description for n, b in REGISTRY.items() if b.optional and n not in names},
        "settings": {n: (REGISTRY[n].quick if args.quick else REGISTRY[n].full) for n in names},
        "machine": machine_facts(REPO_ROOT),
        "kernels": kernels,
        "rows": [],
        "warnings": [],
        "errors": {},
    }
    report["warnings"] = preflight_warnings(kernels, report["machine"])
    for warning in report["warnings"]:
        print(f"[bench] warning: {warning}", file=sys.stderr)
    started = time.monotonic()
    interrupted = False
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    kernel_log_path = OUT_DIR / "kernels.log"
    with tempfile.TemporaryDirectory(prefix="prov-bench-") as workdir, open(
        kernel_log_path, "w", encoding="utf-8"
    ) as kernel_log:
        report["local_paths"][str(Path(workdir).resolve())] = "<scratch dir>"
        ctx = Context(kernel_names=kernel_names, workdir=workdir, kernel_log=kernel_log)
        try:
            report["errors"] = run_all(names, ctx, args.quick, report["rows"])
            try:
                store_row = benchmarks.run_store_row(workdir)
            except BenchError as exc:
                report["errors"]["store of this run"] = str(exc)
            else:
                if store_row is not None:
                    report["rows"].append(store_row)
        except KeyboardInterrupt as exc:
            interrupted = True
            report["errors"]["interrupted"] = f"KeyboardInterrupt: {exc}"
        finally:
            report["warnings"] += ctx.warnings
            report["machine"]["load_average_at_end"] = list(os.getloadavg())
            report["duration_s"] = time.monotonic() - started
            write_json(args.json, report)
            (OUT_DIR / "latest.md").write_text(render_markdown(report), encoding="utf-8")

    for warning in ctx.warnings:
        print(f"[bench] warning: {warning}", file=sys.stderr)
    print()
    if not all(row.prov_only for row in report["rows"]):
        print(results_table(report["rows"]))
    if any(row.prov_only for row in report["rows"]):
        print()
        print(prov_table(report["rows"]))
    print(f"\n[bench] {report['duration_s']:.0f} s; JSON: {args.json}")
    if report["errors"]:
        for name, message in report["errors"].items():
            print(f"[bench] error in {name}: {message}", file=sys.stderr)
        kept = f"; left {args.markdown} alone" if args.markdown else ""
        print(f"[bench] kernel output: {kernel_log_path}{kept}", file=sys.stderr)
        return 130 if interrupted else 1
    if args.markdown:
        if full_run:
            args.markdown.write_text(render_markdown(report), encoding="utf-8")
            print(f"[bench] rewrote {args.markdown}")
        else:
            print(
                f"[bench] partial/quick/dev run: left {args.markdown} alone "
                f"(see {OUT_DIR / 'latest.md'})"
            )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as error:
        print(f"[bench] error: {error}", file=sys.stderr)
        sys.exit(2)
