"""Maintenance windows and what they excuse: recurring windows expanded in the SLA's time zone;
each declared window excuses only what comes after its declaration, unless late declarations are
allowed (``[sla] late_maintenance = "exclude"``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from probe.contract import WEEKDAYS

from .intervals import Interval, merge

_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class Window:
    """A declared maintenance window; ``endpoints`` None means every endpoint."""

    start: float
    end: float
    endpoints: tuple[str, ...] | None = None
    reason: str = ""

    def applies_to(self, endpoint: str) -> bool:
        return self.endpoints is None or endpoint in self.endpoints


def maintenance_for(windows: Iterable[Window], endpoint: str) -> list[Interval]:
    """The maintenance intervals of one endpoint, merged."""
    return merge((w.start, w.end) for w in windows if w.applies_to(endpoint))


def _weekday_number(day: int | str) -> int:
    """0 (Monday) to 6 from 0-6, "mon".."sun" or the full English name."""
    if isinstance(day, int) and 0 <= day <= 6:
        return day
    name = day.lower() if isinstance(day, str) else ""
    for number, full in enumerate(WEEKDAYS):
        if name in (full, full[:3]):
            return number
    raise ValueError(f"invalid weekday {day!r}: expected 0-6 (Monday = 0) or mon..sun")


def expand_weekly(
    weekdays: Iterable[int | str],
    local_start: str,
    duration: float,
    period: Interval,
    tz: str = "Europe/Paris",
    endpoints: tuple[str, ...] | None = None,
    reason: str = "",
) -> list[Window]:
    """One-off windows of a weekly window ("every Tuesday at 22:00 local, for 2 h") that
    overlap ``period``, in time order.

    The start follows the local wall clock across DST; ``duration`` is elapsed seconds. A
    start time that happens twice on a fall-back day is the first one; one that does not
    exist on a spring-forward day is read with the offset in force before the change (02:30
    becomes 03:30 summer time).
    """
    match = _HHMM.fullmatch(local_start.strip())
    if match is None:
        raise ValueError(f"invalid start time {local_start!r}: expected HH:MM (24 h)")
    if duration <= 0:
        raise ValueError(f"invalid duration {duration!r}: expected seconds > 0")
    days = {_weekday_number(day) for day in weekdays}
    zone = ZoneInfo(tz)
    at = time(int(match.group(1)), int(match.group(2)))
    # A window started on an earlier day may still run into the period.
    first_day = datetime.fromtimestamp(period[0], zone).date()
    day = first_day - timedelta(days=int(duration // 86400) + 1)
    last_day = datetime.fromtimestamp(period[1], zone).date()
    windows: list[Window] = []
    while day <= last_day:
        if day.weekday() in days:
            start = datetime.combine(day, at, tzinfo=zone).timestamp()
            if start < period[1] and start + duration > period[0]:
                windows.append(Window(start, start + duration, endpoints, reason))
        day += timedelta(days=1)
    return windows


LATE_POLICIES = ("count", "exclude")


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared window: one-off (start, end) or recurring (every, at, duration)."""

    id: int
    start: float | None
    end: float | None
    every: tuple[int, ...]
    at: str | None
    duration: float | None
    endpoints: tuple[str, ...] | None  # None: every endpoint
    reason: str
    declared_at: float
    declared_by: str | None
    source: str  # command | config | import
    cancelled_at: float | None
    cancelled_by: str | None

    def cancelled_by_then(self, as_of: float) -> bool:
        return self.cancelled_at is not None and self.cancelled_at <= as_of


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A window of a declared record that falls in a period (a recurring record has many)."""

    start: float
    end: float
    record: Declared

    def applies_to(self, endpoint: str) -> bool:
        return self.record.endpoints is None or endpoint in self.record.endpoints

    @property
    def late(self) -> bool:
        """Declared after it began."""
        return self.record.declared_at > self.start

    def excused(self, late_policy: str, as_of: float) -> Interval | None:
        """The part of the window that excuses downtime, as of ``as_of``: none once
        cancelled; from its declaration on, unless late declarations are allowed."""
        if self.record.cancelled_by_then(as_of):
            return None
        start = self.start if late_policy == "exclude" else max(self.start, self.record.declared_at)
        return (start, self.end) if self.end > start else None


def occurrences(records: list[Declared], period: Interval, tz: str) -> list[Occurrence]:
    """The windows of ``records`` that overlap the period, in time order."""
    found = []
    for record in records:
        if record.every and record.at is not None and record.duration is not None:
            for window in expand_weekly(record.every, record.at, record.duration, period, tz):
                found.append(Occurrence(window.start, window.end, record))
        elif record.start is not None and record.end is not None and record.start < period[1] and record.end > period[0]:
            found.append(Occurrence(record.start, record.end, record))
    return sorted(found, key=lambda o: (o.start, o.record.id))


def excused_intervals(windows: list[Occurrence], endpoint: str, late_policy: str, as_of: float) -> list[Interval]:
    """The time that maintenance excuses for one endpoint, merged."""
    parts = (w.excused(late_policy, as_of) for w in windows if w.applies_to(endpoint))
    return merge(part for part in parts if part is not None)
