"""Kernel plumbing, timing helpers and the benchmark registry.

Everything a benchmark needs to talk to a kernel lives here so that the
benchmarks themselves (bench/benchmarks.py) read as "what is measured", not
"how ZeroMQ is polled".  The two kernels being compared are called *sides*:
``direct`` (plain ipykernel) and ``prov`` (ipykernel behind prov-kernel).
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import signal
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator

import zmq
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

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
# Statistics
# --------------------------------------------------------------------------


def percentile(samples: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy.

    The venv is not guaranteed to have numpy, and the harness must run with
    nothing beyond what ipykernel and jupyter_client pull in.
    """
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: list[float]) -> float:
    """Median via :func:`percentile`, so every figure uses one definition."""
    return percentile(samples, 50.0)


@dataclass
class Row:
    """One line of the results: a metric measured on both sides, or on prov alone.

    ``direct`` is ``None`` for what plain ipykernel has no counterpart of
    (the store's size, provctl's speed); such rows have no ratio and go in
    the report's second table.  ``target`` is the highest acceptable
    prov/direct ratio, or ``None`` when the metric is reported for
    information only.
    """

    benchmark: str
    metric: str
    unit: str
    direct: float | None
    prov: float
    samples: int
    target: float | None = None
    note: str = ""
    # Figures of further kernels measured in the same run on the same work
    # (e.g. {"ipyflow": 812.0}), in ``unit``; rendered in their own table.
    others: dict[str, float] = field(default_factory=dict)
    # Names in ``others`` whose figure is only a lower bound (a run stopped at its limit).
    others_at_least: set[str] = field(default_factory=set)

    @property
    def prov_only(self) -> bool:
        """True for a figure of prov alone (no direct side to compare with)."""
        return self.direct is None

    @property
    def ratio(self) -> float | None:
        """prov / direct; ``inf`` if the direct figure is zero, ``None`` for prov-only rows."""
        if self.direct is None:
            return None
        return self.prov / self.direct if self.direct else math.inf

    @property
    def passed(self) -> bool | None:
        """Whether the row meets its target; ``None`` when there is none.

        For a prov/direct row the target is the highest acceptable ratio; for
        a prov-only row it is the highest acceptable figure, in ``unit``.
        """
        if self.target is None:
            return None
        if self.direct is None:
            return self.prov <= self.target
        ratio = self.ratio
        return None if ratio is None else ratio <= self.target

    def to_json(self) -> dict[str, Any]:
        """Plain dict for bench/out/latest.json, ratio and verdict included."""
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "unit": self.unit,
            "direct": self.direct,
            "prov": self.prov,
            "ratio": self.ratio,
            "target": self.target,
            "passed": self.passed,
            "samples": self.samples,
            "note": self.note,
            # NaN (not measured) as null: JSON has no NaN.
            "others": {k: (None if math.isnan(v) else v) for k, v in self.others.items()},
            "others_at_least": sorted(self.others_at_least),
        }


def percentile_rows(
    benchmark: str,
    samples: dict[str, list[float]],
    targets: dict[int, float | None],
    note: str = "",
) -> list[Row]:
    """Rows for the requested percentiles of per-side samples, in ms.

    ``samples`` maps side label to durations in seconds; ``targets`` maps a
    percentile (50, 95) to its ratio target.
    """
    rows = []
    for pct, target in targets.items():
        rows.append(
            Row(
                benchmark=benchmark,
                metric=f"p{pct}",
                unit="ms",
                direct=percentile(samples["direct"], pct) * 1e3,
                prov=percentile(samples["prov"], pct) * 1e3,
                samples=min(len(v) for v in samples.values()),
                target=target,
                note=note,
            )
        )
    return rows


def prov_row(
    benchmark: str,
    metric: str,
    unit: str,
    value: float,
    samples: int,
    note: str = "",
    target: float | None = None,
) -> Row:
    """A figure of prov alone (store size, provctl time): no direct side, no ratio.

    ``target``, if given, is the highest acceptable value in ``unit``.
    """
    return Row(
        benchmark=benchmark,
        metric=metric,
        unit=unit,
        direct=None,
        prov=value,
        samples=samples,
        note=note,
        target=target,
    )


def median_row(
    benchmark: str,
    samples: dict[str, list[float]],
    target: float | None = None,
    note: str = "",
) -> Row:
    """One row with the median of per-side samples (seconds), in ms."""
    return Row(
        benchmark=benchmark,
        metric="median",
        unit="ms",
        direct=median(samples["direct"]) * 1e3,
        prov=median(samples["prov"]) * 1e3,
        samples=min(len(v) for v in samples.values()),
        target=target,
        note=note,
    )


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------


@dataclass
class Benchmark:
    """A registered benchmark: a function plus its full and quick settings.

    ``needs_pair`` benchmarks share two long-lived kernels (one per side,
    both alive at once); the others start their own kernels and run after
    the shared pair is shut down, so idle kernels do not disturb them.
    ``optional`` ones (minutes long) run only when asked for by name or flag.
    """

    name: str
    func: Callable[..., list[Row]]
    full: dict[str, Any]
    quick: dict[str, Any]
    needs_pair: bool
    description: str
    optional: bool = False


REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    name: str,
    *,
    full: dict[str, Any],
    quick: dict[str, Any],
    needs_pair: bool = True,
    optional: bool = False,
) -> Callable[[Callable[..., list[Row]]], Callable[..., list[Row]]]:
    """Register ``func(ctx, **settings) -> list[Row]`` under ``name``.

    Registration order is run order.  ``full`` and ``quick`` are the keyword
    settings for a normal run and for ``--quick``.
    """

    def register(func: Callable[..., list[Row]]) -> Callable[..., list[Row]]:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Benchmark(
            name=name,
            func=func,
            full=full,
            quick=quick,
            needs_pair=needs_pair,
            description=doc[0] if doc else "",
            optional=optional,
        )
        return func

    return register


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
