"""What a check records on its way: the trace of phase times and facts, the response, and the
failures that end it (the prober's own trouble told apart)."""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass, field
from time import perf_counter


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
