"""TOML configuration -> frozen dataclasses. Defaults live here; unknown keys are errors; every
error names the file, the endpoint and the key.
"""

from __future__ import annotations

import math
import os
import re
import ssl
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from probe.spec import TLS_VERSIONS, CheckSpec, is_ip_address, tls_context
from probe.text import control_character, refuse_controls

SEVERITIES = ("minor", "major", "blocking")
DEFAULT_DEADLINES = {
    "blocking": {"acknowledge": "5h", "fix": "24wh"},
    "major": {"acknowledge": "24wh", "fix": "48wh"},
    "minor": {"acknowledge": "48wh", "fix": "5wd"},
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """A configuration problem, worded for one line: 'file: endpoint 'x': key: problem'."""


# ---------------------------------------------------------------- values

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text) -> float:
    """'500ms', '10s', '2m', '1h', '1d' -> seconds. A bare number is seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text != text:
            raise ValueError("nan is not a duration")
        if text <= 0:
            raise ValueError(f"{_shown(text)} is not a positive duration")
        if isinstance(text, int) and text > 10**15 or not math.isfinite(text):
            raise ValueError(f"{_shown(text)} is too long for a duration")
        return float(text)
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{_shown(text)} is not a duration (like 500ms, 10s, 2m, 1h, 1d)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"{_shown(text)} is too long for a duration")
    if seconds <= 0:
        raise ValueError(f"{_shown(text)} is not a positive duration")
    return seconds


def _shown(value) -> str:
    """A value as a message quotes it: repr, cut short when it is huge (a 4 000-digit number)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a number of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}…{text[-10:]}"


def parse_status_list(text) -> tuple[tuple[int, int], ...]:
    """'200-299,301' -> ((200, 299), (301, 301)). An int or a list of them works too."""
    items = text if isinstance(text, list) else str(text).split(",")
    ranges = []
    for item in items:
        part = str(item).strip()
        match = re.fullmatch(r"(\d{3})(?:\s*-\s*(\d{3}))?", part)
        if not match:
            raise ValueError(f"{text!r} is not a list of status codes (like 200-299,301)")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if not (100 <= low <= high <= 599):
            raise ValueError(f"{part!r} is not a range of HTTP status codes (100-599)")
        ranges.append((low, high))
    if not ranges:
        raise ValueError("no status codes given")
    return tuple(ranges)


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name.strip()):
        raise ValueError(f"{text!r} is not a header (like 'Name: value')")
    _check_header_value(name.strip(), value)
    return name.strip(), value.strip()


