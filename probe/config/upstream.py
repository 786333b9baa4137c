"""Several sites: ``[upstream]`` (where a site ships its checks: the hub) and, on the hub,
``[[site]]`` (who may push, with which token) and ``[hub]`` (how pushes are received)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .fields import (
    Where,
    _array,
    _name,
    _readable_file,
    duration_in,
    expand_env,
    int_in,
    read_bool,
    read_string,
    read_value,
    reject_unknown,
)
from .https_url import check_url

UPSTREAM_KEYS = {"url", "token", "ca_file", "batch", "every", "timeout"}


SITE_KEYS = {"name", "token", "silent_after"}


HUB_KEYS = {"behind_tls_proxy", "max_body", "check_endpoints"}


MIN_TOKEN = 16  # characters: a token shorter is guessable


@dataclass(frozen=True)
class Upstream:
    """Where this site ships its checks and daemon runs."""

    url: str  # the hub's base URL: https only
    token: str = field(repr=False)
    ca_file: str | None = None
    batch: int = 5000  # lines per push, at most
    every: float = 1.0  # seconds between pushes while the outbox is empty or the hub answers
    timeout: float = 30.0  # seconds a push may take


@dataclass(frozen=True)
class Site:
    """A site allowed to push to this hub."""

    name: str
    token: str = field(repr=False)
    silent_after: float = 300.0  # seconds without a push before the site is an alert


@dataclass(frozen=True)
class HubSettings:
    behind_tls_proxy: bool = False  # a non-loopback plain-HTTP listener is behind a TLS proxy
    max_body: int = 16 * 1024 * 1024  # bytes of one push, at most
    # false: the [[endpoint]] sections only name what the sites check (with its confirm,
    # max_severity, control, title), for the report and alerts; the hub checks none of them
    check_endpoints: bool = True


def _token(value: object, environ: Mapping[str, str]) -> str:
    """A token, ${VAR} expanded; a message never shows it."""
    text = expand_env(read_string(value), environ).strip()
    if len(text) < MIN_TOKEN:
        raise ValueError(f"must be at least {MIN_TOKEN} characters")
    if any(not 0x21 <= ord(c) <= 0x7E for c in text):
        raise ValueError("must be printable ASCII without spaces (it is sent in an HTTP header)")
    return text


def _hub_url(value: object) -> str:
    url = check_url(read_string(value))
    return url if url.endswith("/") else url + "/"


def parse_upstream(raw: Mapping[str, Any], where: Where, environ: Mapping[str, str] = os.environ) -> Upstream | None:
    """The ``[upstream]`` table, or None when there is none."""
    if "upstream" not in raw:
        return None
    table = raw["upstream"]
    if not isinstance(table, dict):
        raise where.error("must be a table ([upstream])", None, "upstream")
    section = "upstream"
    reject_unknown(table, UPSTREAM_KEYS, where, section)
    for key in ("url", "token"):
        if key not in table:
            raise where.error("missing", section, key)
    return Upstream(
        url=read_value(table, "url", _hub_url, where, section),
        token=read_value(table, "token", lambda v: _token(v, environ), where, section),
        ca_file=read_value(table, "ca_file", _readable_file, where, section),
        batch=read_value(table, "batch", int_in(1, 50_000), where, section, 5000),
        every=read_value(table, "every", duration_in(0.1, 3600), where, section, 1.0),
        timeout=read_value(table, "timeout", duration_in(1, 600), where, section, 30.0),
    )


def parse_sites(raw: Mapping[str, Any], where: Where, environ: Mapping[str, str] = os.environ) -> tuple[Site, ...]:
    """The ``[[site]]`` tables: names unique, tokens unique."""
    sites: list[Site] = []
    for index, table in enumerate(_array(raw, "site", where), start=1):
        section = _site_section(table, index)
        reject_unknown(table, SITE_KEYS, where, section)
        for key in ("name", "token"):
            if key not in table:
                raise where.error("missing", section, key)
        name = read_value(table, "name", _site_name, where, section)
        site = Site(
            name=name,
            token=read_value(table, "token", lambda v: _token(v, environ), where, section),
            silent_after=read_value(table, "silent_after", duration_in(1, 7 * 86400), where, section, 300.0),
        )
        for other in sites:
            if other.name == site.name:
                raise where.error("duplicate name (names must be unique)", section, "name")
            if other.token == site.token:
                raise where.error(f"the same as site {other.name!r}'s (each site needs its own)", section, "token")
        sites.append(site)
    return tuple(sites)


def _site_name(value: object) -> str:
    name = _name(value).strip()
    if not name:
        raise ValueError("must not be empty")
    return name


def parse_hub(raw: Mapping[str, Any], where: Where) -> HubSettings:
    table = raw.get("hub", {})
    if not isinstance(table, dict):
        raise where.error("must be a table ([hub])", None, "hub")
    reject_unknown(table, HUB_KEYS, where, "hub")
    settings = HubSettings(
        behind_tls_proxy=read_value(table, "behind_tls_proxy", read_bool, where, "hub", False),
        max_body=read_value(table, "max_body", int_in(1024, 1024**3), where, "hub", 16 * 1024 * 1024),
        check_endpoints=read_value(table, "check_endpoints", read_bool, where, "hub", True),
    )
    if not settings.check_endpoints and not raw.get("site"):
        raise where.error("false needs [[site]] sections: the sites check the endpoints", "hub", "check_endpoints")
    return settings


def defer_tokens(raw: dict[str, Any], environ: Mapping[str, str], unset: list[str]) -> dict[str, Any]:
    """A copy of ``raw`` in which a token naming an unset ${VARIABLE} is a placeholder (one of
    its own per site, noted in ``unset``), for the commands that push and receive nothing."""
    from .fields import _ENV

    def replace(item: object, where: str) -> object:
        if not isinstance(item, dict) or not isinstance(item.get("token"), str):
            return item
        missing = [m.group(1) for m in _ENV.finditer(item["token"]) if m.group(1) not in environ]
        if not missing:
            return item
        unset.extend(f"{where} token: {name}" for name in missing)
        return {**item, "token": f"unset-placeholder-{where}".replace(" ", "-")}

    raw = dict(raw)
    if "upstream" in raw:
        raw["upstream"] = replace(raw["upstream"], "upstream")
    if isinstance(raw.get("site"), list):
        raw["site"] = [replace(item, _site_section(item, index)) for index, item in enumerate(raw["site"], start=1)]
    return raw


def _site_section(item: object, index: int) -> str:
    """A [[site]] as messages name it: by its name when it has a printable one."""
    name = item.get("name") if isinstance(item, dict) else None
    return f"site {name!r}" if isinstance(name, str) and name.isprintable() and name else f"site #{index}"


def describe_sites(upstream: Upstream | None, sites: tuple[Site, ...], hub: HubSettings) -> list[str]:
    """What `probe config check` says of shipping (tokens never shown)."""
    from probe.text import say_duration

    lines = []
    if upstream is not None:
        lines.append(f"upstream: pushes every check to {upstream.url} (token ***"
                     + (f", CA {upstream.ca_file}" if upstream.ca_file else "")
                     + f"), {upstream.batch} lines at most every {say_duration(upstream.every)}")
    if sites:
        lines.append(f"{len(sites)} site(s) may push here (needs --listen"
                     + ("; behind a TLS proxy" if hub.behind_tls_proxy else "; TLS off loopback") + "):")
        lines += [f"  {site.name}: token ***; silent after {say_duration(site.silent_after)}" for site in sites]
        if not hub.check_endpoints:
            lines.append("  the hub checks no endpoint itself: its [[endpoint]] sections name what the sites check")
    return lines
