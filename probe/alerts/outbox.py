"""The outbox table: one row per message and channel, written when the event happens and kept
once delivered, so a restart neither re-sends nor loses one."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from probe import sla
from probe.config import ESCALATED, OPENED, RESOLVED
from probe.store import Store, StoreError, job_incidents, runs_around, write_transaction

from .messages import with_incident_id


@dataclass(frozen=True)
class _Row:
    id: int
    channel: str
    endpoint: str
    event: str
    message: dict
    attempts: int


OUTBOX_BUSY_TIMEOUT = 1.0  # seconds
JOB_PREFIX = "heartbeat "  # the endpoint field of a job's alert (alerts.heartbeats.PREFIX)


class _Outbox:
    """The alert_outbox table, through a Store opened on first use. Called only from the
    Alerter's one database thread."""

    def __init__(self, path):
        self.path = path
        self._store = None

    @property
    def store(self):
        if self._store is None:
            # A short wait for the write lock: the delivery loop retries, and a stop must not
            # wait long for another process's transaction.
            self._store = Store.open(self.path, busy_timeout=OUTBOX_BUSY_TIMEOUT)
        return self._store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.db.conn

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def add(self, rows: list[tuple]) -> None:
        """Rows of (key, channel, endpoint, incident_start, event, created_at, message); one
        already there (same event, same channel) is left alone. Each message gets the id of
        its incident (the one `probe incident list` shows)."""
        rows = [self._numbered(row) for row in rows]
        with write_transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO alert_outbox"
                " (key, channel, endpoint, incident_start, event, created_at, message, next_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, row[5]) for row in rows],
            )

    def _numbered(self, row: tuple) -> tuple:
        key, channel, endpoint, start_ms, event, created_at, text = row
        message = json.loads(text)
        if "incident_id" in message["fields"] or "severity" not in message["fields"]:
            return row  # numbered already, or no endpoint's incident (a silent site, say)
        try:
            if endpoint.startswith(JOB_PREFIX):  # a [[heartbeat]] job's incident
                record = job_incidents.register(self.store, endpoint[len(JOB_PREFIX):], start_ms / 1000,
                                                message["fields"]["severity"])
            else:
                record = self.store.register_detected(endpoint, start_ms / 1000, message["fields"]["severity"])
        except StoreError:  # an endpoint whose first check is not written yet: no id to give
            return row
        text = json.dumps(with_incident_id(message, record.id), ensure_ascii=False)
        return key, channel, endpoint, start_ms, event, created_at, text

    def due(self, now_ms: int, busy: set[str], limit: int = 100) -> tuple[list[_Row], int | None]:
        """Pending rows due now on channels not busy, oldest first, and when the next one of
        those channels is due."""
        skip = ",".join("?" * len(busy))
        where = "status = 'pending'" + (f" AND channel NOT IN ({skip})" if busy else "")
        rows = self.conn.execute(
            f"SELECT id, channel, endpoint, event, message, attempts FROM alert_outbox"
            f" WHERE {where} AND next_at <= ? ORDER BY id LIMIT ?",
            (*busy, now_ms, limit),
        ).fetchall()
        following = self.conn.execute(
            f"SELECT min(next_at) FROM alert_outbox WHERE {where}", tuple(busy)
        ).fetchone()[0]
        return [_Row(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows], following

    def sent(self, row_id: int, at_ms: int, attempts: int) -> None:
        with write_transaction(self.conn):
            self.conn.execute(
                "UPDATE alert_outbox SET status = 'sent', sent_at = ?, attempts = ? WHERE id = ?",
                (at_ms, attempts, row_id),
            )

    def retry(self, row_id: int, attempts: int, next_ms: int | None, error: str) -> None:
        """next_ms None: no more attempts, the row is failed."""
        with write_transaction(self.conn):
            self.conn.execute(
                "UPDATE alert_outbox SET attempts = ?, last_error = ?,"
                " status = CASE WHEN ? IS NULL THEN 'failed' ELSE status END,"
                " next_at = coalesce(?, next_at) WHERE id = ?",
                (attempts, error, next_ms, next_ms, row_id),
            )

    def pending(self) -> int:
        return self.conn.execute("SELECT count(*) FROM alert_outbox WHERE status = 'pending'").fetchone()[0]

    def announced(self, endpoint: str, start_ms: int) -> tuple[sla.Severity | None, set[str]]:
        """The highest class already announced for the incident, and its events' keys."""
        severity, keys = None, set()
        for key, event, message in self.conn.execute(
            "SELECT key, event, message FROM alert_outbox WHERE endpoint = ? AND incident_start = ?",
            (endpoint, start_ms),
        ):
            keys.add(key)
            if event in (OPENED, ESCALATED):
                announced = sla.Severity.parse(json.loads(message)["fields"]["severity"])
                severity = announced if severity is None else max(severity, announced)
        return severity, keys

    def announced_open(self, endpoint, now: float) -> tuple[sla.Episode, float, str | None] | None:
        """For an endpoint checked from several sites, whose incident follows the site rule (no
        one site's runs give it): its incident announced and not yet resolved, as ongoing()
        gives an episode; the sites' next checks go on with it or end it."""
        row = self.conn.execute(
            "SELECT incident_start, message FROM alert_outbox o WHERE endpoint = ? AND event = ?"
            " AND incident_start <= ? AND NOT EXISTS (SELECT 1 FROM alert_outbox r WHERE r.endpoint = o.endpoint"
            " AND r.incident_start = o.incident_start AND r.event = ?) ORDER BY incident_start DESC LIMIT 1",
            (endpoint.name, OPENED, sla.to_ms(now), RESOLVED)).fetchone()
        if row is None:
            return None
        fields, start = json.loads(row[1])["fields"], row[0] / 1000
        kind = sla.OUTAGE if fields["state"] == sla.DOWN else sla.DEGRADATION
        return sla.Episode(kind, fields["state"], start, start, 1, (fields["error_class"],), (), True), start, fields["cause"]

    def acknowledged(self, endpoint: str, start: float) -> bool:
        record = self.store.detected_incident(endpoint, start)
        return record is not None and record.ack_at is not None

    def ongoing(self, endpoint, now: float) -> tuple[sla.Episode, float, str | None] | None:
        """The endpoint's episode in progress according to the store's runs, the time of its
        last check, and the error of its first check (None once pruned)."""
        runs = runs_around(self.store, endpoint.name, (now, None))  # up to the newest run
        found = sla.episodes(runs, endpoint.confirm)
        if not found or not found[-1].ongoing:
            return None
        episode = found[-1]
        first = list(self.store.checks(endpoint.name, since=episode.start, until=episode.start + 0.001))
        return episode, runs[-1].last, first[0][3].error if first else None