def _check_header_value(name: str, value: str) -> None:
    """RFC 9110 field values: visible characters, spaces and tabs; a line break would make a
    header of its own, a NUL or another control character a request no server reads alike."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} holds a line break")
    found = re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value)
    if found is not None:
        raise ValueError(f"header {name!r} holds a control character ({control_character(found.group())})")


def check_url(url: str) -> str:
    """Only absolute https:// URLs with a host are accepted: probe never checks plain HTTP.
    The host must be an IP address or a DNS name (RFC 1123 labels; a name ending in a number
    is an IPv4 address, as browsers read it). Messages never show a user name or password."""
    from yarl import URL

    shown = repr(_without_userinfo(url))
    found = control_character(url)
    if found is not None:
        raise ValueError(f"{shown} holds a control character ({found})")
    try:
        parsed = URL(url)
        port = parsed.port
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
    if port is None or not 0 < port < 65536:
        raise ValueError(f"{shown} has a bad port")
    problem = _host_problem(parsed.raw_host)
    if problem:
        if _userinfo_cut_short(url):
            raise ValueError(f"{shown} has a '/', '?' or '#' in its user name or password:"
                             " write them %2F, %3F, %23 (RFC 3986)")
        raise ValueError(f"{shown} has a bad host name: {problem}")
    return url


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
    last '@' before any '?' or '#') replaced by ***, even where the URL cannot be parsed."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^?#]*@", r"\1***@", url)


def _userinfo_cut_short(url: str) -> bool:
    """An '@' after the authority's end: a user name or password holding a raw '/', '?' or
    '#', which ends the authority in RFC 3986 (and so in every client)."""
    rest = url.partition("://")[2]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return "@" not in authority and "@" in rest


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, environ=os.environ) -> str:
    def one(match):
        name = match.group(1)
        if name not in environ:
            raise ValueError(f"environment variable {name} is not set")
        return environ[name]

    return _ENV.sub(one, text)


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Endpoint:
    name: str
    spec: CheckSpec
    interval: float = 60.0
    confirm: int = 2
    severity_cap: str | None = None  # the highest class this endpoint's incidents may take


@dataclass(frozen=True)
class ProbeSettings:
    database: str
    site: str = "default"
    retention_days: int = 400
    max_in_flight: int = 256
    rate: float = 500.0  # checks started per second, at most
    per_host: int = 8  # checks in flight against one host, at most
    retry_interval: float = 5.0  # re-check after a down check, until confirmed
    workers: int | None = None  # processes that run the checks; None: as many as needed


@dataclass(frozen=True)
class Maintenance:
    reason: str
    endpoints: tuple[str, ...] | None  # None: all endpoints
    start: datetime | None = None  # one-off, aware local times
    end: datetime | None = None
    every: tuple[int, ...] = ()  # recurring: weekdays, 0 = Monday
    at: str | None = None  # recurring: local "HH:MM"
    duration: float | None = None  # recurring: seconds

    def applies_to(self, endpoint: str) -> bool:
        return self.endpoints is None or endpoint in self.endpoints


@dataclass(frozen=True)
class SLASettings:
    target: float = 99.8
    timezone: str = "Europe/Paris"
    holidays: str = "FR"
    closed_days: tuple = ()
    confirm: int = 2
    deadlines: dict = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_DEADLINES.items()})


@dataclass(frozen=True)
class ReportSettings:
    title: str | None = None
    provider: str = ""
    client: str = ""
    language: str = "fr"
    support: str = ""


@dataclass(frozen=True)
class Config:
    path: str | None
    probe: ProbeSettings
    endpoints: tuple[Endpoint, ...]
    sla: SLASettings = field(default_factory=SLASettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    maintenance: tuple[Maintenance, ...] = ()
    # probe.alerts.AlertSettings (not typed here: probe.alerts imports this module); false
    # when no alert channel is configured
    alerts: object = None

    def endpoint(self, name: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.name == name), None)


def default_database() -> str:
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return str(Path(state.split(":")[0]) / "probe.db")
    return "probe.db"


# ---------------------------------------------------------------- loading

ENDPOINT_KEYS = {
    "name", "url", "interval", "timeout", "expect_status", "expect_body", "max_latency",
    "cert_warn_days", "min_tls", "headers", "confirm", "method", "follow_redirects", "ca_file",
    "max_severity",
}
PROBE_KEYS = {"database", "site", "retention", "max_in_flight", "rate", "per_host", "retry_interval", "workers"}
SLA_KEYS = {"target", "timezone", "holidays", "closed_days", "confirm", "deadlines"}
REPORT_KEYS = {"title", "provider", "client", "language", "support"}
MAINTENANCE_KEYS = {"start", "end", "endpoints", "reason", "every", "at", "duration"}
TOP_KEYS = {"probe", "defaults", "endpoint", "sla", "report", "maintenance", "alerts"}


class _Where:
    """Builds the 'file: endpoint 'x': key:' prefix of every message."""

    def __init__(self, path: str):
        self.path = path

    def error(self, message: str, section: str | None = None, key: str | None = None) -> ConfigError:
        parts = [self.path]
        if section:
            parts.append(section)
        if key:
            parts.append(key)
        return ConfigError(": ".join(parts + [message]))


def _unknown(table: dict, allowed: set, where: _Where, section: str | None) -> None:
    for key in table:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise where.error(f"unknown key (expected one of: {hint})", section, key)


def load(path: str | os.PathLike, environ=os.environ) -> Config:
    """Read and validate a config file; raises ConfigError with a one-line message."""
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
    return from_dict(raw, name, environ)


def from_dict(raw: dict, name: str = "<config>", environ=os.environ) -> Config:
    where = _Where(name)
    _unknown(raw, TOP_KEYS, where, None)
    probe = _probe_settings(_table(raw, "probe", where), where)
    defaults = _table(raw, "defaults", where)
    _unknown(defaults, ENDPOINT_KEYS - {"name", "url"}, where, "defaults")
    sla = _sla_settings(_table(raw, "sla", where), where)
    endpoints_raw = raw.get("endpoint", [])
    if not isinstance(endpoints_raw, list):
        raise where.error("must be an array of tables ([[endpoint]])", None, "endpoint")
    endpoints = []
    seen = set()
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
    from probe.alerts import parse_alerts  # imported here: probe.alerts imports this module

    alerts = parse_alerts(_table(raw, "alerts", where), name, seen, environ)
    return Config(
        path=name,
        probe=probe,
        endpoints=tuple(endpoints),
        sla=sla,
        report=_report_settings(_table(raw, "report", where), where),
        maintenance=maintenance,
        alerts=alerts,
    )


def _table(raw: dict, key: str, where: _Where) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise where.error(f"must be a table ([{key}])", None, key)
    return value


def _array(raw: dict, key: str, where: _Where) -> list:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise where.error(f"must be an array of tables ([[{key}]])", None, key)
    return value


def _value(table, key, parse, where, section, default=None):
    if key not in table:
        return default
    try:
        return parse(table[key])
    except (ValueError, TypeError) as exc:
        raise where.error(str(exc), section, key) from None
    except RecursionError:
        raise where.error("arrays or tables nested too deeply", section, key) from None


def _int_in(low, high):
    def parse(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{_shown(value)} is not a whole number")
        if not low <= value <= high:
            raise ValueError(f"{_shown(value)} is out of range ({low} to {high})")
        return value

    return parse


def _number_in(low, high):
    def parse(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{_shown(value)} is not a number")
        if not low <= value <= high:
            raise ValueError(f"{_shown(value)} is out of range ({low} to {high})")
        return float(value)

    return parse


def _string(value):
    if not isinstance(value, str):
        raise ValueError(f"{_shown(value)} is not a string")
    return value


def _name(value) -> str:
    """A name shown on terminals, in logs and in reports: no control characters."""
    return refuse_controls(_string(value))


def _duration_in(low, high):
    def parse(value):
        seconds = parse_duration(value)
        if not low <= seconds <= high:
            raise ValueError(f"{_shown(value)} is out of range ({_say(low)} to {_say(high)})")
        return seconds

    return parse


def _say(seconds: float) -> str:
    """Seconds as the config would write them: 90 -> '1m30s', 0.5 -> '500ms'."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    parts = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            parts.append(f"{int(rest // size)}{unit}")
            rest -= (rest // size) * size
    if rest or not parts:
        parts.append(f"{rest:g}s")
    return "".join(parts)


def _choice(options):
    def parse(value):
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, options))}")
        return value

    return parse


