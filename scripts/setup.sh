#!/usr/bin/env bash
# Set everything up on a fresh machine (Rust + Python 3) and run the demo:
#   1. cargo build --release            -> target/release/prov-kernel
#   2. .venv with tests/requirements.txt (skipped when already satisfied)
#   3. the "Python (prov)" kernelspec (python-prov) installed into .venv
#   4. the example notebooks executed through Python (prov); the executed
#      copies are written to target/notebooks/
# Usage: bash scripts/setup.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NOTEBOOK_OUT="$ROOT/target/notebooks"

run_examples() {
    step "executing examples/*.ipynb through $KERNEL_NAME"
    local notebooks=("$ROOT"/examples/*.ipynb)
    [ -e "${notebooks[0]}" ] || die "no notebooks found in examples/."
    # The kernel runs in the repository root, so its store is ./.prov/prov.db
    # unless PROV_DB is set.
    (cd "$ROOT" && "$VENV_PY" scripts/run_notebooks.py --kernel "$KERNEL_NAME" \
        --output-dir "$NOTEBOOK_OUT" --cwd "$ROOT" "${notebooks[@]}") \
        || die "executing the example notebooks through $KERNEL_NAME failed."
}

main() {
    check_tools
    build_kernel
    ensure_venv
    install_kernelspec
    run_examples
    printf '\nDone. Executed notebooks are in %s\n' "${NOTEBOOK_OUT#"$ROOT"/}"
    printf 'Open JupyterLab with: .venv/bin/jupyter lab   (pick the "Python (prov)" kernel)\n'
}

main "$@"
