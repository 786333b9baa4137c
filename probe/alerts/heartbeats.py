"""Alerts of heartbeats: a run overdue (no success within its grace after it was due) or failed
opens an incident of the heartbeat's class; the job's next success resolves it. Only the runs
due since the job was declared count, on the terms declared then: a new job raises nothing for
the runs due before probe first saw it. An overdue run is alerted at once, before it is known
to be late or missed (the report counts an incident only for a missed or failed run). Looked
at with the alerter's deadlines (every TICK_EVERY seconds), from the signals in the store."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from probe import sla
from probe.config import DEADLINE, OPENED, RESOLVED, Heartbeat
from probe.sla import heartbeats as hb
from probe.sla import to_ms as _ms
from probe.store import job_declarations, job_incidents, pings

from .delivery import log
from .messages import Incident, compose

LOOKBACK = 8 * 86400.0  # runs due this long ago at most are looked at (a weekly job's last)
PREFIX = "heartbeat "  # the alert's endpoint field: "heartbeat backup-incremental"


class HeartbeatWatch:
    """Turns the heartbeats' runs into incident events in the alerter's outbox."""

    def __init__(self, heartbeats: tuple[Heartbeat, ...]):
        self.heartbeats = heartbeats
        self.keys: set[str] | None = None  # events already in the outbox

    def _signals(self, outbox, name: str, since: float) -> list[hb.Signal]:
        return pings.signals(outbox.store, name, since=since)

    def _declared(self, outbox, name: str, timezone: str, now: float) -> list[hb.Declaration]:
        return job_declarations.expectations(outbox.conn, name, timezone, now)

    def _known_keys(self, outbox) -> set[str]:
        return {row[0] for row in outbox.conn.execute(
            "SELECT key FROM alert_outbox WHERE endpoint LIKE ?", (PREFIX + "%",))}

    async def tick(self, alerter, now: float) -> None:
        if self.keys is None:
            self.keys = await alerter._call(self._known_keys, alerter._outbox)
        timezone = str(alerter.zone)
        for heartbeat in self.heartbeats:
            since = now - LOOKBACK
            signals = await alerter._call(self._signals, alerter._outbox, heartbeat.name,
                                          since - (heartbeat.every or 0))
            job = hb.Expectation(heartbeat.schedule, heartbeat.every, heartbeat.grace, timezone,
                                 heartbeat.min_duration, heartbeat.max_duration)
            declared = await alerter._call(self._declared, alerter._outbox, heartbeat.name, timezone, now)
            for stretch, run in ((stretch, run) for stretch, runs in hb.judge_declared(
                    declared, job, signals, (since, now), now) for run in runs):
                overdue = run.due + stretch.job.grace
                if run.state == hb.FAILED and run.finished is not None and run.finished <= overdue:
                    state, start = hb.FAILED, run.finished  # failed in time: from its fail signal
                elif run.state != hb.PENDING and (run.finished is None or run.finished > overdue):
                    state, start = hb.MISSED, overdue  # no success within its grace: from then
                else:
                    continue
                fixed = min((s.at for s in signals if s.kind == hb.SUCCESS and s.at > start), default=None)
                acknowledged = fixed is None and await alerter._call(self._acknowledged, alerter._outbox,
                                                                     heartbeat.name, start)
                self._follow(alerter, heartbeat, run, state, start, fixed, now, acknowledged)

    def _acknowledged(self, outbox, name: str, start: float) -> bool:
        record = job_incidents.find(outbox.conn, name, start)
        return record is not None and record.ack_at is not None

    def _follow(self, alerter, heartbeat: Heartbeat, run: hb.JobRun, state: str, start: float,
                fixed: float | None, now: float, acknowledged: bool = False) -> None:
        assert self.keys is not None
        endpoint = PREFIX + heartbeat.name
        opened = _key(endpoint, start, OPENED)
        if fixed is None and opened not in self.keys:
            self._emit(alerter, heartbeat, run, state, start, OPENED, None, now)
        elif fixed is None:
            # a reminder before each deadline; for the acknowledgement only while nobody has
            # acknowledged it (`probe incident ack ID`)
            severity = sla.Severity.parse(heartbeat.severity)
            acknowledge_by, fix_by = sla.incident_deadlines(start, severity, alerter.calendar, alerter.deadlines)
            for kind, at in (("acknowledge", acknowledge_by), ("fix", fix_by)):
                key = json.dumps([endpoint, _ms(start), DEADLINE, f"{kind}@{_ms(at)}"], ensure_ascii=False)
                if key in self.keys or not at - alerter.remind_before <= now < at:
                    continue
                if kind == "acknowledge" and acknowledged:
                    self.keys.add(key)
                    continue
                self._emit(alerter, heartbeat, run, state, start, DEADLINE, None, now, key, kind)
        elif fixed is not None and opened in self.keys and _key(endpoint, start, RESOLVED) not in self.keys:
            self._emit(alerter, heartbeat, run, state, start, RESOLVED, fixed, now)

    def _emit(self, alerter, heartbeat: Heartbeat, run: hb.JobRun, state: str, start: float, event: str,
              end: float | None, now: float, key: str | None = None, deadline: str | None = None) -> None:
        assert self.keys is not None
        severity = sla.Severity.parse(heartbeat.severity)
        acknowledge_by, fix_by = sla.incident_deadlines(start, severity, alerter.calendar, alerter.deadlines)
        zone: ZoneInfo = alerter.zone
        due = sla_local(run.due, zone)
        cause = (f"the run due {due} signalled failure" if state == hb.FAILED
                 else f"the run due {due} sent no success signal")
        endpoint = PREFIX + heartbeat.name
        incident = Incident(endpoint, None, state, severity, None, cause, start, acknowledge_by, fix_by)
        message = compose(event, incident, zone, now=now, end=end, deadline=deadline)
        key = key or _key(endpoint, start, event)
        self.keys.add(key)
        log.info("alert: %s", message["text"])
        text = json.dumps(message, ensure_ascii=False)
        for channel in alerter.settings.channels_for(endpoint, str(severity), event):
            alerter._new.append((key, channel, endpoint, _ms(start), event, _ms(now), text))
        if alerter._wake is not None:
            alerter._wake.set()


def sla_local(epoch: float, zone: ZoneInfo) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M %Z")


def _key(endpoint: str, start: float, event: str) -> str:
    return json.dumps([endpoint, _ms(start), event, None], ensure_ascii=False)
