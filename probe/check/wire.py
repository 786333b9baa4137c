"""The wire: DNS, connect (happy eyeballs), TLS over memory buffers and one HTTP/1.1 exchange on a
non-blocking socket that the wire reads and writes itself."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl
from time import perf_counter

import aiohappyeyeballs
import httptools
from yarl import URL

from probe.spec import is_ip_address

from .codings import Decoder
from .http1 import Http1Reading
from .kernel import _ANCILLARY_SIZE, _arrival, _connect_wait, _stamp_arrivals
from .tls import _cert_reason, _HandshakeFailed, tls_facts
from .trace import CheckFailure, Response, Trace, os_reason, prober_trouble

HAPPY_EYEBALLS_DELAY = 0.25  # seconds before the next address is tried in parallel (RFC 8305)


READ_SIZE = 65536  # bytes read from the socket at most at once


READS_PER_EVENT = 32  # reads at most each time the socket is readable (2 MiB)


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


class Wire(Http1Reading):
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
