"""Protocol behaviour over all five channels, with real jupyter_client clients
against a real kernel (the one under test; see conftest.py)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import zmq
from jupyter_client.session import Session

from conftest import (
    TIMEOUT,
    Kernel,
    control_request,
    error_text,
    iopub_until_all_idle,
    iopub_until_idle,
    no_message,
    queued,
    receive,
    shell_reply,
    stop_kernel,
    stream_text,
)

# ---------------------------------------------------------------- stdin


def answer_input_request(k: Kernel, code: str, answer: str):
    """Execute code that reads stdin, answer its one input_request, and return
    (input_request content, execute reply, outputs)."""
    msg_id = k.kc.execute(code, allow_stdin=True)
    req = k.kc.get_stdin_msg(timeout=TIMEOUT)
    assert req["msg_type"] == "input_request"
    assert req["parent_header"]["msg_id"] == msg_id
    k.kc.input(answer)
    reply = shell_reply(k.kc, msg_id)
    return req["content"], reply, iopub_until_idle(k.kc, msg_id)


def test_input_answered_over_stdin(kernel: Kernel):
    req, reply, outputs = answer_input_request(
        kernel, "name = input('Your name: ')\nprint('hello', name[::-1])", "Ada Lovelace"
    )
    assert req == {"prompt": "Your name: ", "password": False}
    assert reply["content"]["status"] == "ok", error_text(reply)
    assert "hello ecalevoL adA\n" in stream_text(outputs)


def test_getpass_answered_over_stdin(kernel: Kernel):
    req, reply, outputs = answer_input_request(
        kernel,
        "import getpass\nsecret = getpass.getpass('Password: ')\nprint(len(secret), secret.upper())",
        "s3cret",
    )
    assert req["password"] is True
    assert req["prompt"] == "Password: "
    assert reply["content"]["status"] == "ok", error_text(reply)
    assert stream_text(outputs) == "6 S3CRET\n"


def test_input_without_allow_stdin_fails_cleanly(kernel: Kernel):
    reply, _ = kernel.execute("input('x')", allow_stdin=False)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "StdinNotImplementedError"
    assert no_message(kernel.kc.get_stdin_msg, 0.5)


# ---------------------------------------------------------------- control


def test_interrupt_sleep(kernel: Kernel):
    kc = kernel.kc
    msg_id = kc.execute("import time\ntime.sleep(30)\nprint('not interrupted')")
    # Wait until the code is actually running before interrupting.
    for msg in receive(kc.get_iopub_msg, TIMEOUT, "execute_input"):
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            break
    time.sleep(0.3)
    start = time.monotonic()
    kernel.km.interrupt_kernel()
    reply = shell_reply(kc, msg_id, timeout=10)
    elapsed = time.monotonic() - start
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert elapsed < 2.0, f"interrupt took {elapsed:.2f}s"
    assert "not interrupted" not in stream_text(iopub_until_idle(kc, msg_id))
    # The kernel keeps working afterwards.
    assert kernel.run("print(6 * 7)") == "42\n"


def test_restart_clears_state(kernel: Kernel):
    pid_before = kernel.run("import os\nstate = 'set before restart'\nprint(os.getpid())")
    assert kernel.run("print(state)") == "set before restart\n"

    kernel.km.restart_kernel()
    kernel.kc.wait_for_ready(timeout=60)

    reply, _ = kernel.execute("state")
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "NameError"
    pid_after = kernel.run("import os\nprint(os.getpid())")
    assert pid_after != pid_before
    assert kernel.run("print(sum(range(10)))") == "45\n"


def test_kernel_info_on_shell_and_control(kernel: Kernel):
    kc = kernel.kc
    shell = shell_reply(kc, kc.kernel_info())
    control = control_request(kc, "kernel_info_request")
    assert shell["msg_type"] == control["msg_type"] == "kernel_info_reply"
    for reply in (shell, control):
        c = reply["content"]
        assert c["status"] == "ok"
        assert c["protocol_version"].startswith("5.")
        assert c["implementation"] == "ipython"
        assert c["language_info"]["name"] == "python"
        assert c["language_info"]["file_extension"] == ".py"
    # The banner ends with a randomly chosen IPython tip; the rest must match.
    for reply in (shell, control):
        reply["content"].pop("banner")
    assert shell["content"] == control["content"]


def test_debug_request_is_answered(kernel: Kernel):
    """debug_request goes to ipykernel's debugger (debugpy) and comes back."""
    reply = control_request(
        kernel.kc,
        "debug_request",
        {
            "type": "request",
            "seq": 1,
            "command": "initialize",
            "arguments": {
                "clientID": "prov-tests",
                "adapterID": "python",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
            },
        },
    )
    assert reply["msg_type"] == "debug_reply"
    c = reply["content"]
    assert c["type"] == "response"
    assert c["command"] == "initialize"
    assert c["success"] is True, c
    assert c["body"]["supportsConfigurationDoneRequest"] is True


