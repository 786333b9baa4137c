"""The performance objective of one endpoint for the month, and its value per day: from the
raw checks while they cover the month, else from the hourly histograms."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import date

from probe import sla
from probe.sla import ObjectiveFigure, objective_from_times, objective_least_favourable
from probe.store import Rollup, Store, bucket_bounds, merge_histograms, response_times

Day = tuple[date, float, float]
HOUR = 3600


def _inside(at: float, starts: list[float], intervals: Sequence[sla.Interval]) -> bool:
    index = bisect.bisect_right(starts, at) - 1
    return index >= 0 and intervals[index][0] <= at < intervals[index][1]


def _raw_checks_cover(times: list[tuple[float, float]], rollups: list[Rollup], counted: sla.Interval) -> bool:
    """Whether the raw checks are all there: over the whole hours of the period, they are as
    many as the hourly histograms hold (pruning deletes raw checks and keeps the rollups).
    Partial hours at the ends are left out of the comparison: a rollup there also holds
    checks outside the period (after the as-of time, or before a month that starts off the hour)."""
    first = math.ceil(counted[0] / HOUR) * HOUR
    last = math.floor(counted[1] / HOUR) * HOUR
    in_histograms = sum(r.latency_count for r in rollups if first <= r.hour and r.hour + HOUR <= last)
    raw = bisect.bisect_left(times, (last, -math.inf)) - bisect.bisect_left(times, (first, -math.inf))
    return raw >= in_histograms


def _buckets(histogram: dict[int, int]) -> list[tuple[float, float, int]]:
    return [(*bucket_bounds(bucket), histogram[bucket]) for bucket in sorted(histogram)]


def _json(figure: ObjectiveFigure) -> dict:
    return {
        "value_ms": figure.value_ms,
        "low_ms": figure.low_ms,
        "met": figure.met,
        "checks": figure.count,
    }


def latency_objective(store: Store, name: str, percentile: float, under: float, counted: sla.Interval,
                      days: Sequence[Day], excused: Sequence[sla.Interval]) -> dict:
    """The JSON of ``"latency_objective"``: the month's value, met or not, how exact, the days."""
    under_ms = under * 1000
    excused = sla.merge(list(excused))
    starts = [start for start, _ in excused]
    times = response_times(store, name, counted[0], counted[1])
    rollups = store.rollups(name, counted[0], counted[1])
    per_day: list[ObjectiveFigure]
    medians: list[ObjectiveFigure]  # each day's median by the same rule, for the chart
    if _raw_checks_cover(times, rollups, counted):
        kept = [(at, ms) for at, ms in times if not _inside(at, starts, excused)]
        month = objective_from_times((ms for _, ms in kept), percentile, under_ms)
        ats = [at for at, _ in kept]
        per_day, medians = [], []
        for _, start, end in days:
            low, high = bisect.bisect_left(ats, start), bisect.bisect_left(ats, end)
            per_day.append(objective_from_times((ms for _, ms in kept[low:high]), percentile, under_ms))
            medians.append(objective_from_times((ms for _, ms in kept[low:high]), 50, under_ms))
    else:
        # An hour is left out when maintenance covers all of it; the checks of an hour partly in
        # maintenance can no longer be told apart: the least favourable choice is stated.
        hours = [r for r in rollups if sla.subtract([(r.hour, r.hour + 3600)], excused)]
        unsure = {r.hour for r in hours if sla.intersect([(r.hour, r.hour + 3600)], excused)}

        def figure(start: float, end: float, rank: float) -> ObjectiveFigure:
            chosen = [r for r in hours if start <= r.hour < end]
            return objective_least_favourable(
                _buckets(merge_histograms(r.histogram for r in chosen if r.hour not in unsure)),
                _buckets(merge_histograms(r.histogram for r in chosen if r.hour in unsure)), rank, under_ms)

        month = figure(-math.inf, math.inf, percentile)
        per_day = [figure(start, end, percentile) for _, start, end in days]
        medians = [figure(start, end, 50) for _, start, end in days]
    return {
        "percentile": percentile,
        "under_ms": under_ms,
        **_json(month),
        "exact": month.exact,
        "source": month.source,
        "days": [
            {"date": day.isoformat(), **_json(figure), "median_ms": median.value_ms} if start < counted[1] else
            {"date": day.isoformat(), "value_ms": None, "low_ms": None, "met": None, "checks": 0, "median_ms": None}
            for (day, start, _), figure, median in zip(days, per_day, medians)
        ],
    }
