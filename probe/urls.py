"""URLs as curl and browsers send them: as written, with only what cannot go on the wire
percent-encoded.

RFC 3986 §6.2.2.2 allows a client to decode percent-escapes of unreserved characters only; a
signed or nested URL breaks if `%2F` becomes `/` or `%3f` becomes `%3F`. So the path and the
query are kept byte for byte, and only what may not stand in a request target is
percent-encoded (UTF-8 bytes, as the WHATWG URL standard's path set says: controls, space, `"`,
`<`, `>`, backtick, `{`, `}` and every non-ASCII byte). The host is IDNA-encoded; a host with a
space or a control character is refused. A `Location` is read the same way, from the bytes the
server sent: raw UTF-8 is percent-encoded, never read as Latin-1 first.
"""

from __future__ import annotations

import re
from functools import lru_cache

from yarl import URL

_UNSAFE = re.compile(rb'[\x00-\x20"<>`{}\x7f-\xff]')
_SPLIT = re.compile(r"\A([A-Za-z][A-Za-z0-9+.\-]*:)?(//[^/?#]*)?(.*)\Z", re.DOTALL)


def _split(text: str) -> tuple[str | None, str | None, str]:
    """(scheme, //authority, the rest) of any text: each part is optional, so it always matches."""
    match = _SPLIT.match(text)
    assert match is not None
    return match.group(1), match.group(2), match.group(3)


class BadHost(ValueError):
    """A host name that cannot be sent: a space or control character, or one IDNA rejects."""


def percent_encode(raw: bytes) -> str:
    """`raw` with every byte that may not stand in a request target percent-encoded."""
    return _UNSAFE.sub(lambda m: b"%%%02X" % m.group()[0], raw).decode("ascii")


def _host(url: str) -> str:
    match = _SPLIT.match(url)
    authority = (match.group(2) or "")[2:] if match else ""
    return authority.rpartition("@")[2]


def host_problem(url: str) -> str | None:
    """Why the host of `url` cannot be sent, or None."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in _host(url)):
        return "has a space or a control character in its host"
    return idna_problem(url)


def idna_problem(url: str) -> str | None:
    """Why IDNA rejects the host name of `url`, or None."""
    host = _host(url)
    try:
        URL(f"https://{host}/")
    except UnicodeError as exc:
        reason = str(exc).rpartition("(")[2].rstrip(")") or str(exc)
        return f"has a host name that IDNA rejects ({reason})"
    except ValueError as exc:
        if "cannot contain" in str(exc):
            return f"has a host name that IDNA rejects ({exc})"
    return None


@lru_cache(maxsize=4096)  # an endpoint's URL is checked again and again: worked out once
def request_url(url: str) -> URL:
    """`url` as it is requested: the host IDNA-encoded, path and query as written but for what
    `percent_encode` must encode. Raises BadHost."""
    problem = host_problem(url)
    if problem is not None:
        raise BadHost(f"{url!r} {problem}")
    scheme, authority, rest = _split(url)
    if authority is None:
        return URL(percent_encode(url.encode("utf-8", "surrogateescape")), encoded=True)
    parsed = URL(f"{scheme or 'https:'}{authority}/")  # the host IDNA-encoded, user and port read
    rest, _, fragment = percent_encode(rest.encode("utf-8", "surrogateescape")).partition("#")
    path, _, query = rest.partition("?")
    path = remove_dot_segments(path)
    host = parsed.raw_host or ""
    return URL.build(scheme=(scheme or "")[:-1], user=parsed.raw_user, password=parsed.raw_password,
                     host=f"[{host}]" if ":" in host else host, port=parsed.explicit_port, path=path, query_string=query,
                     fragment=fragment, encoded=True)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, as curl and browsers apply it before a request: `/a/../b` is `/b`, and
    no `..` climbs above the root. Only literal dots count (`%2E` is left as written)."""
    if "." not in path:
        return path
    segments = path.split("/")
    kept: list[str] = []
    for number, segment in enumerate(segments):
        last = number == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and len(kept) > 1:
                kept.pop()
            if last:
                kept.append("")  # "/a/." and "/a/b/.." end with a slash
            continue
        kept.append(segment)
    return "/".join(kept)


def redirect_target(base: URL, location: bytes) -> URL:
    """Where a `Location` (the raw bytes of its value) leads from `base`, as browsers read it."""
    text = location.decode("utf-8", "surrogateescape")
    scheme, authority, _ = _split(text)
    if authority is not None:  # absolute, or scheme-relative: a host of its own
        return request_url(text if scheme else f"{base.scheme}:{text}")
    return base.join(URL(percent_encode(location), encoded=True))
