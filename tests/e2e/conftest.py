"""Fixtures of the real-browser suite: one `jupyter lab` server and one headless Chromium per run.

The server runs from the project's venv (with the python-prov kernelspec installed there) on a
free loopback port with a token, in a temporary root folder, with temporary Jupyter config,
data, runtime, settings and IPython folders so nothing on the machine leaks in or out. Its
kernels record into a temporary store (`PROV_DB`), which the tests read with `provctl`.

The browser is Debian's `chromium` (`/usr/bin/chromium`, or `$PROV_E2E_CHROMIUM`) driven by
Playwright for Python; Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from jlab import REPO_ROOT, SHOTS, Lab, Server

CHROMIUM = os.environ.get("PROV_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Wide enough for a notebook and the debugger's sidebar, as on a laptop.
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_TIMEOUT = 90

# User settings of the temporary server: no news or update pop-up over the page; every cell in
# the DOM (windowed notebooks leave cells out of the page while they are off screen); and a
# completion reply may take 20 s instead of 1 s (JupyterLab drops later ones silently, which on a
# machine busy with builds made the completer flaky for both kernels alike).
SETTINGS = {
    "@jupyterlab/completer-extension/manager.jupyterlab-settings": {"providerTimeout": 20000},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}; log: {log}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling the server's own readiness endpoint, not a fixed wait
    pytest.fail(f"jupyter lab did not answer {url} in {SERVER_START_TIMEOUT}s; log: {log}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("lab")
    dirs = {name: base / name for name in ("root", "config", "data", "runtime", "ipython")}
    for d in dirs.values():
        d.mkdir()
    settings = dirs["config"] / "lab" / "user-settings"
    for rel, value in SETTINGS.items():
        f = settings / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    db = base / "prov.db"
    venv_bin = Path(sys.executable).parent
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["config"] / "lab" / "workspaces"),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTER_PREFER_ENV_PATH="1",
        PROV_DB=str(db),
        PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("PROV_TRIAL_NAME", None)
    port = _free_port()
    token = secrets.token_hex(16)
    shutil.rmtree(SHOTS, ignore_errors=True)  # screenshots of this run only
    SHOTS.mkdir(parents=True)
    log = SHOTS / "jupyter-lab.log"
    cmd = [
        str(venv_bin / "jupyter-lab"),
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={dirs['root']}",
        "--allow-root",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=dirs["root"])
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{url}/api/status?token={token}", proc, log)
        yield Server(url=url, token=token, root=dirs["root"], db=db, env=env, log=log)
    finally:
        for nb in dirs["root"].glob("*.ipynb"):  # kept beside the screenshots, to look at
            shutil.copy(nb, SHOTS / nb.name)
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def lab(server: Server, browser) -> Iterator[Lab]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        yield Lab(page, server)
    finally:
        context.close()


@pytest.fixture(scope="session")
def docs_dir() -> Path | None:
    """Where the README's screenshots go when PROV_E2E_DOCS=1 (scripts/screenshots.sh)."""
    if os.environ.get("PROV_E2E_DOCS") == "1":
        d = REPO_ROOT / "docs"
        d.mkdir(exist_ok=True)
        return d
    return None

