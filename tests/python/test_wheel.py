"""The pip package, as a user gets it: the wheel is built from this checkout with
`pip wheel . -w DIR` (maturin, pyproject.toml), installed with pip into a fresh venv that holds
nothing but it and jupyterlab, and then must be a Jupyter kernel with no second command: listed
by `jupyter kernelspec list`, offered and started by JupyterLab, running a notebook through
nbclient and recording it (read back with the wheel's own provctl) whether Jupyter is run by
full path, from the activated venv, or from another environment that lists this one's kernels
through JUPYTER_PATH; `prov-kernel doctor` is content; `pip uninstall` takes the kernelspec away.

Slow (a release build of the two binaries, a venv with jupyterlab): skipped with
PROV_SKIP_WHEEL=1 for quick local runs; CI (`.ci/run`) runs it. The cargo dependencies come
from the repository's target/ already built by scripts/test.sh; pip's cache serves jupyterlab.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from isolated import isolated_env

pytestmark = [
    pytest.mark.prov,
    pytest.mark.wheel,
    pytest.mark.skipif(os.environ.get("PROV_SKIP_WHEEL") == "1", reason="PROV_SKIP_WHEEL=1"),
    pytest.mark.timeout(1800),
]

SPEC = "python-prov"

# Run by a Python that has nbclient: executes the notebook argv[1] on the kernelspec
# python-prov in folder argv[2] and prints the outputs of its one cell as JSON.
RUN_NOTEBOOK = """
import json, sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python-prov", "display_name": "Python (prov)"}
nb.cells = [nbformat.v4.new_code_cell(sys.argv[1])]
resources = {"metadata": {"path": sys.argv[2]}}
NotebookClient(nb, kernel_name="python-prov", timeout=120, resources=resources).execute()
print(json.dumps(nb.cells[0]["outputs"]))
"""

CELL = "import sys\nanswer = 41 + 1\nprint(sys.prefix, sys.executable, answer)"


def run(cmd: list, log: Path | None = None, **kw) -> subprocess.CompletedProcess:
    """Runs `cmd`; a failure shows its output (the end of it, or all of it in `log`)."""
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        out = (result.stdout + result.stderr)[-6000:]
        pytest.fail(f"{' '.join(map(str, cmd))} exited {result.returncode}:\n{out}")
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by exactly the documented command, from the repository root."""
    out = tmp_path_factory.mktemp("wheelhouse")
    log = out / "pip-wheel.log"
    run([sys.executable, "-m", "pip", "wheel", ".", "-w", out, "--disable-pip-version-check"],
        log=log, cwd=REPO_ROOT, timeout=1500)
    # The wheel's build writes its own (stripped) copies of the two binaries into
    # target/release; give the rest of the suite back cargo's own.
    run(["cargo", "build", "--release", "-p", "prov-kernel", "-p", "provctl"], cwd=REPO_ROOT)
    wheels = sorted(out.glob("prov_kernel-*.whl"))
    assert len(wheels) == 1, f"expected one prov_kernel wheel in {sorted(out.iterdir())}"
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and jupyterlab, nothing else asked for."""
    root = tmp_path_factory.mktemp("fresh")
    env_dir = root / "env"
    run([sys.executable, "-m", "venv", env_dir])
    run([env_dir / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check",
         "--progress-bar", "off", wheel, "jupyterlab"], log=root / "pip-install.log", timeout=1200)
    return env_dir.resolve()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty notebook folder: the kernel's store goes to its .prov/prov.db."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    return folder


def recorded_trials(venv: Path, folder: Path) -> list[dict]:
    """The trials in `folder`'s store, read by the wheel's provctl."""
    out = run([venv / "bin" / "provctl", "trials", "--json"], cwd=folder,
              env=isolated_env(folder.parent))
    return json.loads(out.stdout)


def check_ran_in(venv: Path, outputs: list[dict], folder: Path) -> None:
    """The cell ran in `venv`'s Python, whatever Python came first on PATH, and was recorded."""
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    prefix, executable, answer = text.split()
    assert (Path(prefix).resolve(), answer) == (venv, "42"), text
    assert Path(executable).parent == venv / "bin", text
    trials = recorded_trials(venv, folder)
    assert len(trials) == 1 and trials[0]["executions"] == 1, trials
    assert trials[0]["status"] == "finished" and trials[0]["cwd"] == str(folder), trials
    show = run([venv / "bin" / "provctl", "show", "1", "--json"], cwd=folder,
               env=isolated_env(folder.parent))
    (execution,) = json.loads(show.stdout)["executions"]
    assert execution["code"] == CELL and execution["status"] == "ok", execution


