"""`probe.check.wire.Wire`: its own socket handling, and timings that a busy prober does not lengthen.

The prober's event loop is made busy with `time.sleep` (it holds the loop, not the servers, which
run in their own thread), at moments where data is known to be waiting in the kernel."""

import asyncio
import socket
import struct
import threading
import time

import pytest
from loops import arun, event_loop_kind  # noqa: F401  (every test on both loops)
from servers import redirect, respond
from yarl import URL

from probe.check import kernel as http1
from probe.check import CheckSpec, check
from probe.check.http1 import request_head
from probe.check.wire import Trace, Wire, connect
from probe.spec import tls_context

BUSY = 0.6  # seconds the prober's event loop is held


def _wire(certs, head=None):
    loop = asyncio.get_running_loop()
    trace = Trace()
    head = head or request_head("GET", URL("https://127.0.0.1/"), (), "test")
    wire = Wire(loop, trace, tls_context(certs.ca_file, "1.2"), "127.0.0.1", head, "GET", 1024)
    wire.connect_started = trace.clock()
    return wire, trace


def _check_with_the_loop_held(servers, certs, handler):
    """A check of `handler`'s server, the prober's loop held from 0.15 s to 0.15 s + BUSY:
    (its result, the seconds it took by the clock)."""
    port = servers.serve(handler, certs.context())
    spec = CheckSpec(url=f"https://127.0.0.1:{port}/", ca_file=certs.ca_file, timeout=5)

    async def go():
        task = asyncio.create_task(check(spec))
        await asyncio.sleep(0.15)
        time.sleep(BUSY)  # noqa: ASYNC251  (holds the loop, on purpose)
        return await task

    started = time.perf_counter()
    result = arun(go())
    return result, time.perf_counter() - started


def test_an_answer_is_timed_when_it_arrived_not_when_a_busy_prober_read_it(servers, certs):
    # The server answers 0.3 s after the request; the prober's loop is held from 0.15 s to
    # 0.75 s, so it reads the answer about 0.45 s after it arrived.
    result, elapsed = _check_with_the_loop_held(servers, certs, respond(delay=0.3))
    assert result.state == "up", result.error
    assert elapsed >= 0.15 + BUSY  # the prober did read it late
    assert result.ttfb_ms >= 300  # the server's own delay is all there
    assert result.total_ms < 150 + BUSY * 1000 - 100  # but not the time the answer waited here
    assert result.wait_ms >= 300  # which is kept beside it: together, the clock's time
    assert (0.15 + BUSY) * 1000 - 20 <= result.total_ms + result.wait_ms <= elapsed * 1000


def test_what_a_redirect_waited_is_kept_when_its_next_hop_fails_in_dns(servers, certs):
    # The first hop's answer waits here while the loop is held; the second hop's name does not
    # resolve. The wait is still left out of total_ms, so it must be kept beside it.
    async def slow_redirect(reader, writer):
        await asyncio.sleep(0.3)
        await redirect(lambda path: "https://no-such-host.invalid/")(reader, writer)

    result, elapsed = _check_with_the_loop_held(servers, certs, slow_redirect)
    assert (result.state, result.error_class) == ("down", "dns"), result.error
    assert result.wait_ms >= 300
    assert result.total_ms + result.wait_ms <= elapsed * 1000


def test_a_fault_inside_a_callback_ends_the_check_at_once(servers, certs, monkeypatch):
    # A bug of the prober's, raised in the socket's callback where no task awaits: the check
    # must end with it, not sit until its deadline while the loop only logs it.
    port = servers.serve(respond(), certs.context())
    spec = CheckSpec(url=f"https://127.0.0.1:{port}/", ca_file=certs.ca_file, timeout=10)

    def broken(self, data):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Wire, "data_received", broken)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="a bug"):
        arun(check(spec))
    assert time.perf_counter() - started < 5


def test_a_busy_prober_does_not_lengthen_the_connect(servers, certs):
    port = servers.serve(respond(), certs.context())

    async def go():
        wire, trace = _wire(certs)
        try:
            connected = wire.connect(socket.AF_INET, 6, ("127.0.0.1", port))
            time.sleep(BUSY)  # noqa: ASYNC251  (the SYN-ACK arrives while the loop is held)
            await connected
            assert (await wire.done).status == 200
            return trace
        finally:
            wire.close()

    trace = arun(go())
    assert trace.connect_ms < 100  # the kernel's round trip, not the wait
    assert trace.waited >= BUSY - 0.1


def test_a_connect_whose_syn_was_sent_again_is_timed_by_the_clock():
    # A listener whose accept queue is full drops the SYN; the kernel sends it again after
    # about a second. Its round trip then tells nothing of the first attempt: the connect
    # phase is what the clock says.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(address)
        fillers.append(filler)
    time.sleep(0.1)

    def drain():
        time.sleep(0.3)
        listener.settimeout(0.2)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                fillers.append(listener.accept()[0])
            except OSError:
                pass

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()

    async def go():
        wire, trace = _wire(_NoCerts())
        try:
            await wire.connect(socket.AF_INET, 6, address)
            return trace
        finally:
            wire.close()

    try:
        trace = arun(go())
    finally:
        drainer.join()
        for sock in fillers:
            sock.close()
        listener.close()
    assert trace.connect_ms >= 900
    assert trace.waited == 0


class _NoCerts:
    ca_file = None


def test_a_request_larger_than_the_socket_buffer_is_sent_whole(servers, certs):
    seen = []

    async def swallow(reader, writer):
        await asyncio.sleep(0.3)  # the prober's send buffer fills meanwhile
        head = b""
        while b"\r\n\r\n" not in head[-(1 << 20):]:
            chunk = await reader.read(1 << 20)
            if not chunk:
                return
            head += chunk
        seen.append(len(head))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()

    port = servers.serve(swallow, certs.context())
    big = "x" * (16 << 20)
    head = request_head("GET", URL("https://127.0.0.1/"), (("X-Big", big),), "test")

    async def go():
        wire, _ = _wire(certs, head)
        try:
            await connect(asyncio.get_running_loop(), wire, [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))])
            return (await asyncio.wait_for(wire.done, 20)).status
        finally:
            wire.close()

    assert arun(go()) == 200
    assert seen == [len(head)]


def _stamp(seconds_ago: float) -> list:
    moment = time.time() - seconds_ago
    whole = int(moment)
    data = struct.pack("qq", whole, int((moment - whole) * 1e9))
    return [(socket.SOL_SOCKET, http1.SO_TIMESTAMPNS_NEW, data)]


def test_a_read_is_dated_by_its_kernel_stamp():
    assert http1._arrival(_stamp(0.25), 100.0) == pytest.approx(99.75, abs=0.01)


def test_a_read_without_a_stamp_or_with_one_in_the_future_is_dated_now():
    assert http1._arrival([], 100.0) == 100.0
    assert http1._arrival(_stamp(-5), 100.0) == 100.0  # the wall clock was set back meanwhile
    other = [(socket.SOL_SOCKET, http1.SO_TIMESTAMPNS_NEW + 1, _stamp(0.25)[0][2])]
    assert http1._arrival(other, 100.0) == 100.0
