"""The ``[alerts]`` section: webhooks, e-mail, and the routes that say which incidents go where."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from probe.spec import is_ip_address, is_loopback

from .fields import (
    Where,
    check_ca_file,
    duration_in,
    expand_env,
    int_in,
    parse_headers,
    read_bool,
    read_string,
    read_value,
    reject_unknown,
)
from .https_url import check_url
from .model import DEFAULT_TIMEOUT, EVENTS, SEVERITIES, AlertSettings, Email, Route, Webhook


def parse_alerts(table: dict[str, Any], path: str, endpoint_names: Iterable[str],
                 environ: Mapping[str, str] = os.environ) -> AlertSettings:
    """The ``[alerts]`` table -> AlertSettings; ConfigError with a one-line message naming the
    file, the channel or route, and the key: ``probe.toml: alerts.webhook 'ops': url: ...``."""
    where = Where(path)
    if not isinstance(table, dict):
        raise where.error("must be a table ([alerts])", None, "alerts")
    reject_unknown(table, {"webhook", "email", "route"}, where, "alerts")
    webhooks = tuple(
        _webhook(item, index, where, environ)
        for index, item in enumerate(_tables(table, "webhook", where), start=1)
    )
    emails = tuple(
        _email(item, index, where, environ)
        for index, item in enumerate(_tables(table, "email", where), start=1)
    )
    names: set[str] = set()
    channels: tuple[Webhook | Email, ...] = (*webhooks, *emails)
    for channel in channels:
        if channel.name in names:
            raise where.error(
                "duplicate name (channel names must be unique)",
                f"alerts.{channel.kind} {channel.name!r}", "name",
            )
        names.add(channel.name)
    routes = tuple(
        _route(item, index, where, names, set(endpoint_names))
        for index, item in enumerate(_tables(table, "route", where), start=1)
    )
    return AlertSettings(webhooks=webhooks, emails=emails, routes=routes)


WEBHOOK_KEYS = {"name", "url", "headers", "ca_file", "timeout"}


EMAIL_KEYS = {"name", "host", "port", "starttls", "username", "password", "from", "to", "ca_file",
              "timeout"}


ROUTE_KEYS = {"channels", "endpoints", "severities", "events"}


def _tables(table: dict[str, Any], key: str, where: Where) -> list[dict[str, Any]]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise where.error(f"must be an array of tables ([[alerts.{key}]])", "alerts", key)
    return value


def _channel_section(table: dict[str, Any], kind: str, index: int, where: Where, keys: set[str]) -> str:
    name = table.get("name")
    section = f"alerts.{kind} {name!r}" if isinstance(name, str) and name.strip() else f"alerts.{kind} #{index}"
    reject_unknown(table, keys, where, section)
    if not isinstance(name, str) or not name.strip():
        raise where.error("missing (every channel needs a unique name)", section, "name")
    return section


def _common(table: dict[str, Any], section: str, where: Where) -> dict[str, Any]:
    return {
        "ca_file": read_value(table, "ca_file", lambda v: check_ca_file(read_string(v)), where, section),
        "timeout": read_value(table, "timeout", duration_in(0.1, 300), where, section, DEFAULT_TIMEOUT),
    }


def _webhook(table: dict[str, Any], index: int, where: Where, environ: Mapping[str, str]) -> Webhook:
    section = _channel_section(table, "webhook", index, where, WEBHOOK_KEYS)
    if "url" not in table:
        raise where.error("missing", section, "url")
    return Webhook(
        name=table["name"],
        url=read_value(table, "url", lambda v: _secret_url(v, environ), where, section),
        headers=read_value(table, "headers", lambda v: parse_headers(v, environ), where, section, ()),
        **_common(table, section, where),
    )


def _secret_url(value: object, environ: Mapping[str, str]) -> str:
    """An https:// URL, ${VAR} expanded; a message about it shows it as written, so that a
    secret taken from the environment is never printed."""
    text = read_string(value)
    expanded = expand_env(text, environ)
    try:
        return check_url(expanded)
    except ValueError as exc:
        raise ValueError(str(exc).replace(repr(expanded), repr(text))) from None


def _email(table: dict[str, Any], index: int, where: Where, environ: Mapping[str, str]) -> Email:
    section = _channel_section(table, "email", index, where, EMAIL_KEYS)
    for key in ("host", "from", "to"):
        if key not in table:
            raise where.error("missing", section, key)
    host = read_value(table, "host", _host, where, section)
    starttls = read_value(table, "starttls", read_bool, where, section, True)
    if not starttls and not is_loopback(host):
        raise where.error(
            "false is allowed only for a server on loopback (127.0.0.1, ::1, localhost):"
            " mail and passwords would cross the network in clear",
            section, "starttls",
        )
    secret = lambda v: expand_env(read_string(v), environ)  # noqa: E731
    username = read_value(table, "username", secret, where, section)
    password = read_value(table, "password", secret, where, section)
    for key, present, other in (("password", username, password), ("username", password, username)):
        if present is not None and other is None:
            raise where.error("missing (username and password go together)", section, key)
    return Email(
        name=table["name"],
        host=host,
        port=read_value(table, "port", int_in(1, 65535), where, section, 587),
        starttls=starttls,
        username=username,
        password=password,
        sender=read_value(table, "from", _address, where, section),
        recipients=read_value(table, "to", _addresses, where, section),
        **_common(table, section, where),
    )


def _host(value: object) -> str:
    text = read_string(value).strip().strip("[]")
    if not text or any(c.isspace() or c in "/@" for c in text) or (":" in text and not is_ip_address(text)):
        raise ValueError(f"{value!r} is not a host name or address")
    return text


def _address(value: object) -> str:
    text = read_string(value)
    from email.utils import parseaddr  # imported here: most configs have no e-mail, most commands no config

    _, address = parseaddr(text)
    if "@" not in address or "\r" in text or "\n" in text:
        raise ValueError(f"{value!r} is not an e-mail address")
    return text.strip()


def _addresses(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a list of e-mail addresses (like [\"support@example.com\"])")
    return tuple(_address(item) for item in value)


def _route(table: dict[str, Any], index: int, where: Where, channels: set[str], endpoints: set[str]) -> Route:
    section = f"alerts.route #{index}"
    reject_unknown(table, ROUTE_KEYS, where, section)
    if "channels" not in table:
        raise where.error("missing (which channels this route sends to)", section, "channels")

    def names(known: Collection[str], what: str) -> Callable[[object], tuple[str, ...]]:
        def parse(value: object) -> tuple[str, ...]:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise ValueError(f"must be a non-empty list of {what} names")
            for name in value:
                if name not in known:
                    raise ValueError(f"no {what} named {name!r}")
            return tuple(value)

        return parse

    def choices(options: Collection[str], what: str) -> Callable[[object], tuple[str, ...]]:
        def parse(value: object) -> tuple[str, ...]:
            if not isinstance(value, list) or not value:
                raise ValueError(f"must be a non-empty list of {what}")
            for item in value:
                if item not in options:
                    raise ValueError(f"{item!r} is not one of {', '.join(options)}")
            return tuple(value)

        return parse

    return Route(
        channels=read_value(table, "channels", names(channels, "channel"), where, section),
        endpoints=read_value(table, "endpoints", names(endpoints, "endpoint"), where, section),
        severities=read_value(table, "severities", choices(SEVERITIES, "incident classes"), where, section),
        events=read_value(table, "events", choices(EVENTS, "events"), where, section),
    )
