"""Faults and hostile input against the record: kill -9 at random moments (of prov-kernel and of
the child), replayed requests, missing and repeated msg_ids, requests that are not UTF-8, cells
that go idle without a reply, notes planted for another trial, and a store its reader may not
write. Real kernels, real SQLite; raw frames are sent with pyzmq and signed here.

The kill test runs 100 kernel lives in the CI suite; PROV_SOAK=1 runs 1,000 (PROV_SOAK_KILLS
sets the number).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty

import pytest
import zmq

from conftest import KERNEL_NAME, REPO_ROOT, start_kernel, stop_kernel

pytestmark = pytest.mark.prov

PROVCTL = REPO_ROOT / "target" / "release" / "provctl"
SOAK = os.environ.get("PROV_SOAK") == "1"
KILLS = int(os.environ.get("PROV_SOAK_KILLS", "1000")) if SOAK else 100


def rows(db: Path) -> list[tuple]:
    """(msg_id, status, code, code_replaced, error_name) of every execution, in order."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT e.msg_id, e.status, c.text, e.code_replaced, e.error_name"
            " FROM executions e JOIN code c ON c.id = e.code_id ORDER BY e.trial_id, e.seq"
        ).fetchall()


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


# --------------------------------------------------------------------------
# kill -9


def child_pid(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def one_life(seed: int, db: Path) -> dict:
    """Starts a kernel, runs cells back to back, kills prov-kernel or its child at a random
    moment; returns what the client saw."""
    rng = random.Random(seed)
    target = rng.choice(["proxy", "child"])
    k = start_kernel(KERNEL_NAME, db, cwd=db.parent)
    sent: list[str] = []
    busy: set[str] = set()
    idle: set[str] = set()
    status: dict[str, str] = {}
    try:
        proxy = k.process.pid
        victim = proxy if target == "proxy" else child_pid(proxy)
        assert victim, "the child kernel's pid"
        delay = rng.uniform(0.0, 0.4)
        killed = threading.Event()

        def kill():
            time.sleep(delay)
            os.kill(victim, signal.SIGKILL)
            killed.set()

        threading.Thread(target=kill, daemon=True).start()

        def take_iopub(timeout: float) -> None:
            msg = k.kc.get_iopub_msg(timeout=timeout)
            parent = msg["parent_header"].get("msg_id")
            if msg["msg_type"] == "status":
                state = msg["content"]["execution_state"]
                (busy if state == "busy" else idle if state == "idle" else set()).add(parent)

        i = 0
        while not killed.is_set() and i < 500:
            code = rng.choice([f"v{i} = {i}", f"print({i})", "pass", f"raise ValueError({i})"])
            msg_id = k.kc.execute(code)
            sent.append(msg_id)
            i += 1
            deadline = time.monotonic() + 3
            while (time.monotonic() < deadline and not killed.is_set()
                   and (msg_id not in idle or msg_id not in status)):
                try:
                    reply = k.kc.get_shell_msg(timeout=0.01)
                    status[reply["parent_header"].get("msg_id")] = reply["content"]["status"]
                except Empty:
                    pass
                try:
                    take_iopub(0.01)
                except Empty:
                    pass
        killed.wait(5)
        # Whatever had reached the client before the kill still counts.
        while True:
            try:
                take_iopub(0.3)
            except Empty:
                break
        k.process.wait(timeout=15)
    finally:
        stop_kernel(k)
    return {"target": target, "sent": sent, "busy": busy, "idle": idle, "status": status}


def check_life(db: Path, seen: dict) -> None:
    assert integrity(db) == "ok"
    recorded = rows(db)
    ids = [r[0] for r in recorded]
    assert len(ids) == len(set(ids)), f"a duplicated record: {ids}"
    must = [m for m in seen["sent"] if m in seen["busy"] and m in seen["idle"]]
    lost = [m for m in must if m not in ids]
    assert not lost, f"{len(lost)} execution(s) whose idle the client received are missing"
    phantom = [m for m in ids if m not in seen["sent"]]
    assert not phantom, f"phantom executions {phantom}"
    order = [m for m in seen["sent"] if m in ids]
    assert ids == order, "recorded out of order"
    for msg_id, status, *_ in recorded:
        if msg_id in seen["status"]:
            assert status == seen["status"][msg_id], (msg_id, status, seen["status"][msg_id])


@pytest.mark.timeout(max(300, KILLS))
def test_kill_9_at_random_moments_loses_no_finished_execution(tmp_path: Path):
    """Every execution whose busy and idle the client received is in the store after a kill -9
    of prov-kernel or of the child at a random moment; nothing else is, and in order; the store
    passes integrity_check every time."""

    def life(n: int) -> dict:
        db = tmp_path / f"life{n}" / "prov.db"
        db.parent.mkdir()
        seen = one_life(n, db)
        check_life(db, seen)
        return {"target": seen["target"], "idle": len(seen["idle"])}

    with ThreadPoolExecutor(max_workers=3) as pool:
        lives = list(pool.map(life, range(KILLS)))
    assert sum(1 for life in lives if life["target"] == "proxy") > KILLS // 4
    assert sum(1 for life in lives if life["target"] == "child") > KILLS // 4
    assert sum(life["idle"] for life in lives) > KILLS, "cells ran before the kills"


# --------------------------------------------------------------------------
# Raw frames


class RawClient:
    """A frontend speaking the wire protocol itself: it can send what jupyter_client won't."""

    def __init__(self, connection_file: str):
        info = json.loads(Path(connection_file).read_text())
        self.key = info["key"].encode()
        self.ctx = zmq.Context()
        self.shell = self.ctx.socket(zmq.DEALER)
        self.shell.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        self.iopub = self.ctx.socket(zmq.SUB)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(f"tcp://{info['ip']}:{info['iopub_port']}")
        self.session = uuid.uuid4().hex
        self.events: list[tuple[str, str, str]] = []  # (msg_type, parent msg_id, state)
        self.replies: list[dict] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the proxy greets each new subscriber
            if self.iopub.poll(100) and self._iopub_type() == "iopub_welcome":
                return
        raise AssertionError("no iopub_welcome")

    def _iopub_type(self) -> str:
        frames = self.iopub.recv_multipart()
        return json.loads(frames[frames.index(b"<IDS|MSG>") + 2])["msg_type"]

    def frames(self, header: bytes, content: bytes) -> list[bytes]:
        parts = [header, b"{}", b"{}", content]
        mac = hmac.new(self.key, digestmod=hashlib.sha256)
        for p in parts:
            mac.update(p)
        return [b"<IDS|MSG>", mac.hexdigest().encode(), *parts]

    def header(self, msg_id: str | None) -> bytes:
        h = {"msg_type": "execute_request", "session": self.session, "username": "t",
             "date": "2026-01-01T00:00:00Z", "version": "5.3"}
        if msg_id is not None:
            h["msg_id"] = msg_id
        return json.dumps(h).encode()

    @staticmethod
    def content(code: str) -> bytes:
        return json.dumps({"code": code, "silent": False, "store_history": True,
                           "user_expressions": {}, "allow_stdin": False}).encode()

    def send(self, frames: list[bytes]) -> None:
        self.shell.send_multipart(frames)

    def pump(self, until, timeout: float = 20) -> None:
        """Reads both sockets until `until()` holds."""
        deadline = time.monotonic() + timeout
        while not until():
            assert time.monotonic() < deadline, f"timed out; saw {self.events[-5:]}"
            if self.shell.poll(10):
                frames = self.shell.recv_multipart()
                i = frames.index(b"<IDS|MSG>")
                self.replies.append({"parent": json.loads(frames[i + 3]).get("msg_id"),
                                     "content": json.loads(frames[i + 5])})
            while self.iopub.poll(0):
                frames = self.iopub.recv_multipart()
                i = frames.index(b"<IDS|MSG>")
                header = json.loads(frames[i + 2])
                parent = json.loads(frames[i + 3]).get("msg_id")
                state = json.loads(frames[i + 5]).get("execution_state", "")
                self.events.append((header["msg_type"], parent, state))

    def idles(self, msg_id: str) -> int:
        return sum(1 for e in self.events if e == ("status", msg_id, "idle"))

    def busies(self) -> list[str]:
        return [p for t, p, s in self.events if t == "status" and s == "busy"]

    def close(self) -> None:
        self.ctx.destroy(linger=0)


@pytest.fixture
def raw(kernel):
    client = RawClient(kernel.km.connection_file)
    try:
        yield kernel, client
    finally:
        client.close()


def run_raw(client: RawClient, msg_id: str, code: str) -> None:
    """A plain cell through the raw client, waited for."""
    seen = client.idles(msg_id)
    client.send(client.frames(client.header(msg_id), client.content(code)))
    client.pump(lambda: client.idles(msg_id) > seen)


def test_replayed_requests_leave_the_originals_recorded(raw):
    """A replay (same frames, rejected by ipykernel as a duplicate signature) right behind its
    original: each original is recorded once, `ok`, in order, while the kernel runs."""
    k, client = raw
    originals = []
    for i in range(10):
        msg_id = f"orig-{i}"
        frames = client.frames(client.header(msg_id), client.content(
            f"import time; time.sleep(0.02); r{i} = {i}"))
        client.send(frames)
        client.send(frames)  # the replay
        originals.append(msg_id)
    client.pump(lambda: all(client.idles(m) for m in originals))
    run_raw(client, "after", "done = 1")
    recorded = rows(k.db)  # the kernel is still running
    assert [(r[0], r[1]) for r in recorded] == [(m, "ok") for m in originals] + [("after", "ok")]
    assert client.busies().count("orig-0") == 1, "the child ran each original once"


def test_missing_and_repeated_msg_ids(raw):
    """A request without msg_id is recorded only if the child ran it (ipykernel rejects it);
    two different requests sharing a msg_id are two records, in order."""
    k, client = raw
    client.send(client.frames(client.header(None), client.content("no_id = 1")))
    run_raw(client, "same", "first = 1")
    run_raw(client, "same", "second = 2")
    ran_without_id = "" in client.busies()
    recorded = [(r[0], r[2]) for r in rows(k.db)]
    expected = [("same", "first = 1"), ("same", "second = 2")]
    if ran_without_id:
        expected.insert(0, ("", "no_id = 1"))
    assert recorded == expected
    assert all(status != "aborted" for _, status, *_ in rows(k.db))


def test_invalid_utf8_is_recorded_replaced_and_marked(raw):
    k, client = raw
    content = client.content("s = 'AB'\nprint(len(s))").replace(b"AB", b"A\xff\xfeB")
    client.send(client.frames(client.header("bad-utf8"), content))
    client.pump(lambda: client.idles("bad-utf8") >= 1)
    reply = next(r for r in client.replies if r["parent"] == "bad-utf8")
    assert reply["content"]["status"] == "ok", "the child ran it"
    run_raw(client, "next", "n = 1")
    (msg_id, status, code, replaced, _), nxt = rows(k.db)
    assert (msg_id, status, replaced) == ("bad-utf8", "ok", 1)
    assert code == "s = 'A\ufffd\ufffdB'\nprint(len(s))"
    assert nxt[0] == "next" and nxt[3] == 0


def test_idle_without_reply_is_an_error_where_it_ran(raw):
    """ipykernel fails on a deeply nested expression itself: idle, no reply. It is recorded
    when its idle arrives, as an error, between the cells around it."""
    k, client = raw
    run_raw(client, "before", "a = 1")
    client.send(client.frames(client.header("nested"), client.content("1" + "+1" * 300000)))
    client.pump(lambda: client.idles("nested") >= 1)
    assert not any(r["parent"] == "nested" for r in client.replies), "no reply: the case tested"
    assert [(r[0], r[1], r[4]) for r in rows(k.db)] == [
        ("before", "ok", None), ("nested", "error", "NoReply")], "recorded when its idle came"
    run_raw(client, "after", "b = 2")
    assert [r[0] for r in rows(k.db)] == ["before", "nested", "after"]


def test_unanswered_requests_are_not_recorded_and_stay_bounded(raw):
    """10,000 replays the child never answers (more than the proxy keeps): none is recorded,
    the proxy's memory stays bounded, and the next cell is recorded."""
    k, client = raw
    frames = client.frames(client.header("once"), client.content("once = 1"))
    client.send(frames)
    client.pump(lambda: client.idles("once") >= 1)
    rss = lambda: int(Path(f"/proc/{k.process.pid}/statm").read_text().split()[1]) * 4096
    before = rss()
    for _ in range(10000):
        client.send(frames)
    seen = client.idles("last")
    client.send(client.frames(client.header("last"), client.content("last = 1")))
    client.pump(lambda: client.idles("last") > seen, timeout=120)
    assert [r[0] for r in rows(k.db)] == ["once", "last"]
    assert rss() - before < 20 << 20, "grew by more than 20 MiB"


def test_notes_planted_for_another_trial_change_nothing(tmp_path: Path):
    """A cell of trial 2 plants probe notes for trial 1's failed request: trial 1's dataflow
    facts stay as recorded."""
    db = tmp_path / "prov.db"
    k = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        reply, _ = k.execute("x = 1\n1/0")
        failed = reply["parent_header"]["msg_id"]
        k.run("y = 2")
    finally:
        stop_kernel(k)
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT execution_id, runtime FROM execution_dataflow"
                              " ORDER BY execution_id").fetchall()
    k = start_kernel(KERNEL_NAME, db, cwd=tmp_path)
    try:
        note = {"bound": [["evil", 1, {"type": "int", "value": 666}]], "deleted": []}
        k.run(f"import _prov_probe; _prov_probe.probe.pending[{failed!r}] = {note!r}")
        k.run("z = 3")
    finally:
        stop_kernel(k)
    with sqlite3.connect(db) as conn:
        after = conn.execute("SELECT execution_id, runtime FROM execution_dataflow"
                             " WHERE execution_id IN (SELECT id FROM executions WHERE trial_id = 1)"
                             " ORDER BY execution_id").fetchall()
        evil = conn.execute("SELECT count(*) FROM captured_values WHERE name = 'evil'").fetchone()
    assert after == before
    assert evil == (0,)


# --------------------------------------------------------------------------
# Read-only readers


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to run provctl as another user")
@pytest.mark.parametrize("state", ["closed", "killed"])
def test_provctl_reads_another_users_store(state: str):
    """A store of another user (0644 file in that user's 0755 folder): provctl as `nobody`
    reads it, whether the kernel closed it (no -wal/-shm) or was killed (they remain)."""
    folder = Path(tempfile.mkdtemp(prefix="prov-ro-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        db = folder / "prov.db"
        k = start_kernel(KERNEL_NAME, db, cwd=folder)
        try:
            k.run("shared = 42")
            if state == "killed":
                os.kill(k.process.pid, signal.SIGKILL)
                k.process.wait(timeout=10)
        finally:
            stop_kernel(k)
        for f in folder.iterdir():
            f.chmod(0o644)
        assert (folder / "prov.db-wal").exists() == (state == "killed")
        before = sorted(p.name for p in folder.iterdir())
        result = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             str(PROVCTL), "--db", str(db), "show", "1", "--json"],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert [e["code"] for e in json.loads(result.stdout)["executions"]] == ["shared = 42"]
        assert sorted(p.name for p in folder.iterdir()) == before, "nothing written"
    finally:
        shutil.rmtree(folder)
