"""Kernel plumbing: finding kernelspecs, starting kernels and timing requests on them, the
`Context` a benchmark receives.

Everything a benchmark needs to talk to a kernel lives here so that the
benchmarks themselves (the files bench/benchmarks.py imports) read as "what is measured",
not "how ZeroMQ is polled".  The two kernels being compared are called *sides*:
``direct`` (plain ipykernel) and ``prov`` (ipykernel behind prov-kernel).  What a benchmark
returns and the registry are in rows.py; their names are importable from here too, as the
benchmarks have always imported them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator

import zmq
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

from rows import (  # noqa: F401 - importable from here as before rows.py was split off
    REGISTRY,
    Benchmark,
    Row,
    benchmark,
    median,
    median_row,
    percentile,
    percentile_rows,
    prov_row,
)

# Generous per-wait limit: a healthy kernel answers in milliseconds, so a
# wait this long means it is hung, and the run should stop with a message
# instead of hanging the whole command.
DEFAULT_TIMEOUT_S = 60.0
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_GRACE_S = 5.0

SIDE_LABELS = ("direct", "prov")


class BenchError(RuntimeError):
    """A failure the user can act on; printed as one message, no traceback."""


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------


def resolve_kernelspec(kernel_name: str) -> dict[str, Any]:
    """Look a kernelspec up the way KernelManager will, or fail clearly.

    Done before anything starts so a missing ``python-prov`` is one readable
    error instead of a traceback from deep inside jupyter_client.  The
    resource dir is returned too: a same-named spec in ~/.local/share/jupyter
    silently shadows the venv's, and the report should show which one ran.
    """
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        hint = ""
        if kernel_name == "python-prov":
            hint = (
                "\n  install it with: target/release/prov-kernel install "
                "--sys-prefix --python .venv/bin/python"
                "\n  (bash scripts/bench.sh does this for you)"
            )
        raise BenchError(
            f"kernelspec {kernel_name!r} not found for this Python "
            f"(searched: {', '.join(KernelSpecManager().kernel_dirs)}){hint}"
        ) from None
    return {"name": kernel_name, "resource_dir": spec.resource_dir, "argv": spec.argv}


def process_tree(root_pid: int) -> set[int]:
    """PIDs of ``root_pid``'s descendants, read from /proc (Linux only).

    Used to notice a proxy that leaves its ipykernel child running after
    shutdown, which would skew every later measurement on a 2-core machine.
    """
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may contain spaces; ppid is after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    pending = [root_pid]
    while pending:
        for child in parents.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: set[int]) -> float:
    """User + system CPU time of the given live processes (all threads), from /proc."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile; its time is lost either way
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS_PER_S


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass(frozen=True)
class CpuTime:
    """CPU seconds of a kernel's launched process and of its whole process tree."""

    launched: float
    total: float

    def __add__(self, other: "CpuTime") -> "CpuTime":
        return CpuTime(self.launched + other.launched, self.total + other.total)

    def __sub__(self, other: "CpuTime") -> "CpuTime":
        return CpuTime(self.launched - other.launched, self.total - other.total)

    def __truediv__(self, count: float) -> "CpuTime":
        return CpuTime(self.launched / count, self.total / count)


@dataclass
class Arrival:
    """What :meth:`RunningKernel.wait_for` saw, with perf_counter() stamps."""

    reply: dict[str, Any] | None = None
    reply_at: float = 0.0
    idle_at: float = 0.0

    @property
    def completed_at(self) -> float:
        """When the later of the reply and the idle status was received."""
        return max(self.reply_at, self.idle_at)


