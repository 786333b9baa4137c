"""An incident's timeline of notes (`probe incident note ID TEXT`): who wrote what, when.
Records of the paper trail: exported and imported with their incident."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from probe.sla import to_ms

from .records import StoreError
from .schema import write_transaction

if TYPE_CHECKING:  # annotations only
    from .store import Store

MAX_NOTE = 2000  # characters of one note


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    incident_id: int
    at: float
    author: str | None
    text: str


def add(store: Store, incident_id: int, text: str, author: str | None, at: float | None = None) -> int:
    """A note on incident ``incident_id``, at ``at`` (default now); returns its id."""
    text = text.strip()
    if not text:
        raise StoreError("a note needs some text")
    if len(text) > MAX_NOTE:
        raise StoreError(f"a note is at most {MAX_NOTE} characters (this one has {len(text)})")
    with write_transaction(store.db.conn) as conn:
        if conn.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone() is None:
            raise StoreError(f"no incident {incident_id} in {store.path} (see `probe incident list`)")
        cursor = conn.execute("INSERT INTO incident_notes (incident_id, at, author, text) VALUES (?, ?, ?, ?)",
                              (incident_id, to_ms(time.time() if at is None else at), author, text))
    return cast(int, cursor.lastrowid)


def notes(store: Store, incident_ids: list[int] | None = None) -> dict[int, list[Note]]:
    """The notes of the given incidents (all when None), by incident, oldest first."""
    sql = "SELECT id, incident_id, at, author, text FROM incident_notes"
    params: list[int] = []
    if incident_ids is not None:
        if not incident_ids:
            return {}
        sql += f" WHERE incident_id IN ({', '.join('?' * len(incident_ids))})"
        params = list(incident_ids)
    found: dict[int, list[Note]] = {}
    for row in store.db.conn.execute(sql + " ORDER BY at, id", params):
        found.setdefault(row[1], []).append(Note(row[0], row[1], row[2] / 1000, row[3], row[4]))
    return found


def export_records(store: Store, endpoint: str | None = None) -> list[dict[str, Any]]:
    """Each note as a paper-trail line, naming its incident by endpoint, start and source
    (ids differ from one database to another)."""
    sql = ("SELECT e.name, i.start, i.source, i.severity, i.summary, n.at, n.author, n.text FROM incident_notes n"
           " JOIN incidents i ON i.id = n.incident_id JOIN endpoints e ON e.id = i.endpoint_id")
    params: tuple[str, ...] = ()
    if endpoint is not None:
        sql, params = sql + " WHERE e.name = ?", (endpoint,)
    keys = ("endpoint", "incident_start", "incident_source", "incident_severity", "incident_summary", "at",
            "author", "text")
    return [{"record": "incident_note", **dict(zip(keys, row))}
            for row in store.db.conn.execute(sql + " ORDER BY n.at, n.id", params)]


def import_record(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    """Add a note unless already there (same incident, time and text). The incident of a
    detected outage is given its id here when the database has none yet."""
    row = conn.execute("SELECT id FROM endpoints WHERE name = ? ORDER BY id LIMIT 1",  # its first series
                       (record.get("endpoint"),)).fetchone()
    if row is None:
        raise ValueError(f"no endpoint {record.get('endpoint')!r} (its checks must be imported with it)")
    start, at = record.get("incident_start"), record.get("at")
    for key, value in (("incident_start", start), ("at", at)):
        if type(value) is not int:
            raise ValueError(f"{key} must be milliseconds since the epoch (an integer), not {value!r}")
    text, author, source = record.get("text"), record.get("author"), record.get("incident_source")
    if not isinstance(text, str) or not text or len(text) > MAX_NOTE:
        raise ValueError(f"text must be a string of 1 to {MAX_NOTE} characters")
    if author is not None and not isinstance(author, str):
        raise ValueError(f"author must be a string or null, not {author!r}")
    if source not in ("manual", "detected"):
        raise ValueError(f"incident_source must be manual or detected, not {source!r}")
    severity = record.get("incident_severity")
    if severity not in (None, "blocking", "major", "minor"):
        raise ValueError(f"incident_severity must be blocking, major or minor, not {severity!r}")
    incident = conn.execute(
        "SELECT id FROM incidents WHERE endpoint_id = ? AND start = ? AND source = ?"
        + (" AND summary IS ?" if source == "manual" else ""),
        (row[0], start, source, record.get("incident_summary")) if source == "manual" else (row[0], start, source),
    ).fetchone()
    if incident is None:
        if source == "manual":
            raise ValueError("no such incident recorded by hand (its incident record must come first)")
        incident = (conn.execute("INSERT INTO incidents (endpoint_id, start, severity, source, recorded_at)"
                                 " VALUES (?, ?, ?, 'detected', ?)", (row[0], start, severity, at)).lastrowid,)
    if conn.execute("SELECT 1 FROM incident_notes WHERE incident_id = ? AND at = ? AND text = ?",
                    (incident[0], at, text)).fetchone():
        return False
    conn.execute("INSERT INTO incident_notes (incident_id, at, author, text) VALUES (?, ?, ?, ?)",
                 (incident[0], at, author, text))
    return True
