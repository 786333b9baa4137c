"""HTTP/1.1 as the wire speaks it: the request head, and the answer read with llhttp (RFC 9112)."""

from __future__ import annotations

import base64

import httptools
from yarl import URL

from .codings import RAW_CAP_FACTOR, Decoder, codings
from .head import HeadError, canonical, head_end
from .trace import _parser_reason

HEAD_CAP = 256 * 1024  # bytes of status line and headers accepted at most, as Chromium accepts


_HTTP11_OR_10 = (b"HTTP/1.1 ", b"HTTP/1.0 ")


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


class Http1Reading:
    """The HTTP/1.1 side of the wire: the decrypted bytes fed to llhttp, the head and the body
    kept as they arrive, interim (1xx) answers skipped."""

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
        cost nothing more), else read by `probe.check.head` and given, canonical, to a lenient llhttp."""
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
