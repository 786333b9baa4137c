"""Months and local days in the SLA's time zone: which month a report covers, its days, local
times as ISO text."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from probe import sla


def parse_month(text: str) -> tuple[int, int]:
    try:
        moment = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f"{text!r} is not a month (like 2026-10)") from None
    return moment.year, moment.month


def last_complete_month(now: float, tz: str) -> tuple[int, int]:
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    first = local.date().replace(day=1) - timedelta(days=1)
    return first.year, first.month


def check_month_begun(year: int, month: int, as_of: float, tz: str) -> None:
    """A month not yet begun (as of ``as_of``) has no report: ValueError says so."""
    if sla.month_period(year, month, tz)[0] > as_of:
        raise ValueError(f"{year:04d}-{month:02d} has not begun yet: no report for a month in the future")


def iso_local(epoch: float | None, zone: ZoneInfo) -> str | None:
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, zone)
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


def local_days(period: sla.Interval, zone: ZoneInfo) -> list[tuple[date, float, float]]:
    """(date, start, end) of each local day of the period; a DST day lasts 23 or 25 hours."""
    first = datetime.fromtimestamp(period[0], zone).date()
    days: list[tuple[date, float, float]] = []
    day = first
    while True:
        start = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        if start >= period[1]:
            return days
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=zone).timestamp()
        days.append((day, start, min(end, period[1])))
        day = following


def percent_keys(shown: Decimal | None) -> dict:
    """An availability as the report's JSON gives it: a number, and the digits to show."""
    return {"availability_percent": float(shown) if shown is not None else None,
            "availability_display": str(shown) if shown is not None else None}


def interval_rows(intervals: list[sla.Interval] | tuple[sla.Interval, ...], zone: ZoneInfo) -> list[dict]:
    """Intervals as the report's JSON lists them: local start and end, and their seconds."""
    return [{"start": iso_local(a, zone), "end": iso_local(b, zone), "seconds": sla.total_ms([(a, b)]) / 1000}
            for a, b in intervals]
