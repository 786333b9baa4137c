"""Reports over more than a month, by the same rules: a quarter, a year, a range of days.

Each month is the month's own report (`month.build`; for a range, only the range's part of
its first and last months); the period's figures are worked out from the months' eligible and
downtime seconds, summed in whole milliseconds, never by averaging percentages. Months are
disjoint, outages are cut at the months' edges and each month counts its own part, so the sums
are the figures the rules give for the whole period. Months not yet begun are listed, marked,
with no figures; the month under way is provisional.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from probe import sla

from .calendar import iso_local, percent_keys
from .month import ReportContext, build

SEVERITIES = ("blocking", "major", "minor")
SUMMED = ("period_seconds", "eligible_seconds", "unmonitored_seconds", "maintenance_seconds", "downtime_seconds")


def parse_quarter(text: str) -> tuple[int, int]:
    """'2026-Q4' -> (2026, 4)."""
    found = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", text.strip())
    if not found:
        raise ValueError(f"{text!r} is not a quarter (like 2026-Q4)")
    return int(found[1]), int(found[2])


def parse_year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text.strip()):
        raise ValueError(f"{text!r} is not a year (like 2026)")
    return int(text)


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date (like 2026-10-01)") from None


def quarter_months(year: int, quarter: int) -> list[tuple[int, int]]:
    return [(year, month) for month in range(3 * quarter - 2, 3 * quarter + 1)]


def year_months(year: int) -> list[tuple[int, int]]:
    return [(year, month) for month in range(1, 13)]


def range_months(first: date, last: date) -> list[tuple[int, int]]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def local_midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def build_period(context: ReportContext, kind: str, label: str | int, months: list[tuple[int, int]],
                 names: list[str], part: sla.Interval | None = None) -> dict:
    """The model (JSON-able) of a quarter, a year or a range: ``kind`` is the top key
    ("quarter", "year", "range") and ``label`` its value."""
    cfg = context.config
    zone = context.zone
    summaries: list[dict] = []
    begun_models: list[dict] = []
    for year, month in months:
        month_context = replace(context, year=year, month=month, part=part)
        start = month_context.period[0]
        if start > context.now:
            summaries.append({"month": f"{year:04d}-{month:02d}", "begun": False})
            continue
        model = build(month_context, names)
        begun_models.append(model)
        summaries.append(month_summary(model))
    first = replace(context, year=months[0][0], month=months[0][1], part=part).period[0]
    last = replace(context, year=months[-1][0], month=months[-1][1], part=part).period[1]
    head = begun_models[0] if begun_models else None
    return {
        kind: label,
        "timezone": cfg.sla.timezone,
        "target_percent": cfg.sla.target,
        "period_start": iso_local(first, zone),
        "period_end": iso_local(last, zone),
        "as_of": iso_local(context.now, zone),
        "provisional": context.now < last,
        "title": head["title"] if head else None,
        "provider": cfg.report.provider,
        "client": cfg.report.client,
        "support": cfg.report.support,
        "language": context.language,
        "show_urls": cfg.report.show_urls,
        "rules": head["rules"] if head else None,
        "months": summaries,
        "service": _summed_service([m["service"] for m in begun_models], cfg.sla.target),
        "endpoints": [_endpoint_over(name, begun_models, summaries, cfg.sla.target) for name in names],
    }


def incidents_by_class(incidents: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for incident in incidents:
        counts[incident["severity"]] = counts.get(incident["severity"], 0) + 1
    return counts


def month_summary(model: dict) -> dict:
    """A month's report, in short: its head, the service line and each endpoint's figures."""
    service = {key: value for key, value in model["service"].items() if key != "down_periods"}
    return {
        "month": model["month"],
        "begun": True,
        "period_start": model["period_start"],
        "period_end": model["period_end"],
        "provisional": model["provisional"],
        "service": service,
        "endpoints": [_endpoint_summary(section) for section in model["endpoints"]],
    }


def _endpoint_summary(section: dict) -> dict:
    return {
        "name": section["name"],
        "title": section.get("title") or section["name"],
        "availability_percent": section["availability_percent"],
        "availability_display": section["availability_display"],
        "met": section["met"],
        **{key: section[key] for key in SUMMED},
        "allowed_downtime_seconds": section["allowed_downtime_seconds"],
        "coverage_percent": section["coverage_percent"],
        "blips": section["blips"],
        "incidents": len(section["incidents"]),
        "incidents_by_class": incidents_by_class(section["incidents"]),
    }


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def figures_over(eligible_ms: int, downtime_ms: int, target: float) -> dict:
    """Availability, budget and met from summed milliseconds, as for a month."""
    exact_target = Fraction(str(target))
    ratio = 100 * (1 - Fraction(downtime_ms, eligible_ms)) if eligible_ms else None
    shown = sla.truncate_percent(ratio, 3)
    return {
        **percent_keys(shown),
        "met": ratio is not None and ratio >= exact_target,
        "eligible_seconds": eligible_ms / 1000,
        "downtime_seconds": downtime_ms / 1000,
        "allowed_downtime_seconds": math.floor((1 - exact_target / 100) * eligible_ms) / 1000,
    }


def _endpoint_over(name: str, models: list[dict], summaries: list[dict], target: float) -> dict:
    sections = [next(e for e in model["endpoints"] if e["name"] == name) for model in models]
    totals = {key: sum(_ms(section[key]) for section in sections) for key in SUMMED}
    # an incident across a month's edge is listed in both months: counted once, by its start
    incidents = {(incident["start"], incident["source"], incident.get("id")): incident
                 for section in sections for incident in section["incidents"]}
    monthly = []
    for summary in summaries:
        found = next((e for e in summary.get("endpoints", []) if e["name"] == name), None)
        monthly.append({"month": summary["month"], "begun": summary["begun"],
                        "provisional": summary.get("provisional", False),
                        **({key: found[key] for key in ("availability_percent", "availability_display", "met",
                                                         "downtime_seconds", "eligible_seconds")}
                           if found else {})})
    return {
        "name": name,
        "title": sections[0].get("title", name) if sections else name,
        "url": sections[0].get("url") if sections else None,
        **figures_over(totals["eligible_seconds"], totals["downtime_seconds"], target),
        "period_seconds": totals["period_seconds"] / 1000,
        "unmonitored_seconds": totals["unmonitored_seconds"] / 1000,
        "maintenance_seconds": totals["maintenance_seconds"] / 1000,
        "blips": sum(section["blips"] for section in sections),
        "incidents": len(incidents),
        "incidents_by_class": incidents_by_class(list(incidents.values())),
        "months": monthly,
    }


def _summed_service(services: list[dict], target: float) -> dict:
    eligible = sum(_ms(s["eligible_seconds"]) for s in services)
    downtime = sum(_ms(s["downtime_seconds"]) for s in services)
    return {
        "rule": services[0]["rule"] if services else "down_when_any_blocking_endpoint_is_down",
        "endpoints": services[0]["endpoints"] if services else [],
        "endpoint_titles": services[0]["endpoint_titles"] if services else [],
        **figures_over(eligible, downtime, target),
        "period_seconds": sum(_ms(s["period_seconds"]) for s in services) / 1000,
        "not_eligible_seconds": sum(_ms(s["not_eligible_seconds"]) for s in services) / 1000,
    }


def day_after(day: date) -> date:
    return day + timedelta(days=1)
