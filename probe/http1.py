"""One HTTP/1.1 request over a fresh TLS connection, timed phase by phase: the check's wire.

    DNS lookup (the system resolver, no cache)
    -> TCP connect (Happy Eyeballs when a name has several addresses, aiohappyeyeballs)
    -> TLS handshake (OpenSSL through `ssl.SSLObject`, with the verifying context of `probe.spec`)
    -> one request, `Connection: close`
    -> the response parsed by llhttp (httptools), head and body capped
    -> the connection dropped.

No connection is ever kept or reused and no answer is cached: each call is its own look.

From the moment TCP is connected, everything happens in the socket's reader and writer callbacks:
the ClientHello is sent the moment the connection is made, the request the moment the handshake
completes, and each phase is timed when its event arrives, not when the waiting task is next
scheduled. The time data waited on this host before a busy prober read it is left out of the
check's clock (`Trace.waited`): each read carries the kernel's receive time stamp, and the
connection is timed by the kernel's SYN to SYN-ACK round trip. A busy prober therefore delays a
check less (one wake-up at the end instead of one per phase) and does not lengthen its timings;
and driving OpenSSL through memory buffers here costs less CPU than the event loop's TLS
transport plus a separate HTTP client did (docs/performance.md).

Every failure is raised as `CheckFailure(error_class, message)`; a failed handshake is handed to
the caller's `handshake_failure(trace, exc)` to be explained.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import os
import platform
import socket
import ssl
import struct
import sys
import time
from dataclasses import dataclass, field
from time import perf_counter

import aiohappyeyeballs
import httptools
from yarl import URL

from probe.codings import RAW_CAP_FACTOR, Decoder, codings
from probe.head import HeadError, canonical, head_end
from probe.spec import is_ip_address

HEAD_CAP = 64 * 1024  # bytes of status line and headers accepted at most
_HTTP11_OR_10 = (b"HTTP/1.1 ", b"HTTP/1.0 ")
HAPPY_EYEBALLS_DELAY = 0.25  # seconds before the next address is tried in parallel (RFC 8305)
READ_SIZE = 65536  # bytes read from the socket at most at once
READS_PER_EVENT = 32  # reads at most each time the socket is readable (2 MiB)

_LINUX = sys.platform == "linux"
# <asm-generic/socket.h>: each read carries its data's arrival time. SPARC and PA-RISC number it
# otherwise (0x42, 0x4038): there, reads are timed when they are made.
SO_TIMESTAMPNS_NEW = 64 if not platform.machine().startswith(("sparc", "parisc")) else None
_STAMP = struct.Struct("qq")  # struct __kernel_timespec: seconds, nanoseconds (CLOCK_REALTIME)
_ANCILLARY_SIZE = socket.CMSG_SPACE(_STAMP.size) if _LINUX else 0
# struct tcp_info (<linux/tcp.h>): tcpi_rtt (µs) at byte 68, tcpi_total_retrans at byte 100
_TCP_INFO = struct.Struct("=68xI28xI")


class CheckFailure(Exception):
    """A hard failure with its error class; raised inside the check, turned into a result."""

    def __init__(self, error_class: str, message: str):
        super().__init__(message)
        self.error_class = error_class
        self.message = message


# The prober's own trouble: no file descriptor, memory or buffer to be had on this host.
_PROBER_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def prober_trouble(exc: BaseException) -> CheckFailure | None:
    """The `probe_error` failure that `exc` is, if it is the prober's own trouble rather than
    anything the endpoint did: such a check was not made."""
    if isinstance(exc, MemoryError):
        return CheckFailure("probe_error", "the prober is out of memory")
    if isinstance(exc, OSError) and exc.errno in _PROBER_ERRNOS:
        return CheckFailure("probe_error", f"the prober could not make the check: {os.strerror(exc.errno)}")
    if isinstance(exc, socket.gaierror) and exc.errno in (socket.EAI_MEMORY, socket.EAI_SYSTEM):
        return CheckFailure("probe_error", f"the prober could not look the name up: {exc.strerror}")
    return None


@dataclass
class Trace:
    """Facts gathered while one check runs: where it is, how long each phase took, TLS facts."""

    phase: str = "dns"
    dns_ms: float = 0.0
    connect_ms: float = 0.0
    tls_ms: float = 0.0
    ttfb_ms: float = 0.0
    host: str | None = None
    address: tuple | None = None
    min_tls: str = "1.2"
    hop: int = 0  # redirects followed so far
    hop_url: str | None = None  # the URL of the latest hop (no user information)
    interim: int = 0  # the status of the latest interim (1xx) answer of the hop, while no other came
    # The moments below are on the check's clock: perf_counter less `waited`, the seconds the
    # connections' data sat on this host before the prober, busy elsewhere, got to it (kernel
    # receive time stamps). A busy prober thus does not lengthen the server's timings.
    waited: float = 0.0
    ready_at: float = 0.0  # when the connection was ready for the request
    ended_at: float = 0.0  # when the last answer was complete
    tls: dict = field(default_factory=dict)

    def clock(self) -> float:
        """The check's clock: perf_counter less the time its data waited for the prober."""
        return perf_counter() - self.waited


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # at most the body cap, decoded: the rest is never read
    problem: str | None = None  # why the body could not be decoded (it is then as it came)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def request_head(method: str, url: URL, headers: tuple[tuple[str, str], ...], user_agent: str) -> bytes:
    """The request's bytes: the caller's headers replace the defaults of the same name; the
    connection is always closed after the answer. User and password in the URL become Basic
    authentication, as browsers and curl do."""
    fields = {
        "host": ("Host", url.host_port_subcomponent),
        "user-agent": ("User-Agent", user_agent),
        "accept-encoding": ("Accept-Encoding", "identity"),
    }
    if url.user is not None:
        token = base64.b64encode(f"{url.user}:{url.password or ''}".encode()).decode()
        fields["authorization"] = ("Authorization", f"Basic {token}")
    if method == "POST":
        fields["content-length"] = ("Content-Length", "0")
    for name, value in headers:
        if any(c in name or c in value for c in "\r\n\0"):
            raise ValueError(f"header {name!r} holds a line break")
        fields[name.lower()] = (name, value)
    fields["connection"] = ("Connection", "close")  # whatever the caller asked
    lines = [f"{method} {url.raw_path_qs or '/'} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in fields.values()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


async def resolve(host: str, port: int, trace: Trace) -> list:
    """getaddrinfo for this check alone, timed."""
    trace.phase = "dns"
    loop = asyncio.get_running_loop()
    started = perf_counter()
    try:
        if is_ip_address(host):  # nothing to look up: no resolver thread either
            return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    except socket.gaierror as exc:
        raise prober_trouble(exc) or CheckFailure("dns", f"cannot resolve {host}: {exc.strerror}") from None
    finally:
        trace.dns_ms += (perf_counter() - started) * 1000


class _HandshakeFailed(Exception):
    """The TLS handshake failed with `exc` (an ssl.SSLError or an OSError)."""

    def __init__(self, exc: BaseException):
        super().__init__(str(exc))
        self.exc = exc


async def exchange(url: URL, method: str, head: bytes, context: ssl.SSLContext, trace: Trace,
                   body_cap: int, handshake_failure) -> Response:
    """Connect, shake hands, send `head`, read the answer. `handshake_failure(trace, exc)` is
    awaited to explain a failed handshake (it may open a diagnostic connection)."""
    host, port = url.raw_host, url.port
    trace.host = host
    infos = await resolve(host, port, trace)
    loop = asyncio.get_running_loop()
    wire = Wire(loop, trace, context, host.rstrip("."), head, method, body_cap)
    trace.phase = "connect"
    wire.connect_started = trace.clock()
    try:
        await connect(loop, wire, infos)  # the wire keeps the socket
    except BaseException as exc:  # refused, unreachable, or the check's deadline
        connected = bool(wire.connected_at)
        if not connected:  # the time spent trying is the connect phase's
            trace.connect_ms += (trace.clock() - wire.connect_started) * 1000
        wire.close()
        trouble = prober_trouble(exc)
        if trouble is not None:
            raise trouble from None
        if isinstance(exc, OSError) and not connected:
            raise CheckFailure("connect", f"cannot connect to {host}:{port}: {os_reason(exc)}") from None
        raise
    try:
        return await wire.done
    except ssl.SSLCertVerificationError as exc:
        raise CheckFailure("tls_cert", _cert_reason(exc, host)) from None
    except _HandshakeFailed as failed:
        wire.close()  # before the diagnostic connection opens
        raise await handshake_failure(trace, failed.exc) from None
    finally:
        if wire.handshaking and wire.connected_at:  # the handshake never ended: its time so far
            trace.tls_ms += (trace.clock() - wire.connected_at) * 1000
        wire.close()


async def connect(loop, wire: Wire, infos: list) -> None:
    """A TCP connection to one of the addresses, handed to `wire` the moment it is made."""
    if len(infos) == 1:  # one address: the wire connects and starts the handshake itself
        family, _, proto, _, address = infos[0]
        await wire.connect(family, proto, address)
        return
    sock = await aiohappyeyeballs.start_connection(
        infos, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1, loop=loop
    )
    wire.attach(sock)


def _arrival(ancillary: list, now: float) -> float:
    """When the data of a read arrived, on the perf_counter clock: the kernel's stamp if the read
    carries one, else `now`. The stamp is on the wall clock: one that is not in the past (the
    clock set back meanwhile) is not trusted."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS_NEW and len(data) >= _STAMP.size:
            seconds, nanoseconds = _STAMP.unpack_from(data)
            waited = time.time() - seconds - nanoseconds / 1e9
            if waited > 0.0:
                return now - waited
    return now


def _connect_wait(sock: socket.socket, elapsed: float) -> float:
    """How long a connection made `elapsed` seconds after it was begun waited for the prober to
    notice: all but the round trip the kernel measured from SYN to SYN-ACK. Nothing (0) if the
    SYN had to be sent again (the round trip is then the last attempt's) or the kernel does not
    say: the connect phase is then what the clock says."""
    if not _LINUX:
        return 0.0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO.size)
    except OSError:
        return 0.0
    if len(info) < _TCP_INFO.size:
        return 0.0
    rtt_us, total_retrans = _TCP_INFO.unpack_from(info)
    if total_retrans or not rtt_us:
        return 0.0
    return max(0.0, elapsed - rtt_us / 1e6)


def _stamp_arrivals(sock: socket.socket) -> None:
    """Ask the kernel to tell, with each read, when its data arrived (Linux 5.1 and later)."""
    if _LINUX and SO_TIMESTAMPNS_NEW is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS_NEW, 1)
        except OSError:
            pass  # an older kernel: reads are timed when they are made


class Wire:
    """One connection: TLS over memory buffers, then the HTTP/1.1 answer fed to llhttp.

    The wire reads and writes its non-blocking socket itself, through the event loop's reader
    and writer callbacks, so that each read comes with the moment its data arrived (the kernel's
    receive time stamp): the answer is timed by when it reached this host, not by when a busy
    event loop got to it.

    Resolves `done` with the Response, or with the exception that explains why there is none:
    CheckFailure, ssl.SSLCertVerificationError, or _HandshakeFailed. Interim (1xx) answers are
    skipped; the body of a HEAD answer is not waited for; a body without a length ends with the
    connection."""

    def __init__(self, loop, trace: Trace, context: ssl.SSLContext, server_hostname: str, head: bytes,
                 method: str, body_cap: int):
        self.loop = loop
        self.done: asyncio.Future = loop.create_future()
        self.trace = trace
        self.head = head
        self.method = method
        self.body_cap = body_cap
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=server_hostname)
        try:  # the ClientHello is made now, so that its CPU is not on the connection's clock
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        self.sock: socket.socket | None = None
        self.connected: asyncio.Future | None = None
        self.reading = self.writing = False
        self.resuming = False  # a read is due from the loop's ready callbacks (_on_readable)
        self.unsent = b""
        self.ended = False  # the server's stream has ended (connection_lost was called)
        self.handshaking = True
        self.connect_started = 0.0
        self.connected_at = 0.0
        self.idle_since = 0.0  # perf_counter when the prober last finished its work on it
        self.read_at = 0.0  # clock() when the data of the latest read arrived
        self.first_byte_at = 0.0
        self.parser = httptools.HttpResponseParser(self)  # strict, until a head needs more
        self.pending = b""  # the bytes of a response head not yet complete
        self.interim = 0  # the status of the latest interim (1xx) answer
        self._reset()

    def close(self) -> None:
        """Drop the connection and the references that tie this wire to its parser (which
        refers back to it), so that all of it is freed at once, without waiting for the garbage
        collector: its pauses would show in other checks' timings."""
        if not self.done.done():
            self.done.cancel()  # nobody waits any more
        elif not self.done.cancelled() and self.done.exception() is not None:
            # raised where it was awaited, it holds that frame, which holds this wire
            self.done.exception().__traceback__ = None
        if self.connected is not None:
            if not self.connected.done():
                self.connected.cancel()
            elif not self.connected.cancelled() and self.connected.exception() is not None:
                self.connected.exception().__traceback__ = None  # as above
            self.connected = None
        if self.sock is not None:
            self._stop_reading()
            self._stop_writing()
            self.sock.close()
            self.sock = None
        self.parser = None

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.in_body = False
        self.body: list[bytes] = []
        self.size = 0
        self.length: int | None = None
        self.chunked = False
        self.decoder: Decoder | None = None
        self.raw_size = 0  # body bytes as they came, before decoding

    # the socket

    def connect(self, family: int, proto: int, address: tuple) -> asyncio.Future:
        """Start connecting to `address`; the returned future resolves once connected (the
        ClientHello is then already sent), or raises the OSError that prevented it."""
        try:
            self.sock = sock = socket.socket(family, socket.SOCK_STREAM, proto)
        except OSError as exc:  # no descriptor, no buffer, a family this host lacks: the prober's
            raise CheckFailure("probe_error", f"the prober could not create a socket: {os_reason(exc)}") from None
        sock.setblocking(False)
        self.connected = self.loop.create_future()
        code = sock.connect_ex(address)
        if code == 0:
            self._made()
        elif code in (errno.EINPROGRESS, errno.EINTR):
            self._start_writing(self._on_connect)
        else:
            raise OSError(code, os.strerror(code))
        return self.connected

    def attach(self, sock: socket.socket) -> None:
        """Take over a socket already connected."""
        sock.setblocking(False)
        self.sock = sock
        self._made()

    def _on_connect(self) -> None:
        self._stop_writing()
        connected = self.connected
        if connected is None or connected.done():  # given up meanwhile
            return
        try:
            code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                connected.set_exception(OSError(code, os.strerror(code)))
                return
            self.trace.waited += _connect_wait(self.sock, self.trace.clock() - self.connect_started)
            self._made()
        except Exception as exc:  # noqa: BLE001  (as in _on_readable)
            self._fault(exc)

    def _made(self) -> None:
        self.connected_at = now = self.trace.clock()
        sock = self.sock
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # already reset: the read says so
            pass
        _stamp_arrivals(sock)
        self._flush()  # the ClientHello, made before connecting
        self.trace.connect_ms += (now - self.connect_started) * 1000
        try:
            self.trace.address = sock.getpeername()
        except OSError:  # already reset: the read says so
            pass
        self.trace.phase = "tls"
        self.reading = True
        self.loop.add_reader(sock.fileno(), self._on_readable)
        if self.connected is not None and not self.connected.done():
            self.connected.set_result(None)
        self.idle_since = perf_counter()

    def _on_readable(self) -> None:
        # Read until the socket has nothing more to give. Under uvloop, a socket that reports an
        # error (a reset) gets this call once more and is then polled no more: the error must be
        # seen now, behind whatever data came before it, or the check would wait for its deadline.
        # At most READS_PER_EVENT reads at a time, though: a server that sends without end must
        # not keep the event loop, and the other checks, from running. The rest is read once the
        # callbacks ready meanwhile have run, whether or not the loop still polls the socket.
        try:
            for _ in range(READS_PER_EVENT):
                if not self.reading:
                    return
                try:
                    data, ancillary, _, _ = self.sock.recvmsg(READ_SIZE, _ANCILLARY_SIZE)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError as exc:
                    exc.__traceback__ = None  # it would hold this frame, which holds this wire
                    self.connection_lost(exc)
                    return
                now = perf_counter()
                # the time the data sat here while the prober was busy elsewhere is not the server's
                self.trace.waited += now - max(_arrival(ancillary, now), self.idle_since)
                self.read_at = now - self.trace.waited
                if data:
                    self.data_received(data)
                else:  # the server closed its side
                    self.connection_lost(None)
                self.idle_since = perf_counter()
            if self.reading and not self.resuming:  # more may be waiting
                self.resuming = True
                self.loop.call_soon(self._resume_reading)
        # a fault of the prober's: the check ends with it, not at its deadline
        except Exception as exc:  # noqa: BLE001
            self._fault(exc)

    def _resume_reading(self) -> None:
        self.resuming = False
        if self.reading:
            self._on_readable()

    def _send(self, data: bytes) -> None:
        if self.sock is None:
            return
        if self.unsent:  # behind what is still waiting for room
            self.unsent += data
            return
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:  # reported as the connection's end, as a transport would
            exc.__traceback__ = None  # as in _on_readable
            self.loop.call_soon(self.connection_lost, exc)
            return
        if sent < len(data):
            self.unsent = data[sent:]
            self._start_writing(self._on_writable)

    def _on_writable(self) -> None:
        data, self.unsent = self.unsent, b""
        self._stop_writing()
        try:
            self._send(data)
        except Exception as exc:  # noqa: BLE001  (as in _on_readable)
            self._fault(exc)

    def _fault(self, exc: Exception) -> None:
        """An unexpected exception in a callback: it ends the check (and is raised where the
        check awaits), rather than being lost in the event loop's log."""
        exc.__traceback__ = None  # as in _on_readable
        if self.connected is not None and not self.connected.done():
            self.connected.set_exception(exc)
        self._settle(prober_trouble(exc) or exc)

    def _start_writing(self, callback) -> None:
        self.writing = True
        self.loop.add_writer(self.sock.fileno(), callback)

    def _stop_writing(self) -> None:
        if self.writing:
            self.writing = False
            self.loop.remove_writer(self.sock.fileno())

    def _stop_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.sock.fileno())

    # the connection's events

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        self.incoming.write(data)
        if self.handshaking:
            self._shake_hands()
        else:
            self._read()

    def connection_lost(self, exc: Exception | None) -> None:
        """The server's stream has ended (`exc` None) or broken: nothing more is read."""
        self._stop_reading()
        if self.done.done() or self.ended:
            return
        self.ended = True
        trouble = prober_trouble(exc) if exc is not None else None
        if trouble is not None:  # no buffer or memory on this host: not the server's doing
            self._settle(trouble)
            return
        if self.handshaking:
            if exc is not None:
                self._settle(_HandshakeFailed(exc))
                return
            self.incoming.write_eof()  # OpenSSL then says what the end of the stream means
            self._shake_hands()
            if not self.done.done():
                self._settle(_HandshakeFailed(ConnectionResetError("connection closed during the handshake")))
            return
        self.incoming.write_eof()
        self._read()
        if self.done.done():
            return
        if self.in_body:
            if self.length is None and not self.chunked:
                self._finish()  # the body ran to the end of the connection, as announced
                return
            expected = f" of {self.length}" if self.length is not None else ""
            self._fail("protocol", f"body broken off: connection closed after {self.size}{expected} bytes")
        elif isinstance(exc, ConnectionResetError):
            self._fail("protocol", "bad HTTP answer: connection reset by the server")
        elif self.interim and not self.pending:
            self._fail("protocol", f"bad HTTP answer: only an interim answer (HTTP {self.interim}), "
                                   "then the connection closed")
        elif not self.first_byte_at:
            self._fail("protocol", "bad HTTP answer: server closed the connection without answering")
        else:
            self._fail("protocol", "bad HTTP answer: connection closed in the middle of the response head")

    # TLS

    def _shake_hands(self) -> None:
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except ssl.SSLCertVerificationError as exc:
            self._settle(exc)
            return
        except (ssl.SSLError, OSError) as exc:
            exc.__traceback__ = None  # it would hold this frame, which holds this wire
            self._settle(_HandshakeFailed(exc))
            return
        self.handshaking = False
        trace = self.trace
        trace.ready_at = now = self.trace.clock()
        trace.tls_ms += (now - self.connected_at) * 1000
        trace.phase = "request"
        self.tls.write(self.head)
        self._flush()
        trace.tls = tls_facts(self.tls)
        self._read()  # the server may already have spoken

    def _read(self) -> None:
        tls = self.tls
        while not self.done.done():
            try:
                data = tls.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                data = b""
            except ssl.SSLEOFError:  # the end of the connection without the server's close_notify,
                break  # seen once connection_lost has written it: that judges what it means
            except ssl.SSLError as exc:
                self._fail("protocol", f"bad HTTP answer: TLS error: {(exc.reason or str(exc)).lower().replace('_', ' ')}")
                break
            if not data:  # the server's close_notify: its stream has ended, whether or not
                self.connection_lost(None)  # it closes the connection now or waits for ours
                break
            self._parse(data)
        if self.outgoing.pending:
            self._flush()

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self._send(data)

    # HTTP

    def _parse(self, data: bytes) -> None:
        if not self.first_byte_at:  # when it arrived, not when it was read
            self.first_byte_at = arrived = max(self.read_at, self.trace.ready_at)
            self.trace.ttfb_ms += (arrived - self.trace.ready_at) * 1000
        if self.in_body:
            self._feed(data)
            return
        # a response head is gathered whole (so that its cap is exact) and handed to llhttp, read
        # as RFC 9112 lets a client read it if need be; what follows it goes to llhttp as it came
        self.pending += data
        start = 0
        while not self.done.done():
            try:
                end = head_end(self.pending, HEAD_CAP, start)
            except HeadError as exc:
                self._fail("protocol", f"bad HTTP answer: {exc}")
                return
            if end is None:
                break
            self._feed_head(self.pending[start:end])
            start = end
            if self.in_body:
                rest, self.pending = self.pending[start:], b""
                if rest:
                    self._feed(rest)
                return
            # an interim answer: the next head follows
        self.pending = self.pending[start:]

    def _feed_head(self, head: bytes) -> None:
        """One whole response head: to strict llhttp as it came (most heads are canonical and
        cost nothing more), else read by `probe.head` and given, canonical, to a lenient llhttp."""
        if head.startswith(_HTTP11_OR_10):  # llhttp would also take RTSP/ and ICE/ answers
            try:
                self.parser.feed_data(head)
                return
            except httptools.HttpParserUpgrade:
                self._fail("protocol", f"bad HTTP answer: the server switched protocols (HTTP {self.status})")
                return
            except httptools.HttpParserError:
                pass
        try:
            head = canonical(head)
        except HeadError as exc:
            self._fail("protocol", f"bad HTTP answer: {exc}")
            return
        self._reset()
        self.parser = httptools.HttpResponseParser(self)
        # control characters in a field's value are tolerated, as browsers do
        self.parser.set_dangerous_leniencies(lenient_headers=True)
        self._feed(head)

    def _feed(self, data: bytes) -> None:
        if self.done.done():
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail("protocol", f"bad HTTP answer: the server switched protocols (HTTP {self.status})")
        except httptools.HttpParserError as exc:
            self._fail("protocol", f"bad HTTP answer: {_parser_reason(exc, self.in_body)}")

    def on_message_begin(self) -> None:
        self._reset()

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        self.headers.append((key, text))
        lowered = key.lower()
        if lowered == "content-length" and text.strip().isdigit():
            self.length = int(text)
        elif lowered == "transfer-encoding" and "chunked" in text.lower():
            self.chunked = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if 100 <= self.status < 200:
            self.interim = self.trace.interim = self.status
            return  # an interim answer (100 Continue, 103 Early Hints): the real one follows
        self.trace.interim = 0
        applied = codings(self.headers)
        if applied:
            self.decoder = Decoder(applied)
        self.in_body = True
        self.trace.phase = "body"
        if self.method == "HEAD":
            self._finish()

    def on_body(self, chunk: bytes) -> None:
        if self.done.done():
            return
        room = self.body_cap - self.size
        decoder = self.decoder
        if decoder is not None and decoder.decoding:
            self.raw_size += len(chunk)
            chunk = decoder.feed(chunk, room)
            if self.raw_size >= self.body_cap * RAW_CAP_FACTOR:
                self.body.append(chunk[:room])
                self._finish()  # what came in decodes to little, and no end comes: enough
                return
        if len(chunk) >= room:
            self.body.append(chunk[:room])
            self.size += room
            self._finish()
            return
        self.body.append(chunk)
        self.size += len(chunk)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            return
        self._finish()

    # outcomes

    def _finish(self) -> None:
        if not self.done.done():  # when the last of it arrived
            self.trace.ended_at = max(self.read_at, self.first_byte_at)
            problem = self.decoder.problem if self.decoder is not None else None
            self._settle(Response(self.status, self.headers, b"".join(self.body), problem))

    def _fail(self, error_class: str, message: str) -> None:
        self._settle(CheckFailure(error_class, message))

    def _settle(self, outcome) -> None:
        """Resolve `done` once, and stop reading: nothing more from this connection matters."""
        if self.done.done():
            return
        if isinstance(outcome, BaseException):
            self.done.set_exception(outcome)
        else:
            self.done.set_result(outcome)
        if self.sock is not None:
            self._stop_reading()


# llhttp's reasons, in the user's words; the others are told by where they happened
_PARSER_REASONS = {
    "Invalid character in chunk size": "a bad chunk size in the chunked body",
    "Invalid character in Content-Length": "a Content-Length that is not a number",
    "Content-Length overflow": "a Content-Length too large",
    "Chunk size overflow": "a chunk size too large",
    "Invalid status code": "a bad status code",
}


def _parser_reason(exc: Exception, in_body: bool) -> str:
    """What went wrong, never in a parser's own words (which name states and protocols that
    mean nothing to the reader)."""
    text = str(exc).strip()
    for known, words in _PARSER_REASONS.items():
        if text.startswith(known):
            return words
    return "a malformed chunked body" if in_body else "a malformed response head"


def os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    return exc.strerror or str(exc) or type(exc).__name__


# X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH = (62, 64)


def _cert_reason(exc: ssl.SSLCertVerificationError, host: str) -> str:
    if exc.verify_code in _NAME_MISMATCH:  # a name in the Common Name alone does not count
        return f"the certificate names {host} in no subjectAltName"
    reason = exc.verify_message or exc.reason or str(exc)
    return f"certificate rejected: {reason.rstrip('.')}"


def _name(rdns) -> str | None:
    """An X.509 name as OpenSSL-style 'CN=example.com, O=Example'."""
    if not rdns:
        return None
    short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
             "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST"}
    parts = [f"{short.get(key, key)}={value}" for rdn in rdns for key, value in rdn]
    return ", ".join(parts)


_CERT_FACTS_MAX = 1024
_cert_facts_by_der: dict[bytes, dict] = {}


def tls_facts(ssl_object) -> dict:
    """The TLS facts of a verified connection. A certificate's facts depend on its bytes alone,
    so they are decoded once per distinct certificate (decoding costs more than the rest)."""
    der = ssl_object.getpeercert(binary_form=True)
    cert_facts = _cert_facts_by_der.get(der) if der else None
    if cert_facts is None:
        cert_facts = _cert_facts(ssl_object.getpeercert() or {})
        if der:
            if len(_cert_facts_by_der) >= _CERT_FACTS_MAX:
                _cert_facts_by_der.clear()
            _cert_facts_by_der[der] = cert_facts
    cipher = ssl_object.cipher()
    return {
        "tls_version": ssl_object.version(),
        "tls_cipher": cipher[0] if cipher else None,
        **cert_facts,
    }


def _cert_facts(cert: dict) -> dict:
    not_after = ssl.cert_time_to_seconds(cert["notAfter"]) if "notAfter" in cert else None
    return {
        "cert_not_after": float(not_after) if not_after is not None else None,
        "cert_issuer": _name(cert.get("issuer")),
        "cert_subject": _name(cert.get("subject")),
    }
