"""The provenance store, driven through real kernels: what a notebook run leaves in it, what a
kill -9 leaves, two kernels on one store, magics mixed with code, and a store that cannot be
written. Read back with the real `provctl` binary (its JSON is the contract) and with sqlite3.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import (
    EXAMPLES_DIR,
    KERNEL_NAME,
    REPO_ROOT,
    execute_in_cell,
    iopub_until_idle,
    magic_answer,
    shell_reply,
    start_kernel,
    stop_kernel,
    stream_text,
)

pytestmark = pytest.mark.prov

PROVCTL = REPO_ROOT / "target" / "release" / "provctl"


def provctl(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs provctl against `db`; output as text."""
    result = subprocess.run(
        [str(PROVCTL), "--db", str(db), *args],
        capture_output=True, text=True, timeout=60,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def provctl_json(db: Path, *args: str):
    out = provctl(db, *args, "--json").stdout
    return json.loads(out)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def recorded(db: Path, trial: str = "1") -> list[dict]:
    return provctl_json(db, "show", trial)["executions"]


def test_notebook_run_is_recorded_cell_by_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """nbclient runs an example under python-prov; `provctl show` lists every code cell in
    order with its code, sha256, status and the output types the notebook got."""
    db = tmp_path / "prov.db"
    path = EXAMPLES_DIR / "sales_report.ipynb"
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("PROV_DB", str(db))
    NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=60, startup_timeout=60,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    cells = [c for c in nb.cells if c.cell_type == "code"]

    trials = provctl_json(db, "trials")
    assert len(trials) == 1
    assert trials[0]["status"] == "finished"
    assert trials[0]["executions"] == len(cells)
    # Who ran it and where, as the kernel found them at its start.
    user = next((os.environ[v] for v in ("USER", "LOGNAME") if os.environ.get(v, "").strip()),
                None) or pwd.getpwuid(os.getuid()).pw_name
    assert (trials[0]["user"], trials[0]["host"]) == (user, socket.gethostname())

    executions = recorded(db)
    assert [e["code"] for e in executions] == [c.source for c in cells]
    for cell, execution in zip(cells, executions):
        assert execution["code_sha256"] == sha256(cell.source)
        failed = any(o.output_type == "error" for o in cell.outputs)
        assert execution["status"] == ("error" if failed else "ok")
        assert execution["execution_count"] == cell.execution_count
        assert execution["duration_ms"] >= 0
        got = {(o["output_type"], tuple(sorted(o["mime_types"]))) for o in execution["outputs"]}
        for output in cell.outputs:
            if output.output_type == "stream":
                want = ("stream", ("text/plain",))
            else:
                want = (output.output_type, tuple(sorted(output.get("data", {}))))
            if output.output_type == "error":
                want = ("error", ("application/vnd.jupyter.error+json",))
            assert want in got, f"cell {cell.source!r}: {want} not in {got}"
        stdout = "".join(o.text for o in cell.outputs
                         if o.output_type == "stream" and o.name == "stdout")
        recorded_stdout = "".join(o.get("text", "") for o in execution["outputs"]
                                  if o["output_type"] == "stream" and o["name"] == "stdout")
        cleared = any(o["output_type"] == "clear_output" for o in execution["outputs"])
        if cleared:  # the notebook dropped what came before; the record keeps it
            assert recorded_stdout.endswith(stdout)
        else:
            assert recorded_stdout == stdout


def test_cell_id_status_error_and_aborted_are_recorded(kernel):
    """JupyterLab's metadata.cellId is kept; an error and the requests ipykernel aborts after it
    ("Run All" stopping) are recorded with those statuses."""
    kc = kernel.kc
    msg_id = execute_in_cell(kc, "a = 1", "cell-abc")
    assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
    iopub_until_idle(kc, msg_id)

    ids = [kc.execute("raise ValueError('boom')"), kc.execute("b = 2"), kc.execute("c = 3")]
    statuses = [shell_reply(kc, i)["content"]["status"] for i in ids]
    assert statuses == ["error", "aborted", "aborted"]
    kernel.run("pass")

    executions = wait_for(lambda: (lambda e: e if len(e) >= 5 else None)(recorded(kernel.db)),
                          what="five recorded executions")
    assert executions[0]["cell_id"] == "cell-abc"
    assert [e["status"] for e in executions[1:4]] == ["error", "aborted", "aborted"]
    assert executions[1]["error"]["ename"] == "ValueError"


def test_magic_mixed_with_code(kernel):
    """Prov magic lines run after the code, in the same cell, with every MIME type; the code
    around them runs in ipykernel; execute_input and the record show the cell as typed."""
    kc = kernel.kc
    code = "x = 5\n%trials\nprint(x * 2)"
    msg_id = kc.execute(code)
    reply = shell_reply(kc, msg_id)
    assert reply["content"]["status"] == "ok"
    outputs = iopub_until_idle(kc, msg_id)
    assert stream_text(outputs) == "10\n"
    displays = [m for m in outputs if m["msg_type"] == "display_data"]
    assert len(displays) == 1
    answer = magic_answer(outputs)
    assert set(answer) == {"text/plain", "text/html"}
    assert displays[0]["content"]["metadata"]["prov"]["magic"] == "%trials"
    assert [t["id"] for t in answer.json] == [1]
    assert kernel.run("print(x)") == "5\n"

    executions = wait_for(lambda: recorded(kernel.db), what="recorded executions")
    assert executions[0]["code"] == code
    assert "display_data" in [o["output_type"] for o in executions[0]["outputs"]]


def test_magic_errors_and_names(kernel, tmp_path: Path):
    """A wrong magic argument is an error in the cell with a usage line; names are unique."""
    reply, outputs = kernel.execute("%trial_name")
    assert reply["content"]["status"] == "error"
    assert "usage: %trial_name NAME" in reply["content"]["evalue"]
    assert [m["msg_type"] for m in outputs] == ["error"]

    reply, outputs = kernel.execute("%trial_name baseline")
    assert reply["content"]["status"] == "ok", reply["content"]
    trial = provctl_json(kernel.db, "show", "baseline")["trial"]
    assert trial["name"] == "baseline"

    other = start_kernel(KERNEL_NAME, kernel.db, cwd=tmp_path)
    try:
        reply, _ = other.execute("%trial_name baseline")
        assert reply["content"]["status"] == "error"
        assert "baseline" in reply["content"]["evalue"]
        reply, outputs = other.execute("%prov help")
        assert reply["content"]["status"] == "ok"
        names = [m["name"] for m in magic_answer(outputs).json["magics"]]
        assert {"%prov", "%trials", "%trial_name"} <= set(names)
    finally:
        stop_kernel(other)


def test_unknown_magic_reaches_ipython(kernel):
    reply, outputs = kernel.execute("%xyz_not_a_magic")
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "UsageError"
    assert "xyz_not_a_magic" in stream_text(outputs, "stderr")


def test_kill_9_leaves_a_readable_store_and_a_crashed_trial(tmp_path: Path):
    """Executions that went idle before a kill -9 are all there, the database passes
    integrity_check, and the trial reads as crashed."""
    db = tmp_path / "prov.db"
    k = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        for i in range(5):
            k.run(f"v{i} = {i}")
        k.kc.execute("import time; time.sleep(30)")
        time.sleep(0.5)
        os.kill(k.process.pid, signal.SIGKILL)
        k.process.wait(timeout=10)
    finally:
        stop_kernel(k)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    trial = provctl_json(db, "trials")[0]
    assert trial["status"] == "crashed"
    assert [e["code"] for e in recorded(db)] == [f"v{i} = {i}" for i in range(5)]


def test_two_kernels_writing_one_store_lose_nothing(tmp_path: Path):
    db = tmp_path / "prov.db"
    kernels = [start_kernel(KERNEL_NAME, db, cwd=tmp_path) for _ in range(2)]
    try:
        def work(k, tag):
            for i in range(40):
                k.run(f"{tag}_{i} = {i}")

        threads = [threading.Thread(target=work, args=(k, f"k{n}")) for n, k in enumerate(kernels)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for k in kernels:
            stop_kernel(k)

    trials = provctl_json(db, "trials")
    assert sorted(t["executions"] for t in trials) == [40, 40]
    for trial in trials:
        codes = [e["code"] for e in recorded(db, str(trial["id"]))]
        tag = codes[0].split("_")[0]
        assert codes == [f"{tag}_{i} = {i}" for i in range(40)]


def test_unwritable_store_does_not_break_execution(tmp_path: Path):
    """A store path that cannot be created: cells still run, and the notebook is told once."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    k = start_kernel(KERNEL_NAME, blocker / "prov.db", cwd=tmp_path)
    try:
        first, outputs = k.execute("print('still works')")
        assert first["content"]["status"] == "ok"
        assert stream_text(outputs) == "still works\n"
        warning = stream_text(outputs, "stderr")
        assert "prov: cannot" in warning and "PROV_DB" in warning
        _, outputs = k.execute("print(2)")
        assert stream_text(outputs, "stderr") == "", "warned once"
    finally:
        stop_kernel(k)


def test_provctl_errors_exit_2(tmp_path: Path):
    missing = provctl(tmp_path / "nothing.db", "trials", check=False)
    assert missing.returncode == 2
    assert missing.stderr and not missing.stdout
