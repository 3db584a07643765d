"""A local attacker on the kernel's five ports, and fuzzed traffic through the relay.

Unauthenticated peers send raw bytes (no key): frames announcing 2^36 bytes, messages adding up
past PROV_MAX_MESSAGE, random and mutated messages. After each attack the kernel must be alive,
answer kernel_info to a real client, keep its memory bounded and say in its log what it closed.
Seeded, bounded in count and time; PROV_SOAK=1 runs a longer fuzz.
"""

from __future__ import annotations

import json
import os
import random
import socket
import struct
import time
import uuid
from pathlib import Path

import pytest
import zmq
from jupyter_client.session import Session

from conftest import TIMEOUT, Kernel, reply_to

pytestmark = pytest.mark.prov

CHANNELS = ["shell", "control", "stdin", "iopub", "hb"]
SOAK = bool(os.environ.get("PROV_SOAK"))
SEED = int(os.environ.get("PROV_FUZZ_SEED", "20261206"))


def greeting() -> bytes:
    """A ZMTP 3.0 greeting with the NULL mechanism."""
    return b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0") + b"\0" * 32


def long_frame_header(length: int, flags: int = 0) -> bytes:
    return bytes([flags | 0x02]) + struct.pack(">Q", length)


ATTACK = greeting() + long_frame_header(2**36)
assert len(ATTACK) == 73


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def ports(k: Kernel) -> dict[str, int]:
    info = json.loads(Path(k.km.connection_file).read_text())
    return {ch: info[f"{ch}_port"] for ch in CHANNELS}


