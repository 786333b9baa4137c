"""An endpoint's URL as the config accepts it: https only, a host that can be resolved, no
credentials."""

from __future__ import annotations

import re

from probe.spec import is_ip_address
from probe.text import refuse_controls


def check_url(url: str) -> str:
    """Only absolute https:// URLs with a host are accepted: probe never checks plain HTTP.
    The host must be an IP address or a DNS name (RFC 1123 labels; a name ending in a number
    is an IPv4 address, as browsers read it). Messages never show a user name or password."""
    from yarl import URL

    shown = repr(_without_userinfo(url))
    try:
        refuse_controls(url)
    except ValueError as exc:
        raise ValueError(f"{shown} {exc}") from None
    from probe.urls import host_problem

    problem = host_problem(url)  # yarl would drop a control character, and accept a space
    if problem is not None:
        raise ValueError(f"{shown} {problem}")
    try:
        parsed = URL(url)
        port = parsed.port
        parsed.host  # an IDNA name that does not decode ('xn--zz') fails here
    except UnicodeError:
        raise ValueError(f"{shown} has a bad host name: not a valid international (IDNA) name") from None
    except (ValueError, TypeError) as exc:
        if _userinfo_cut_short(url):
            raise ValueError(f"{shown} has a '/', '?' or '#' in its user name or password:"
                             " write them %2F, %3F, %23 (RFC 3986)") from None
        problem = "has a bad port" if "port" in str(exc).lower() else "is not a URL"
        raise ValueError(f"{shown} {problem}") from None
    if parsed.scheme == "http":
        raise ValueError(f"{shown} is plain HTTP; probe checks https:// URLs only")
    if parsed.scheme != "https" or not parsed.host:
        raise ValueError(f"{shown} is not an https:// URL")
    if port is None or not 0 < port < 65536 or not _port_digits(url):
        raise ValueError(f"{shown} has a bad port")
    problem = _host_problem(parsed.raw_host or "")
    cut_short = _userinfo_cut_short(url)
    if problem or cut_short and _single_label(parsed.raw_host or ""):
        # 'https://ann:123/pw@example.com/' is host ann, port 123: not what was meant, and the
        # rest of the password would be stored and shown as the path
        if cut_short:
            raise ValueError(f"{shown} has a '/', '?' or '#' in its user name or password:"
                             " write them %2F, %3F, %23 (RFC 3986)")
        raise ValueError(f"{shown} has a bad host name: {problem}")
    return url


def _single_label(host: str) -> bool:
    """A host name of one label other than localhost: what a user name before a raw '/' or
    '?' becomes; a real host with an '@' further on nearly always has a domain."""
    name = host.rstrip(".").lower()
    return "." not in name and name != "localhost" and not is_ip_address(host)


# What browsers refuse in a domain name (the WHATWG URL standard's forbidden domain code
# points); the rest of a label's shape follows RFC 1123, as DNS needs it.
_FORBIDDEN_IN_HOST = re.compile(r"[\x00-\x20#/:<>?@\[\\\]^|%\x7f]")


_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")


def _host_problem(host: str) -> str | None:
    """Why host is neither an IP address nor a DNS name, or None."""
    if is_ip_address(host):
        return None
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name's final dot
    labels = name.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return f"{host!r} is not an IPv4 address"
    if len(name) > 253:
        return "longer than 253 characters"
    if _FORBIDDEN_IN_HOST.search(host):
        return f"{host!r} holds a character not allowed in a host name"
    for label in labels:
        if not label:
            return f"{host!r} has an empty label"
        if len(label) > 63:
            return "a label is longer than 63 characters"
        if label.startswith("-") or label.endswith("-"):
            return f"{host!r} has a label that begins or ends with '-'"
    return None


def _without_userinfo(url: str) -> str:
    """The URL as a message may show it: whatever could be a user name or password (up to the
    last '@', even one after a '#' or '?' that a password holds raw) replaced by ***, even
    where the URL cannot be parsed."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://).*@", r"\1***@", url, flags=re.DOTALL)


def _port_digits(url: str) -> bool:
    """The port, when written, is digits only (RFC 3986 port = *DIGIT): browsers and curl
    refuse ':+443' or ': 443', which a lenient parser reads as 443."""
    authority = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]
    host_port = authority.rpartition("@")[2]
    port = host_port.rpartition("]")[2] if host_port.startswith("[") else host_port
    _, colon, digits = port.rpartition(":")
    return not colon or digits.isascii() and (digits == "" or digits.isdigit())


def _userinfo_cut_short(url: str) -> bool:
    """An '@' after the authority's end: a user name or password holding a raw '/', '?' or
    '#', which ends the authority in RFC 3986 (and so in every client)."""
    rest = url.partition("://")[2]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return "@" not in authority and "@" in rest
