"""One HTTPS check -> CheckResult.

Every check is a fresh look: its own connection (no keep-alive reuse), its own DNS lookup
(no cache), the certificate chain and host name verified, TLS below the endpoint's minimum
refused, the body read up to a cap. A check records facts (phase timings, TLS facts, status);
the verdict (up / degraded / down and the error class) is derived from them in `verdict`.
The wire itself (DNS, connect, TLS, one HTTP/1.1 exchange) is `probe.check.wire`."""

from __future__ import annotations

import asyncio
import math
import re
import ssl
import time
from functools import lru_cache
from time import perf_counter

from yarl import URL

from probe import __version__
from probe.result import CheckResult
from probe.spec import CheckSpec, check_context, describe_status_list, is_ip_address, public_url
from probe.urls import BadHost, redirect_target, request_url

from .http1 import request_head
from .trace import CheckFailure, Response, Trace, os_reason, prober_trouble
from .wire import exchange

BODY_CAP = 1024 * 1024  # bytes of body read at most; the rest is never downloaded


MAX_REDIRECTS = 10


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


USER_AGENT = f"probe/{__version__}"


_VERSION_NAMES = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3",
                  "SSLv3": "SSL 3.0"}


_SSL_WRAPPING = re.compile(r"^\[[^\]]*\]\s*|\s*\(_ssl\.c:\d+\)$")


@lru_cache(maxsize=1)
def _diagnostic_context() -> ssl.SSLContext:
    """Accepts any version and certificate: used only after a failed handshake, to learn which
    TLS version the server offers. Nothing is ever sent over it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


async def _handshake_failure(trace: Trace, exc: Exception) -> CheckFailure:
    """Why did the TLS handshake fail? A failed handshake alone does not say whether the server
    only offers an old TLS version, so ask it with a second, permissive handshake."""
    if isinstance(exc, ssl.SSLError):
        # an alert has no reason code: its text, without OpenSSL's "[SSL]" and "(_ssl.c:N)"
        reason = exc.reason or _SSL_WRAPPING.sub("", str(exc))
        if "no application protocol" in reason.lower().replace("_", " "):
            # ALPN: the ClientHello offered http/1.1 alone, and the server refused it
            return CheckFailure("protocol", "the server speaks only HTTP/2: it refused HTTP/1.1 in the TLS handshake")
        detail = f"TLS handshake failed: {reason.lower().replace('_', ' ')}"
        if reason == "WRONG_VERSION_NUMBER":
            detail = "TLS handshake failed: the server did not answer with TLS (wrong version number)"
    elif isinstance(exc, ConnectionResetError):
        detail = "TLS handshake failed: connection reset by the server"
    else:
        detail = f"TLS handshake failed: {os_reason(exc) if isinstance(exc, OSError) else exc}"
    offered = await _offered_version(trace)
    if offered is not None and offered in _VERSION_NAMES:
        name = _VERSION_NAMES[offered]
        if offered in ("SSLv3", "TLSv1", "TLSv1.1") or (offered == "TLSv1.2" and trace.min_tls == "1.3"):
            return CheckFailure("tls_version", f"server offers {name} at most")
    return CheckFailure("tls_handshake", detail)


async def _offered_version(trace: Trace) -> str | None:
    if trace.address is None:
        return None
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(
                trace.address[0], trace.address[1], ssl=_diagnostic_context(),
                server_hostname=trace.host if not is_ip_address(trace.host) else None,
            ),
            timeout=5,
        )
    except (OSError, ssl.SSLError, asyncio.TimeoutError) as exc:
        # the event loop's TLS transport keeps the exception in a reference cycle of its own:
        # its traceback must not tie this frame, and the check's trace, into it
        exc.__traceback__ = exc.__context__ = None
        return None
    version = writer.get_extra_info("ssl_object").version()
    writer.transport.abort()
    return version


def _status_ok(status: int, expected: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= status <= high for low, high in expected)


async def _fetch(spec: CheckSpec, trace: Trace) -> Response:
    """Request the URL, following redirects by hand (each hop must stay on HTTPS), and read
    the body up to the cap. Returns the final answer. A hop's failure names the hop; the TLS
    facts kept are the last hop's, never a mix of hops."""
    context = check_context(spec.ca_file, spec.min_tls)
    trace.min_tls = spec.min_tls
    try:
        url = request_url(spec.url)  # sent as written
    except BadHost as exc:
        raise CheckFailure("dns", f"cannot resolve {exc}") from None
    home = (url.scheme, url.host, url.port)  # the origin, its default port included
    method = spec.method
    for hop in range(MAX_REDIRECTS + 1):
        # the caller's headers (secrets among them) go to the URL's own origin only, as curl does
        headers = spec.headers if (url.scheme, url.host, url.port) == home else ()
        head = request_head(method, url, headers, USER_AGENT)
        trace.tls = {}
        try:
            response = await exchange(url, method, head, context, trace, BODY_CAP, _handshake_failure)
        except CheckFailure as exc:
            if hop:
                exc.message = f"redirect {hop} to {public_url(str(url))}: {exc.message}"
            raise
        location = response.header("Location")
        location = location.strip(" \t") if location is not None else None
        if spec.follow_redirects and response.status in REDIRECT_STATUSES and location:
            try:  # the bytes as they came: raw UTF-8 is percent-encoded, as browsers do
                target = redirect_target(url, location.encode("latin-1"))
            except ValueError:
                raise CheckFailure("protocol", f"bad HTTP answer: redirected to a bad URL {location!r}") from None
            if target.scheme != "https":
                raise CheckFailure("redirects", f"redirected to a non-HTTPS URL: {public_url(str(target))}")
            if hop == MAX_REDIRECTS:
                raise CheckFailure("redirects", f"more than {MAX_REDIRECTS} redirects")
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method = "GET"
            url = _carry_credentials(url, target)
            trace.hop, trace.hop_url = hop + 1, public_url(str(url))
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def _carry_credentials(source: URL, target: URL) -> URL:
    """User and password of the URL go along to the same origin (scheme, host, port) only."""
    if target.origin() == source.origin() and target.user is None and source.user is not None:
        return target.with_user(source.user).with_password(source.password)
    return target


