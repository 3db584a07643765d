# Shared steps for scripts/setup.sh and scripts/test.sh. Source it; do not run it.
#
# Every step is a function so the two scripts (and later ones) can pick the
# steps they need. All paths are relative to the repository root, found from
# this file's location, so the scripts work from any current directory.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VENV_PY="$VENV/bin/python"
REQUIREMENTS="$ROOT/tests/requirements.txt"
KERNEL_BIN="$ROOT/target/release/prov-kernel"
PROVCTL="$ROOT/target/release/provctl"
KERNEL_NAME="python-prov"
PYTHON="${PYTHON:-python3}"

# Prefer the venv's share/jupyter over ~/.local/share/jupyter so a user-level
# kernelspec of the same name cannot shadow the one installed here.
export JUPYTER_PREFER_ENV_PATH=1

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH. $2"
}

# Name the command that failed, so a long log ends with a clear message.
set -E
trap 'printf "\nFAILED (exit %s) at %s:%s: %s\n" "$?" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR

check_tools() {
    need cargo "Install Rust from https://rustup.rs."
    need "$PYTHON" "Install Python 3.10 or newer (with the venv module)."
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || die "$PYTHON is $("$PYTHON" -V 2>&1); Python 3.10 or newer is needed."
}

build_kernel() {
    step "cargo build --release"
    (cd "$ROOT" && cargo build --release) || die "cargo build --release failed."
    [ -x "$KERNEL_BIN" ] || die "cargo build succeeded but $KERNEL_BIN is missing."
    [ -x "$PROVCTL" ] || die "cargo build succeeded but $PROVCTL is missing."
}

# Create .venv if needed and install tests/requirements.txt into it. The pip
# step is skipped when the hash of requirements.txt (plus the interpreter
# version) matches the one stored after the last successful install.
ensure_venv() {
    local stamp="$VENV/.prov-requirements.sha256" want
    if [ ! -x "$VENV_PY" ] || ! "$VENV_PY" -c 'import sys' >/dev/null 2>&1; then
        step "creating $VENV"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV" \
            || die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)."
    fi
    want="$( { cat "$REQUIREMENTS"; "$VENV_PY" -VV; } | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        step "Python requirements already installed (tests/requirements.txt unchanged)"
        return
    fi
    step "pip install -r tests/requirements.txt into .venv"
    "$VENV_PY" -m pip install --disable-pip-version-check --progress-bar off \
        -r "$REQUIREMENTS" || die "pip install failed; see the output above."
    echo "$want" > "$stamp"
}

install_kernelspec() {
    step "installing the $KERNEL_NAME kernelspec into .venv"
    "$KERNEL_BIN" install --sys-prefix --python "$VENV_PY" \
        || die "'prov-kernel install --sys-prefix' failed."
    "$VENV_PY" -c 'import sys
from jupyter_client.kernelspec import KernelSpecManager
spec = KernelSpecManager().get_kernel_spec(sys.argv[1])
print(f"  {sys.argv[1]}: {spec.display_name!r} -> {spec.resource_dir}")' "$KERNEL_NAME" \
        || die "kernelspec $KERNEL_NAME is not visible to the venv's jupyter after install."
}

# The browser of the real-browser suite: Debian's chromium package, installed with apt-get
# when missing (CI runs as root; elsewhere sudo is used when there is one).
CHROMIUM="${PROV_E2E_CHROMIUM:-/usr/bin/chromium}"
E2E_REQUIREMENTS="$ROOT/tests/e2e/requirements.txt"

ensure_chromium() {
    if [ -x "$CHROMIUM" ]; then
        step "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
        return
    fi
    step "apt-get install -y chromium (for the real-browser tests)"
    need apt-get "Install Chromium with your package manager, or set PROV_E2E_CHROMIUM."
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        need sudo "Run as root, or install chromium yourself (apt-get install chromium)."
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed."
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium \
        || die "apt-get install chromium failed."
    [ -x "$CHROMIUM" ] || die "chromium was installed but $CHROMIUM is missing."
}

# Install tests/e2e/requirements.txt into .venv (after ensure_venv), skipped when unchanged.
ensure_e2e_deps() {
    local stamp="$VENV/.prov-e2e-requirements.sha256" want
    want="$( { cat "$E2E_REQUIREMENTS"; "$VENV_PY" -VV; } | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    step "pip install -r tests/e2e/requirements.txt into .venv"
    "$VENV_PY" -m pip install --disable-pip-version-check --progress-bar off \
        -r "$E2E_REQUIREMENTS" || die "pip install for the e2e suite failed."
    echo "$want" > "$stamp"
}
