#!/usr/bin/env bash
# Set everything up on a fresh machine (Rust + Python 3) and run the demo:
#   1. cargo build --release            -> target/release/prov-kernel
#   2. .venv with tests/requirements.txt (skipped when already satisfied)
#   3. the "Python (prov)" kernelspec (python-prov) installed into .venv
#   4. the example notebooks executed twice through Python (prov); the
#      executed copies are written to target/notebooks/, and every run is one
#      trial in the provenance store ./.prov/prov.db
#   5. provctl lists the trials recorded and shows the latest one, then draws a
#      value of the iris notebook across the trials (target/notebooks/confident.svg)
# Usage: bash scripts/setup.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NOTEBOOK_OUT="$ROOT/target/notebooks"

# run_examples RUN: executes every example once more; each notebook run is a trial.
run_examples() {
    local run="$1"
    step "executing examples/*.ipynb through $KERNEL_NAME (run $run)"
    local notebooks=("$ROOT"/examples/*.ipynb)
    [ -e "${notebooks[0]}" ] || die "no notebooks found in examples/."
    # The kernel runs in the repository root, so its store is ./.prov/prov.db
    # unless PROV_DB is set.
    (cd "$ROOT" && "$VENV_PY" scripts/run_notebooks.py --kernel "$KERNEL_NAME" \
        --output-dir "$NOTEBOOK_OUT" --suffix="-run$run" --cwd "$ROOT" "${notebooks[@]}") \
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
    step "provctl plot confident (a value of iris_classifier.ipynb across the trials)"
    (cd "$ROOT" && "$PROVCTL" plot confident -o "$NOTEBOOK_OUT/confident.svg") \
        || die "provctl plot confident failed."
}

main() {
    check_tools
    build_kernel
    ensure_venv
    install_kernelspec
    run_examples 1
    run_examples 2
    show_provenance
    printf '\nDone. Executed notebooks are in %s\n' "${NOTEBOOK_OUT#"$ROOT"/}"
    printf 'Read the record later with: target/release/provctl trials | show ID | log\n' 
    printf 'Open JupyterLab with: .venv/bin/jupyter lab   (pick the "Python (prov)" kernel)\n'
}

main "$@"
