#!/usr/bin/env bash
# Benchmark prov-kernel against plain ipykernel and rewrite BENCHMARKS.md.
#   1. cargo build --release, .venv and the python-prov kernelspec, exactly
#      as scripts/setup.sh and scripts/test.sh do (shared steps in lib.sh),
#      plus provstore's synth_store, synth_deps, synth_diff and synth_million examples (the
#      provctl_show, provctl_deps, provctl_diff and provctl_million benchmarks' stores) and
#      pyflow's bench binary (analysis)
#   2. bench/bench.py with the venv's Python
# Usage:
#   bash scripts/bench.sh                       # full run (~3 min), rewrites BENCHMARKS.md
#                                               # (first run: + ~1 min for the 100,000-execution
#                                               # store, ~4 min for the 1,000,000-execution one,
#                                               # + pip install ipyflow into bench/out)
#   bash scripts/bench.sh --quick               # smoke run; BENCHMARKS.md left alone
#   bash scripts/bench.sh --only execute,stream # some benchmarks; BENCHMARKS.md left alone
#   bash scripts/bench.sh --team                # full run plus the optional team-store benchmark
#                                               # (PostgreSQL through scripts/pg.sh; first run:
#                                               # + minutes to build 10,000,000 executions, ~4 GB
#                                               # under bench/out/team); rewrites BENCHMARKS.md
#   bash scripts/bench.sh --only team           # the team-store benchmark alone
# Arguments go to bench/bench.py (--help lists them). Raw results, every run:
# bench/out/latest.json and bench/out/latest.md; kernel output: bench/out/kernels.log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
    check_tools
    build_kernel
    step "cargo build --release -p provstore --example synth_store --example synth_deps --example synth_diff --example synth_million"
    (cd "$ROOT" && cargo build --release -p provstore --example synth_store --example synth_deps --example synth_diff --example synth_million) \
        || die "building provstore's synth_store, synth_deps, synth_diff and synth_million examples failed."
    step "cargo bench -p pyflow --no-run"
    (cd "$ROOT" && cargo bench -p pyflow --bench bench --no-run) \
        || die "building pyflow's benchmark failed."
    ensure_venv
    install_kernelspec
    step "bench/bench.py $*"
    cd "$ROOT"
    exec "$VENV_PY" bench/bench.py --markdown BENCHMARKS.md \
        --command "bash scripts/bench.sh${*:+ $*}" "$@"
}

main "$@"