def closed_by_peer(sock: socket.socket, timeout: float = 10) -> bool:
    """Whether the other side closes the connection within `timeout` (reading what it sends)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def send_raw(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(data)
    return sock


def answers_kernel_info(k: Kernel, timeout: float = TIMEOUT) -> dict:
    assert k.km.is_alive(), "prov-kernel died"
    msg_id = k.kc.kernel_info()
    reply = reply_to(k.kc.get_shell_msg, msg_id, timeout)
    assert reply["content"]["status"] == "ok"
    return reply


def log_text(log: Path) -> str:
    return log.read_text(errors="replace")


def test_oversized_frame_on_every_socket_closes_that_connection_only(logged_kernel):
    k, log = logged_kernel
    pid = k.process.pid
    answers_kernel_info(k)
    before = rss_kib(pid)
    for round_ in range(5):
        for channel, port in ports(k).items():
            sock = send_raw(port, ATTACK)
            assert closed_by_peer(sock), f"{channel}: the connection stayed open"
            sock.close()
        answers_kernel_info(k)
    after = rss_kib(pid)
    assert after - before < 64 * 1024, f"RSS grew from {before} KiB to {after} KiB"
    text = log_text(log)
    for channel in ["shell", "control", "stdin", "iopub", "heartbeat"]:
        assert f"closing a {channel} connection from 127.0.0.1" in text, text[-2000:]
    assert "a frame of 68719476736 bytes is over PROV_MAX_MESSAGE" in text
    # A real client still runs code, and iopub still reaches it.
    msg_id = k.kc.execute("print(6 * 7)")
    assert reply_to(k.kc.get_shell_msg, msg_id)["content"]["status"] == "ok"


@pytest.mark.parametrize("logged_kernel", [{"PROV_MAX_MESSAGE": "1M"}], indirect=True)
def test_message_over_the_limit_in_small_frames_is_refused(logged_kernel):
    k, log = logged_kernel
    shell = ports(k)["shell"]
    # 5,000 frames of 255 bytes, each "more": 1.2 MiB before the message ends.
    frame = bytes([0x01, 255]) + b"x" * 255
    sock = send_raw(shell, greeting())
    try:
        for _ in range(5000):
            sock.sendall(frame)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed while we were still sending: what we want
    assert closed_by_peer(sock)
    sock.close()
    answers_kernel_info(k)
    assert "closing a shell connection" in log_text(log)
    assert "is over PROV_MAX_MESSAGE (1048576 bytes)" in log_text(log)


@pytest.mark.parametrize("logged_kernel", [{"PROV_MAX_MESSAGE": "1M"}], indirect=True)
def test_real_client_under_the_limit_works_and_over_it_is_cut_off(logged_kernel):
    k, log = logged_kernel
    # Under the limit: a 600 KB cell runs.
    msg_id = k.kc.execute("s = '" + "a" * 600_000 + "'\nprint(len(s))")
    assert reply_to(k.kc.get_shell_msg, msg_id)["content"]["status"] == "ok"
    # Over it: a fresh client's connection is closed; the kernel and other clients go on.
    other = k.new_client()
    other.execute("s = '" + "a" * 2_000_000 + "'")
    deadline = time.monotonic() + TIMEOUT
    while "closing a shell connection" not in log_text(log):
        assert time.monotonic() < deadline, "the oversized message was not refused"
        time.sleep(0.05)
    answers_kernel_info(k)


@pytest.mark.parametrize("logged_kernel", [{"PROV_MAX_MESSAGE": "1M"}], indirect=True)
def test_an_output_over_the_limit_still_reaches_the_client(logged_kernel):
    """The limit is on what local processes send to the ports, not on the child: a cell that
    prints or returns more than PROV_MAX_MESSAGE behaves as in plain Python 3."""
    k, log = logged_kernel
    msg_id = k.kc.execute("print('b' * 3_000_000)\n'c' * 2_000_000")
    assert reply_to(k.kc.get_shell_msg, msg_id)["content"]["status"] == "ok"
    printed, result, idle = 0, None, False
    deadline = time.monotonic() + TIMEOUT
    while not idle:
        assert time.monotonic() < deadline, "no idle after a large output"
        msg = k.kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            printed += content["text"].count("b")
        elif kind == "execute_result":
            result = content["data"]["text/plain"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    assert printed == 3_000_000
    assert result is not None and result.count("c") == 2_000_000
    assert "is over PROV_MAX_MESSAGE" not in log_text(log)
    answers_kernel_info(k)


# ------------------------------------------------------------------ fuzz


def signed_messages(session: Session, rng: random.Random) -> list[list[bytes]]:
    """Valid, signed messages of harmless types, with mutated JSON that still carries a good
    signature: the proxy must parse whatever a key holder sends without failing."""
    out = []
    for msg_type in ["kernel_info_request", "comm_info_request", "is_complete_request",
                     "complete_request", "inspect_request", "history_request",
                     "execute_request", "input_reply", "comm_msg", "nonsense_request"]:
        content = {"code": rng.choice(["1+1", "pass", "x = 1", "", "%trials"]),
                   "cursor_pos": 1, "silent": rng.random() < 0.5}
        msg = session.msg(msg_type, content=content)
        header, parent, metadata, content = (
            session.pack(msg["header"]), b"{}", b"{}", json.dumps(content).encode()
        )
        parts = [header, parent, metadata, content]
        mutation = rng.randrange(8)
        if mutation == 0:
            parts[0] = session.pack({k: v for k, v in msg["header"].items()
                                  if rng.random() < 0.5})
        elif mutation == 1:
            i = rng.randrange(4)
            parts[i] = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        elif mutation == 2:
            parts[3] = json.dumps({"code": rng.choice([1, None, [], {"a": 1}])}).encode()
        elif mutation == 3:
            parts[1] = json.dumps({"msg_id": str(uuid.uuid4()), "msg_type": "x"}).encode()
        elif mutation == 4:
            h = dict(msg["header"], msg_id=rng.choice(["", None, 7, "\u00ff" * 3]))
            parts[0] = session.pack(h)
        elif mutation == 5:
            parts[0] = parts[0].replace(b"_request", b"_reply")
        # 6, 7: unchanged
        frames = [b"<IDS|MSG>", session.sign(parts), *parts]
        if rng.random() < 0.3:
            frames += [os.urandom(rng.randrange(64)) for _ in range(rng.randrange(3))]
        out.append(frames)
    return out


def unsigned_mutants(valid: list[bytes], rng: random.Random) -> list[bytes]:
    frames = list(valid)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(6)
        i = rng.randrange(len(frames)) if frames else 0
        if op == 0 and frames:
            frames.pop(i)
        elif op == 1:
            frames.insert(i, os.urandom(rng.randrange(300)))
        elif op == 2 and frames and frames[i]:
            b = bytearray(frames[i])
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            frames[i] = bytes(b)
        elif op == 3 and frames:
            frames[i] = frames[i][: rng.randrange(len(frames[i]) + 1)]
        elif op == 4:
            frames = frames + frames[: rng.randrange(len(frames) + 1)]
        else:
            frames.insert(0, b"<IDS|MSG>")
    return frames or [b""]


def raw_zmtp_garbage(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return os.urandom(rng.randrange(1, 200))
    if kind == 1:
        return greeting() + os.urandom(rng.randrange(1, 2000))
    if kind == 2:
        return greeting() + long_frame_header(rng.randrange(2**28, 2**63), rng.randrange(8))
    g = bytearray(greeting())
    g[rng.randrange(len(g))] = rng.randrange(256)
    return bytes(g) + bytes([rng.randrange(8), rng.randrange(256)])


def fuzz_batch(k: Kernel, ctx: zmq.Context, session: Session, rng: random.Random) -> None:
    p = ports(k)
    socks = []
    try:
        for channel in ["shell", "control", "stdin"]:
            s = ctx.socket(zmq.DEALER)
            s.linger = 0
            s.connect(f"tcp://127.0.0.1:{p[channel]}")
            socks.append(s)
        sub = ctx.socket(zmq.SUB)
        sub.linger = 0
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://127.0.0.1:{p['iopub']}")
        socks.append(sub)
        valid = signed_messages(session, rng)
        for _ in range(20):
            sock = rng.choice(socks[:3])
            frames = rng.choice(valid)
            if rng.random() < 0.5:
                frames = unsigned_mutants(frames, rng)
            sock.send_multipart(frames)
        for _ in range(3):
            channel = rng.choice(CHANNELS)
            try:
                s = send_raw(p[channel], raw_zmtp_garbage(rng))
                s.close()
            except OSError:
                pass
    finally:
        time.sleep(0.05)
        for s in socks:
            s.close(linger=0)


def test_fuzzed_traffic_leaves_the_kernel_alive_and_answering(logged_kernel):
    k, log = logged_kernel
    rng = random.Random(SEED)
    info = json.loads(Path(k.km.connection_file).read_text())
    session = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
    ctx = zmq.Context()
    pid = k.process.pid
    batches = 3000 if SOAK else 15
    time_limit = 1800 if SOAK else 120
    started = time.monotonic()
    answers_kernel_info(k)
    before = rss_kib(pid)
    try:
        for batch in range(batches):
            fuzz_batch(k, ctx, session, rng)
            try:
                answers_kernel_info(k)
            except Exception as e:
                raise AssertionError(f"after batch {batch} (seed {SEED}): {e}") from e
            if time.monotonic() - started > time_limit:
                break
    finally:
        ctx.destroy(linger=0)
    after = rss_kib(pid)
    assert after - before < 128 * 1024, f"RSS grew from {before} KiB to {after} KiB"
    assert "panicked" not in log_text(log), log_text(log)[-3000:]
    # Still a working kernel for real clients: code runs and its output arrives.
    msg_id = k.kc.execute("print('still here')")
    assert reply_to(k.kc.get_shell_msg, msg_id)["content"]["status"] == "ok"
