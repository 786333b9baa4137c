"""One endpoint's figures for the month: availability, coverage, days, latency, blips."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import cast

from probe import sla
from probe.store import Store, percentile_from_histogram

from .calendar import interval_rows, iso_local, percent_keys
from .incident_rows import _highest_class, detected_row, manual_row


def _recorded_by(record, store: Store, as_of: float) -> bool:
    """A record made after the as-of time was not there then (records of old have no time)."""
    recorded_at = store.incident_recorded_at(record.id)
    return recorded_at is None or recorded_at <= as_of


def _detected_as_of(store: Store, record, as_of: float):
    """The record (id, acknowledgement) of a detected incident as it stood at ``as_of``: none
    when it was made later, unless it holds an acknowledgement dated by then."""
    if record is None:
        return None
    if not _recorded_by(record, store, as_of) and not (record.ack_at is not None and record.ack_at <= as_of):
        return None
    return _as_of(record, as_of)


def _as_of(record, as_of: float):
    """An incident record as it stood at ``as_of``: later acknowledgements and closings
    had not happened yet."""
    if record.ack_at is not None and record.ack_at > as_of:
        record = replace(record, ack_at=None, ack_by=None)
    if record.closed_at is not None and record.closed_at > as_of:
        record = replace(record, closed_at=None, end=None)
    return record


def _endpoint_section(context, rules, name, url, runs, figures, days, counted, cap, manual, zone,
                      excused) -> dict:
    shown = figures.availability_shown(3)
    detected = list(zip(figures.outages, figures.outage_downtime_seconds))
    detected += [(episode, 0.0) for episode in figures.degradations]
    incidents = [
        detected_row(rules, name, episode, downtime, cap,
                     _detected_as_of(context.store, context.store.detected_incident(name, episode.start), rules.now),
                     excused)
        for episode, downtime in detected
    ]
    incidents += [manual_row(rules, record, excused) for record in manual]
    incidents.sort(key=lambda i: i["start"])
    return {
        "name": name,
        "url": url,
        "severity_cap": cap,
        **percent_keys(shown),
        "met": figures.met,
        "period_seconds": figures.period_seconds,
        "eligible_seconds": figures.eligible_seconds,
        "unmonitored_seconds": figures.unmonitored_seconds,
        "maintenance_seconds": figures.maintenance_seconds,
        "downtime_seconds": figures.downtime_seconds,
        "allowed_downtime_seconds": figures.allowed_downtime_seconds,
        "coverage_percent": float(cast(Decimal, sla.truncate_percent(figures.coverage_exact, 2))),  # a Fraction: never None
        "blips": figures.blip_count,
        "blip_events": [
            {"start": iso_local(blip.start, zone), "end": iso_local(blip.end, zone), "state": blip.state,
             "error_class": _highest_class(blip), "checks": blip.checks}
            for blip in figures.blips
        ],
        "days": _days(context, name, runs, figures, days, counted),
        "incidents": incidents,
        "unmonitored": interval_rows(figures.unmonitored, zone),
    }


def _days(context, name, runs, figures, days, counted) -> list[dict]:
    """Each local day's figures, as ``sla.availability`` gives them for the day alone (the
    month's episodes, so an outage begun the day before counts), and latency percentiles.

    Worked out in one pass over the month's intervals rather than by calling
    ``sla.availability`` once per day: the same millisecond totals (clipping picks existing
    boundaries and ``to_ms`` is applied to each), for a cost that follows runs + days."""
    due = [(day, start, min(end, counted[1])) for day, start, end in days if start < counted[1]]
    bounds = [start for _, start, _ in due] + [due[-1][2]] if due else []
    shares = sla.per_day(runs, figures, bounds)
    histograms = context.store.latency_histograms(name, bounds) if runs and bounds else []
    result = []
    for index, (day, start, end) in enumerate(days):
        if index < len(due):
            share = shares[index]
            shown = share.availability_shown(3)
            histogram = histograms[index] if histograms else {}
            result.append({
                "date": day.isoformat(),
                "availability_percent": float(shown) if shown is not None else None,
                "downtime_seconds": share.downtime_ms / 1000,
                "eligible_seconds": share.eligible_ms / 1000,
                "unmonitored_seconds": share.unmonitored_ms / 1000,
                "maintenance_seconds": share.maintenance_ms / 1000,
                "latency_p50_ms": percentile_from_histogram(histogram, 0.5),
                "latency_p95_ms": percentile_from_histogram(histogram, 0.95),
            })
        else:  # not yet due
            result.append({
                "date": day.isoformat(),
                "availability_percent": None,
                "downtime_seconds": 0.0,
                "eligible_seconds": 0.0,
                "unmonitored_seconds": end - start,
                "maintenance_seconds": 0.0,
                "latency_p50_ms": None,
                "latency_p95_ms": None,
            })
    return result


