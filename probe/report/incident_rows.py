"""Incidents as report rows: class, deadlines and whether they were met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from probe import sla
from probe.labels import ERROR_LABELS
from probe.sla import WorkCalendar
from probe.store import Store

if TYPE_CHECKING:  # only for annotations: probe.config imports aiohttp, slow to load
    from probe.config import Config, Maintenance
from .calendar import iso_local


def _highest_class(episode: sla.Episode) -> str | None:
    return max(episode.error_classes, key=lambda c: sla.classify(c, episode.state))


def _first_error(store: Store, name: str, at: float) -> str | None:
    for _, _, _, result in store.checks(name, since=at, until=at + 0.001):
        return result.error
    return None


@dataclass
class IncidentRules:
    """What an incident's row needs besides the incident: the clock and the contract."""

    store: Store
    calendar: WorkCalendar
    deadlines: dict  # severity -> (acknowledge, fix)
    zone: ZoneInfo
    now: float
    language: str

    @classmethod
    def from_config(cls, cfg: Config, store: Store, now: float, language: str) -> IncidentRules:
        return cls(
            store=store,
            calendar=WorkCalendar(cfg.sla.holidays, cfg.sla.timezone, cfg.sla.closed_days, cfg.sla.support_hours),
            deadlines=sla.deadline_pairs(cfg.sla.deadlines),
            zone=ZoneInfo(cfg.sla.timezone),
            now=now,
            language=language,
        )


def _incident_row(rules: IncidentRules, *, record, start, fixed_at, last_seen, severity, error_class,
                  source, summary, downtime, excused) -> dict:
    """``last_seen``: where an incident not fixed (as of the as-of time) is known to last
    until: its last check's coverage, or the as-of time for one recorded by hand. An incident
    not fixed has lasted, as of the as-of time, no longer than up to that time."""
    end = fixed_at if fixed_at is not None else min(last_seen, rules.now)
    # An incident entirely inside maintenance has no deadline to miss.
    in_maintenance = bool(excused) and not sla.subtract([(start, max(end, start + 0.001))], excused)
    ack_at = record.ack_at if record else None
    acknowledge_by: float | None
    fix_by: float | None
    if in_maintenance:
        acknowledge_by = fix_by = None
        acknowledge = fix = NO_DEADLINE
    else:
        acknowledge_by, fix_by = sla.incident_deadlines(start, severity, rules.calendar, rules.deadlines)
        acknowledge = sla.deadline_status(acknowledge_by, ack_at, rules.now)
        fix = sla.deadline_status(fix_by, fixed_at, rules.now)
    zone = rules.zone
    return {
        "id": record.id if record else None,
        "start": iso_local(start, zone),
        "end": iso_local(fixed_at, zone),
        "severity": str(severity),
        "error_class": error_class,
        "source": source,
        "summary": summary,
        "downtime_seconds": downtime,
        "duration_seconds": sla.total_ms([(start, end)]) / 1000,
        "in_maintenance": in_maintenance,
        "acknowledge_deadline": iso_local(acknowledge_by, zone),
        "acknowledged": iso_local(ack_at, zone),
        "acknowledged_by": record.ack_by if record else None,
        "acknowledge": acknowledge,
        "fix_deadline": iso_local(fix_by, zone),
        "fix": fix,
    }


NO_DEADLINE = "none"  # the status of both deadlines of an incident entirely inside maintenance


def detected_row(rules: IncidentRules, name: str, episode: sla.Episode, downtime: float, cap, record,
                 excused=()) -> dict:
    """An outage or degradation as an incident: its class, cause, deadlines and their status."""
    error_class = _highest_class(episode)
    summary = _first_error(rules.store, name, episode.start) or ERROR_LABELS[rules.language].get(
        error_class or "", error_class or "")
    return _incident_row(rules, record=record, start=episode.start, fixed_at=sla.fix_time(episode),
                         last_seen=episode.end, severity=sla.incident_severity(episode, cap),
                         error_class=error_class, source="detected", summary=summary, downtime=downtime,
                         excused=excused)


def manual_row(rules: IncidentRules, record, excused=()) -> dict:
    """An incident recorded by hand: fixed when closed."""
    return _incident_row(rules, record=record, start=record.start, fixed_at=record.closed_at,
                         last_seen=max(rules.now, record.start), severity=record.severity, error_class=None,
                         source="manual", summary=record.summary or "", downtime=0.0, excused=excused)
