"""The month's "Backups" part of the report: for each [[heartbeat]], the runs due this month (as
of the as-of time, from the job's declaration on, on the terms declared) judged from its
signals, the counts by state, the runs that were not on time, and the incidents of the missed
and failed ones with their deadlines. Figures only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from probe import sla
from probe.sla import heartbeats as hb
from probe.store import job_declarations, job_incidents, pings

from .calendar import iso_local
from .incident_rows import IncidentRules

if TYPE_CHECKING:  # annotations only
    from probe.config import Heartbeat


LOOKBACK = 8 * 86400.0  # signals read from this long before the month, at least


def heartbeat_sections(context: Any) -> list[dict[str, Any]]:
    """``context``: the month's ReportContext (config, store, year, month, now, language)."""
    cfg = context.config
    if not cfg.heartbeats:
        return []
    period = sla.month_period(context.year, context.month, cfg.sla.timezone)
    rules = IncidentRules.from_config(cfg, context.store, context.now, context.language)
    return [_section(heartbeat, context, period, rules) for heartbeat in cfg.heartbeats]


def expectation(heartbeat: Heartbeat, timezone: str) -> hb.Expectation:
    return hb.Expectation(heartbeat.schedule, heartbeat.every, heartbeat.grace, timezone,
                          heartbeat.min_duration, heartbeat.max_duration)


def _section(heartbeat: Heartbeat, context: Any, period: sla.Interval,
             rules: IncidentRules) -> dict[str, Any]:
    zone = context.zone
    # the signals that can bear on the month's runs: a start before the first due, and (every)
    # the success the first due counts from
    since = period[0] - max(2 * (heartbeat.every or 0) + heartbeat.grace, LOOKBACK)
    signals = pings.signals(context.store, heartbeat.name, until=context.now, since=since)
    timezone = context.config.sla.timezone
    declared = job_declarations.expectations(context.store.db.conn, heartbeat.name, timezone, context.now)
    judged = hb.judge_declared(declared, expectation(heartbeat, timezone), signals, period, context.now)
    runs = [run for _, stretch_runs in judged for run in stretch_runs]
    troubles = [incident for stretch, stretch_runs in judged
                for incident in hb.job_incidents(stretch_runs, stretch.job.grace, signals, context.now)]
    counts = hb.count_runs(runs)
    acks = job_incidents.recorded(context.store.db.conn, heartbeat.name)
    return {
        "name": heartbeat.name,
        "schedule": heartbeat.schedule,
        "every_seconds": heartbeat.every,
        "grace_seconds": heartbeat.grace,
        "min_duration_seconds": heartbeat.min_duration,
        "max_duration_seconds": heartbeat.max_duration,
        "severity": heartbeat.severity,
        # expected from its first declaration (when probe first saw it) on; null: never declared
        # by the as-of time, so expected from the month's start
        "declared_at": iso_local(declared[0].at, zone) if declared else None,
        "expected_from": iso_local(judged[0][0].period[0], zone) if judged else None,
        "declarations": [_stretch(stretch, zone) for stretch, _ in judged if stretch.declared_at is not None],
        "expected": counts.expected,
        "on_time": counts.on_time,
        "late": counts.late,
        "missed": counts.missed,
        "failed": counts.failed,
        "too_short": counts.too_short,
        "too_long": counts.too_long,
        "last_signal": iso_local(signals[-1].at, zone) if signals else None,
        # every run that was not on time (an overdue one too: past its grace, not yet missed)
        "runs": [_run(run, zone) for run in runs if run.state not in (hb.ON_TIME, hb.PENDING)],
        "incidents": [_incident(found, heartbeat, rules, acks.get(found.start))
                      for found in troubles],
    }


def _stretch(stretch: hb.Stretch, zone: Any) -> dict[str, Any]:
    """The terms declared at ``declared_at`` that applied from ``from`` until ``until`` this month."""
    assert stretch.declared_at is not None
    return {
        "declared_at": iso_local(stretch.declared_at, zone),
        "from": iso_local(stretch.period[0], zone),
        "until": iso_local(stretch.period[1], zone),
        "schedule": stretch.job.schedule,
        "every_seconds": stretch.job.every,
        "grace_seconds": stretch.job.grace,
        "min_duration_seconds": stretch.job.min_duration,
        "max_duration_seconds": stretch.job.max_duration,
    }


def _run(run: hb.JobRun, zone: Any) -> dict[str, Any]:
    return {
        "due": iso_local(run.due, zone),
        "state": run.state,
        "started": iso_local(run.started, zone),
        "finished": iso_local(run.finished, zone),
        "duration_seconds": run.duration,
        "exit_status": run.exit_status,
    }


def _incident(found: hb.JobIncident, heartbeat: Heartbeat, rules: IncidentRules,
              record: job_incidents.JobIncidentRecord | None) -> dict[str, Any]:
    """A missed or failed run: an incident of the heartbeat's class, fixed by the next success,
    acknowledged by `probe incident ack ID` (its id given once listed)."""
    start, fixed = found.start, found.end
    severity = sla.Severity.parse(heartbeat.severity)
    acknowledge_by, fix_by = sla.incident_deadlines(start, severity, rules.calendar, rules.deadlines)
    ack_at = record.ack_at if record is not None and record.ack_at is not None and record.ack_at <= rules.now else None
    end = fixed if fixed is not None else max(start, rules.now)
    return {
        "id": None if record is None else record.id,
        "due": iso_local(found.due, rules.zone),
        "state": found.state,
        "severity": str(severity),
        "start": iso_local(start, rules.zone),
        "end": iso_local(fixed, rules.zone),
        "duration_seconds": end - start,
        "acknowledge_deadline": iso_local(acknowledge_by, rules.zone),
        "acknowledged": iso_local(ack_at, rules.zone),
        "acknowledged_by": record.ack_by if ack_at is not None and record is not None else None,
        "acknowledge": sla.deadline_status(acknowledge_by, ack_at, rules.now),
        "fix_deadline": iso_local(fix_by, rules.zone),
        "fix": sla.deadline_status(fix_by, fixed, rules.now),
    }
