"""The ``[sla]``, ``[report]`` and ``[[maintenance]]`` sections."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from probe.contract import WEEKDAYS, describe_support_hours, parse_support_hours
from probe.text import refuse_controls

from .fields import (
    Where,
    _choice,
    _name,
    _number_in,
    _shown,
    _string_list,
    duration_in,
    int_in,
    read_bool,
    read_string,
    read_value,
    reject_unknown,
)
from .model import DEFAULT_DEADLINES, DEFAULT_SUPPORT_HOURS, SEVERITIES, Maintenance, ReportSettings, SLASettings

SLA_KEYS = {"target", "timezone", "holidays", "closed_days", "confirm", "deadlines", "late_maintenance",
            "support_hours", "sites", "min_sites"}


REPORT_KEYS = {"title", "provider", "client", "language", "support", "show_urls"}


MAINTENANCE_KEYS = {"start", "end", "endpoints", "reason", "every", "at", "duration"}


def _sla_settings(table: dict[str, Any], where: Where) -> SLASettings:
    reject_unknown(table, SLA_KEYS, where, "sla")
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
        reject_unknown(pair, {"acknowledge", "fix"}, where, sub)
        for kind, text in pair.items():
            deadlines[severity][kind] = read_value(pair, kind, _deadline, where, sub)
    return SLASettings(
        target=read_value(table, "target", _number_in(0, 100), where, section, 99.8),
        timezone=read_value(table, "timezone", _timezone, where, section, "Europe/Paris"),
        holidays=read_value(table, "holidays", _country, where, section, "FR"),
        closed_days=read_value(table, "closed_days", _dates, where, section, ()),
        confirm=read_value(table, "confirm", int_in(1, 100), where, section, 2),
        deadlines=deadlines,
        late_maintenance=read_value(table, "late_maintenance", _choice(("count", "exclude")), where, section, "count"),
        support_hours=read_value(table, "support_hours", _support_hours, where, section, DEFAULT_SUPPORT_HOURS),
        sites=read_value(table, "sites", _choice(("majority", "all", "any")), where, section, "majority"),
        min_sites=read_value(table, "min_sites", int_in(1, 100), where, section, 1),
    )


def _support_hours(value: object) -> str:
    return describe_support_hours(parse_support_hours(value))


MAX_DEADLINE_HOURS = 366 * 24  # a year, whatever the unit: 8784h, 8784wh or 366wd


def _deadline(value: object) -> str:
    text = read_string(value).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(h|wh|wd|sh)", text)
    if not match:
        raise ValueError(f"{_shown(value)} is not a deadline (like 5h, 24wh, 5wd, 8sh)")
    hours = float(match.group(1)) * (24 if match.group(2) == "wd" else 1)
    if not 0 < hours <= MAX_DEADLINE_HOURS:
        raise ValueError(f"{_shown(value)} is out of range (more than 0, at most a year:"
                         f" {MAX_DEADLINE_HOURS}{match.group(2) if match.group(2) in ('wh', 'sh') else 'h'}"
                         f" or {MAX_DEADLINE_HOURS // 24}wd)")
    return text


def _timezone(value: object) -> str:
    try:
        name = read_string(value)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (like Europe/Paris)") from None
    return name


def _country(value: object) -> str:
    import holidays

    code = read_string(value).upper()
    if code not in holidays.list_supported_countries():
        raise ValueError(f"{value!r} is not a country the holiday calendar knows (like FR)")
    return code


def _dates(value: object) -> tuple[date, ...]:
    if not isinstance(value, list):
        raise ValueError("must be a list of dates (like [2026-12-24])")
    days: list[date] = []
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


def _report_settings(table: dict[str, Any], where: Where) -> ReportSettings:
    reject_unknown(table, REPORT_KEYS, where, "report")
    section = "report"
    language = read_value(table, "language", _choice(("fr", "en")), where, section, "fr")
    title = read_value(table, "title", _report_title, where, section)
    titles = tuple(sorted(title.items())) if isinstance(title, dict) else ()
    return ReportSettings(
        title=dict(titles).get(language) if titles else title,
        provider=read_value(table, "provider", read_string, where, section, ""),
        client=read_value(table, "client", read_string, where, section, ""),
        language=language,
        support=read_value(table, "support", read_string, where, section, ""),
        titles=titles,
        show_urls=read_value(table, "show_urls", read_bool, where, section, False),
    )


REPORT_LANGUAGES = ("fr", "en")


def _report_title(value: object) -> str | dict[str, str]:
    """A string, or a table of one string per language: { fr = "…", en = "…" }."""
    if isinstance(value, dict):
        if not value:
            raise ValueError("an empty table (give a string, or { fr = \"…\", en = \"…\" })")
        for key, text in value.items():
            if key not in REPORT_LANGUAGES:
                raise ValueError(f"{_shown(key)} is not a language (fr, en)")
            if not isinstance(text, str):
                raise ValueError(f"{key}: {_shown(text)} is not a string")
        return {key: refuse_controls(text) for key, text in value.items()}
    if not isinstance(value, str):
        raise ValueError(f"{_shown(value)} is neither a string nor a table of one per language")
    return value


def _maintenance(table: dict[str, Any], index: int, where: Where, tz: str,
                 endpoint_names: set[str] | frozenset[str]) -> Maintenance:
    section = f"maintenance #{index}"
    reject_unknown(table, MAINTENANCE_KEYS, where, section)
    zone = ZoneInfo(tz)
    endpoints = read_value(table, "endpoints", _string_list, where, section)
    if endpoints is not None:
        for name in endpoints:
            if name not in endpoint_names:
                raise where.error(f"no endpoint named {name!r}", section, "endpoints")
    reason = read_value(table, "reason", _name, where, section, "")
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
            every=read_value(table, "every", _weekdays, where, section),
            at=read_value(table, "at", _clock, where, section),
            duration=read_value(table, "duration", duration_in(60, 7 * 86400), where, section),
        )
    for key in ("start", "end"):
        if key not in table:
            raise where.error("missing (a one-off window needs start and end)", section, key)
    start = read_value(table, "start", lambda v: _local_time(v, zone), where, section)
    end = read_value(table, "end", lambda v: _local_time(v, zone), where, section)
    if end <= start:
        raise where.error("must be after start", section, "end")
    return Maintenance(reason=reason, endpoints=endpoints, start=start, end=end)


def _weekdays(value: object) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    days: list[int] = []
    for item in items:
        text = str(item).strip().lower()
        if text == "day":
            days.extend(range(7))
            continue
        if text not in WEEKDAYS:
            raise ValueError(f"{item!r} is not a weekday (monday … sunday, or day)")
        days.append(WEEKDAYS.index(text))
    return tuple(sorted(set(days)))


def _clock(value: object) -> str:
    text = read_string(value)
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise ValueError(f"{value!r} is not a time of day (like 02:00)")
    return text


def _local_time(value: object, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(read_string(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time (like 2026-10-20T02:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment
