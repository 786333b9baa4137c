"""Availability of one endpoint over a period: eligible time, downtime, the error budget, truncated
never rounded up."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .intervals import Interval, clip, intersect, subtract, total_ms
from .runs import BLIP, DEGRADATION, OUTAGE, Episode, Run, episodes, monitored, unmonitored


def _exact(value: float | int | Decimal | Fraction) -> Fraction:
    """A decimal number as written (99.8 -> 499/5), not as the nearest binary float."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def truncate_percent(value: float | Fraction | Decimal | None, digits: int = 3) -> Decimal | None:
    """``value`` truncated, never rounded up, to ``digits`` decimals: 99.7996 -> 99.799.

    Pass the exact Fraction when there is one; a float is read as its shortest decimal form
    (99.8, not 99.7999999...), which is what it was meant to be. None (no data) stays None.
    """
    if value is None:
        return None
    scaled = _exact(value) * 10**digits
    return Decimal(int(scaled)).scaleb(-digits)


@dataclass(frozen=True, slots=True)
class EndpointFigures:
    """One endpoint's figures for one period. Seconds are floats to the millisecond;
    ``period = eligible + maintenance + unmonitored`` holds exactly (each second once)."""

    period: Interval
    period_seconds: float
    monitored_seconds: float  # vouched for by a check, maintenance included
    coverage_exact: Fraction  # 100 x monitored / period
    coverage_percent: float
    maintenance_seconds: float  # inside a maintenance window
    unmonitored_seconds: float  # vouched for by no check, outside maintenance
    eligible_seconds: float  # monitored and outside maintenance
    downtime_seconds: float
    allowed_downtime_seconds: float  # the error budget: (1 - target / 100) x eligible, cut to the ms
    target: float
    availability_exact: Fraction | None  # percent; None when nothing is eligible
    availability_percent: float | None
    met: bool  # availability_exact >= target; False with no data
    outages: tuple[Episode, ...]  # overlapping the period
    outage_downtime_seconds: tuple[float, ...]  # each outage's downtime counted in this period
    degradations: tuple[Episode, ...]  # overlapping the period
    blips: tuple[Episode, ...]  # starting in the period, down or degraded
    blip_count: int
    unmonitored: tuple[Interval, ...]  # outside maintenance, as counted
    maintenance: tuple[Interval, ...]  # merged, clipped to the period

    def availability_shown(self, digits: int = 3) -> Decimal | None:
        """Availability as the report prints it: truncated; None means "no data"."""
        return truncate_percent(self.availability_exact, digits)


def availability(
    runs: Sequence[Run],
    period: Interval,
    maintenance: Iterable[Interval] = (),
    confirm: int = 2,
    target: float = 99.8,
) -> EndpointFigures:
    """Apply the accounting rules to one endpoint's runs over ``period``.

    Maintenance takes precedence over unmonitored: an unmonitored second inside a window is
    counted as maintenance only. Downtime is the outages' covered time inside the period and
    outside maintenance (covered time is monitored by definition). Figures are computed in
    whole milliseconds and exact fractions, so 99.8 % is 99.8, never 99.79999.
    """
    windows = clip(maintenance, period)
    covered = monitored(runs, period)
    eligible = subtract(covered, windows)
    holes = subtract(subtract([period], covered), windows)
    found = episodes(runs, confirm)
    outages = [e for e in found if e.kind == OUTAGE and e.overlaps(period)]
    downtime_by_outage = [total_ms(intersect(e.covered, eligible)) for e in outages]

    period_ms, eligible_ms = total_ms([period]), total_ms(eligible)
    downtime_ms = sum(downtime_by_outage)
    exact_target = _exact(target)
    if eligible_ms:
        ratio: Fraction | None = 100 * (1 - Fraction(downtime_ms, eligible_ms))
    else:
        ratio = None
    coverage = Fraction(100 * total_ms(covered), period_ms) if period_ms else Fraction(0)
    blips = [e for e in found if e.kind == BLIP and period[0] <= e.start < period[1]]
    return EndpointFigures(
        period=period,
        period_seconds=period_ms / 1000,
        monitored_seconds=total_ms(covered) / 1000,
        coverage_exact=coverage,
        coverage_percent=float(coverage),
        maintenance_seconds=total_ms(windows) / 1000,
        unmonitored_seconds=total_ms(holes) / 1000,
        eligible_seconds=eligible_ms / 1000,
        downtime_seconds=downtime_ms / 1000,
        # cut down to the millisecond: the budget is never shown larger than it is
        allowed_downtime_seconds=math.floor((1 - exact_target / 100) * eligible_ms) / 1000,
        target=target,
        availability_exact=ratio,
        availability_percent=None if ratio is None else float(ratio),
        met=ratio is not None and ratio >= exact_target,
        outages=tuple(outages),
        outage_downtime_seconds=tuple(ms / 1000 for ms in downtime_by_outage),
        degradations=tuple(e for e in found if e.kind == DEGRADATION and e.overlaps(period)),
        blips=tuple(blips),
        blip_count=len(blips),
        unmonitored=tuple(holes),
        maintenance=tuple(windows),
    )
