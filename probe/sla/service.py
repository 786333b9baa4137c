"""The service as a whole: down while any endpoint whose outages are blocking is down.

An auditor reads the service's line from the endpoints' own figures, with nothing made more
favourable:
- downtime: the union of the blocking endpoints' downtime (two endpoints down at once count
  once; one down while another is unmonitored still counts);
- eligible: the time at least one blocking endpoint is eligible (monitored and outside its
  maintenance). Each endpoint's downtime lies within its eligible time, so the service's
  downtime lies within the service's eligible time;
- availability, budget and met as for an endpoint: 100 x (1 - downtime / eligible), truncated;
  no eligible time, no availability (and not met).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .figures import EndpointFigures, truncate_percent
from .intervals import Interval, intersect, merge, subtract, total_ms


@dataclass(frozen=True)
class ServiceFigures:
    period_seconds: float
    eligible_seconds: float  # at least one blocking endpoint eligible
    not_eligible_seconds: float  # no blocking endpoint eligible (unmonitored or maintenance)
    downtime_seconds: float  # at least one blocking endpoint down
    allowed_downtime_seconds: float
    availability_exact: Fraction | None
    met: bool
    down: tuple[Interval, ...]  # the service's down periods, merged

    def availability_shown(self, digits: int = 3) -> Decimal | None:
        return truncate_percent(self.availability_exact, digits)


def eligible_intervals(figures: EndpointFigures) -> list[Interval]:
    """An endpoint's eligible time: the period less its unmonitored time and maintenance."""
    return subtract(subtract([figures.period], figures.unmonitored), figures.maintenance)


def downtime_intervals(figures: EndpointFigures) -> list[Interval]:
    """An endpoint's downtime as intervals: its outages' covered time inside its eligible time."""
    eligible = eligible_intervals(figures)
    return merge(interval for outage in figures.outages for interval in intersect(outage.covered, eligible))


def service_figures(period: Interval, eligible: Sequence[Sequence[Interval]],
                    downtime: Sequence[Sequence[Interval]], target: float) -> ServiceFigures:
    """The service's figures from each blocking endpoint's eligible and downtime intervals."""
    all_eligible = merge(interval for part in eligible for interval in part)
    down = intersect(merge(interval for part in downtime for interval in part), all_eligible)
    period_ms, eligible_ms, down_ms = total_ms([period]), total_ms(all_eligible), total_ms(down)
    exact_target = Fraction(Decimal(str(target)))
    ratio = 100 * (1 - Fraction(down_ms, eligible_ms)) if eligible_ms else None
    return ServiceFigures(
        period_seconds=period_ms / 1000,
        eligible_seconds=eligible_ms / 1000,
        not_eligible_seconds=(period_ms - eligible_ms) / 1000,
        downtime_seconds=down_ms / 1000,
        allowed_downtime_seconds=math.floor((1 - exact_target / 100) * eligible_ms) / 1000,
        availability_exact=ratio,
        met=ratio is not None and ratio >= exact_target,
        down=tuple(down),
    )
