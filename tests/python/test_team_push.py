"""Issue 17, end to end: real kernels push their trials in the background (`PROV_PUSH=team`) to a
real PostgreSQL, and a team store that is down, stopped mid-run, or cut off by a kill -9 never
costs the kernel a record nor the team store a doubled one.

The remote's content is read with psql (what is really in its tables) and through provctl (what a
person sees)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import KERNEL_NAME, Kernel, start_kernel, stop_kernel
from pg import PrivateServer, Server
from test_store import PROVCTL, wait_for

pytestmark = pytest.mark.prov

DOWN = "cannot push to the team store"
BACK = "is reachable again"


def provctl(db: Path, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """provctl on the store `db`, run in its folder (no --db: `--db` also names team stores)."""
    result = subprocess.run(
        [str(PROVCTL), *args], capture_output=True, text=True, timeout=120,
        cwd=db.parent.parent, env=dict(os.environ, PROV_DB=str(db), **(env or {})),
    )
    if check:
        assert result.returncode == 0, f"provctl {' '.join(args)}: {result.stderr}"
    return result


def new_store(folder: Path, remotes: dict[str, str]) -> Path:
    """A store's place in `folder` (.prov/prov.db, created by its kernel) with `remotes`."""
    db = folder / ".prov" / "prov.db"
    folder.mkdir(parents=True, exist_ok=True)
    for name, url in remotes.items():
        provctl(db, "remote", "add", name, url)
    return db


def pushing_kernel(db: Path, user: str, log: Path, env: dict[str, str] | None = None) -> Kernel:
    """A kernel recording into `db` as `user`, pushing to its remote `team`."""
    extra = {"USER": user, "LOGNAME": user, "PROV_PUSH": "team", **(env or {})}
    return start_kernel(KERNEL_NAME, db, cwd=db.parent.parent, env=extra, log=log)


def local(db: Path) -> dict:
    """The store's one trial as `provctl show` gives it."""
    return json.loads(provctl(db, "show", "1", "--json").stdout)


def remote_trials(database) -> list[dict]:
    """What the team store's tables hold, trial by trial: its row and its execution rows."""
    rows = database.sql(
        "SELECT t.id, t.uuid, t.user_name, t.status, t.executions, "
        "(SELECT count(*) FROM prov_executions e WHERE e.trial_id = t.id), "
        "(SELECT count(DISTINCT seq) FROM prov_executions e WHERE e.trial_id = t.id) "
        "FROM prov_trials t ORDER BY t.id")
    return [
        {"id": int(i), "uuid": u, "user": user, "status": status, "executions": int(n),
         "rows": int(rows), "distinct": int(distinct)}
        for i, u, user, status, n, rows, distinct in rows
    ]


def pushed(database, uuid: str, executions: int, status: str | None = None):
    """The team store's trial `uuid` once it holds `executions` executions (and `status`)."""
    try:
        found = [t for t in remote_trials(database) if t["uuid"] == uuid]
    except RuntimeError:  # no tables yet: nothing pushed
        return None
    if found and found[0]["executions"] >= executions and status in (None, found[0]["status"]):
        return found[0]
    return None


def timed_cells(kernel: Kernel, cells: list[str]) -> list[float]:
    """Runs each cell (each must succeed); how long each took, in seconds."""
    took = []
    for code in cells:
        started = time.monotonic()
        kernel.run(code)
        took.append(time.monotonic() - started)
    return took


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_lines(log: Path, text: str) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if text in line]


def test_two_kernels_push_into_one_team_store_and_their_trials_compare(tmp_path, pg_db):
    alice_db = new_store(tmp_path / "alice", {"team": pg_db.url})
    bob_db = new_store(tmp_path / "bob", {"team": pg_db.url})
    alice = pushing_kernel(alice_db, "alice", tmp_path / "alice.log")
    bob = None
    try:
        bob = pushing_kernel(bob_db, "bob", tmp_path / "bob.log")
        alice.run("lr = 0.1")
        bob.run("lr = 0.5")
        for k in (alice, bob):
            assert k.run("print(lr * 2)").strip() in ("0.2", "1.0")
        uuids = {}
        for name, db in (("alice", alice_db), ("bob", bob_db)):
            trial = wait_for(lambda: local(db)["trial"], what=f"{name}'s trial")
            uuids[name] = trial["uuid"]
            wait_for(lambda: pushed(pg_db, trial["uuid"], 2), timeout=30,
                     what=f"{name}'s two executions in the team store, pushed by the kernel")
    finally:
        for k in (bob, alice):
            if k is not None:
                stop_kernel(k)

    # The kernels' last pushes carry the trials' end.
    for name in ("alice", "bob"):
        wait_for(lambda: pushed(pg_db, uuids[name], 2, "finished"), timeout=30,
                 what=f"{name}'s trial finished in the team store")

    listed = json.loads(provctl(alice_db, "trials", "--remote", "team", "--json").stdout)
    by_user = {t["user"]: t for t in listed}
    assert set(by_user) == {"alice", "bob"}, listed
    for name in ("alice", "bob"):
        assert by_user[name]["uuid"] == uuids[name]
        assert by_user[name]["host"] == socket.gethostname()
    text = provctl(alice_db, "trials", "--remote", "team").stdout
    print(text)
    assert "alice" in text and "bob" in text, text

    a, b = by_user["alice"]["id"], by_user["bob"]["id"]
    remote_diff = provctl(bob_db, "--remote", "team", "diff", f"team:{a}", f"team:{b}").stdout
    print(remote_diff)
    assert "-lr = 0.1" in remote_diff and "+lr = 0.5" in remote_diff, remote_diff
    # Alice's own trial against Bob's on the team store.
    mixed = provctl(alice_db, "diff", "1", f"team:{b}").stdout
    assert "-lr = 0.1" in mixed and "+lr = 0.5" in mixed, mixed
    # Each kernel pushed its own trial once: one row per trial, each execution once.
    assert [(t["rows"], t["distinct"]) for t in remote_trials(pg_db)] == [(2, 2), (2, 2)]


def test_a_kernel_whose_team_store_is_unreachable_records_normally(tmp_path, pg_db):
    nowhere = f"postgresql://prov@127.0.0.1:{closed_port()}/prov"
    db = new_store(tmp_path / "work", {"team": nowhere, "live": pg_db.url})
    log = tmp_path / "kernel.log"
    kernel = pushing_kernel(db, "carol", log)
    cells = [f"x{i} = {i}\nprint(x{i})" for i in range(12)]
    try:
        took = timed_cells(kernel, cells)
        print(f"12 cells with the team store unreachable: {sum(took):.2f} s, "
              f"slowest {max(took) * 1000:.0f} ms")
        trial = wait_for(lambda: local(db), what="the local trial")
        assert len(trial["executions"]) == len(cells), "every execution recorded locally"
    finally:
        stop_kernel(kernel)
    # One line says so (naming the remote), not one per try.
    down = log_lines(log, DOWN)
    assert len(down) == 1 and '"team"' in down[0], log.read_text(errors="replace")

    # `provctl push` catches up: the whole trial, once.
    provctl(db, "push", "live")
    uuid = local(db)["trial"]["uuid"]
    got = pushed(pg_db, uuid, len(cells))
    assert got and (got["rows"], got["distinct"]) == (len(cells), len(cells)), got
    provctl(db, "push", "live")
    assert remote_trials(pg_db) == [got], "a second push changes nothing"


@pytest.fixture
def private_pg(pg_server) -> Server:
    """A PostgreSQL of this test's own, to stop and start under a running kernel."""
    server = PrivateServer()
    try:
        yield server
    finally:
        server.remove()


