"""The incidents of [[heartbeat]] jobs as rows of the incidents table (endpoint NULL, the
heartbeat's name): a missed or failed run's incident is given an id there the first time it is
listed, so that it can be acknowledged like an endpoint's; exported and imported as records of
the paper trail ("job_incident", "job_incident_note")."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probe.sla import to_ms

from .incident_notes import MAX_NOTE
from .records import _seconds
from .schema import write_transaction

if TYPE_CHECKING:  # annotations only
    from .store import Store

SEVERITIES = ("blocking", "major", "minor")


@dataclass(frozen=True)
class JobIncidentRecord:
    id: int
    heartbeat: str
    start: float
    severity: str | None
    ack_at: float | None
    ack_by: str | None


_COLUMNS = "id, heartbeat, start, severity, ack_at, ack_by"


def _record(row: tuple[Any, ...]) -> JobIncidentRecord:
    return JobIncidentRecord(row[0], row[1], row[2] / 1000, row[3], _seconds(row[4]), row[5])


def register(store: Store, heartbeat: str, start: float, severity: str) -> JobIncidentRecord:
    """The record of the job's incident starting at ``start``, made (with a stable id) if it
    is not there yet."""
    conn = store.db.conn
    with write_transaction(conn):
        conn.execute("INSERT INTO incidents (heartbeat, start, severity, source, recorded_at)"
                     " VALUES (?, ?, ?, 'detected', ?)"
                     " ON CONFLICT (heartbeat, start) WHERE heartbeat IS NOT NULL DO NOTHING",
                     (heartbeat, to_ms(start), severity, to_ms(time.time())))
    found = find(store.db.conn, heartbeat, start)
    assert found is not None  # there now
    return found


def find(conn: sqlite3.Connection, heartbeat: str, start: float) -> JobIncidentRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM incidents WHERE heartbeat = ? AND start = ?",
                       (heartbeat, to_ms(start))).fetchone()
    return None if row is None else _record(row)


def recorded(conn: sqlite3.Connection, heartbeat: str) -> dict[float, JobIncidentRecord]:
    """The recorded incidents of a heartbeat, by start (seconds)."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM incidents WHERE heartbeat = ?", (heartbeat,))
    return {record.start: record for record in map(_record, rows)}


def heartbeat_of(conn: sqlite3.Connection, incident_id: int) -> str | None:
    """The heartbeat an incident is of; None for an endpoint's (or no such incident)."""
    row = conn.execute("SELECT heartbeat FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    return None if row is None else row[0]


def start_of(conn: sqlite3.Connection, incident_id: int) -> float | None:
    """When a job's incident started; None for an endpoint's (or no such incident)."""
    row = conn.execute("SELECT start FROM incidents WHERE id = ? AND heartbeat IS NOT NULL",
                       (incident_id,)).fetchone()
    return None if row is None else row[0] / 1000


def export_records(store: Store) -> list[dict[str, Any]]:
    keys = ("heartbeat", "start", "severity", "ack_at", "ack_by", "recorded_at")
    return [{"record": "job_incident", **dict(zip(keys, row))} for row in store.db.conn.execute(
        "SELECT heartbeat, start, severity, ack_at, ack_by, recorded_at FROM incidents"
        " WHERE heartbeat IS NOT NULL AND ack_at IS NOT NULL ORDER BY start, id")]  # an id alone: nothing to carry


def import_record(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    """One exported job incident: added, or its acknowledgement brought to one already there
    without one; ValueError on a bad record."""
    heartbeat = record.get("heartbeat")
    if not isinstance(heartbeat, str) or not heartbeat or len(heartbeat) > 64 or not heartbeat.isprintable():
        raise ValueError(f"heartbeat must be a heartbeat's name, not {heartbeat!r}"[:120])
    for key in ("start", "ack_at", "recorded_at"):
        value = record.get(key)
        if (value is not None or key == "start") and type(value) is not int:
            raise ValueError(f"{key} must be milliseconds since the epoch (an integer), not {value!r}"[:120])
    severity, ack_by = record.get("severity"), record.get("ack_by")
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"severity must be blocking, major or minor, not {severity!r}"[:120])
    if ack_by is not None and (not isinstance(ack_by, str) or not ack_by.isprintable() or len(ack_by) > 200):
        raise ValueError(f"ack_by must be a name, not {ack_by!r}"[:120])
    start, ack_at = record["start"], record.get("ack_at")
    if ack_at is not None and ack_at < start:
        raise ValueError("ack_at is before start")
    row = conn.execute("SELECT id, ack_at FROM incidents WHERE heartbeat = ? AND start = ?",
                       (heartbeat, start)).fetchone()
    if row is not None:
        if row[1] is not None or ack_at is None:
            return False
        conn.execute("UPDATE incidents SET ack_at = ?, ack_by = ? WHERE id = ?", (ack_at, ack_by, row[0]))
        return True
    conn.execute("INSERT INTO incidents (heartbeat, start, severity, source, ack_at, ack_by, recorded_at)"
                 " VALUES (?, ?, ?, 'detected', ?, ?, ?)",
                 (heartbeat, start, severity, ack_at, ack_by, record.get("recorded_at")))
    return True


def export_notes(store: Store) -> list[dict[str, Any]]:
    """The notes of jobs' incidents (`probe incident note ID`), naming the incident by heartbeat
    and start (ids differ from one database to another)."""
    keys = ("heartbeat", "incident_start", "incident_severity", "at", "author", "text")
    return [{"record": "job_incident_note", **dict(zip(keys, row))} for row in store.db.conn.execute(
        "SELECT i.heartbeat, i.start, i.severity, n.at, n.author, n.text FROM incident_notes n"
        " JOIN incidents i ON i.id = n.incident_id WHERE i.heartbeat IS NOT NULL ORDER BY n.at, n.id")]


def import_note(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    """A note on a job's incident, unless already there (same incident, time and text); the
    incident is given its row here when the database has none yet."""
    start, at, text, author = record.get("incident_start"), record.get("at"), record.get("text"), record.get("author")
    heartbeat, severity = record.get("heartbeat"), record.get("incident_severity")
    if not isinstance(heartbeat, str) or not heartbeat or len(heartbeat) > 64 or not heartbeat.isprintable():
        raise ValueError(f"heartbeat must be a heartbeat's name, not {heartbeat!r}"[:120])
    for key, value in (("incident_start", start), ("at", at)):
        if type(value) is not int:
            raise ValueError(f"{key} must be milliseconds since the epoch (an integer), not {value!r}"[:120])
    if not isinstance(text, str) or not text or len(text) > MAX_NOTE:
        raise ValueError(f"text must be a string of 1 to {MAX_NOTE} characters")
    if author is not None and not isinstance(author, str):
        raise ValueError(f"author must be a string or null, not {author!r}"[:120])
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"incident_severity must be blocking, major or minor, not {severity!r}"[:120])
    row = conn.execute("SELECT id FROM incidents WHERE heartbeat = ? AND start = ?", (heartbeat, start)).fetchone()
    incident = row[0] if row is not None else conn.execute(
        "INSERT INTO incidents (heartbeat, start, severity, source, recorded_at) VALUES (?, ?, ?, 'detected', ?)",
        (heartbeat, start, severity, at)).lastrowid
    if conn.execute("SELECT 1 FROM incident_notes WHERE incident_id = ? AND at = ? AND text = ?",
                    (incident, at, text)).fetchone():
        return False
    conn.execute("INSERT INTO incident_notes (incident_id, at, author, text) VALUES (?, ?, ?, ?)",
                 (incident, at, author, text))
    return True
