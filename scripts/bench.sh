#!/usr/bin/env bash
# Benchmark prov-kernel against plain ipykernel and rewrite BENCHMARKS.md.
#
#   bash scripts/bench.sh            # full run (~1 min), rewrites BENCHMARKS.md
#   bash scripts/bench.sh --quick    # smoke run; BENCHMARKS.md left alone
#   bash scripts/bench.sh --only execute,stream
#
# Arguments are passed to bench/bench.py.  Raw results: bench/out/latest.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root="$(pwd)"
venv_python="$repo_root/.venv/bin/python"

if [[ ! -x "$venv_python" ]]; then
    echo "bench: no virtualenv at .venv; run 'bash scripts/setup.sh' first" >&2
    exit 1
fi

echo "bench: building release binary" >&2
cargo build --release

# The kernelspec must live in the venv the benchmark's jupyter_client reads;
# reinstalling each time keeps its argv pointing at the binary just built.
echo "bench: installing the python-prov kernelspec into .venv" >&2
"$repo_root/target/release/prov-kernel" install --sys-prefix --python "$venv_python"

exec "$venv_python" "$repo_root/bench/bench.py" \
    --markdown "$repo_root/BENCHMARKS.md" \
    --command "bash scripts/bench.sh${*:+ $*}" \
    "$@"
