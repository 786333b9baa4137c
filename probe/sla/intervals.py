"""Time intervals (start, end) in seconds: merged, intersected, subtracted, clipped; a month's period."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

Interval = tuple[float, float]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-empty, non-overlapping intervals covering the same time as ``intervals``."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The time that is in both ``a`` and ``b``."""
    left, right = merge(a), merge(b)
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start, end = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The time of ``a`` that is not in ``b``."""
    result: list[Interval] = []
    holes = merge(b)
    for start, end in merge(a):
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                result.append((start, hole_start))
            start = max(start, hole_end)
        if start < end:
            result.append((start, end))
    return result


def clip(intervals: Iterable[Interval], period: Interval) -> list[Interval]:
    """``intervals`` cut to the period."""
    return intersect(intervals, [period])


def to_ms(epoch: float) -> int:
    """Epoch seconds to whole milliseconds: the resolution of every figure."""
    return round(epoch * 1000)


def total_ms(intervals: Iterable[Interval]) -> int:
    """Total length of ``intervals`` in whole milliseconds, each instant counted once."""
    return sum(to_ms(end) - to_ms(start) for start, end in merge(intervals))


def month_period(year: int, month: int, tz: str = "Europe/Paris") -> Interval:
    """One calendar month in the SLA's time zone: local midnight on the 1st to local midnight
    on the 1st of the next month, so DST months last 743 h or 745 h."""
    zone = ZoneInfo(tz)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime(year, month, 1, tzinfo=zone).timestamp()
    end = datetime(next_year, next_month, 1, tzinfo=zone).timestamp()
    return start, end
