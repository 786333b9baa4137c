"""The ``[[heartbeat]]`` tables: jobs (backups...) that signal each run to probe, expected on a
cron schedule in the SLA's time zone or every so long."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from probe import contract
from probe.text import control_character

from .fields import _ENV, Where, _choice, duration_in, expand_env, read_string, read_value, reject_unknown

HEARTBEAT_KEYS = {"name", "schedule", "every", "grace", "min_duration", "max_duration", "token", "max_severity"}

DEFAULT_GRACE = 3600.0

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Heartbeat:
    name: str
    schedule: str | None = None  # a cron expression, in the SLA's time zone
    every: float | None = None  # or: seconds between runs
    grace: float = DEFAULT_GRACE
    min_duration: float | None = None
    max_duration: float | None = None
    token: str = field(default="", repr=False)  # a secret: never stored, logged or exported
    severity: str = "minor"  # the class of a missed or failed run's incident


def parse_heartbeats(items: object, where: Where, environ: Mapping[str, str],
                     unset: list[str] | None = None) -> tuple[Heartbeat, ...]:
    """The ``heartbeat`` array of tables -> Heartbeats; ConfigError naming file, heartbeat, key.
    With ``unset`` (a config loaded without secrets), a token's ${VARIABLE} that is not set is
    noted there and the token is a placeholder that matches no request."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise where.error("must be an array of tables ([[heartbeat]])", None, "heartbeat")
    heartbeats: list[Heartbeat] = []
    for index, table in enumerate(items, start=1):
        heartbeat = _heartbeat(table, index, where, environ, unset)
        if any(other.name == heartbeat.name for other in heartbeats):
            raise where.error("duplicate name (names must be unique)", f"heartbeat {heartbeat.name!r}", "name")
        heartbeats.append(heartbeat)
    return tuple(heartbeats)


def _heartbeat(table: dict[str, Any], index: int, where: Where, environ: Mapping[str, str],
               unset: list[str] | None) -> Heartbeat:
    name = table.get("name")
    section = (f"heartbeat {name!r}" if isinstance(name, str) and name and control_character(name) is None
               else f"heartbeat #{index}")
    reject_unknown(table, HEARTBEAT_KEYS, where, section)
    if "name" not in table:
        raise where.error("missing (every heartbeat needs a unique name)", section, "name")
    name = read_value(table, "name", _heartbeat_name, where, section)
    if ("schedule" in table) == ("every" in table):
        raise where.error("give either schedule (cron) or every (a duration), not both or neither", section)
    if "token" not in table:
        raise where.error('missing (like token = "${BACKUP_PING_TOKEN}")', section, "token")
    bounds = duration_in(1, 366 * 86400)
    heartbeat = Heartbeat(
        name=name,
        schedule=read_value(table, "schedule", check_cron, where, section),
        every=read_value(table, "every", duration_in(60, 366 * 86400), where, section),
        grace=read_value(table, "grace", bounds, where, section, DEFAULT_GRACE),
        min_duration=read_value(table, "min_duration", bounds, where, section),
        max_duration=read_value(table, "max_duration", bounds, where, section),
        token=read_value(table, "token", lambda v: _token(v, environ, section, unset), where, section),
        severity=read_value(table, "max_severity", _choice(contract.SEVERITIES), where, section, "minor"),
    )
    if heartbeat.min_duration is not None and heartbeat.max_duration is not None \
            and heartbeat.min_duration >= heartbeat.max_duration:
        raise where.error("must be longer than min_duration", section, "max_duration")
    return heartbeat


def _heartbeat_name(value: object) -> str:
    text = read_string(value)
    if not _NAME.fullmatch(text):
        raise ValueError(f"{text[:70]!r} is not a heartbeat name (letters, digits, '.', '_', '-';"
                         " it is part of the ping URL)")
    return text


def check_cron(value: object) -> str:
    """A five-field cron expression (cronsim's syntax, as healthchecks.io's)."""
    from cronsim import CronSim, CronSimError  # imported here: most configs have no heartbeat

    text = " ".join(read_string(value).split())
    try:
        CronSim(text, datetime(2026, 1, 1, tzinfo=timezone.utc))
    except CronSimError as exc:
        raise ValueError(f"{text[:70]!r} is not a cron expression (like \"0 3 * * *\"): {exc}") from None
    return text


UNSET_TOKEN = "\x00unset"  # stands for a token whose variable is not set: no request carries it


def _token(value: object, environ: Mapping[str, str], section: str, unset: list[str] | None) -> str:
    # a message never quotes the value: it may be the secret itself
    if not isinstance(value, str):
        raise ValueError("must be a string (like \"${BACKUP_PING_TOKEN}\")")
    missing = [m.group(1) for m in _ENV.finditer(value) if m.group(1) not in environ]
    if missing and unset is not None:
        unset.extend(f"{section} token: {name}" for name in missing)
        return UNSET_TOKEN
    token = expand_env(value, environ)
    if len(token) < 16:
        raise ValueError("too short: at least 16 characters (the value is not shown)")
    if any(c.isspace() or not c.isprintable() or c == "/" for c in token) or not token.isascii():
        raise ValueError("must be printable ASCII without spaces or '/' (the value is not shown)")
    return token
