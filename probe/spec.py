"""What a check is asked to do, and the TLS policy it is held to: never below TLS 1.2, chain
and host name always verified. Kept apart from `probe.check` so that reading a config does not
load the HTTP client."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from functools import lru_cache

TLS_VERSIONS = {
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


@dataclass(frozen=True)
class CheckSpec:
    """What to check and what to expect. Built by the config loader or the `check` command."""

    url: str
    timeout: float = 10.0
    expect_status: tuple[tuple[int, int], ...] = ((200, 299),)
    expect_body: str | None = None
    max_latency: float | None = None  # seconds; slower is degraded
    min_tls: str = "1.2"
    cert_warn_days: int = 14
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    follow_redirects: bool = True
    ca_file: str | None = None


@lru_cache(maxsize=64)
def tls_context(ca_file: str | None, min_tls: str) -> ssl.SSLContext:
    """A verifying client context (chain and host name), never below TLS 1.2. Cached: loading
    a trust store costs milliseconds, and contexts are safe to share between connections.

    Certificates are held to what browsers accept: the host name must be in a subjectAltName
    (RFC 9525 §6.3; a name only in the Common Name is refused). Cipher suites are what curl and
    browsers connect with: every suite OpenSSL's default list and security level allow, RSA key
    exchange included (Python's own list leaves it out). The suite negotiated is recorded, not
    judged: forward secrecy is not the availability's business."""
    context = ssl.create_default_context(cafile=ca_file)
    context.set_ciphers("DEFAULT")
    context.minimum_version = TLS_VERSIONS[min_tls]
    context.check_hostname = True
    context.hostname_checks_common_name = False
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@lru_cache(maxsize=64)
def check_context(ca_file: str | None, min_tls: str) -> ssl.SSLContext:
    """`tls_context` for the check's wire, whose ClientHello offers ALPN `http/1.1`, the one
    protocol it speaks: a server that speaks only HTTP/2 can then say so."""
    context = tls_context.__wrapped__(ca_file, min_tls)
    context.set_alpn_protocols(["http/1.1"])
    return context


def describe_status_list(expected: tuple[tuple[int, int], ...]) -> str:
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in expected)


def public_url(url: str | None) -> str | None:
    """The URL without user name or password: what may be stored, logged and reported."""
    if not url or "@" not in url:
        return url  # no user information: nothing to hide (and no parsing, on every check)
    from yarl import URL

    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return None
    if parsed.user is None and parsed.password is None:
        return url  # as written: nothing to hide, and no re-encoding
    return str(parsed.with_user(None))


@lru_cache(maxsize=4096)
def is_ip_address(host: str | None) -> bool:
    """True for an IPv4 or IPv6 literal (no name to resolve, no SNI to send)."""
    try:
        ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return True


LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: what never leaves the machine."""
    host = host.strip("[]")
    return host.lower() in LOOPBACK_NAMES or (is_ip_address(host) and ipaddress.ip_address(host).is_loopback)
