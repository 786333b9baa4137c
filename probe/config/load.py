"""Loading a config file: the top-level tables, the endpoints and their defaults, the secrets
left unset."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Any

from probe.spec import TLS_VERSIONS, CheckSpec
from probe.text import control_character, say_duration

from .alerts import parse_alerts
from .fields import (
    _ENV,
    ConfigError,
    Where,
    _array,
    _choice,
    _name,
    _number_in,
    _readable_file,
    _table,
    duration_in,
    int_in,
    parse_headers,
    parse_status_list,
    read_bool,
    read_string,
    read_value,
    reject_unknown,
)
from .heartbeats import parse_heartbeats
from .https_url import check_url
from .model import SEVERITIES, Config, Endpoint, ProbeSettings, default_database
from .objective import parse_latency_objective
from .sections import _maintenance, _report_settings, _sla_settings
from .tls_audit import TLS_AUDIT_DEFAULT, tls_audit_every
from .upstream import defer_tokens, parse_hub, parse_sites, parse_upstream
from .web import parse_web

ENDPOINT_KEYS = {
    "name", "url", "interval", "timeout", "expect_status", "expect_body", "max_latency",
    "cert_warn_days", "min_tls", "headers", "confirm", "method", "follow_redirects", "ca_file",
    "max_severity", "title", "control", "latency_objective", "tls_audit",
}


PROBE_KEYS = {"database", "site", "retention", "max_in_flight", "rate", "per_host", "retry_interval", "workers"}


TOP_KEYS = {"probe", "defaults", "endpoint", "sla", "report", "maintenance", "alerts", "heartbeat", "upstream",
            "site", "hub", "web"}


def load(path: str | os.PathLike[str], environ: Mapping[str, str] = os.environ, secrets: bool = True) -> Config:
    """Read and validate a config file; raises ConfigError with a one-line message.

    ``secrets=False`` is for the commands that send nothing and check nothing (report,
    status, export...): a ${VARIABLE} of an alert channel or a header that is not set does not
    stop them; it is listed in ``Config.unset_secrets`` and its value is a placeholder."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        # a byte order mark, as some editors save UTF-8, is no part of the TOML
        raw = tomllib.loads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such file") from None
    except PermissionError:
        raise ConfigError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise ConfigError(f"{name}: is a directory, not a config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not valid TOML: not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"{name}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # a number of more than 4 300 digits
        raise ConfigError(f"{name}: not valid TOML: a number too large") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read: {exc.strerror}") from None
    return from_dict(raw, name, environ, secrets)


def from_dict(raw: dict[str, Any], name: str = "<config>", environ: Mapping[str, str] = os.environ,
              secrets: bool = True) -> Config:
    unset: list[str] = []
    if not secrets:
        raw = defer_tokens(_defer_secrets(raw, environ, unset), environ, unset)
    where = Where(name)
    reject_unknown(raw, TOP_KEYS, where, None)
    probe = _probe_settings(_table(raw, "probe", where), where)
    defaults = _table(raw, "defaults", where)
    reject_unknown(defaults, ENDPOINT_KEYS - {"name", "url"}, where, "defaults")
    sla = _sla_settings(_table(raw, "sla", where), where)
    endpoints_raw = raw.get("endpoint", [])
    if not isinstance(endpoints_raw, list):
        raise where.error("must be an array of tables ([[endpoint]])", None, "endpoint")
    endpoints: list[Endpoint] = []
    seen: set[str] = set()
    for index, table in enumerate(endpoints_raw, start=1):
        if not isinstance(table, dict):
            raise where.error("must be a table", f"endpoint #{index}")
        endpoint = _endpoint({**defaults, **table}, index, where, sla.confirm, environ)
        if endpoint.name in seen:
            raise where.error("duplicate name (names must be unique)", f"endpoint {endpoint.name!r}", "name")
        seen.add(endpoint.name)
        endpoints.append(endpoint)
    maintenance = tuple(
        _maintenance(table, index, where, sla.timezone, seen)
        for index, table in enumerate(_array(raw, "maintenance", where), start=1)
    )

    alerts = parse_alerts(_table(raw, "alerts", where), name, seen, environ)
    return Config(
        path=name,
        probe=probe,
        endpoints=tuple(endpoints),
        sla=sla,
        report=_report_settings(_table(raw, "report", where), where),
        maintenance=maintenance,
        alerts=alerts,
        heartbeats=parse_heartbeats(raw.get("heartbeat", []), where, environ, None if secrets else unset),
        unset_secrets=tuple(unset),
        upstream=parse_upstream(raw, where, environ),
        sites=parse_sites(raw, where, environ),
        hub=parse_hub(raw, where),
        web=parse_web(_table(raw, "web", where), where),
    )


UNSET_URL = "https://unset.invalid/"  # stands for a whole URL taken from an unset variable


UNSET_VALUE = "unset"


def _defer_secrets(raw: dict[str, Any], environ: Mapping[str, str], unset: list[str]) -> dict[str, Any]:
    """A copy of ``raw`` in which each ${VARIABLE} of alert channels and headers that is not set
    is replaced by a placeholder (noted in ``unset``), so that loading does not need it."""

    def replace(text: object, where: str, key: str) -> object:
        if not isinstance(text, str):
            return text
        missing = [m.group(1) for m in _ENV.finditer(text) if m.group(1) not in environ]
        if not missing:
            return text
        unset.extend(f"{where} {key}: {name}" for name in missing)
        if key == "url" and _ENV.fullmatch(text.strip()):
            return UNSET_URL
        return _ENV.sub(lambda m: m.group(0) if m.group(1) in environ else UNSET_VALUE, text)

    def table(item: Any, where: str) -> Any:
        if not isinstance(item, dict):
            return item
        copy: dict[str, Any] = {key: replace(value, where, key) for key, value in item.items()}
        if isinstance(copy.get("headers"), dict):
            copy["headers"] = {name: replace(value, where, f"headers.{name}")
                               for name, value in copy["headers"].items()}
        return copy

    raw = dict(raw)
    if isinstance(raw.get("defaults"), dict) and isinstance(raw["defaults"].get("headers"), dict):
        raw["defaults"] = {**raw["defaults"], "headers": table({"headers": raw["defaults"]["headers"]},
                                                               "defaults")["headers"]}
    if isinstance(raw.get("endpoint"), list):
        raw["endpoint"] = [
            {**item, "headers": table({"headers": item["headers"]}, f"endpoint {item.get('name', index)!r}")["headers"]}
            if isinstance(item, dict) and isinstance(item.get("headers"), dict) else item
            for index, item in enumerate(raw["endpoint"], start=1)
        ]
    alerts = raw.get("alerts")
    if isinstance(alerts, dict):
        alerts = dict(alerts)
        for kind in ("webhook", "email"):
            if isinstance(alerts.get(kind), list):
                alerts[kind] = [table(item, f"alerts.{kind} #{index}") for index, item in enumerate(alerts[kind], 1)]
        raw["alerts"] = alerts
    return raw


def _probe_settings(table: dict[str, Any], where: Where) -> ProbeSettings:
    reject_unknown(table, PROBE_KEYS, where, "probe")
    section = "probe"
    retention = read_value(table, "retention", duration_in(86400, 36500 * 86400), where, section, 400 * 86400)
    return ProbeSettings(
        database=read_value(table, "database", _name, where, section) or default_database(),
        site=read_value(table, "site", _name, where, section, "default"),
        retention_days=int(retention // 86400),
        max_in_flight=read_value(table, "max_in_flight", int_in(1, 100000), where, section, 256),
        rate=read_value(table, "rate", _number_in(1, 100000), where, section, 500.0),
        per_host=read_value(table, "per_host", int_in(1, 10000), where, section, 8),
        retry_interval=read_value(table, "retry_interval", duration_in(0.1, 3600), where, section, 5.0),
        workers=read_value(table, "workers", _workers, where, section),
    )


def _workers(value: object) -> int | None:
    if value == "auto":
        return None
    return int_in(1, 64)(value)


def _endpoint(table: dict[str, Any], index: int, where: Where, confirm_default: int,
              environ: Mapping[str, str]) -> Endpoint:
    name = table.get("name")
    section = (f"endpoint {name!r}" if isinstance(name, str) and name and control_character(name) is None
               else f"endpoint #{index}")
    reject_unknown(table, ENDPOINT_KEYS, where, section)
    if not isinstance(name, str) or not name.strip():
        raise where.error("missing (every endpoint needs a unique name)", section, "name")
    read_value(table, "name", _name, where, section)
    if "url" not in table:
        raise where.error("missing", section, "url")
    url = read_value(table, "url", lambda v: check_url(read_string(v)), where, section)
    headers = read_value(table, "headers", lambda v: parse_headers(v, environ), where, section, ())
    ca_file = read_value(table, "ca_file", _readable_file, where, section)
    interval = read_value(table, "interval", duration_in(1, 86400), where, section, 60.0)
    # by default the smaller of 10 s and the interval (as Prometheus' scrape_timeout)
    timeout = read_value(table, "timeout", duration_in(0.1, 300), where, section, min(10.0, interval))
    spec = CheckSpec(
        url=url,
        timeout=timeout,
        expect_status=read_value(table, "expect_status", parse_status_list, where, section, ((200, 299),)),
        expect_body=read_value(table, "expect_body", read_string, where, section),
        max_latency=read_value(table, "max_latency", duration_in(0.001, 300), where, section),
        min_tls=read_value(table, "min_tls", lambda v: _choice(tuple(TLS_VERSIONS))(str(v)), where, section, "1.2"),
        cert_warn_days=read_value(table, "cert_warn_days", int_in(0, 3650), where, section, 14),
        headers=headers,
        method=read_value(table, "method", lambda v: _choice(("GET", "HEAD", "POST"))(str(v).upper()), where,
                      section, "GET"),
        follow_redirects=read_value(table, "follow_redirects", read_bool, where, section, True),
        ca_file=ca_file,
    )
    if spec.timeout > interval:
        # one check at a time per endpoint: a check must end before the next is due
        raise where.error(f"{say_duration(spec.timeout)} is longer than the interval {say_duration(interval)}", section, "timeout")
    return Endpoint(
        name=name,
        spec=spec,
        interval=interval,
        confirm=read_value(table, "confirm", int_in(1, 100), where, section, confirm_default),
        severity_cap=read_value(table, "max_severity", _choice(SEVERITIES), where, section),
        title=read_value(table, "title", _name, where, section),
        control=read_value(table, "control", read_bool, where, section, False),
        latency_objective=read_value(table, "latency_objective", parse_latency_objective, where, section),
        tls_audit=read_value(table, "tls_audit", tls_audit_every, where, section, TLS_AUDIT_DEFAULT),
    )
