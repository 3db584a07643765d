"""The child kernel is private: its sockets are Unix sockets inside the proxy's 0700 runtime
directory (no TCP port of its own, no "running over TCP without encryption" warning), and that
directory goes away on every way the proxy can end: shutdown, SIGTERM, the child's death, and
SIGKILL of the proxy (removed by the next kernel's start).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

import pytest
import zmq
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

from conftest import KERNEL_NAME

pytestmark = pytest.mark.prov


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def child_connection_file(proxy_pid: int) -> Path:
    (child,) = children(proxy_pid)
    argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
    return Path(argv[argv.index(b"-f") + 1].decode())


def tcp_listening_ports(inodes: set[str]) -> list[int]:
    """The TCP ports listened on through the given socket inodes."""
    ports = []
    for table in ["/proc/net/tcp", "/proc/net/tcp6"]:
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def socket_inodes(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[len("socket:["):-1])
    return out


def wait_gone(path: Path, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not path.exists()


def test_child_listens_only_on_unix_sockets_in_a_private_dir(logged_kernel):
    k, log = logged_kernel
    proxy = k.process.pid
    conn = child_connection_file(proxy)
    info = json.loads(conn.read_text())
    assert info["transport"] == "ipc"
    runtime = conn.parent
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    assert Path(info["ip"]).parent == runtime
    for name in ["shell", "control", "stdin", "iopub", "hb"]:
        sock = Path(f"{info['ip']}-{info[name + '_port']}")
        assert stat.S_ISSOCK(sock.stat().st_mode), sock
    # ipykernel keeps one TCP listener of its own: the pipe for output of forked subprocesses
    # (PULL, messages must start with a random token). No kernel channel answers on it.
    (child,) = children(proxy)
    ports = tcp_listening_ports(socket_inodes(child))
    assert len(ports) <= 1, ports
    session = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
    ctx = zmq.Context()
    try:
        for port in ports:
            s = ctx.socket(zmq.DEALER)
            s.linger = 0
            # A DEALER's send waits for a peer that completes the handshake; the subprocess pipe
            # is a PULL, which refuses a DEALER, so the send may never go. That refusal is itself
            # the proof that no ROUTER (shell, control, stdin) listens there: bound the wait.
            s.sndtimeo = 1000
            s.connect(f"tcp://127.0.0.1:{port}")
            try:
                session.send(s, "kernel_info_request", {})
            except zmq.Again:
                continue
            assert not s.poll(1000), f"a kernel channel answers on TCP port {port}"
    finally:
        ctx.destroy(linger=0)
    assert "without encryption" not in log.read_text(errors="replace")


def test_runtime_dir_goes_on_shutdown_and_on_sigterm(logged_kernel, tmp_path):
    k, _ = logged_kernel
    runtime = child_connection_file(k.process.pid).parent
    k.km.shutdown_kernel()
    assert wait_gone(runtime), "left behind after shutdown"

    other = KernelManager(kernel_name=KERNEL_NAME)
    other.start_kernel(env=dict(os.environ, PROV_DB=str(tmp_path / "b.db")), cwd=str(tmp_path))
    try:
        time.sleep(0.5)
        deadline = time.monotonic() + 30
        while not children(other.provisioner.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        runtime = child_connection_file(other.provisioner.process.pid).parent
        other.provisioner.process.send_signal(signal.SIGTERM)
        other.provisioner.process.wait(timeout=30)
        assert not runtime.exists(), "left behind after SIGTERM"
    finally:
        if other.has_kernel:
            other.shutdown_kernel(now=True)


def test_runtime_dir_goes_when_the_child_dies(logged_kernel):
    k, _ = logged_kernel
    proxy = k.process
    runtime = child_connection_file(proxy.pid).parent
    (child,) = children(proxy.pid)
    os.kill(child, signal.SIGKILL)
    assert proxy.wait(timeout=30) == 1
    assert not runtime.exists()


def test_runtime_dir_of_a_killed_proxy_goes_at_the_next_start(logged_kernel, tmp_path):
    k, _ = logged_kernel
    proxy = k.process
    runtime = child_connection_file(proxy.pid).parent
    proxy.kill()
    proxy.wait(timeout=30)
    assert runtime.exists(), "SIGKILL cannot clean up; the next start must"
    nxt = KernelManager(kernel_name=KERNEL_NAME)
    nxt.start_kernel(env=dict(os.environ, PROV_DB=str(tmp_path / "c.db")), cwd=str(tmp_path))
    try:
        assert wait_gone(runtime), "the next kernel did not sweep the stale directory"
    finally:
        nxt.shutdown_kernel(now=True)