@dataclass
class RunningKernel:
    """A kernel started through KernelManager, with a blocking client.

    The client's channel sockets are read directly (not through the
    client's async-wrapped ``get_*_msg``) so the harness's own overhead is
    small and the same for both sides.
    """

    label: str
    kernel_name: str
    manager: KernelManager
    client: Any
    warnings: list[str] = field(default_factory=list)
    _poller: zmq.Poller | None = None

    @classmethod
    def start(
        cls,
        label: str,
        kernel_name: str,
        cwd: str,
        log: IO[str],
        *,
        spec_manager: KernelSpecManager | None = None,
        startup_timeout: float = STARTUP_TIMEOUT_S,
    ) -> "RunningKernel":
        """Start the kernel and wait until it answers; shut down on failure.

        The kernel's stdout/stderr go to ``log`` rather than the terminal:
        ipykernel's start-up warnings would otherwise bury the progress lines,
        but a crash should still leave its traceback somewhere to read.
        PROV_DB is pinned inside ``cwd`` (for both sides, so their
        environments stay alike): a PROV_DB exported in the user's shell
        must not collect hundreds of benchmark executions.
        ``spec_manager`` looks the kernelspec up somewhere else than this
        Python's Jupyter paths (the ipyflow kernel lives in its own venv).
        """
        log.write(f"==== {time.strftime('%H:%M:%S')} starting {label} kernel ({kernel_name})\n")
        log.flush()
        env = dict(os.environ, PROV_DB=os.path.join(cwd, ".prov", "prov.db"))
        extra = {"kernel_spec_manager": spec_manager} if spec_manager is not None else {}
        manager = KernelManager(kernel_name=kernel_name, **extra)
        try:
            manager.start_kernel(cwd=cwd, env=env, stdout=log, stderr=log)
        except OSError as exc:  # e.g. the kernelspec's binary is missing or not executable
            raise BenchError(f"cannot launch the {label} kernel ({kernel_name}): {exc}") from exc
        kernel = cls(label=label, kernel_name=kernel_name, manager=manager, client=None)
        try:
            kernel.client = manager.client()
            kernel.client.start_channels()
            kernel.client.wait_for_ready(timeout=startup_timeout)
        except BaseException as exc:
            kernel.shutdown()
            if isinstance(exc, RuntimeError):
                raise BenchError(f"{label} kernel ({kernel_name}) did not become ready: {exc}") from exc
            raise
        return kernel

    @property
    def pid(self) -> int | None:
        """PID of the process KernelManager launched (prov-kernel or ipykernel)."""
        provisioner = getattr(self.manager, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def cpu_seconds(self) -> CpuTime:
        """CPU time used so far by the kernel's processes (prov-kernel and its child).

        Wall-clock ratios swing by 10-20 % when other work shares the two
        cores; CPU time moves less, and the launched process's own share
        (prov-kernel, on the prov side) is the relay's cost by itself.
        """
        pid = self.pid
        if not pid:
            return CpuTime(0.0, 0.0)
        own = cpu_seconds({pid})
        return CpuTime(launched=own, total=own + cpu_seconds(process_tree(pid)))

    def _sockets(self) -> tuple[zmq.Socket, zmq.Socket]:
        return self.client.shell_channel.socket, self.client.iopub_channel.socket

    def wait_for(
        self,
        msg_id: str,
        *,
        want_reply: bool,
        want_idle: bool,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_iopub: Callable[[dict[str, Any]], None] | None = None,
    ) -> Arrival:
        """Block until the shell reply and/or iopub idle for ``msg_id`` arrive.

        Both sockets are polled together, so neither queue backs up while the
        other is awaited (iopub is a PUB socket: a reader that falls behind
        loses messages), and each arrival is timestamped as it is read.
        ``on_iopub`` sees every iopub message parented by ``msg_id``.
        """
        shell, iopub = self._sockets()
        if self._poller is None:
            self._poller = zmq.Poller()
            self._poller.register(shell, zmq.POLLIN)
            self._poller.register(iopub, zmq.POLLIN)
        deadline = time.monotonic() + timeout
        arrival = Arrival()
        need_reply, need_idle = want_reply, want_idle
        while need_reply or need_idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                waiting = " and ".join(
                    name for name, flag in (("shell reply", need_reply), ("iopub idle", need_idle)) if flag
                )
                raise BenchError(
                    f"{self.label} kernel ({self.kernel_name}): no {waiting} for request "
                    f"{msg_id} within {timeout:.0f}s"
                )
            ready = dict(self._poller.poll(remaining * 1e3))
            if shell in ready:
                msg = self.client.shell_channel.get_msg(timeout=0)
                if msg["parent_header"].get("msg_id") == msg_id:
                    arrival.reply, arrival.reply_at = msg, time.perf_counter()
                    need_reply = False
            if iopub in ready:
                msg = self.client.iopub_channel.get_msg(timeout=0)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if on_iopub is not None:
                    on_iopub(msg)
                if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                    arrival.idle_at, need_idle = time.perf_counter(), False
        return arrival

    def execute(
        self,
        code: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_iopub: Callable[[dict[str, Any]], None] | None = None,
    ) -> tuple[float, dict[str, Any]]:
        """Run ``code``; return (seconds from send to reply-and-idle, reply).

        The clock starts before the request is serialised and stops once both
        the execute_reply and the matching iopub idle have been received:
        that is when a front end can treat the cell as finished.
        """
        started = time.perf_counter()
        msg_id = self.client.execute(code, store_history=False)
        arrival = self.wait_for(msg_id, want_reply=True, want_idle=True, timeout=timeout, on_iopub=on_iopub)
        assert arrival.reply is not None
        if arrival.reply["content"].get("status") != "ok":
            raise BenchError(f"{self.label} kernel: {code[:40]!r} failed: {arrival.reply['content']}")
        return arrival.completed_at - started, arrival.reply

    def kernel_info(self, timeout: float = DEFAULT_TIMEOUT_S) -> float:
        """Seconds from sending kernel_info_request to receiving its reply.

        The matching iopub idle is awaited too (untimed) so the kernel is
        quiescent before the next request.
        """
        started = time.perf_counter()
        msg_id = self.client.kernel_info()
        arrival = self.wait_for(msg_id, want_reply=True, want_idle=True, timeout=timeout)
        return arrival.reply_at - started

    def drain_iopub(self) -> None:
        """Discard iopub messages already received, without waiting for more.

        Called between measurements so stale messages never sit in front of
        the next one's.  It must not wait: a pause lets the kernel's threads
        go idle and makes the next request measurably slower (seen as ~2x
        with a 50 ms pause before every request on the 2-core machine).
        """
        channel = self.client.iopub_channel
        while channel.socket.poll(0):
            channel.get_msg(timeout=0)

    def shutdown(self) -> None:
        """Shut the kernel down; never raises, records oddities as warnings.

        Asks politely first (KernelManager waits, then kills), then checks
        that every process the kernel had spawned is gone; a survivor is
        terminated by PID and reported, since it would keep competing for
        the machine's two cores.
        """
        pid = self.pid
        children = process_tree(pid) if pid else set()
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
        try:
            if self.manager.has_kernel:
                self.manager.shutdown_kernel(now=False)
        except Exception as exc:  # noqa: BLE001 - best effort; fall back to kill
            self.warnings.append(f"{self.label}: graceful shutdown failed ({exc}); killing")
            with contextlib.suppress(Exception):
                self.manager.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            self.manager.cleanup_resources()
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        survivors = {p for p in children if pid_alive(p)}
        while survivors and time.monotonic() < deadline:
            time.sleep(0.05)
            survivors = {p for p in survivors if pid_alive(p)}
        if survivors:
            self.warnings.append(
                f"{self.label} ({self.kernel_name}): child process(es) {sorted(survivors)} "
                f"outlived kernel shutdown by {SHUTDOWN_GRACE_S:.0f}s; sent SIGTERM"
            )
            for survivor in survivors:
                with contextlib.suppress(OSError):
                    os.kill(survivor, signal.SIGTERM)


@dataclass
class Context:
    """What a benchmark function receives.

    ``kernel_names`` maps side label to kernelspec name; ``pair`` holds the
    shared kernels of ``needs_pair`` benchmarks (``None`` for the others);
    ``workdir`` is the scratch cwd every kernel is started in, so whatever a
    kernel writes there stays out of the repository; ``kernel_log`` receives
    every kernel's stdout and stderr.
    """

    kernel_names: dict[str, str]
    workdir: str
    kernel_log: IO[str]
    pair: dict[str, RunningKernel] | None = None
    warnings: list[str] = field(default_factory=list)

    def sides_in_turn(self, round_index: int) -> tuple[str, ...]:
        """Side order for one round: flips every round (AB, BA, AB, ...).

        Alternating which side goes first cancels "first after a pause" and
        "second while the other cools down" effects between the two.
        """
        return SIDE_LABELS if round_index % 2 == 0 else SIDE_LABELS[::-1]

    @contextlib.contextmanager
    def started(self, label: str) -> Iterator[RunningKernel]:
        """A fresh kernel for one side, always shut down afterwards."""
        kernel = RunningKernel.start(label, self.kernel_names[label], self.workdir, self.kernel_log)
        try:
            yield kernel
        finally:
            kernel.shutdown()
            self.warnings.extend(kernel.warnings)


@contextlib.contextmanager
def started_pair(ctx: Context) -> Iterator[dict[str, RunningKernel]]:
    """Both sides' kernels, alive together, shut down whatever happens."""
    with contextlib.ExitStack() as stack:
        pair = {label: stack.enter_context(ctx.started(label)) for label in SIDE_LABELS}
        yield pair


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Collect, then keep the client's garbage collector off for a block.

    A collection landing inside one sample would show up as a p95 outlier on
    whichever side happened to be running; collecting between blocks keeps
    that noise out of both.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
