"""The response head read as RFC 9112 lets a recipient read it, then handed to llhttp clean.

llhttp (httptools) is strict, as a server's parser should be. A client may be more tolerant, and
curl and browsers are: the wire keeps each response head (status line and fields, up to the
blank line) apart, reads it here, and gives llhttp a head rewritten in canonical form:

- a bare LF ends a line as CRLF does (§2.2);
- obs-fold (a line that starts with a space or tab) continues the field before it, joined by a
  space (§5.2);
- whitespace before a field's colon is dropped and a line without a colon is skipped, as
  browsers do;
- `HTTP/1.2` and later 1.x versions are read as HTTP/1.1;
- repeated or comma-listed identical `Content-Length` values are one value; differing ones are
  an error (§6.3);
- `Transfer-Encoding` overrides `Content-Length`, which is then dropped (§6.3).

The head's size limit is exact: the blank line that ends it must come within `cap` bytes.

Most heads are canonical already: the wire gives each head to a strict llhttp first, and only
one that llhttp refuses is read here and given, rewritten, to a lenient one. Every case above
is one that strict llhttp refuses, so none is misread on the way (bench/head_parsing.py
measures the routes).
"""

from __future__ import annotations

import re

_HEAD_END = re.compile(rb"\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.(\d) (\d{3})(?:[ \t](.*))?\Z", re.DOTALL)
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# An HTTP/2 server's first frame: 3 bytes of length, type SETTINGS (4) or GOAWAY (7), flags,
# stream 0.
_H2_FRAME = re.compile(rb"[\x00-\xff]{3}[\x04\x07][\x00-\xff]\x00\x00\x00\x00", re.DOTALL)


class HeadError(Exception):
    """A response head probe cannot read; the message is the user's, not a parser's."""


def head_end(buffer: bytes, cap: int, start: int = 0) -> int | None:
    """Where the head that begins at `start` in `buffer` ends (just past its blank line), or None
    if it has not all arrived yet. Raises HeadError when it does not end within `cap` bytes."""
    match = _HEAD_END.search(buffer, start, start + cap + 3)
    if match is not None and match.end() - start <= cap:
        return match.end()
    if match is not None or len(buffer) - start >= cap:
        raise HeadError(f"response head over {cap // 1024} KiB")
    if len(buffer) - start >= 9 and _H2_FRAME.match(buffer, start):
        raise HeadError("the server speaks only HTTP/2")
    return None


def canonical(head: bytes) -> bytes:
    """The head, status line and fields, as llhttp reads it strictly. Raises HeadError."""
    lines = [line[:-1] if line.endswith(b"\r") else line for line in head.split(b"\n")]
    status = _STATUS_LINE.match(lines[0])
    if status is None:
        if _H2_FRAME.match(head):
            raise HeadError("the server speaks only HTTP/2")
        raise HeadError(f"not an HTTP/1.1 status line: {_shown(lines[0])}")
    minor, code, reason = status.groups()
    version = b"HTTP/1.0" if minor == b"0" else b"HTTP/1.1"
    fields: list[list[bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):  # obs-fold: the field before goes on
            if fields:
                fields[-1][1] = (fields[-1][1] + b" " + line.strip(b" \t")).strip(b" \t")
            continue
        name, colon, value = line.partition(b":")
        name = name.rstrip(b" \t")
        if not colon or not _TOKEN.match(name):
            continue  # not a field: skipped, as browsers do
        fields.append([name, value.strip(b" \t")])
    lengths = [part.strip(b" \t") for name, value in fields if name.lower() == b"content-length"
               for part in value.split(b",")]
    chunked = any(name.lower() == b"transfer-encoding" for name, _ in fields)
    if lengths:
        distinct = list(dict.fromkeys(lengths))
        if len(distinct) > 1 and not chunked:
            shown = ", ".join(_shown(value) for value in distinct)
            raise HeadError(f"differing Content-Length values ({shown})")
        fields = [field for field in fields if field[0].lower() != b"content-length"]
        if not chunked:
            if not distinct[0].isdigit():
                raise HeadError(f"a Content-Length that is not a number: {_shown(distinct[0])}")
            fields.append([b"Content-Length", distinct[0]])
    out = [version + b" " + code + (b" " + reason if reason else b" ")]
    out += [name + b": " + value for name, value in fields]
    return b"\r\n".join(out) + b"\r\n\r\n"


def _shown(raw: bytes, limit: int = 40) -> str:
    """Bytes from a server, shown in a message: bounded, control characters escaped."""
    text = repr(raw[:limit].decode("latin-1"))
    return text + ("…" if len(raw) > limit else "")