_PHASE_WORDS = {
    "dns": "DNS lookup",
    "connect": "TCP connect",
    "tls": "TLS handshake",
    "request": "waiting for the response",
    "body": "reading the body",
}


ERROR_MAX_CHARS = 300


def _format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return f"{seconds:g}s"


async def check(spec: CheckSpec) -> CheckResult:
    """Check one URL once. Never raises for anything the endpoint does. Checks share nothing
    (no connection, pool nor cache): any number may run at once in one event loop."""
    result = CheckResult(url=public_url(spec.url), at=time.time())  # no user:password kept
    trace = Trace()
    started = perf_counter()
    response: Response | None = None
    failure: CheckFailure | None = None
    try:
        async with asyncio.timeout(spec.timeout):
            response = await _fetch(spec, trace)
    except CheckFailure as exc:
        failure = exc
    except TimeoutError:
        where = f"redirect {trace.hop} to {trace.hop_url}: " if trace.hop else ""
        if trace.phase == "request" and trace.interim:
            where += f"only an interim answer (HTTP {trace.interim}) came, "
        failure = CheckFailure(
            "timeout",
            f"timed out after {_format_seconds(spec.timeout)}: {where}{_PHASE_WORDS.get(trace.phase, trace.phase)}",
        )
    except ValueError as exc:  # a request that cannot be written (a header with a line break)
        failure = CheckFailure("protocol", f"cannot send the request: {exc}")
    except (OSError, ssl.SSLError) as exc:
        failure = prober_trouble(exc) or CheckFailure("protocol", f"connection failed: {exc}")
    except MemoryError as exc:  # the prober's, not the endpoint's: the check was not made
        failure = prober_trouble(exc)
    if failure is not None:
        # only its class and message are kept: its traceback would tie this frame, and the
        # wire's, into a reference cycle left for the garbage collector
        failure.__traceback__ = failure.__context__ = None
    # a complete answer is timed when it arrived, not when this task was next scheduled; and
    # the time the check's data waited for the prober (trace.waited) is not the server's: the
    # check's clock leaves it out
    ended = trace.ended_at if failure is None and trace.ended_at else trace.clock()
    result.total_ms = round((ended - started) * 1000, 3)
    _record_facts(result, trace, response.status if response is not None else None)
    verdict(result, spec, failure, response.body if response is not None else b"",
            response.problem if response is not None else None)
    return result


def _record_facts(result: CheckResult, trace: Trace, status: int | None) -> None:
    result.http_status = status
    reached = trace.phase not in ("dns",)
    result.dns_ms = round(trace.dns_ms, 3)
    result.connect_ms = round(trace.connect_ms, 3) if reached else None
    result.tls_ms = round(trace.tls_ms, 3) if trace.tls.get("tls_version") else None
    result.ttfb_ms = round(trace.ttfb_ms, 3) if status is not None else None
    # a redirect may fail in DNS after earlier hops waited: what they waited is still left out
    result.wait_ms = round(trace.waited * 1000, 3) if reached or trace.waited else None
    for key in ("tls_version", "tls_cipher", "cert_not_after", "cert_issuer", "cert_subject"):
        setattr(result, key, trace.tls.get(key))
    if result.cert_not_after is not None:
        result.cert_days_left = math.floor((result.cert_not_after - result.at) / 86400)


def one_line(text: str) -> str:
    """Errors come from servers too: keep them to one bounded line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= ERROR_MAX_CHARS else flat[: ERROR_MAX_CHARS - 1] + "…"


def verdict(result: CheckResult, spec: CheckSpec, failure: CheckFailure | None, body: bytes,
            body_problem: str | None = None) -> None:
    """Derive state, error class and message from the facts. `body_problem` says why the body
    could not be decoded (a content coding probe cannot undo)."""
    if failure is not None:
        result.state, result.error_class, result.error = "down", failure.error_class, one_line(failure.message)
        return
    if not _status_ok(result.http_status, spec.expect_status):
        result.state, result.error_class = "down", "http_status"
        result.error = f"HTTP {result.http_status}, expected {describe_status_list(spec.expect_status)}"
        return
    if spec.expect_body is not None and body_problem is not None:
        result.state, result.error_class = "down", "body_mismatch"
        result.error = one_line(f"{body_problem}: {spec.expect_body!r} cannot be looked for")
        return
    if spec.expect_body is not None and spec.expect_body.encode() not in body:
        where = "the first 1 MiB of the body" if len(body) >= BODY_CAP else f"the body ({len(body)} bytes)"
        result.state, result.error_class = "down", "body_mismatch"
        result.error = f"{where} does not contain {spec.expect_body!r}"
        return
    if spec.max_latency is not None and result.total_ms > spec.max_latency * 1000:
        result.state, result.error_class = "degraded", "too_slow"
        result.error = f"took {result.total_ms:.0f}ms, over max_latency {_format_seconds(spec.max_latency)}"
        return
    if result.cert_days_left is not None and result.cert_days_left < spec.cert_warn_days:
        result.state, result.error_class = "degraded", "cert_expiring"
        when = time.strftime("%Y-%m-%d", time.gmtime(result.cert_not_after))
        result.error = f"certificate expires in {result.cert_days_left} days ({when})"
        return
    result.state, result.error_class, result.error = "up", None, None
