"""The paper trail that `probe export` carries (maintenance windows, daemon runs, imports,
incidents recorded by hand and acknowledgements), so that a migration keeps it."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import TYPE_CHECKING, Any, cast

from probe.sla import to_ms

from . import incident_notes, job_declarations, job_incidents, maintenance, pings, tls_audits

if TYPE_CHECKING:  # annotations only
    from .store import Store


def record_import(conn: sqlite3.Connection, file: str, now: float | None = None) -> int | None:
    """Record that the checks staged in temp.incoming (those not already stored) came from
    ``file``, now; returns the import's id, or None when it brought no check."""
    spans = conn.execute(
        "SELECT endpoint_id, min(at), max(at), count(*) FROM incoming GROUP BY endpoint_id").fetchall()
    if not spans:
        return None
    import_id = conn.execute("INSERT INTO imports (file, imported_at) VALUES (?, ?)",
                             (file, to_ms(time.time() if now is None else now))).lastrowid
    conn.executemany("INSERT INTO imported_spans VALUES (?, ?, ?, ?, ?)",
                     [(import_id, *span) for span in spans])
    return import_id


RECORD_KINDS = ("maintenance", "incident", "incident_note", "daemon_run", "import", "ping", "tls_audit",
                "job_incident", "job_incident_note", "job_declaration")


