#!/usr/bin/env bash
# Set everything up on a fresh machine (Rust + Python 3) and run the demo:
#   1. cargo build --release            -> target/release/prov-kernel
#   2. .venv with tests/requirements.txt (skipped when already satisfied)
#   3. the "Python (prov)" kernelspec (python-prov) installed into .venv
#   4. the example notebooks executed twice through Python (prov); the
#      executed copies are written to target/notebooks/, and every run is one
#      trial in the provenance store ./.prov/prov.db. The second run of the
#      churn experiment uses another regularisation strength (C)
#   5. provctl lists the trials, diffs the two runs of the experiment (the
#      changed C and accuracy show up) and plots the accuracy across trials
#      to target/notebooks/accuracy.svg
# Usage: bash scripts/setup.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NOTEBOOK_OUT="$ROOT/target/notebooks"
EXPERIMENT="churn_regularisation.ipynb"
PLOT="$NOTEBOOK_OUT/accuracy.svg"

# run_examples RUN [--param NAME=VALUE...]: executes every example once more; each notebook
# run is a trial. Parameters apply to the notebooks with a cell tagged "parameters".
run_examples() {
    local run="$1"
    shift
    step "executing examples/*.ipynb through $KERNEL_NAME (run $run${1:+, $*})"
    local notebooks=("$ROOT"/examples/*.ipynb)
    [ -e "${notebooks[0]}" ] || die "no notebooks found in examples/."
    # The kernel runs in the repository root, so its store is ./.prov/prov.db
    # unless PROV_DB is set.
    (cd "$ROOT" && "$VENV_PY" scripts/run_notebooks.py --kernel "$KERNEL_NAME" \
        --output-dir "$NOTEBOOK_OUT" --suffix="-run$run" --cwd "$ROOT" --name-trials "$@" \
        "${notebooks[@]}") \
        || die "executing the example notebooks through $KERNEL_NAME failed."
}

show_provenance() {
    step "provctl trials (the store: ${PROV_DB:-.prov/prov.db})"
    (cd "$ROOT" && "$PROVCTL" trials) || die "provctl could not read the store."
    step "provctl show (the latest trial)"
    local latest
    latest=$(cd "$ROOT" && "$PROVCTL" trials --json | "$VENV_PY" -c \
        'import json, sys; print(json.load(sys.stdin)[-1]["id"])') \
        || die "provctl trials --json gave no trial."
    (cd "$ROOT" && "$PROVCTL" show "$latest") || die "provctl show $latest failed."
}

# compare_experiment: what changed between the last two runs of the experiment, and how its
# accuracy moved across all of them.
compare_experiment() {
    local runs
    runs=$(cd "$ROOT" && "$PROVCTL" trials --json | "$VENV_PY" -c '
import json, sys
ids = [t["id"] for t in json.load(sys.stdin) if (t["notebook"] or "").endswith(sys.argv[1])]
print(*ids[-2:])' "$EXPERIMENT") || die "provctl trials --json failed."
    set -- $runs
    [ "$#" -eq 2 ] || die "expected two runs of $EXPERIMENT in the store, found: ${runs:-none}."
    step "provctl diff $1 $2 (the two runs of $EXPERIMENT)"
    (cd "$ROOT" && "$PROVCTL" diff "$1" "$2") || die "provctl diff $1 $2 failed."
    step "provctl plot accuracy -o ${PLOT#"$ROOT"/}"
    (cd "$ROOT" && "$PROVCTL" plot accuracy -o "$PLOT") || die "provctl plot accuracy failed."
}

main() {
    check_tools
    build_kernel
    ensure_venv
    install_kernelspec
    run_examples 1
    run_examples 2 --param C=0.01
    show_provenance
    compare_experiment
    printf '\nDone. Executed notebooks are in %s\n' "${NOTEBOOK_OUT#"$ROOT"/}"
    printf 'The accuracy across trials is plotted in %s\n' "${PLOT#"$ROOT"/}"
    printf 'Read the record later with: target/release/provctl trials | show ID | diff A B | values VAR\n' 
    printf 'Open JupyterLab with: .venv/bin/jupyter lab   (pick the "Python (prov)" kernel)\n'
}

main "$@"
