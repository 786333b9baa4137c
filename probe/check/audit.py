"""A TLS audit of one HTTPS URL: which protocol versions the server accepts, each offered alone;
which TLS 1.2 suites it accepts; the certificate; HSTS; OCSP stapling. Facts only, gathered with
Python's ssl over plain blocking sockets (an audit runs off the event loop); the verdict is
`audit_profile.judge`."""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
import time
import warnings
from typing import Any
from urllib.parse import urlsplit

from probe.spec import public_url

from .audit_cert import certificate_facts, verification_problem
from .audit_profile import judge

PROTOCOLS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
# Every suite the system's OpenSSL still has, older protocols included (SECLEVEL 0 lifts the
# floor on key sizes and digests that would otherwise stop an old protocol being offered at all).
_ALL_SUITES = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
# A server accepting more TLS 1.2 suites than this is told in part; real lists are about 30.
_MAX_SUITES = 200
_HSTS_HEAD_BYTES = 64 * 1024


class AuditFailed(Exception):
    """The audit could not be made (no connection, no protocol accepted): says nothing of compliance."""


class _ConnectFailed(Exception):
    """No TCP connection to the server (as opposed to a handshake the server refused)."""


def _client_context(low: ssl.TLSVersion | None = None, high: ssl.TLSVersion | None = None,
                    suites: str = _ALL_SUITES) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(suites)
    _versions(context, low or ssl.TLSVersion.TLSv1, high)
    return context


def _versions(context: ssl.SSLContext, low: ssl.TLSVersion, high: ssl.TLSVersion | None = None) -> None:
    with warnings.catch_warnings():  # TLSv1 and TLSv1_1 are deprecated names, offered on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = low
        if high is not None:
            context.maximum_version = high


class _Target:
    """One server: the address all handshakes of an audit go to, the name sent in SNI."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise AuditFailed(f"not an https:// URL: {public_url(url)}")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 443
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise AuditFailed(f"cannot resolve {self.host}: {exc.strerror}") from None
        self.family, _, _, _, address = infos[0]
        self.address: tuple[Any, ...] = address

    def sni(self) -> str | None:
        try:
            socket.inet_pton(self.family, self.host)
            return None  # no SNI for an IP address
        except OSError:
            return self.host

    def handshake(self, context: ssl.SSLContext) -> ssl.SSLSocket:
        """A connected, handshaken TLS socket (the caller closes it), or ssl.SSLError / OSError."""
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.address)
        except OSError as exc:
            sock.close()
            raise _ConnectFailed(f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}") from None
        try:
            return context.wrap_socket(sock, server_hostname=self.sni())
        except BaseException:
            sock.close()
            raise


def _accepts(target: _Target, version: ssl.TLSVersion) -> tuple[bool, ssl.SSLSocket | None]:
    try:
        tls = target.handshake(_client_context(version, version))
    except OSError:  # an alert, or a reset, a close or silence instead of one: not accepted
        return False, None
    return True, tls


def _suite_facts(context: ssl.SSLContext) -> dict[str, Any]:
    return {c["name"]: c for c in context.get_ciphers()}


def tls12_suites(target: _Target) -> list[dict]:
    """The TLS 1.2 suites the server accepts: offer every suite, note the one chosen, offer the
    rest again, until the server refuses (one handshake per accepted suite, plus one)."""
    offered = [name for name, facts in _suite_facts(_client_context()).items()
               if facts["protocol"] != "TLSv1.3"]
    facts_of = _suite_facts(_client_context())
    accepted: list[dict] = []
    while offered and len(accepted) < _MAX_SUITES:
        try:
            with target.handshake(_client_context(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2,
                                                  ":".join(offered) + ":@SECLEVEL=0")) as tls:
                cipher = tls.cipher()
        except OSError:
            break
        chosen = cipher[0] if cipher else None
        if chosen is None or chosen not in offered:  # cannot happen with a well-behaved server; never loop on it
            break
        offered.remove(chosen)
        accepted.append(_suite(chosen, facts_of.get(chosen, {})))
    return accepted


def _suite(name: str, facts: dict) -> dict:
    kea = facts.get("kea") or ""
    symmetric = facts.get("symmetric") or ""
    return {
        "name": name,
        "forward_secrecy": kea in ("kx-ecdhe", "kx-dhe"),
        "cbc": "cbc" in symmetric,
        "sha1_mac": facts.get("digest") == "sha1",
        "export": "EXP" in name,
        "anonymous": facts.get("auth") == "auth-null",
        "null_encryption": not symmetric,
    }


def _leaf_der(target: _Target) -> bytes:
    with target.handshake(_client_context()) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise AuditFailed("the server sent no certificate")
    return der


def hsts(target: _Target) -> dict | None:
    """The Strict-Transport-Security header of a GET of the URL, parsed (RFC 6797), or None."""
    connection = http.client.HTTPSConnection(target.host, target.port, timeout=target.timeout,
                                             context=_client_context())
    try:
        connection.request("GET", target.path, headers={"User-Agent": "probe tls-audit",
                                                        "Connection": "close"})
        response = connection.getresponse()
        value = response.getheader("Strict-Transport-Security")
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return parse_hsts(value) if value else None


def parse_hsts(value: str) -> dict | None:
    directives: dict[str, str] = {}
    for part in value.split(";"):
        name, _, argument = part.strip().partition("=")
        if name:
            directives.setdefault(name.strip().lower(), argument.strip().strip('"'))
    try:
        max_age = int(directives["max-age"])
    except (KeyError, ValueError):
        return None
    return {"max_age": max_age, "include_subdomains": "includesubdomains" in directives,
            "preload": "preload" in directives}


def ocsp_stapled(target: _Target) -> bool | None:
    """Whether the server staples an OCSP response when asked (status_request). Python's ssl
    cannot ask, so OpenSSL's s_client does; None when it is not installed or says nothing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    host, port = target.address[0], target.address[1]
    connect = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [openssl, "s_client", "-connect", connect, "-status", "-no_ign_eof"]
    if target.sni():
        command += ["-servername", target.host]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=target.timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = done.stdout.decode("ascii", "replace")
    if "OCSP Response Status: successful" in output:
        return True
    if "OCSP response: no response sent" in output:
        return False
    return None


