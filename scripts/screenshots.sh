#!/usr/bin/env bash
# Regenerate the README's screenshots (docs/*.png): runs the real-browser suite's magic tests
# (tests/e2e/test_magics.py) with PROV_E2E_DOCS=1, which saves the cells of %backwards_deps,
# %trial_diff and %var_evolution as JupyterLab draws them. A screenshot is written only when
# its cell passed its checks. Usage: bash scripts/screenshots.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_tools
build_kernel
ensure_venv
install_kernelspec
ensure_chromium
ensure_e2e_deps
step "pytest tests/e2e/test_magics.py with PROV_E2E_DOCS=1"
(cd "$ROOT" && PROV_E2E_DOCS=1 timeout 600 "$VENV_PY" -m pytest tests/e2e/test_magics.py \
    --timeout=300 -ra) || die "the magic tests failed; docs/ may be partly updated (see git diff)."
printf '\nScreenshots written:\n'
ls -l "$ROOT"/docs/*.png
