"""Reading one value of a config table: durations, status lists, headers, numbers in a range,
choices, ${VARIABLES}; each error names where it is."""

from __future__ import annotations

import math
import os
import re
import ssl
from collections.abc import Callable, Collection, Mapping
from typing import Any, cast

from probe.spec import tls_context
from probe.text import refuse_controls, refuse_controls_message, say_duration


class ConfigError(ValueError):
    """A configuration problem, worded for one line: 'file: endpoint 'x': key: problem'."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")  # no unit: seconds


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: object) -> float:
    """'500ms', '10s', '2m', '1h', '1d' -> seconds. A bare number is seconds, written as a
    number (TOML) or as text (a command-line option: ``--max-latency 2`` is 2 s)."""
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
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not math.isfinite(seconds):
        raise ValueError(f"{_shown(text)} is too long for a duration")
    if seconds <= 0:
        raise ValueError(f"{_shown(text)} is not a positive duration")
    return seconds


def _shown(value: object) -> str:
    """A value as a message quotes it: repr, cut short when it is huge (a 4 000-digit number)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a number of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}…{text[-10:]}"


def parse_status_list(text: object) -> tuple[tuple[int, int], ...]:
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
    # the text is never quoted whole: what follows a name is a value, often a secret
    if not sep:
        raise ValueError("the text is not a header (like 'Name: value'): no ':' after its name"
                         " (the text is not shown: it may hold a secret)")
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name.strip()):
        raise ValueError(f"{_shown(name.strip())} is not a header name (like 'Name: value';"
                         " letters, digits and !#$%&'*+.^_`|~-)")
    _check_header_value(name.strip(), value)
    return name.strip(), value.strip()


def _check_header_value(name: str, value: str) -> None:
    """RFC 9110 field values: visible characters, spaces and tabs; a line break would make a
    header of its own, a NUL or another control character a request no server reads alike."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} holds a line break")
    found = re.search("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]", value)
    if found is not None:
        raise ValueError(f"header {name!r} {refuse_controls_message(found.group())}")


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, environ: Mapping[str, str] = os.environ) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ValueError(f"environment variable {name} is not set")
        return environ[name]

    return _ENV.sub(one, text)


class Where:
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


def reject_unknown(table: Mapping[str, Any], allowed: set[str] | frozenset[str], where: Where, section: str | None) -> None:
    for key in table:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise where.error(f"unknown key (expected one of: {hint})", section, key)


def _table(raw: Mapping[str, Any], key: str, where: Where) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise where.error(f"must be a table ([{key}])", None, key)
    return value


def _array(raw: Mapping[str, Any], key: str, where: Where) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise where.error(f"must be an array of tables ([[{key}]])", None, key)
    return value


def read_value(table: Mapping[str, Any], key: str, parse: Callable[[Any], Any], where: Where,
               section: str | None, default: Any = None) -> Any:
    if key not in table:
        return default
    try:
        return parse(table[key])
    except (ValueError, TypeError) as exc:
        raise where.error(str(exc), section, key) from None
    except RecursionError:
        raise where.error("arrays or tables nested too deeply", section, key) from None


def int_in(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{_shown(value)} is not a whole number")
        if not low <= value <= high:
            raise ValueError(f"{_shown(value)} is out of range ({low} to {high})")
        return value

    return parse


def _number_in(low: float, high: float) -> Callable[[object], float]:
    def parse(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{_shown(value)} is not a number")
        if not low <= value <= high:
            raise ValueError(f"{_shown(value)} is out of range ({low} to {high})")
        return float(value)

    return parse


def read_string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{_shown(value)} is not a string")
    return value


def _name(value: object) -> str:
    """A name shown on terminals, in logs and in reports: no control characters."""
    return refuse_controls(read_string(value))


def duration_in(low: float, high: float) -> Callable[[object], float]:
    def parse(value: object) -> float:
        seconds = parse_duration(value)
        if not low <= seconds <= high:
            raise ValueError(f"{_shown(value)} is out of range ({say_duration(low)} to {say_duration(high)})")
        return seconds

    return parse




def _choice(options: Collection[str]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, options))}")
        return cast(str, value)  # equal to one of the options: a string

    return parse


def read_bool(value: object) -> bool:
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


def _readable_file(value: object) -> str:
    return check_ca_file(read_string(value))


def parse_headers(value: object, environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
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


def _string_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of endpoint names")
    return tuple(value)
