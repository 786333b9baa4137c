"""The performance objective: a percentile of the response times of the month's up and
degraded checks, outside maintenance, against a bound.

The percentile is the nearest rank (the definition an auditor can redo by hand): the p-th
percentile of n response times is the value at rank ceil(p/100 × n) once they are sorted in
increasing order. p95 of 20 checks is the 19th fastest; p100 is the slowest.

From raw checks the value is exact. From hourly histograms (the raw checks were pruned) only the
bucket that holds that rank is known: the value lies in [low, high). It is stated as the
bucket's upper bound, and the objective is met only when that upper bound is at or under the
bound, so the figure is never more favourable than the truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CHECKS, HISTOGRAMS = "checks", "histograms"


@dataclass(frozen=True, slots=True)
class ObjectiveFigure:
    """The month's (or a day's) value against an objective."""

    percentile: float
    under_ms: float
    value_ms: float | None  # None: no check counted
    low_ms: float | None  # the value lies in [low_ms, value_ms]; equal when exact
    count: int  # response times counted
    exact: bool
    source: str  # CHECKS or HISTOGRAMS

    @property
    def met(self) -> bool | None:
        """At or under the bound; None without a value."""
        if self.value_ms is None:
            return None
        return self.value_ms <= self.under_ms


def nearest_rank(count: int, percentile: float) -> int:
    """The 1-based rank of the ``percentile`` (0 < p <= 100) of ``count`` sorted values."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be more than 0 and at most 100, not {percentile}")
    # round() first: 95 / 100 × 20 is 19.000000000000004 in floating point, and must be 19.
    return max(1, math.ceil(round(percentile / 100 * count, 9)))


def objective_from_times(latencies_ms: Iterable[float], percentile: float, under_ms: float) -> ObjectiveFigure:
    """Exact: the nearest-rank percentile of the response times themselves."""
    ordered = sorted(latencies_ms)
    if not ordered:
        return ObjectiveFigure(percentile, under_ms, None, None, 0, True, CHECKS)
    value = ordered[nearest_rank(len(ordered), percentile) - 1]
    return ObjectiveFigure(percentile, under_ms, value, value, len(ordered), True, CHECKS)


def objective_from_buckets(buckets: Sequence[tuple[float, float, int]], percentile: float,
                           under_ms: float) -> ObjectiveFigure:
    """From a histogram given as (low_ms, high_ms, count) buckets in increasing order: the
    bucket that holds the nearest rank; its upper bound is the value stated."""
    count = sum(n for _, _, n in buckets if n > 0)
    if count == 0:
        return ObjectiveFigure(percentile, under_ms, None, None, 0, False, HISTOGRAMS)
    rank = nearest_rank(count, percentile)
    seen = 0
    for low, high, n in buckets:
        if n <= 0:
            continue
        seen += n
        if seen >= rank:
            return ObjectiveFigure(percentile, under_ms, high, low, count, False, HISTOGRAMS)
    raise AssertionError("unreachable: the ranks add up to the count")  # pragma: no cover


def objective_least_favourable(sure: Sequence[tuple[float, float, int]],
                               unsure: Sequence[tuple[float, float, int]], percentile: float,
                               under_ms: float) -> ObjectiveFigure:
    """From histograms where the checks of ``unsure`` (hours partly in maintenance) may or may
    not count: which of them were made in maintenance can no longer be told. The figure stated
    is the least favourable over every choice: leaving out an unsure check faster than the
    value can only raise it, one slower can only lower it, so the worst choices are "leave
    out every unsure check below a threshold", tried for each threshold. The value is the
    highest upper bound found, ``low_ms`` the lowest lower bound (the truth lies between)."""
    lows = sorted({low for low, _, n in unsure if n > 0})
    figures = []
    for threshold in [-math.inf, *lows[1:], math.inf]:
        counts: dict[tuple[float, float], int] = {}
        for low, high, n in [*sure, *((lo, hi, n) for lo, hi, n in unsure if lo >= threshold)]:
            if n > 0:
                counts[(low, high)] = counts.get((low, high), 0) + n
        figures.append(objective_from_buckets([(lo, hi, n) for (lo, hi), n in sorted(counts.items())],
                                              percentile, under_ms))
    valued = [f for f in figures if f.value_ms is not None]
    if not valued:
        return figures[0]
    worst = max(valued, key=lambda f: f.value_ms or 0.0)
    low = min(f.low_ms for f in valued if f.low_ms is not None)
    return ObjectiveFigure(percentile, under_ms, worst.value_ms, low, worst.count, False, HISTOGRAMS)
