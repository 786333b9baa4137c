"""The store's incidents: opened, acknowledged, closed, listed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import sqlite_utils

from probe.result import iso_utc
from probe.sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere

from .records import IncidentRecord, StoreError, _seconds
from .schema import write_transaction


class IncidentRecords:
    """The store's incidents: opened, acknowledged, closed, listed (a part of `Store`)."""

    db: sqlite_utils.Database
    path: Path
    _endpoint_id: Callable[[int | str], int | None]

    def _require_endpoint(self, endpoint: int | str) -> int:
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            raise StoreError(f"no endpoint {endpoint!r} in {self.path}")
        return endpoint_id

    def open_incident(
        self,
        endpoint: int | str,
        start: float,
        severity: str,
        summary: str,
        end: float | None = None,
    ) -> int:
        """Record an incident by hand (one the probe cannot see). Returns its id."""
        if severity not in ("blocking", "major", "minor"):
            raise StoreError(f"severity must be blocking, major or minor, not {severity!r}")
        table = self.db.table("incidents")
        table.insert(
            {
                "endpoint_id": self._require_endpoint(endpoint),
                "start": _ms(start),
                "end": None if end is None else _ms(end),
                "severity": severity,
                "summary": summary,
                "source": "manual",
                "recorded_at": _ms(time.time()),
            }
        )
        return cast(int, table.last_pk)

    def ack_incident(
        self,
        incident_id: int | None = None,
        *,
        endpoint: int | str | None = None,
        start: float | None = None,
        by: str,
        at: float | None = None,
    ) -> int:
        """Acknowledge an incident: a recorded one by id, or a detected one (derived by the
        report from runs) by endpoint and start, which records a "detected" row keyed by
        them. Returns the incident's id."""
        at_ms = _ms(time.time() if at is None else at)
        conn = self.db.conn
        if incident_id is None:
            if endpoint is None or start is None:
                raise StoreError("acknowledge an incident by id, or by endpoint and start")
            with write_transaction(conn):
                return cast(int, conn.execute(
                    "INSERT INTO incidents (endpoint_id, start, source, ack_at, ack_by, recorded_at)"
                    " VALUES (?, ?, 'detected', ?, ?, ?)"
                    " ON CONFLICT (endpoint_id, start) WHERE source = 'detected'"
                    " DO UPDATE SET ack_at = excluded.ack_at, ack_by = excluded.ack_by"
                    " RETURNING id",
                    (self._require_endpoint(endpoint), _ms(start), at_ms, by, _ms(time.time())),
                ).fetchone()[0])
        self._not_before_start(incident_id, at_ms, "acknowledged")
        changed = self.db.execute(
            "UPDATE incidents SET ack_at = ?, ack_by = ? WHERE id = ?", (at_ms, by, incident_id)
        ).rowcount
        if not changed:
            raise StoreError(f"no incident {incident_id} in {self.path}")
        return incident_id

    def detected_incident(self, endpoint: int | str, start: float) -> IncidentRecord | None:
        """The record (acknowledgement) of the detected incident of endpoint starting at
        start, if any."""
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            return None
        found = self._incidents(
            " AND i.source = 'detected' AND i.endpoint_id = ? AND i.start = ?",
            [endpoint_id, _ms(start)],
        )
        return found[0] if found else None

    def register_detected(self, endpoint: int | str, start: float, severity: str) -> IncidentRecord:
        """Give the detected incident of endpoint starting at start a stable id (so that it
        can be acknowledged by id), and return its record."""
        with write_transaction(self.db.conn) as conn:
            conn.execute(
                "INSERT INTO incidents (endpoint_id, start, severity, source, recorded_at)"
                " VALUES (?, ?, ?, 'detected', ?)"
                " ON CONFLICT (endpoint_id, start) WHERE source = 'detected' DO NOTHING",
                (self._require_endpoint(endpoint), _ms(start), severity, _ms(time.time())),
            )
        return cast(IncidentRecord, self.detected_incident(endpoint, start))  # there now

    def incident_recorded_at(self, incident_id: int) -> float | None:
        """When the incident's record was made (None for records older than that column)."""
        row = self.db.conn.execute("SELECT recorded_at FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else _seconds(row[0])

    def incident(self, incident_id: int) -> IncidentRecord | None:
        found = self._incidents(" AND i.id = ?", [incident_id])
        return found[0] if found else None

    def _not_before_start(self, incident_id: int, at_ms: int, done: str) -> None:
        """An incident is acknowledged or closed at its start or after: an end before the
        start would be a negative duration in the evidence."""
        row = self.db.execute("SELECT start FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise StoreError(f"no incident {incident_id} in {self.path}")
        if at_ms < row[0]:
            raise StoreError(f"incident {incident_id} started at {iso_utc(row[0] / 1000)}:"
                             f" it cannot be {done} before")

    def close_incident(self, incident_id: int, at: float | None = None) -> None:
        """Close an incident recorded by hand; its end defaults to the closing time."""
        at_ms = _ms(time.time() if at is None else at)
        self._not_before_start(incident_id, at_ms, "closed")
        changed = self.db.execute(
            'UPDATE incidents SET closed_at = ?, "end" = coalesce("end", ?) WHERE id = ?',
            (at_ms, at_ms, incident_id),
        ).rowcount
        if not changed:
            raise StoreError(f"no incident {incident_id} in {self.path}")

    def list_incidents(
        self,
        endpoint: int | str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[IncidentRecord]:
        """Recorded incidents (manual ones, and acknowledgements of detected ones) that
        overlap [since, until), oldest first. An open one overlaps everything after its
        start."""
        sql, params = "", []
        if endpoint is not None:
            sql += " AND i.endpoint_id = ?"
            params.append(self._endpoint_id(endpoint))
        if since is not None:
            sql += ' AND coalesce(i."end", i.closed_at, ?) > ?'
            params += [2**62, _ms(since)]
        if until is not None:
            sql += " AND i.start < ?"
            params.append(_ms(until))
        return self._incidents(sql, params)

    def _incidents(self, where: str, params: list[Any]) -> list[IncidentRecord]:
        rows = self.db.conn.execute(
            'SELECT i.id, e.name, i.start, i."end", i.severity, i.summary, i.source, i.ack_at,'
            " i.ack_by, i.closed_at FROM incidents i JOIN endpoints e ON e.id = i.endpoint_id"
            f" WHERE 1{where} ORDER BY i.start, i.id",
            params,
        )
        return [
            IncidentRecord(
                id=row[0],
                endpoint=row[1],
                start=row[2] / 1000,
                end=_seconds(row[3]),
                severity=row[4],
                summary=row[5],
                source=row[6],
                ack_at=_seconds(row[7]),
                ack_by=row[8],
                closed_at=_seconds(row[9]),
            )
            for row in rows
        ]