def _probe_settings(table: dict, where: _Where) -> ProbeSettings:
    _unknown(table, PROBE_KEYS, where, "probe")
    section = "probe"
    retention = _value(table, "retention", _duration_in(86400, 36500 * 86400), where, section, 400 * 86400)
    return ProbeSettings(
        database=_value(table, "database", _string, where, section) or default_database(),
        site=_value(table, "site", _name, where, section, "default"),
        retention_days=int(retention // 86400),
        max_in_flight=_value(table, "max_in_flight", _int_in(1, 100000), where, section, 256),
        rate=_value(table, "rate", _number_in(1, 100000), where, section, 500.0),
        per_host=_value(table, "per_host", _int_in(1, 10000), where, section, 8),
        retry_interval=_value(table, "retry_interval", _duration_in(0.1, 3600), where, section, 5.0),
        workers=_value(table, "workers", _workers, where, section),
    )


def _workers(value):
    if value == "auto":
        return None
    return _int_in(1, 64)(value)


def _endpoint(table: dict, index: int, where: _Where, confirm_default: int, environ) -> Endpoint:
    name = table.get("name")
    section = (f"endpoint {name!r}" if isinstance(name, str) and name and control_character(name) is None
               else f"endpoint #{index}")
    _unknown(table, ENDPOINT_KEYS, where, section)
    if not isinstance(name, str) or not name.strip():
        raise where.error("missing (every endpoint needs a unique name)", section, "name")
    _value(table, "name", _name, where, section)
    if "url" not in table:
        raise where.error("missing", section, "url")
    url = _value(table, "url", lambda v: check_url(_string(v)), where, section)
    headers = _value(table, "headers", lambda v: parse_headers(v, environ), where, section, ())
    ca_file = _value(table, "ca_file", _readable_file, where, section)
    spec = CheckSpec(
        url=url,
        timeout=_value(table, "timeout", _duration_in(0.1, 300), where, section, 10.0),
        expect_status=_value(table, "expect_status", parse_status_list, where, section, ((200, 299),)),
        expect_body=_value(table, "expect_body", _string, where, section),
        max_latency=_value(table, "max_latency", _duration_in(0.001, 300), where, section),
        min_tls=_value(table, "min_tls", lambda v: _choice(tuple(TLS_VERSIONS))(str(v)), where, section, "1.2"),
        cert_warn_days=_value(table, "cert_warn_days", _int_in(0, 3650), where, section, 14),
        headers=headers,
        method=_value(table, "method", lambda v: _choice(("GET", "HEAD", "POST"))(str(v).upper()), where,
                      section, "GET"),
        follow_redirects=_value(table, "follow_redirects", _bool, where, section, True),
        ca_file=ca_file,
    )
    interval = _value(table, "interval", _duration_in(1, 86400), where, section, 60.0)
    if spec.timeout > interval:
        # one check at a time per endpoint: a check must end before the next is due
        raise where.error(f"{_say(spec.timeout)} is longer than the interval {_say(interval)}", section, "timeout")
    return Endpoint(
        name=name,
        spec=spec,
        interval=interval,
        confirm=_value(table, "confirm", _int_in(1, 100), where, section, confirm_default),
        severity_cap=_value(table, "max_severity", _choice(SEVERITIES), where, section),
    )


def _bool(value):
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def check_ca_file(path: str) -> str:
    """The CA file must exist and hold certificates; found out now, not at the first check."""
    try:
        tls_context(path, "1.2")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except ssl.SSLError:
        raise ValueError(f"{path} holds no usable CA certificate (PEM expected)") from None
    return path


def _readable_file(value) -> str:
    return check_ca_file(_string(value))


def parse_headers(value, environ) -> tuple[tuple[str, str], ...]:
    """A TOML table of headers; values may name ${VARIABLES} of the environment (secrets),
    which must not smuggle in a line break (a header of their own)."""
    if not isinstance(value, dict):
        raise ValueError("must be a table of header names and values")
    headers = []
    for name, text in value.items():
        if not isinstance(text, str):
            raise ValueError(f"header {name!r} must be a string")
        parse_header(f"{name}: x")  # the name is checked before the value is expanded
        expanded = expand_env(text, environ)
        _check_header_value(name, expanded)
        headers.append((name.strip(), expanded.strip()))
    return tuple(headers)


def _sla_settings(table: dict, where: _Where) -> SLASettings:
    _unknown(table, SLA_KEYS, where, "sla")
    section = "sla"
    deadlines = {k: dict(v) for k, v in DEFAULT_DEADLINES.items()}
    raw_deadlines = table.get("deadlines", {})
    if not isinstance(raw_deadlines, dict):
        raise where.error("must be a table", section, "deadlines")
    for severity, pair in raw_deadlines.items():
        sub = f"sla.deadlines.{severity}"
        if severity not in SEVERITIES:
            raise where.error(f"unknown class (expected one of: {', '.join(SEVERITIES)})", "sla.deadlines",
                              severity)
        if not isinstance(pair, dict):
            raise where.error("must be a table like { acknowledge = \"5h\", fix = \"24wh\" }", sub)
        _unknown(pair, {"acknowledge", "fix"}, where, sub)
        for kind, text in pair.items():
            deadlines[severity][kind] = _value(pair, kind, _deadline, where, sub)
    return SLASettings(
        target=_value(table, "target", _number_in(0, 100), where, section, 99.8),
        timezone=_value(table, "timezone", _timezone, where, section, "Europe/Paris"),
        holidays=_value(table, "holidays", _country, where, section, "FR"),
        closed_days=_value(table, "closed_days", _dates, where, section, ()),
        confirm=_value(table, "confirm", _int_in(1, 100), where, section, 2),
        deadlines=deadlines,
    )


MAX_DEADLINE_HOURS = 366 * 24  # a year, whatever the unit: 8784h, 8784wh or 366wd


def _deadline(value) -> str:
    text = _string(value).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(h|wh|wd)", text)
    if not match:
        raise ValueError(f"{_shown(value)} is not a deadline (like 5h, 24wh, 5wd)")
    hours = float(match.group(1)) * (24 if match.group(2) == "wd" else 1)
    if not 0 < hours <= MAX_DEADLINE_HOURS:
        raise ValueError(f"{_shown(value)} is out of range (more than 0, at most a year:"
                         f" {MAX_DEADLINE_HOURS}{'wh' if match.group(2) == 'wh' else 'h'}"
                         f" or {MAX_DEADLINE_HOURS // 24}wd)")
    return text


def _timezone(value) -> str:
    try:
        ZoneInfo(_string(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (like Europe/Paris)") from None
    return value


def _country(value) -> str:
    import holidays

    code = _string(value).upper()
    if code not in holidays.list_supported_countries():
        raise ValueError(f"{value!r} is not a country the holiday calendar knows (like FR)")
    return code


def _dates(value) -> tuple:
    from datetime import date

    if not isinstance(value, list):
        raise ValueError("must be a list of dates (like [2026-12-24])")
    days = []
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            days.append(item)
        elif isinstance(item, str):
            try:
                days.append(date.fromisoformat(item))
            except ValueError:
                raise ValueError(f"{item!r} is not a date (like 2026-12-24)") from None
        else:
            raise ValueError(f"{item!r} is not a date (like 2026-12-24)")
    return tuple(days)


def _report_settings(table: dict, where: _Where) -> ReportSettings:
    _unknown(table, REPORT_KEYS, where, "report")
    section = "report"
    return ReportSettings(
        title=_value(table, "title", _string, where, section),
        provider=_value(table, "provider", _string, where, section, ""),
        client=_value(table, "client", _string, where, section, ""),
        language=_value(table, "language", _choice(("fr", "en")), where, section, "fr"),
        support=_value(table, "support", _string, where, section, ""),
    )


def _maintenance(table: dict, index: int, where: _Where, tz: str, endpoint_names: set) -> Maintenance:
    section = f"maintenance #{index}"
    _unknown(table, MAINTENANCE_KEYS, where, section)
    zone = ZoneInfo(tz)
    endpoints = _value(table, "endpoints", _string_list, where, section)
    if endpoints is not None:
        for name in endpoints:
            if name not in endpoint_names:
                raise where.error(f"no endpoint named {name!r}", section, "endpoints")
    reason = _value(table, "reason", _string, where, section, "")
    if "every" in table:
        for key in ("start", "end"):
            if key in table:
                raise where.error("a recurring window (every) takes at and duration, not start/end", section, key)
        for key in ("at", "duration"):
            if key not in table:
                raise where.error("missing (a recurring window needs every, at and duration)", section, key)
        return Maintenance(
            reason=reason,
            endpoints=endpoints,
            every=_value(table, "every", _weekdays, where, section),
            at=_value(table, "at", _clock, where, section),
            duration=_value(table, "duration", _duration_in(60, 7 * 86400), where, section),
        )
    for key in ("start", "end"):
        if key not in table:
            raise where.error("missing (a one-off window needs start and end)", section, key)
    start = _value(table, "start", lambda v: _local_time(v, zone), where, section)
    end = _value(table, "end", lambda v: _local_time(v, zone), where, section)
    if end <= start:
        raise where.error("must be after start", section, "end")
    return Maintenance(reason=reason, endpoints=endpoints, start=start, end=end)


def _string_list(value) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of endpoint names")
    return tuple(value)


def _weekdays(value) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    days = []
    for item in items:
        text = str(item).strip().lower()
        if text == "day":
            days.extend(range(7))
            continue
        if text not in WEEKDAYS:
            raise ValueError(f"{item!r} is not a weekday (monday … sunday, or day)")
        days.append(WEEKDAYS.index(text))
    return tuple(sorted(set(days)))


def _clock(value) -> str:
    text = _string(value)
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise ValueError(f"{value!r} is not a time of day (like 02:00)")
    return text


def _local_time(value, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(_string(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time (like 2026-10-20T02:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment
