"""Shared fixtures and helpers for the prov Python test suite.

The kernel under test is the kernelspec named by $PROV_TEST_KERNEL (default
python-prov). Tests marked ``prov`` check behaviour only the prov proxy has and
are skipped for any other kernel, so ``PROV_TEST_KERNEL=python3`` runs the rest
of the suite against plain ipykernel as a reference.

Every kernel gets its own provenance store ($PROV_DB) in a temporary directory.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any, Iterator

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

KERNEL_NAME = os.environ.get("PROV_TEST_KERNEL", "python-prov")
REFERENCE_KERNEL = "python3"
REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"

# Generous upper bound for any single reply; individual tests assert tighter
# limits where the contract demands one.
TIMEOUT = 30


def _is_prov_kernel(name: str) -> bool:
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return name == "python-prov"
    return Path(spec.argv[0]).name.startswith("prov-kernel")


IS_PROV = _is_prov_kernel(KERNEL_NAME)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "prov: behaviour specific to the prov proxy (skipped for other kernels)"
    )
    config.addinivalue_line(
        "markers", "wheel: builds and installs the pip wheel (skipped with PROV_SKIP_WHEEL=1)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    kind = "prov proxy" if IS_PROV else "not prov: prov-specific tests are skipped"
    return f"kernel under test: {KERNEL_NAME} ({kind})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_PROV:
        return
    skip = pytest.mark.skip(reason=f"prov-specific; kernel under test is {KERNEL_NAME}")
    for item in items:
        if "prov" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def prov_db_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Default $PROV_DB for kernels started without an explicit one (e.g. by
    jupyter_kernel_test), so no test writes into the repository's .prov/."""
    d = tmp_path_factory.mktemp("prov")
    old = os.environ.get("PROV_DB")
    os.environ["PROV_DB"] = str(d / "session.db")
    yield d
    if old is None:
        os.environ.pop("PROV_DB", None)
    else:
        os.environ["PROV_DB"] = old


# --------------------------------------------------------------------------
# A started kernel with one client, plus message helpers.


@dataclass
class Kernel:
    km: KernelManager
    kc: BlockingKernelClient
    db: Path
    extra_clients: list[BlockingKernelClient] = field(default_factory=list)

    def new_client(self) -> BlockingKernelClient:
        """A second frontend: its own Session (and so its own zmq identity),
        connected through the same connection file."""
        kc = BlockingKernelClient()
        kc.load_connection_file(self.km.connection_file)
        kc.start_channels()
        kc.wait_for_ready(timeout=TIMEOUT)
        drain(kc)
        self.extra_clients.append(kc)
        return kc

    @property
    def process(self):
        """The Popen of the process the kernelspec started (prov-kernel itself
        when testing prov)."""
        return self.km.provisioner.process  # type: ignore[union-attr]

    def execute(self, code: str, kc: BlockingKernelClient | None = None,
                timeout: float = TIMEOUT, **kw: Any):
        """Execute and return (reply, iopub outputs) for that request."""
        kc = kc or self.kc
        msg_id = kc.execute(code, **kw)
        reply = shell_reply(kc, msg_id, timeout)
        return reply, iopub_until_idle(kc, msg_id, timeout)

    def run(self, code: str, kc: BlockingKernelClient | None = None, **kw: Any) -> str:
        """Execute, assert success and return everything printed to stdout."""
        reply, outputs = self.execute(code, kc=kc, **kw)
        assert reply["content"]["status"] == "ok", error_text(reply)
        return stream_text(outputs, "stdout")


def start_kernel(name: str, db: Path, cwd: Path | None = None,
                 env: dict[str, str] | None = None, log: Path | None = None) -> Kernel:
    """A started kernel with one client; `env` adds to the environment, and the kernel's stderr
    goes to the file `log` when given."""
    km = KernelManager(kernel_name=name)
    full_env = dict(os.environ, PROV_DB=str(db), **(env or {}))
    if log is None:
        km.start_kernel(env=full_env, cwd=str(cwd or db.parent))
    else:
        with open(log, "wb") as stderr:
            km.start_kernel(env=full_env, cwd=str(cwd or db.parent), stderr=stderr)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
    except Exception:
        stop_kernel(Kernel(km, kc, db))
        raise
    drain(kc)
    return Kernel(km, kc, db)


def stop_kernel(k: Kernel) -> None:
    for kc in [k.kc, *k.extra_clients]:
        kc.stop_channels()
    if k.km.has_kernel:
        # Graceful when alive (shutdown_request, then wait); kill otherwise.
        k.km.shutdown_kernel(now=not k.km.is_alive())
    k.km.cleanup_resources()


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    """A fresh kernel under test, shut down afterwards whatever happens."""
    k = start_kernel(KERNEL_NAME, tmp_path / "prov.db", cwd=tmp_path)
    try:
        yield k
    finally:
        stop_kernel(k)


@pytest.fixture
def logged_kernel(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Kernel, Path]]:
    """A fresh kernel and the file its stderr goes to; an indirect parameter (a dict) adds to its
    environment."""
    log = tmp_path / "kernel.log"
    env = getattr(request, "param", None) or {}
    k = start_kernel(KERNEL_NAME, tmp_path / "prov.db", cwd=tmp_path, env=env, log=log)
    try:
        yield k, log
    finally:
        stop_kernel(k)


# --------------------------------------------------------------------------
# Message helpers (work on any BlockingKernelClient).


def receive(get, timeout: float, what: str) -> Iterator[dict]:
    """Messages from a channel getter (kc.get_shell_msg, ...) as they arrive;
    TimeoutError naming `what` once timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no {what} within {timeout}s")
        try:
            msg = get(timeout=remaining)
        except Empty:
            continue
        yield msg


def queued(get, quiet: float = 0.1) -> list[dict]:
    """The messages a channel delivers until it stays quiet for `quiet` s."""
    out = []
    while True:
        try:
            out.append(get(timeout=quiet))
        except Empty:
            return out


def drain(kc: BlockingKernelClient) -> None:
    """Discard queued shell and iopub messages. wait_for_ready re-sends
    kernel_info_request every second until it sees iopub traffic, so on a slow
    start it leaves late kernel_info replies behind."""
    queued(kc.get_shell_msg)
    queued(kc.get_iopub_msg)


def reply_to(get, msg_id: str, timeout: float = TIMEOUT) -> dict:
    """The reply to msg_id from a channel getter, skipping other messages."""
    for msg in receive(get, timeout, f"reply to {msg_id}"):
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg
    raise AssertionError("unreachable")


def shell_reply(kc: BlockingKernelClient, msg_id: str, timeout: float = TIMEOUT) -> dict:
    """The shell reply to msg_id, skipping replies to other requests."""
    return reply_to(kc.get_shell_msg, msg_id, timeout)


def control_request(
    kc: BlockingKernelClient, msg_type: str, content: dict | None = None,
    timeout: float = TIMEOUT,
) -> dict:
    """Send a request on the control channel and return its reply."""
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    return reply_to(kc.get_control_msg, msg["header"]["msg_id"], timeout)


def execute_in_cell(kc: BlockingKernelClient, code: str, cell_id: str) -> str:
    """Send an execute_request as JupyterLab does, with the cell's id in metadata.cellId (which
    jupyter_client's execute() cannot set); its msg_id."""
    msg = kc.session.msg("execute_request", {
        "code": code, "silent": False, "store_history": True,
        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True,
    }, metadata={"cellId": cell_id})
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def iopub_until_idle(kc: BlockingKernelClient, msg_id: str, timeout: float = TIMEOUT) -> list[dict]:
    """All iopub messages caused by msg_id, up to its idle status (excluded),
    without the busy status and execute_input."""
    return iopub_until_all_idle(kc, [msg_id], timeout)[msg_id]