def test_shutdown(kernel: Kernel):
    reply = control_request(kernel.kc, "shutdown_request", {"restart": False})
    assert reply["msg_type"] == "shutdown_reply"
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["restart"] is False
    assert kernel.process.wait(timeout=15) == 0
    assert not kernel.km.is_alive()


# ---------------------------------------------------------------- heartbeat


def test_heartbeat_echoes(kernel: Kernel):
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ)
    sock.linger = 0
    try:
        sock.connect(kernel.km._make_url("hb"))
        for payload in (b"ping", uuid.uuid4().bytes, b"x" * 1000):
            sock.send(payload)
            assert sock.poll(5000), "no heartbeat echo within 5 s"
            assert sock.recv() == payload
    finally:
        sock.close()
    assert kernel.kc.is_alive()


# ---------------------------------------------------------------- shell / iopub


COMM_ECHO_TARGET = """
def _echo_target(comm, open_msg):
    def _on_msg(msg):
        comm.send({'echo': msg['content']['data']},
                  buffers=[bytes(b)[::-1] for b in msg['buffers']])
    comm.on_msg(_on_msg)
    comm.send({'opened_with': open_msg['content']['data']},
              buffers=[bytes(b)[::-1] for b in open_msg['buffers']])

get_ipython().kernel.comm_manager.register_target('prov_echo', _echo_target)
"""


def comm_messages(kc, parent_id: str) -> list[dict]:
    return [m for m in iopub_until_idle(kc, parent_id) if m["msg_type"] == "comm_msg"]


def test_comm_roundtrip_with_binary_buffer(kernel: Kernel):
    kc = kernel.kc
    kernel.run(COMM_ECHO_TARGET)
    comm_id = uuid.uuid4().hex
    open_buf = bytes(range(256)) * 4 + b"\x00\xff"

    msg = kc.session.msg(
        "comm_open", {"comm_id": comm_id, "target_name": "prov_echo", "data": {"hello": 1}}
    )
    msg["buffers"] = [open_buf]
    kc.shell_channel.send(msg)
    (opened,) = comm_messages(kc, msg["header"]["msg_id"])
    assert opened["content"]["comm_id"] == comm_id
    assert opened["content"]["data"] == {"opened_with": {"hello": 1}}
    assert [bytes(b) for b in opened["buffers"]] == [open_buf[::-1]]

    bufs = [b"\x01\x02\x03binary\x00payload", bytes(reversed(range(256)))]
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"n": 2}})
    msg["buffers"] = bufs
    kc.shell_channel.send(msg)
    (echo,) = comm_messages(kc, msg["header"]["msg_id"])
    assert echo["content"]["data"] == {"echo": {"n": 2}}
    assert [bytes(b) for b in echo["buffers"]] == [b[::-1] for b in bufs]


def test_large_stream_complete_and_in_order(kernel: Kernel):
    n = 100_000
    reply, outputs = kernel.execute(f"for i in range({n}):\n    print(i)", timeout=120)
    assert reply["content"]["status"] == "ok"
    lines = stream_text(outputs).split("\n")
    assert lines[-1] == ""
    assert lines[:-1] == [str(i) for i in range(n)]
    assert stream_text(outputs, "stderr") == ""


def test_two_frontends_get_their_own_replies(kernel: Kernel):
    kc1 = kernel.kc
    kc2 = kernel.new_client()
    assert kc1.session.session != kc2.session.session

    id1 = kc1.execute("print('from one')")
    id2 = kc2.execute("print('from two')")
    r2 = kc2.get_shell_msg(timeout=TIMEOUT)
    r1 = kc1.get_shell_msg(timeout=TIMEOUT)
    assert (r1["msg_type"], r1["parent_header"]["msg_id"]) == ("execute_reply", id1)
    assert (r2["msg_type"], r2["parent_header"]["msg_id"]) == ("execute_reply", id2)
    assert r1["parent_header"]["session"] == kc1.session.session
    assert r2["parent_header"]["session"] == kc2.session.session
    # No reply is delivered twice or to the wrong frontend.
    assert no_message(kc1.get_shell_msg, 0.5)
    assert no_message(kc2.get_shell_msg, 0.5)

    # iopub is broadcast: both frontends see both outputs.
    for kc in (kc1, kc2):
        outputs = iopub_until_all_idle(kc, [id1, id2])
        assert stream_text(outputs[id1]) == "from one\n"
        assert stream_text(outputs[id2]) == "from two\n"


