#!/usr/bin/env bash
# Run every test: build, venv and kernelspec as in setup.sh (no demo), then
# the module-circle check, `cargo test --workspace`, then the Python suite in tests/python with pytest,
# then the real-browser suite in tests/e2e (JupyterLab in Chromium; installs
# chromium with apt-get when missing).
# Usage: bash scripts/test.sh [extra pytest arguments for tests/python]
# Environment:
#   PROV_TEST_KERNEL  kernelspec under test (default python-prov; python3 runs
#                     the suite against plain ipykernel, skipping prov tests)
#   PROV_TEST_TIMEOUT per-test timeout in seconds for pytest (default 300)
#   PROV_E2E          0 skips the real-browser suite (default 1)
#   PROV_E2E_TIMEOUT  seconds the whole real-browser suite may take (default 600)
#   PROV_SKIP_WHEEL   1 skips tests/python/test_wheel.py (builds the pip wheel and
#                     installs it with jupyterlab into a fresh venv: minutes)
#   PROV_TEST_PG      a PostgreSQL server for the team-store tests (a URL without password;
#                     PGPASSFILE gives it). Unset: a throwaway server is started in
#                     target/pg (scripts/pg.sh; apt-get installs postgresql when missing) and
#                     stopped at the end.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export PROV_TEST_KERNEL="${PROV_TEST_KERNEL:-$KERNEL_NAME}"

check_module_circles() {
    step "module circles (scripts/module_circles.py)"
    "$VENV_PY" "$ROOT/scripts/module_circles.py" || die "a crate's modules import each other in a circle."
}

run_cargo_tests() {
    step "cargo test --workspace"
    (cd "$ROOT" && cargo test --workspace) || die "cargo test failed."
}

run_pytest() {
    step "pytest tests/python (kernel under test: $PROV_TEST_KERNEL)"
    local rc=0
    (cd "$ROOT" && "$VENV_PY" -m pytest tests/python \
        --timeout="${PROV_TEST_TIMEOUT:-300}" -ra "$@") || rc=$?
    case "$rc" in
        0) ;;
        5) die "pytest collected no tests (exit 5)." ;;
        *) die "pytest failed (exit $rc)." ;;
    esac
}

run_e2e() {
    if [ "${PROV_E2E:-1}" = 0 ]; then
        step "real-browser suite skipped (PROV_E2E=0)"
        return
    fi
    ensure_chromium
    ensure_e2e_deps
    step "pytest tests/e2e (JupyterLab in Chromium; screenshots in target/e2e/)"
    local rc=0
    (cd "$ROOT" && timeout --kill-after=30 "${PROV_E2E_TIMEOUT:-600}" \
        "$VENV_PY" -m pytest tests/e2e --timeout=300 -ra) || rc=$?
    case "$rc" in
        0) ;;
        124) die "the real-browser suite took longer than ${PROV_E2E_TIMEOUT:-600}s." ;;
        *) die "pytest tests/e2e failed (exit $rc); screenshots in target/e2e/." ;;
    esac
}

# A real PostgreSQL for the team store's tests (cargo and pytest both read $PROV_TEST_PG).
start_postgresql() {
    if [ -n "${PROV_TEST_PG:-}" ]; then
        step "PostgreSQL for the team-store tests: \$PROV_TEST_PG"
        return
    fi
    step "PostgreSQL for the team-store tests (scripts/pg.sh, in target/pg)"
    local env
    env="$(bash "$ROOT/scripts/pg.sh" env "$ROOT/target/pg")" || die "could not start PostgreSQL (scripts/pg.sh)."
    eval "$env"
    trap 'bash "$ROOT/scripts/pg.sh" stop "$ROOT/target/pg"' EXIT
}

main() {
    check_tools
    build_kernel
    ensure_venv
    install_kernelspec
    check_module_circles
    start_postgresql
    run_cargo_tests
    run_pytest "$@"
    run_e2e
    printf '\nAll tests passed.\n'
}

main "$@"