def iopub_until_all_idle(
    kc: BlockingKernelClient, msg_ids: list[str], timeout: float = TIMEOUT
) -> dict[str, list[dict]]:
    """Like iopub_until_idle for several requests whose messages may arrive in
    any order (e.g. from different frontends): outputs per msg_id."""
    out: dict[str, list[dict]] = {m: [] for m in msg_ids}
    pending = set(msg_ids)
    for msg in receive(kc.get_iopub_msg, timeout, f"idle status for all of {msg_ids}"):
        parent = msg["parent_header"].get("msg_id")
        if parent not in pending:
            continue
        kind = msg["msg_type"]
        if kind == "status":
            if msg["content"]["execution_state"] == "idle":
                pending.discard(parent)
        elif kind != "execute_input":
            out[parent].append(msg)
        if not pending:
            return out
    raise AssertionError("unreachable")


def stream_text(outputs: list[dict], name: str = "stdout") -> str:
    return "".join(
        m["content"]["text"]
        for m in outputs
        if m["msg_type"] == "stream" and m["content"]["name"] == name
    )


class MagicAnswer(dict):
    """A prov magic's answer as a cell shows it: the MIME bundle of its answer (this dict:
    text/plain and text/html only), its machine-readable JSON (`json`, from the output's
    metadata `prov.json`) and the bundles of its pictures (`pictures`: image/svg+xml,
    image/png, text/plain), each an output of its own."""

    def __init__(self, data: dict, json, pictures: list[dict]):
        super().__init__(data)
        self.json = json
        self.pictures = pictures


def magic_answer(outputs: list[dict]) -> MagicAnswer:
    """The answer of the one prov magic among a cell's iopub messages: a display_data marked
    `{"prov": {"magic": ...}}` with the JSON in its metadata, followed by its picture, if any."""
    shown = [m for m in outputs if m["msg_type"] == "display_data"]
    answers = [m for m in shown if not m["content"]["metadata"]["prov"].get("picture")]
    pictures = [m for m in shown if m["content"]["metadata"]["prov"].get("picture")]
    assert len(answers) == 1 and len(pictures) <= 1, [m["msg_type"] for m in outputs]
    for m in shown:
        assert m["content"]["metadata"]["prov"]["magic"].startswith("%"), m["content"]["metadata"]
    data = answers[0]["content"]["data"]
    # Only what every front end renders as HTML: no JSON tree, no inline picture.
    assert set(data) == {"text/plain", "text/html"}, set(data)
    assert "<svg" not in data["text/html"]
    return MagicAnswer(data, answers[0]["content"]["metadata"]["prov"]["json"],
                       [p["content"]["data"] for p in pictures])


def run_magic(kernel: "Kernel", code: str) -> MagicAnswer:
    """Runs a cell holding one prov magic; asserts it succeeded and returns its answer."""
    reply, outputs = kernel.execute(code)
    assert reply["content"]["status"] == "ok", reply["content"]
    return magic_answer(outputs)


def error_text(reply: dict) -> str:
    c = reply["content"]
    return "\n".join([c.get("ename", ""), c.get("evalue", ""), *c.get("traceback", [])])


def no_message(get, timeout: float) -> bool:
    """True if the channel getter yields nothing within timeout seconds."""
    try:
        get(timeout=timeout)
    except Empty:
        return True
    return False


# --------------------------------------------------------------------------
# A real PostgreSQL for the team-store tests (tests/python/pg.py).


@pytest.fixture(scope="session")
def pg_server() -> Iterator["Server"]:
    """The session's PostgreSQL: $PROV_TEST_PG (with $PGPASSFILE), else a throwaway one; a
    failure under CI=true, a skip with the reason otherwise."""
    from pg import shared_server

    server, private, why = shared_server()
    if server is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why)
        pytest.skip(why)
    old = os.environ.get("PGPASSFILE")
    # Kernels and provctl started by the tests inherit it.
    os.environ["PGPASSFILE"] = str(server.passfile)
    try:
        yield server
    finally:
        if old is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = old
        if private is not None:
            private.remove()


@pytest.fixture
def pg_db(pg_server) -> Iterator["Database"]:
    """A database of this test's own on the session's PostgreSQL, dropped afterwards."""
    db = pg_server.create_database()
    try:
        yield db
    finally:
        db.drop()