def audit(url: str, *, ca_file: str | None = None, profile: str = "tls12+", timeout: float = 10.0,
          now: float | None = None) -> dict:
    """The audit of url as JSON-ready facts and its verdict against profile; AuditFailed when
    the server cannot be audited at all."""
    target = _Target(url, timeout)
    protocols: dict[str, bool] = {}
    negotiated = None
    for name, version in PROTOCOLS.items():
        try:
            accepted, tls = _accepts(target, version)
        except _ConnectFailed as exc:
            raise AuditFailed(str(exc)) from None
        protocols[name] = accepted
        if tls is not None:
            tls.close()
    if not any(protocols.values()):
        raise AuditFailed(f"{target.host}:{target.port} completed no TLS handshake")
    try:
        with target.handshake(_client_context()) as tls:
            negotiated = tls.version()
        suites = tls12_suites(target) if protocols["TLSv1.2"] else []
        der = _leaf_der(target)
        problem = verification_problem(target.handshake, ca_file)
    except _ConnectFailed as exc:
        raise AuditFailed(str(exc)) from None
    except OSError as exc:
        raise AuditFailed(f"{target.host}:{target.port}: {exc.strerror or exc}") from None
    now = time.time() if now is None else now
    facts = {
        "url": public_url(url),
        "protocols": protocols,
        "negotiated": negotiated,
        "tls12_suites": suites,
        "weak_suites": [s for s in suites if _weak(s)],
        "certificate": certificate_facts(der, target.host, problem, now),
        "hsts": hsts(target),
        "ocsp_stapling": ocsp_stapled(target),
    }
    return judge(facts, profile)


def _weak(suite: dict) -> bool:
    return not suite["forward_secrecy"] or any(suite[flag] for flag in _WEAKNESSES)


_WEAKNESSES = ("cbc", "sha1_mac", "export", "anonymous", "null_encryption")
