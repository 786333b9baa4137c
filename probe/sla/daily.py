"""Availability per day (or any run of consecutive periods): one pass over the period's
intervals, with the same millisecond totals as `availability` applied to each day alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .figures import EndpointFigures, truncate_percent
from .intervals import Interval, intersect, subtract, to_ms
from .runs import Run, monitored


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One day's share of a period's figures, in whole milliseconds."""

    eligible_ms: int
    downtime_ms: int
    unmonitored_ms: int
    maintenance_ms: int

    def availability_shown(self, digits: int = 3) -> Decimal | None:
        """Truncated, never rounded up; None when the day has no eligible time ("no data")."""
        if not self.eligible_ms:
            return None
        if not self.downtime_ms:  # most days: no Fraction arithmetic needed
            return truncate_percent(Fraction(100), digits)
        return truncate_percent(100 * (1 - Fraction(self.downtime_ms, self.eligible_ms)), digits)


def per_day(runs: Sequence[Run], figures: EndpointFigures, bounds: list[float]) -> list[DayFigures]:
    """The figures of each [bounds[i], bounds[i + 1]) inside ``figures.period`` (computed by
    `availability` over the same runs): an outage begun the day before counts from its start."""
    covered = monitored(runs, figures.period)
    eligible = subtract(covered, figures.maintenance)
    downtime = sorted(piece for outage in figures.outages for piece in intersect(outage.covered, eligible))
    columns = [per_period_ms(intervals, bounds) for intervals in (eligible, downtime, figures.unmonitored,
                                                                 figures.maintenance)]
    return [DayFigures(*values) for values in zip(*columns)]


def per_period_ms(intervals: Sequence[Interval], bounds: list[float]) -> list[int]:
    """Milliseconds of sorted, non-overlapping ``intervals`` inside each [bounds[i],
    bounds[i + 1]), counted as ``total_ms`` counts them."""
    totals = [0] * max(len(bounds) - 1, 0)
    first = 0
    for start, end in intervals:
        while first < len(totals) and bounds[first + 1] <= start:
            first += 1
        index = first
        while index < len(totals) and bounds[index] < end:
            low, high = max(start, bounds[index]), min(end, bounds[index + 1])
            if high > low:
                totals[index] += to_ms(high) - to_ms(low)
            index += 1
    return totals