def test_two_frontends_stdin_goes_to_the_asker(kernel: Kernel):
    kc1 = kernel.kc
    kc2 = kernel.new_client()
    msg_id = kc2.execute("print('got', input('second? '))", allow_stdin=True)
    req = kc2.get_stdin_msg(timeout=TIMEOUT)
    assert req["content"]["prompt"] == "second? "
    assert no_message(kc1.get_stdin_msg, 1.0), "input_request leaked to the other frontend"
    kc2.input("answer-two")
    reply = shell_reply(kc2, msg_id)
    assert reply["content"]["status"] == "ok", error_text(reply)
    assert stream_text(iopub_until_idle(kc2, msg_id)) == "got answer-two\n"
    assert no_message(kc1.get_shell_msg, 0.3)

    # And the other way round, on the same kernel.
    msg_id = kc1.execute("print('got', input('first? '))", allow_stdin=True)
    assert kc1.get_stdin_msg(timeout=TIMEOUT)["content"]["prompt"] == "first? "
    assert no_message(kc2.get_stdin_msg, 1.0)
    kc1.input("answer-one")
    assert shell_reply(kc1, msg_id)["content"]["status"] == "ok"
    assert stream_text(iopub_until_idle(kc1, msg_id)) == "got answer-one\n"


def execute_request(session: Session, code: str) -> dict:
    return session.msg("execute_request", {
        "code": code, "silent": False, "store_history": True, "user_expressions": {},
        "allow_stdin": False, "stop_on_error": True,
    })


def test_badly_signed_message_is_dropped(kernel: Kernel):
    info = kernel.km.get_connection_info()
    good = Session(key=info["key"], signature_scheme=info["signature_scheme"])
    bad = Session(key=b"not-the-key-" + uuid.uuid4().hex.encode(),
                  signature_scheme=info["signature_scheme"])
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(kernel.km._make_url("shell"))
    try:
        forged = execute_request(bad, "tampered = True\nprint('forged code ran')")
        bad.send(sock, forged)
        assert not sock.poll(1000), "kernel replied to a badly signed request"
        # Nothing ran: no iopub traffic for it.
        parents = [m["parent_header"].get("msg_id") for m in queued(kernel.kc.get_iopub_msg, 0.2)]
        assert forged["header"]["msg_id"] not in parents

        # A correctly signed request on the same socket is answered.
        request = execute_request(good, "print('tampered' in globals())")
        good.send(sock, request)
        assert sock.poll(TIMEOUT * 1000), "no reply to a correctly signed request"
        _, reply = good.feed_identities(sock.recv_multipart())
        reply = good.deserialize(reply)
        assert reply["parent_header"]["msg_id"] == request["header"]["msg_id"]
        assert reply["content"]["status"] == "ok"
        out = stream_text(iopub_until_idle(kernel.kc, request["header"]["msg_id"]))
        assert out == "False\n"
    finally:
        sock.close()


# ---------------------------------------------------------------- kernel death


def test_kernel_death_process_exits_nonzero(kernel: Kernel):
    kernel.kc.execute("import os; os._exit(1)")
    code = kernel.process.wait(timeout=15)
    assert code != 0
    assert not kernel.km.is_alive()


@pytest.mark.prov
def test_kernel_death_gets_error_reply(kernel: Kernel):
    start = time.monotonic()
    msg_id = kernel.kc.execute("import os; os._exit(1)")
    reply = shell_reply(kernel.kc, msg_id, timeout=10)
    elapsed = time.monotonic() - start
    assert reply["content"]["status"] == "error"
    assert "died" in error_text(reply).lower(), json.dumps(reply["content"])
    assert elapsed < 5, f"error reply after {elapsed:.1f}s"
    assert kernel.process.wait(timeout=15) != 0


# ---------------------------------------------------------------- the store


@pytest.mark.prov
def test_store_goes_to_prov_db(kernel: Kernel):
    """With $PROV_DB set, the kernel writes its store there and nothing into
    .prov/ of its working directory."""
    cwd = kernel.run("import os\nprint(os.getcwd())").strip()
    assert kernel.run("print('recorded')") == "recorded\n"
    stop_kernel(kernel)
    assert kernel.db.is_file(), f"no store at $PROV_DB={kernel.db}"
    assert kernel.db.stat().st_size > 0
    assert not (Path(cwd) / ".prov").exists()