def parse_record(line: str) -> dict[str, Any] | None:
    """The paper-trail record on this line, or None when it is a check."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None  # the check parser says what is wrong
    if not isinstance(record, dict) or "record" not in record:
        return None
    if record["record"] not in RECORD_KINDS:
        raise ValueError(f"unknown record {record['record']!r} (expected one of: {', '.join(RECORD_KINDS)})")
    return record


def export_records(store: Store, endpoint: str | None = None) -> list[dict[str, Any]]:
    """The paper trail as export lines: windows, incidents and acknowledgements, daemon runs
    and earlier imports (only the incidents of ``endpoint`` when one is given)."""
    conn = store.db.conn
    records = maintenance.export_records(store)
    sql = ('SELECT e.name, i.start, i."end", i.severity, i.summary, i.source, i.ack_at, i.ack_by,'
           " i.closed_at, i.recorded_at FROM incidents i JOIN endpoints e ON e.id = i.endpoint_id")
    params: tuple[Any, ...] = ()
    if endpoint is not None:
        sql, params = sql + " WHERE e.name = ?", (endpoint,)
    keys = ("endpoint", "start", "end", "severity", "summary", "source", "ack_at", "ack_by", "closed_at",
            "recorded_at")
    for row in conn.execute(sql + " ORDER BY i.id", params):
        record = dict(zip(keys, row))
        if record["source"] == "detected" and record["ack_at"] is None:
            continue  # only an id given for listing: nothing to carry
        records.append({"record": "incident", **record})
    records += incident_notes.export_records(store, endpoint)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(daemon_runs)")
               if row[1] not in ("id", "import_id", "status")]
    for row in conn.execute(f"SELECT {', '.join(columns)} FROM daemon_runs ORDER BY started_at"):
        records.append({"record": "daemon_run", **dict(zip(columns, row))})
    for import_id, file, imported_at in conn.execute("SELECT id, file, imported_at FROM imports ORDER BY id"):
        spans = [dict(zip(("endpoint", "first_at", "last_at", "checks"), span)) for span in conn.execute(
            "SELECT e.name, s.first_at, s.last_at, s.checks FROM imported_spans s"
            " JOIN endpoints e ON e.id = s.endpoint_id WHERE s.import_id = ?", (import_id,))]
        records.append({"record": "import", "file": file, "imported_at": imported_at, "spans": spans})
    if endpoint is None:
        records.extend(pings.export_records(store))
        records.extend(job_incidents.export_records(store))
        records.extend(job_incidents.export_notes(store))
        records.extend(job_declarations.export_records(store))
    records += tls_audits.export_records(conn, endpoint)
    return records


def import_records(conn: sqlite3.Connection, records: list[tuple[int, dict[str, Any]]], import_id: int | None) -> int:
    """Add the paper-trail records of an export (lines numbered), each unless already there;
    returns how many were added. ValueError("line N: ...") on a bad one."""
    added = 0
    for number, record in records:
        kind = record["record"]
        try:
            if kind == "maintenance":
                added += maintenance.import_record(conn, record)
            elif kind == "incident":
                added += _import_incident(conn, record)
            elif kind == "incident_note":
                added += incident_notes.import_record(conn, record)
            elif kind == "ping":
                added += pings.import_record(conn, record)
            elif kind == "daemon_run":
                added += _import_daemon_run(conn, record, import_id)
            elif kind == "job_incident":
                added += job_incidents.import_record(conn, record)
            elif kind == "job_incident_note":
                added += job_incidents.import_note(conn, record)
            elif kind == "job_declaration":
                added += job_declarations.import_record(conn, record)
            elif kind == "tls_audit":
                added += tls_audits.import_record(conn, record)
            else:
                added += _import_import(conn, record)
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"line {number}: {kind}: {error}") from None
    return added


def _endpoint_id(conn: sqlite3.Connection, name: object) -> int:
    row = conn.execute("SELECT id FROM endpoints WHERE name = ? ORDER BY id LIMIT 1", (name,)).fetchone()
    if row is None:
        raise ValueError(f"no endpoint {name!r} (its checks must be imported with it)")
    return cast(int, row[0])


def _ms_or_none(record: dict[str, Any], key: str, required: bool = False) -> int | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if type(value) is not int:
        raise ValueError(f"{key} must be milliseconds since the epoch (an integer), not {value!r}")
    return value


def _text_or_none(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null, not {value!r}")
    return value


def _import_incident(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    endpoint_id = _endpoint_id(conn, record.get("endpoint"))
    start = _ms_or_none(record, "start", required=True)
    source = record.get("source")
    if source not in ("manual", "detected"):
        raise ValueError(f"source must be manual or detected, not {source!r}")
    severity = _text_or_none(record, "severity")
    if severity not in (None, "blocking", "major", "minor"):
        raise ValueError(f"severity must be blocking, major or minor, not {severity!r}")
    values = (_ms_or_none(record, "end"), severity, _text_or_none(record, "summary"),
              _ms_or_none(record, "ack_at"), _text_or_none(record, "ack_by"), _ms_or_none(record, "closed_at"),
              _ms_or_none(record, "recorded_at"))
    if source == "detected":
        # the acknowledgement of an outage the report derives from checks: keep the earliest
        row = conn.execute("SELECT id, ack_at FROM incidents WHERE endpoint_id = ? AND start = ?"
                           " AND source = 'detected'", (endpoint_id, start)).fetchone()
        if row is not None:
            if values[3] is None or (row[1] is not None and row[1] <= values[3]):
                return False
            conn.execute("UPDATE incidents SET ack_at = ?, ack_by = ? WHERE id = ?", (values[3], values[4], row[0]))
            return True
    elif conn.execute("SELECT 1 FROM incidents WHERE endpoint_id = ? AND start = ? AND source = 'manual'"
                      " AND summary IS ?", (endpoint_id, start, values[2])).fetchone():
        return False
    conn.execute('INSERT INTO incidents (endpoint_id, start, "end", severity, summary, source, ack_at, ack_by,'
                 " closed_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (endpoint_id, start, *values[:3], source, *values[3:]))
    return True


def _import_daemon_run(conn: sqlite3.Connection, record: dict[str, Any], import_id: int | None) -> bool:
    started = _ms_or_none(record, "started_at", required=True)
    pid = record.get("pid")
    if pid is not None and type(pid) is not int:
        raise ValueError(f"pid must be an integer or null, not {pid!r}")
    if conn.execute("SELECT 1 FROM daemon_runs WHERE started_at = ? AND pid IS ?", (started, pid)).fetchone():
        return False
    reason = record.get("stop_reason")
    if reason not in (None, "stop", "crash"):
        raise ValueError(f"stop_reason must be stop or crash, not {reason!r}")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(daemon_runs)")}
    row = {"started_at": started, "stopped_at": _ms_or_none(record, "stopped_at"), "stop_reason": reason,
           "pid": pid, "version": _text_or_none(record, "version"), "site": _text_or_none(record, "site"),
           "heartbeat_at": _ms_or_none(record, "heartbeat_at"), "import_id": import_id}
    for key in columns - row.keys() - {"id", "status"}:
        if key in record:
            row[key] = record[key]
    if row["stopped_at"] is None:
        # a run still open in the exported database: it ended at its last heartbeat there
        row["stopped_at"], row["stop_reason"] = row["heartbeat_at"] or started, "crash"
    conn.execute(f"INSERT INTO daemon_runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                 tuple(row.values()))
    return True


def _import_import(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    file = _text_or_none(record, "file")
    imported_at = _ms_or_none(record, "imported_at", required=True)
    if not file:
        raise ValueError("missing file")
    if conn.execute("SELECT 1 FROM imports WHERE file = ? AND imported_at = ?", (file, imported_at)).fetchone():
        return False
    spans = record.get("spans") or []
    if not isinstance(spans, list):
        raise ValueError("spans must be a list")
    import_id = conn.execute("INSERT INTO imports (file, imported_at) VALUES (?, ?)", (file, imported_at)).lastrowid
    for span in spans:
        if not isinstance(span, dict):
            raise ValueError("each span must be an object")
        conn.execute("INSERT OR IGNORE INTO imported_spans VALUES (?, ?, ?, ?, ?)",
                     (import_id, _endpoint_id(conn, span.get("endpoint")), _ms_or_none(span, "first_at", True),
                      _ms_or_none(span, "last_at", True), _ms_or_none(span, "checks", True)))
    return True
