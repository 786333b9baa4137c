"""The line for the service as a whole: its figures from the blocking endpoints' intervals
(`probe.sla.service`), as the report's JSON gives them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from probe import sla

from .calendar import interval_rows, percent_keys

PARTS_KEY = "_service_parts"  # carried by each section while the report is built, then removed


def blocking(cap: str | None) -> bool:
    """An endpoint whose outages are blocking incidents (no max_severity below blocking)."""
    return cap in (None, "blocking")


def parts(figures: sla.EndpointFigures, cap: str | None) -> tuple[list, list] | None:
    """What the service line needs from one endpoint: its eligible and downtime intervals."""
    if not blocking(cap):
        return None
    return sla.eligible_intervals(figures), sla.downtime_intervals(figures)


def service_json(sections: list[dict], counted: sla.Interval, target: float, zone: ZoneInfo) -> dict:
    """Takes each section's parts out of it and gives the service's figures."""
    counted_in: list[str] = []
    titles: list[str] = []
    eligible: list = []
    downtime: list = []
    for section in sections:
        found = section.pop(PARTS_KEY, None)
        if found is not None:
            counted_in.append(section["name"])
            titles.append(section.get("title") or section["name"])
            eligible.append(found[0])
            downtime.append(found[1])
    figures = sla.service_figures(counted, eligible, downtime, target)
    shown = figures.availability_shown(3)
    return {
        "rule": "down_when_any_blocking_endpoint_is_down",
        "endpoints": counted_in,
        "endpoint_titles": titles,
        **percent_keys(shown),
        "met": figures.met,
        "period_seconds": figures.period_seconds,
        "eligible_seconds": figures.eligible_seconds,
        "not_eligible_seconds": figures.not_eligible_seconds,
        "downtime_seconds": figures.downtime_seconds,
        "allowed_downtime_seconds": figures.allowed_downtime_seconds,
        "down_periods": interval_rows(figures.down, zone),
    }
