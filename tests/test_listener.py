"""What `--listen` withstands: idle and slow clients, more connections than it takes, and
hostile Authorization headers; a real aiohttp server on 127.0.0.1, real sockets."""

import asyncio
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from probe.store import Store
from probe.daemon.web import start_web
from servers import refused_port, respond
from test_daemon import RUNNING, config_text, no_daemon_left_behind  # noqa: F401 - the fixture
from test_web import View, database  # noqa: F401 - the fixture


@pytest.fixture
def view(database):  # noqa: F811
    view = View(database)
    yield view
    view.writer.close()


async def _closed_within(reader, seconds) -> float | None:
    """Seconds until the server closed the connection, None if still open after `seconds`."""
    start = time.monotonic()
    try:
        data = await asyncio.wait_for(reader.read(1), seconds)
    except asyncio.TimeoutError:
        return None
    except ConnectionError:
        data = b""
    assert data == b"", data
    return time.monotonic() - start


async def _get(port, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


def test_twice_the_cap_of_idle_connections(view):
    """The excess is refused at once; the idle ones go at the head deadline; /metrics answers."""
    cap, deadline = 8, 1.0

    async def main():
        runner = await start_web(view, "127.0.0.1", 0, max_connections=cap, head_timeout=deadline)
        port = runner.addresses[0][1]
        try:
            connections = []
            for _ in range(2 * cap):
                connections.append(await asyncio.open_connection("127.0.0.1", port))
                await asyncio.sleep(0.01)
            held, excess = connections[:cap], connections[cap:]
            refused = await asyncio.gather(*(_closed_within(r, 0.5) for r, _ in excess))
            assert all(t is not None for t in refused), "the excess must be refused at once"
            still_open = await asyncio.gather(*(_closed_within(r, 0.1) for r, _ in held))
            assert still_open == [None] * cap
            closed = await asyncio.gather(*(_closed_within(r, deadline + 2) for r, _ in held))
            assert all(t is not None for t in closed), "idle connections must go at the deadline"
            answer = await _get(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 200") and b"probe_checks_started" in answer
            for _, writer in connections:
                writer.close()
        finally:
            await runner.cleanup()

    asyncio.run(main())


@pytest.mark.parametrize("prefix", [b"", b"\r\n\r\n"], ids=["plain", "empty-lines-first"])
def test_a_slow_request_head_is_cut_at_the_deadline(view, prefix):
    """Empty lines before the request line (which servers skip) do not pass for a head's end."""
    async def main():
        runner = await start_web(view, "127.0.0.1", 0, head_timeout=1.0)
        port = runner.addresses[0][1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(prefix)
            start = time.monotonic()
            for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                if writer.is_closing() or reader.at_eof():
                    break
                try:
                    writer.write(bytes([byte]))
                    await writer.drain()
                except ConnectionError:
                    break
                await asyncio.sleep(0.1)
                if time.monotonic() - start > 5:
                    break
            assert await _closed_within(reader, 5) is not None
            assert time.monotonic() - start < 5
            writer.close()
        finally:
            await runner.cleanup()

    asyncio.run(main())


@pytest.mark.parametrize("value, status", [
    (b"Bearer \xff\xfe\xfd", 401),
    (b"Bearer \xc3\x28", 401),
    (b"\xff", 401),
    (b"Bearer s\xc3\xa9cret-\xc3\xbc", 200),  # the token, in UTF-8
    (b"bearer  s\xc3\xa9cret-\xc3\xbc ", 200),
])
def test_authorization_header_bytes(view, caplog, value, status):
    caplog.set_level(logging.DEBUG)

    async def main():
        runner = await start_web(view, "127.0.0.1", 0, token="sécret-ü")
        port = runner.addresses[0][1]
        try:
            return await _get(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: " + value
                              + b"\r\nConnection: close\r\n\r\n")
        finally:
            await runner.cleanup()

    answer = asyncio.run(main())
    assert answer.startswith(b"HTTP/1.1 %d" % status), answer[:200]
    records = [r for r in caplog.records if r.name.startswith(("aiohttp", "probe.web")) and "serving" not in r.getMessage()]
    assert all(r.levelno <= logging.DEBUG for r in records), [r.getMessage() for r in records]
    assert len(records) <= 1
    assert "Traceback" not in caplog.text


def test_idle_connections_cannot_take_the_checks_descriptors(tmp_path, servers, certs):
    """A daemon allowed 128 descriptors, and 128 idle connections to its listener: its checks
    stay up (none fails for want of a descriptor) and /metrics answers after the deadline."""
    ok = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    config = tmp_path / "probe.toml"
    config.write_text(config_text(db, [(f"e{i}", ok, opts) for i in range(20)]))
    port = refused_port()
    log = tmp_path / "daemon.log"

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    process = subprocess.Popen([sys.executable, "-m", "probe", "run", "--config", str(config),
                                "--listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=open(log, "w"), preexec_fn=limit,
                               env=os.environ.copy())
    RUNNING.append(process)
    deadline = time.monotonic() + 20
    while "checks are spread" not in log.read_text():
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()
        time.sleep(0.05)
    time.sleep(1.5)
    idle = []
    for _ in range(128):
        try:
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            pass
    held_since = time.time()
    time.sleep(3)
    answered = None
    for _ in range(40):
        try:
            answered = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            break
        except OSError:
            time.sleep(0.25)
    for sock in idle:
        sock.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert answered is not None and "probe_checks_started" in answered, log.read_text()[-2000:]
    with Store.open(db) as store:
        during = [r for _, _, _, r in store.checks(since=held_since)]
    assert len(during) >= 20 * 2
    assert {r.state for r in during} == {"up"}, {r.error for r in during if r.state != "up"}
    assert "Traceback" not in log.read_text()
