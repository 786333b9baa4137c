"""The incidents of [[heartbeat]] jobs for `probe incident list` and `show`: each missed, failed
or overdue run (due since the job was declared, on the terms declared), given a stable id (a
row of the incidents table) so that it can be acknowledged with `probe incident ack ID` like an
endpoint's."""

from __future__ import annotations

from typing import Any

from probe import sla
from probe.config import Config
from probe.sla import heartbeats as hb
from probe.store import Store, job_declarations, job_incidents, pings
from probe.text import local_stamp

from .heartbeats import LOOKBACK, expectation
from .incident_rows import IncidentRules, _incident_row

PREFIX = "heartbeat "  # the row's endpoint: "heartbeat backup-incremental", as the alerts name it


def recent(store: Store, cfg: Config, now: float, days: int) -> list[dict[str, Any]]:
    """The jobs' incidents that overlap the last ``days`` days (an overdue run's too: it goes
    on), each registered so that it has an id."""
    since = now - days * 86400
    rules = IncidentRules.from_config(cfg, store, now, cfg.report.language)
    rows = []
    for heartbeat in cfg.heartbeats:
        period = (since - LOOKBACK, now)
        signals = pings.signals(store, heartbeat.name, until=now,
                                since=period[0] - max(2 * (heartbeat.every or 0) + heartbeat.grace, LOOKBACK))
        declared = job_declarations.expectations(store.db.conn, heartbeat.name, cfg.sla.timezone, now)
        judged = hb.judge_declared(declared, expectation(heartbeat, cfg.sla.timezone), signals, period, now)
        for found in (incident for stretch, runs in judged
                      for incident in hb.job_incidents(runs, stretch.job.grace, signals, now, ongoing=True)):
            if found.end is not None and found.end <= since:
                continue
            record = job_incidents.register(store, heartbeat.name, found.start, heartbeat.severity)
            rows.append(_row(rules, heartbeat.name, heartbeat.severity, found, record, cfg.sla.timezone))
    return rows


def _row(rules: IncidentRules, name: str, severity: str, found: hb.JobIncident,
         record: job_incidents.JobIncidentRecord, timezone: str) -> dict[str, Any]:
    summary = f"run due {local_stamp(found.due, timezone)} {found.state}"
    row = _incident_row(rules, record=record, start=found.start, fixed_at=found.end, last_seen=rules.now,
                        severity=sla.Severity.parse(severity), error_class=None, source="detected",
                        summary=summary, downtime=0.0, excused=())
    return {"endpoint": PREFIX + name, "heartbeat": name, "run_state": found.state, **row}