def test_a_team_store_stopped_mid_run_catches_up_when_back(tmp_path, private_pg):
    database = private_pg.server.create_database()
    db = new_store(tmp_path / "work", {"team": database.url})
    log = tmp_path / "kernel.log"
    kernel = pushing_kernel(db, "dave", log, env=private_pg.server.env())
    try:
        timed_cells(kernel, [f"a{i} = {i}" for i in range(3)])
        uuid = wait_for(lambda: local(db)["trial"]["uuid"], what="the trial")
        wait_for(lambda: pushed(database, uuid, 3), timeout=30, what="3 executions pushed")

        private_pg.stop()
        took = timed_cells(kernel, [f"b{i} = {i}\nprint(b{i})" for i in range(5)])
        print(f"5 cells with the team store stopped: {sum(took):.2f} s, "
              f"slowest {max(took) * 1000:.0f} ms")
        assert len(local(db)["executions"]) == 8, "recorded while the team store is down"
        wait_for(lambda: log_lines(log, DOWN), timeout=30, what="the log saying it is down")

        private_pg.start()
        # No new cell: the pushes that failed are retried until they succeed.
        got = wait_for(lambda: pushed(database, uuid, 8), timeout=90,
                       what="the executions of the down time pushed once it is back")
        assert (got["rows"], got["distinct"]) == (8, 8), got
        kernel.run("c = 1")
        got = wait_for(lambda: pushed(database, uuid, 9), timeout=30, what="the next cell")
    finally:
        stop_kernel(kernel)
    assert len(log_lines(log, DOWN)) == 1, log.read_text(errors="replace")
    assert len(log_lines(log, BACK)) == 1, log.read_text(errors="replace")
    got = wait_for(lambda: pushed(database, uuid, 9, "finished"), timeout=30, what="the end")
    assert [(t["rows"], t["distinct"]) for t in remote_trials(database)] == [(9, 9)]


def test_a_kernel_killed_mid_push_is_completed_by_the_next_push(tmp_path, pg_db):
    db = new_store(tmp_path / "work", {"team": pg_db.url})
    kernel = pushing_kernel(db, "erin", tmp_path / "kernel.log")
    try:
        kernel.run("import base64, os")
        for i in range(3):
            # Incompressible outputs make a bundle of a few MB: its push takes a while.
            kernel.run(f"blob{i} = base64.b64encode(os.urandom(1_500_000)).decode()\n"
                       f"print(blob{i})")
        uuid = local(db)["trial"]["uuid"]
        # The last commit started a push: kill the kernel while it runs.
        os.kill(kernel.process.pid, signal.SIGKILL)
        kernel.process.wait(timeout=30)
    finally:
        stop_kernel(kernel)
    seen = [t for t in remote_trials_or_none(pg_db) if t["uuid"] == uuid]
    print(f"at the kill the team store held: {seen}")
    # Whatever it held is whole: a trial's row and its executions come in one transaction.
    for t in seen:
        assert t["rows"] == t["executions"] == t["distinct"], t

    provctl(db, "push", "team")
    got = pushed(pg_db, uuid, 4)
    assert got and (got["rows"], got["distinct"]) == (4, 4), remote_trials(pg_db)
    # The local store marked the killed kernel's trial crashed; the team store says so too.
    assert got["status"] == local(db)["trial"]["status"] == "crashed"
    provctl(db, "push", "team")
    assert remote_trials(pg_db) == [got], "nothing doubled by pushing again"


def remote_trials_or_none(database) -> list[dict]:
    try:
        return remote_trials(database)
    except RuntimeError:  # the tables are made by the first push
        return []


def test_a_push_to_an_unknown_remote_is_one_log_line_and_the_kernel_records(tmp_path):
    db = new_store(tmp_path / "work", {})
    log = tmp_path / "kernel.log"
    kernel = pushing_kernel(db, "frank", log)  # PROV_PUSH=team, and no remote `team`
    try:
        assert kernel.run("print(6 * 7)").strip() == "42"
        wait_for(lambda: len(local(db)["executions"]) == 1, what="the cell recorded")
    finally:
        stop_kernel(kernel)
    said = log_lines(log, "not pushed to a team store")
    assert len(said) == 1 and "team" in said[0], log.read_text(errors="replace")