def test_wheel_carries_both_binaries_the_kernelspec_and_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        data = next(n.split("/")[0] for n in names if ".data/" in n)
        spec = f"{data}/data/share/jupyter/kernels/{SPEC}"
        for f in ["scripts/prov-kernel", "scripts/provctl"]:
            assert f"{data}/{f}" in names, sorted(names)
            mode = zf.getinfo(f"{data}/{f}").external_attr >> 16
            assert mode & 0o111, f"{f} is not executable in the wheel ({oct(mode)})"
        for f in ["kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]:
            assert f"{spec}/{f}" in names, sorted(names)
        kernel_json = json.loads(zf.read(f"{spec}/kernel.json"))
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = zf.read(meta_name).decode()
    assert kernel_json["display_name"] == "Python (prov)"
    assert kernel_json["argv"][0] == "{resource_dir}/../../../../bin/prov-kernel", kernel_json
    assert "{connection_file}" in kernel_json["argv"]
    for line in ["Name: prov-kernel", "Requires-Dist: ipykernel>=7", "Requires-Python: >=3.10",
                 "License-Expression: MIT", "Classifier: Framework :: Jupyter",
                 "Description-Content-Type: text/markdown"]:
        found = any(m.startswith(line) for m in meta.splitlines())
        assert found, f"{line!r} not in METADATA:\n{meta[:2000]}"
    assert "pip install" in meta, "the README is the package page"


def test_jupyter_of_the_venv_lists_the_kernelspec(venv: Path, tmp_path: Path) -> None:
    out = run([venv / "bin" / "jupyter", "kernelspec", "list", "--json"],
              env=isolated_env(tmp_path))
    specs = json.loads(out.stdout)["kernelspecs"]
    assert SPEC in specs, specs
    assert Path(specs[SPEC]["resource_dir"]) == venv / "share" / "jupyter" / "kernels" / SPEC
    assert specs[SPEC]["spec"]["display_name"] == "Python (prov)"


def test_notebook_runs_and_records_with_jupyter_by_full_path(venv: Path, work: Path) -> None:
    """No venv on PATH: /usr/bin's python3 (if any) comes first and must not be the one run."""
    out = run([venv / "bin" / "python", "-c", RUN_NOTEBOOK, CELL, work], cwd=work,
              env=isolated_env(work.parent), timeout=300)
    check_ran_in(venv, json.loads(out.stdout), work)


def test_notebook_runs_and_records_in_the_activated_venv(venv: Path, work: Path) -> None:
    env = isolated_env(work.parent, path=[venv / "bin"], VIRTUAL_ENV=str(venv))
    out = run(["python", "-c", RUN_NOTEBOOK, CELL, work], cwd=work, env=env, timeout=300)
    check_ran_in(venv, json.loads(out.stdout), work)


def test_notebook_runs_and_records_from_another_environments_jupyter(
    venv: Path, work: Path
) -> None:
    """The suite's own venv runs Jupyter, with its python3 first on PATH and its own python-prov
    spec installed; JUPYTER_PATH lists the fresh venv's kernels, which take precedence."""
    runner = Path(sys.executable)
    env = isolated_env(work.parent, path=[runner.parent],
                       JUPYTER_PATH=str(venv / "share" / "jupyter"))
    out = run([runner, "-c", RUN_NOTEBOOK, CELL, work], cwd=work, env=env, timeout=300)
    check_ran_in(venv, json.loads(out.stdout), work)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def execute_over_websocket(base: str, kernel_id: str, token: str, code: str) -> tuple:
    """Runs `code` in the kernel as JupyterLab does, over the server's websocket; returns the
    execute_reply's content and the stream text."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    session = uuid.uuid4().hex
    url = f"ws{base[4:]}/api/kernels/{kernel_id}/channels?session_id={session}"
    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
              "session": session, "version": "5.3", "date": ""}
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
               "allow_stdin": False, "stop_on_error": True}
    await conn.write_message(json.dumps({"header": header, "parent_header": {}, "metadata": {},
                                         "content": content, "channel": "shell"}))
    reply, idle, text = None, False, ""
    while reply is None or not idle:
        raw = await asyncio.wait_for(conn.read_message(), 60)
        assert raw is not None, "the server closed the websocket"
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_reply":
            reply = msg["content"]
        elif msg["msg_type"] == "stream":
            text += msg["content"]["text"]
        elif msg["msg_type"] == "status":
            idle = msg["content"]["execution_state"] == "idle"
    conn.close()
    return reply, text


def test_jupyterlab_offers_python_prov_and_runs_it(venv: Path, work: Path) -> None:
    """What the launcher shows is /api/kernelspecs; a kernel started through the server's API and
    run over its websocket, as JupyterLab does, runs the venv's Python and records a trial in
    the server's folder."""
    port, token = free_port(), "prov-wheel-test"
    base = f"http://127.0.0.1:{port}"
    log = open(work.parent / "jupyter-lab.log", "w")
    server = subprocess.Popen(
        [venv / "bin" / "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
         "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"],
        stdout=log, stderr=subprocess.STDOUT, env=isolated_env(work.parent), cwd=work)

    def api(path: str, method: str = "GET", body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            return json.loads(text) if text else None

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                specs = api("/api/kernelspecs")
                break
            except OSError:
                assert server.poll() is None, (work.parent / "jupyter-lab.log").read_text()
                assert time.monotonic() < deadline, "jupyter lab did not answer in 90 s"
                time.sleep(0.5)
        assert specs["kernelspecs"][SPEC]["spec"]["display_name"] == "Python (prov)", specs
        kernel = api("/api/kernels", "POST", {"name": SPEC})
        reply, text = asyncio.run(execute_over_websocket(base, kernel["id"], token, CELL))
        api(f"/api/kernels/{kernel['id']}", "DELETE")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert reply["status"] == "ok", reply
    check_ran_in(venv, [{"output_type": "stream", "text": text}], work)


def test_doctor_is_content_with_the_installed_wheel(venv: Path, work: Path) -> None:
    out = run([venv / "bin" / "prov-kernel", "doctor"], cwd=work, env=isolated_env(work.parent))
    version = "import ipykernel; print(ipykernel.__version__)"
    ipykernel = run([venv / "bin" / "python", "-c", version])
    text = out.stdout
    spec_dir = venv / "share" / "jupyter" / "kernels" / SPEC
    assert f"prov-kernel 0.1.0: {venv}/bin/prov-kernel\n" in text, text
    assert f"{venv}/bin/python3 (beside prov-kernel)" in text, text
    assert f"ipykernel {ipykernel.stdout.strip()}" in text, text
    assert f"Store: {work}/.prov/prov.db" in text, text
    assert f"{spec_dir} (" in text and "runs: this prov-kernel" in text, text
    assert "No problems found" in text, text


def test_pip_uninstall_removes_the_kernelspec(venv: Path, tmp_path: Path) -> None:
    """Last in this file: it takes the package away from the shared venv."""
    run([venv / "bin" / "python", "-m", "pip", "uninstall", "-y", "prov-kernel"])
    assert not (venv / "share" / "jupyter" / "kernels" / SPEC).exists()
    assert not (venv / "bin" / "prov-kernel").exists()
    assert not (venv / "bin" / "provctl").exists()
    out = run([venv / "bin" / "jupyter", "kernelspec", "list", "--json"],
              env=isolated_env(tmp_path))
    specs = json.loads(out.stdout)["kernelspecs"]
    assert SPEC not in specs and "python3" in specs, specs
