"""One HTTP/1.1 request over a fresh TLS connection, timed phase by phase: the check's wire.

    DNS lookup (the system resolver, no cache)
    -> TCP connect (Happy Eyeballs over every address, aiohappyeyeballs)
    -> TLS handshake (the event loop's, with the verifying context of `probe.spec`)
    -> one request, `Connection: close`
    -> the response parsed by llhttp (httptools), head and body capped
    -> the connection dropped.

No connection is ever kept or reused and no answer is cached: each call is its own look. The
parsing is llhttp's, the TLS is OpenSSL's through the event loop; this module only drives them
and keeps the times and the facts. It replaced aiohttp's client for checks because aiohttp's
request machinery cost about a third of the CPU of a whole fresh-TLS check (docs/performance.md).
Every failure is raised as `CheckFailure(error_class, message)`.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from dataclasses import dataclass, field
from time import perf_counter

import aiohappyeyeballs
import httptools
from yarl import URL

HEAD_CAP = 64 * 1024  # bytes of status line and headers accepted at most
HAPPY_EYEBALLS_DELAY = 0.25  # seconds before the next address is tried in parallel (RFC 8305)


class CheckFailure(Exception):
    """A hard failure with its error class; raised inside the check, turned into a result."""

    def __init__(self, error_class: str, message: str):
        super().__init__(message)
        self.error_class = error_class
        self.message = message


@dataclass
class Trace:
    """Facts gathered while one check runs: where it is, how long each phase took, TLS facts."""

    phase: str = "dns"
    dns_ms: float = 0.0
    connect_ms: float = 0.0
    tls_ms: float = 0.0
    ttfb_ms: float = 0.0
    host: str | None = None
    port: int | None = None
    address: tuple | None = None
    min_tls: str = "1.2"
    ready_at: float = 0.0  # perf_counter when the connection was ready for the request
    tls: dict = field(default_factory=dict)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool = False  # the body went on past the cap; the rest was never read

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
        return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    except socket.gaierror as exc:
        raise CheckFailure("dns", f"cannot resolve {host}: {exc.strerror}") from None
    finally:
        trace.dns_ms += (perf_counter() - started) * 1000


async def exchange(url: URL, method: str, head: bytes, context: ssl.SSLContext, trace: Trace,
                   body_cap: int, handshake_failure) -> Response:
    """Connect, shake hands, send `head`, read the answer. `handshake_failure(trace, exc)` is
    awaited to explain a failed handshake (it may open a diagnostic connection)."""
    host, port = url.raw_host, url.port
    trace.host, trace.port = host, port
    infos = await resolve(host, port, trace)
    loop = asyncio.get_running_loop()
    trace.phase = "connect"
    started = perf_counter()
    try:
        sock = await aiohappyeyeballs.start_connection(
            infos, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1, loop=loop
        )
    except OSError as exc:
        raise CheckFailure("connect", f"cannot connect to {host}:{port}: {os_reason(exc)}") from None
    finally:
        trace.connect_ms += (perf_counter() - started) * 1000
    trace.address = sock.getpeername()
    trace.phase = "tls"
    started = perf_counter()
    reader = _ResponseReader(loop, trace, method, body_cap)
    try:
        transport, _ = await loop.create_connection(
            lambda: reader, sock=sock, ssl=context, server_hostname=host.rstrip(".")
        )
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise CheckFailure("tls_cert", f"certificate rejected: {_cert_reason(exc)}") from None
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise await handshake_failure(trace, exc) from None
    except BaseException:
        sock.close()
        raise
    finally:
        trace.tls_ms += (perf_counter() - started) * 1000
    try:
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            trace.tls = tls_facts(ssl_object)
        trace.phase = "request"
        trace.ready_at = perf_counter()
        transport.write(head)
        response = await reader.done
        trace.ttfb_ms += (reader.first_byte_at - trace.ready_at) * 1000
        return response
    finally:
        transport.abort()


class _ResponseReader(asyncio.Protocol):
    """Feeds what arrives to llhttp and resolves `done` with the Response, or with the
    CheckFailure that explains why there is none. Interim (1xx) answers are skipped; the body
    of a HEAD answer is not waited for; a body without a length ends with the connection."""

    def __init__(self, loop, trace: Trace, method: str, body_cap: int):
        self.done: asyncio.Future = loop.create_future()
        self.trace = trace
        self.method = method
        self.body_cap = body_cap
        self.parser = httptools.HttpResponseParser(self)
        self.first_byte_at = 0.0
        self.head_size = 0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.in_body = False
        self.body: list[bytes] = []
        self.size = 0
        self.length: int | None = None
        self.chunked = False

    # asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        if not self.first_byte_at:
            self.first_byte_at = perf_counter()
        if not self.in_body:
            self.head_size += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail("protocol", f"bad HTTP answer: the server switched protocols (HTTP {self.status})")
        except httptools.HttpParserError as exc:
            if not self.done.done():
                self._fail("protocol", f"bad HTTP answer: {_parser_reason(exc)}")
        if not self.done.done() and not self.in_body and self.head_size > HEAD_CAP:
            self._fail("protocol", f"bad HTTP answer: response head over {HEAD_CAP // 1024} KiB")

    def eof_received(self):
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
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
        elif not self.first_byte_at:
            self._fail("protocol", "bad HTTP answer: server closed the connection without answering")
        else:
            self._fail("protocol", "bad HTTP answer: connection closed in the middle of the response head")

    # llhttp callbacks

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
            return  # an interim answer (100 Continue, 103 Early Hints): the real one follows
        self.in_body = True
        self.trace.phase = "body"
        if self.method == "HEAD":
            self._finish()

    def on_body(self, chunk: bytes) -> None:
        if self.done.done():
            return
        room = self.body_cap - self.size
        if len(chunk) >= room:
            self.body.append(chunk[:room])
            self.size += room
            self._finish(truncated=True)
            return
        self.body.append(chunk)
        self.size += len(chunk)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            self.head_size = 0
            return
        self._finish()

    # outcomes

    def _finish(self, truncated: bool = False) -> None:
        if not self.done.done():
            self.done.set_result(Response(self.status, self.headers, b"".join(self.body), truncated))

    def _fail(self, error_class: str, message: str) -> None:
        if not self.done.done():
            self.done.set_exception(CheckFailure(error_class, message))


def _parser_reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text[:1].lower() + text[1:] if text else type(exc).__name__


def os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    return exc.strerror or str(exc) or type(exc).__name__


def _cert_reason(exc: ssl.SSLCertVerificationError) -> str:
    reason = exc.verify_message or exc.reason or str(exc)
    return reason.rstrip(".")


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
