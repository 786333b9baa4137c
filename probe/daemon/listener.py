"""What `--listen` withstands: a cap on its connections (the excess is refused at once), and a
deadline for each connection's first request head, so that idle or slow clients can neither
take the descriptors the checks need nor hold the listener.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import ssl
from typing import cast

from aiohttp import web

log = logging.getLogger("probe.web")

MAX_CONNECTIONS = 64  # Prometheus and a few browsers need a handful
HEAD_TIMEOUT = 5.0  # seconds for a connection's request head (a real client sends it at once)
HEAD_END = b"\r\n\r\n"


def tls_context(files: tuple[str, str] | None) -> tuple[ssl.SSLContext | None, str | None]:
    """The listener's TLS (certificate chain and key files), or why it cannot be had."""
    if files is None:
        return None, None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(*files)
    except OSError as exc:
        return None, f"--listen-tls-cert/--listen-tls-key: cannot read {exc.filename or files[0]}: {exc.strerror}"
    except ssl.SSLError:
        return None, f"--listen-tls-cert {files[0]}: no usable certificate and key (PEM expected, matching)"
    return context, None


def connection_cap(wanted: int = MAX_CONNECTIONS) -> int:
    """At most a quarter of the descriptors this process may open: the rest stay the checks'."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft // 4))


def raise_descriptor_limit() -> int:
    """Raise the soft limit of open descriptors to the hard one (systemd's default soft limit,
    1024, is low for thousands of checks); returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


class Gate:
    """Counts the listener's connections and makes the protocol of each accepted one."""

    def __init__(self, server: web.Server, cap: int, head_timeout: float):
        self.server = server
        self.cap = cap
        self.head_timeout = head_timeout
        self.open = 0
        self.refused = 0  # connections refused at the cap, since the start
        self.timed_out = 0  # connections closed without a request head in time

    def __call__(self) -> asyncio.Protocol:
        if self.open >= self.cap:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning("--listen: %d connections open, the most allowed: refusing more"
                            " (%d refused so far)", self.open, self.refused)
            return _Refused()
        self.open += 1
        return _Guarded(self, self.server())

    def closed(self) -> None:
        self.open -= 1


class _Refused(asyncio.Protocol):
    def connection_made(self, transport) -> None:
        transport.abort()  # at once, and without lingering in TIME_WAIT


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, closed if its first request head does not arrive
    within the gate's deadline (later ones are bounded by the keep-alive timeout)."""

    def __init__(self, gate: Gate, inner: asyncio.Protocol):
        self.gate = gate
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.tail = b""  # the last bytes of a head not yet complete
        self.begun = False  # a byte of the request line has come (not only empty lines)

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(self.gate.head_timeout, self._too_slow)
        self.inner.connection_made(transport)

    def _too_slow(self) -> None:
        self.timer = None
        self.gate.timed_out += 1
        log.debug("--listen: no request head within %gs: connection closed", self.gate.head_timeout)
        cast(asyncio.Transport, self.transport).abort()  # the timer starts with the connection

    def data_received(self, data: bytes) -> None:
        if self.timer is not None:
            # empty lines before the request line are skipped (RFC 9112 §2.2), so they cannot
            # pass for the end of a head
            seen = self.tail + data if self.begun else data.lstrip(b"\r\n")
            self.begun = self.begun or bool(seen)
            if HEAD_END in seen:
                self.timer.cancel()
                self.timer = None
            else:
                self.tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def connection_lost(self, exc) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.gate.closed()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class GuardedSite(web.BaseSite):
    """aiohttp's TCPSite, with each accepted connection made by a Gate."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, cap: int, head_timeout: float,
                 ssl_context=None):
        super().__init__(runner, ssl_context=ssl_context)
        self.host, self.port = host, port
        self.gate = Gate(cast(web.Server, runner.server), cap, head_timeout)  # a site follows setup()

    @property
    def name(self) -> str:
        return f"{'https' if self._ssl_context else 'http'}://{self.host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        self._server = await asyncio.get_running_loop().create_server(
            self.gate, self.host, self.port, backlog=self._backlog, reuse_address=True, ssl=self._ssl_context)
