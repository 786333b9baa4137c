"""Where the history came from, and when the probe was running: daemon runs and their gaps as
of a time, the imports that brought checks, and the paper trail that `probe export` carries
(daemon runs, imports, incidents recorded by hand and acknowledgements) so that a migration
keeps it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from probe import sla
from probe.sla import to_ms

STALE_HEARTBEAT = 60.0  # a daemon run silent for longer than this was no longer running
STOPPED, CRASHED, SILENT, NOT_RECORDED = "stopped", "crashed", "silent", "not_recorded"


def _iso(epoch: float | None, zone: ZoneInfo) -> str | None:
    from probe.report import iso_local  # probe.report imports this module

    return iso_local(epoch, zone)


# --- daemon runs, as of a time -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunAsOf:
    """A daemon run as it stood at the as-of time."""

    started_at: float
    ended_at: float  # stopped, crashed (last heartbeat), or the as-of time while running
    end_reason: str | None  # stopped | crashed | silent | None (still running)
    pid: int | None
    host: str | None
    version: str | None
    site: str | None
    imported_from: str | None  # the file of the import that brought this run, if any


@dataclass(frozen=True, slots=True)
class DaemonRecord:
    runs: list[RunAsOf]
    gaps: list[tuple[float, float, str]]  # (start, end, reason): the probe was not running
    throughout: bool  # daemon runs cover the whole counted period


def daemon_record(store, counted: sla.Interval, as_of: float) -> DaemonRecord:
    """The daemon runs overlapping ``counted`` as of ``as_of``, and every stretch of it that no
    run covers, with why (the previous run stopped, crashed or fell silent; or no run at all
    was recorded before)."""
    conn = store.db.conn
    columns = {row[1] for row in conn.execute("PRAGMA table_info(daemon_runs)")}
    host = "host" if "host" in columns else "NULL"
    rows = conn.execute(
        f"SELECT r.started_at, r.stopped_at, r.stop_reason, r.pid, {host}, r.version, r.site,"
        " r.heartbeat_at, i.file FROM daemon_runs r LEFT JOIN imports i ON i.id = r.import_id"
        " WHERE r.started_at <= ? ORDER BY r.started_at",
        (to_ms(as_of),)).fetchall()
    runs = []
    for started, stopped, reason, pid, host_name, version, site, heartbeat, file in rows:
        started, stopped = started / 1000, None if stopped is None else stopped / 1000
        heartbeat = None if heartbeat is None else heartbeat / 1000
        if stopped is not None and stopped <= as_of:
            ended, why = stopped, CRASHED if reason == "crash" else STOPPED
        elif stopped is None and heartbeat is not None and heartbeat + STALE_HEARTBEAT < as_of:
            ended, why = heartbeat, SILENT
        else:
            ended, why = as_of, None
        runs.append(RunAsOf(started, max(started, ended), why, pid, host_name, version, site, file))
    overlapping = [run for run in runs if run.started_at < counted[1] and run.ended_at > counted[0]]
    gaps = []
    covered = sla.merge((run.started_at, run.ended_at) for run in runs)
    for start, end in sla.subtract([counted], covered):
        before = [run for run in runs if run.ended_at <= start]
        reason = before[-1].end_reason if before else NOT_RECORDED
        gaps.append((start, end, reason or NOT_RECORDED))
    throughout = counted[1] > counted[0] and not gaps
    return DaemonRecord(overlapping, gaps, throughout)


def run_json(run: RunAsOf, zone: ZoneInfo) -> dict:
    return {
        "started": _iso(run.started_at, zone),
        "ended": _iso(run.ended_at, zone) if run.end_reason else None,
        "end_reason": run.end_reason,
        "pid": run.pid,
        "host": run.host,
        "version": run.version,
        "site": run.site,
        "imported_from": run.imported_from,
    }


# --- imports -------------------------------------------------------------------------------


def imported_spans(store, counted: sla.Interval) -> dict[str, list[tuple]]:
    """endpoint name -> [(file, imported_at, first_at, last_at, checks)] of the imports whose
    checks overlap ``counted``."""
    rows = store.db.conn.execute(
        "SELECT e.name, i.file, i.imported_at, s.first_at, s.last_at, s.checks FROM imported_spans s"
        " JOIN imports i ON i.id = s.import_id JOIN endpoints e ON e.id = s.endpoint_id"
        " WHERE s.first_at < ? AND s.last_at >= ? ORDER BY i.imported_at, i.id",
        (to_ms(counted[1]), to_ms(counted[0]))).fetchall()
    found: dict[str, list[tuple]] = {}
    for name, file, imported_at, first, last, checks in rows:
        found.setdefault(name, []).append((file, imported_at / 1000, first / 1000, last / 1000, checks))
    return found


def span_json(span: tuple, zone: ZoneInfo) -> dict:
    file, imported_at, first, last, checks = span
    return {"file": file, "imported_at": _iso(imported_at, zone), "first_check": _iso(first, zone),
            "last_check": _iso(last, zone), "checks": checks}


def record_import(conn, file: str, now: float | None = None) -> int | None:
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


# --- the paper trail in `probe export` / `probe import` -----------------------------------
# One JSON object a line, with a "record" key; times are integer milliseconds since the
# epoch (UTC), as stored.

RECORD_KINDS = ("maintenance", "incident", "daemon_run", "import")


def parse_record(line: str) -> dict | None:
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


def export_records(store, endpoint: str | None = None) -> list[dict]:
    """The paper trail as export lines: windows, incidents and acknowledgements, daemon runs
    and earlier imports (only the incidents of ``endpoint`` when one is given)."""
    from probe import maintenance

    conn = store.db.conn
    records = maintenance.export_records(store)
    sql = ('SELECT e.name, i.start, i."end", i.severity, i.summary, i.source, i.ack_at, i.ack_by,'
           " i.closed_at, i.recorded_at FROM incidents i JOIN endpoints e ON e.id = i.endpoint_id")
    params: tuple = ()
    if endpoint is not None:
        sql, params = sql + " WHERE e.name = ?", (endpoint,)
    keys = ("endpoint", "start", "end", "severity", "summary", "source", "ack_at", "ack_by", "closed_at",
            "recorded_at")
    for row in conn.execute(sql + " ORDER BY i.id", params):
        record = dict(zip(keys, row))
        if record["source"] == "detected" and record["ack_at"] is None:
            continue  # only an id given for listing: nothing to carry
        records.append({"record": "incident", **record})
    columns = [row[1] for row in conn.execute("PRAGMA table_info(daemon_runs)")
               if row[1] not in ("id", "import_id", "status")]
    for row in conn.execute(f"SELECT {', '.join(columns)} FROM daemon_runs ORDER BY started_at"):
        records.append({"record": "daemon_run", **dict(zip(columns, row))})
    for import_id, file, imported_at in conn.execute("SELECT id, file, imported_at FROM imports ORDER BY id"):
        spans = [dict(zip(("endpoint", "first_at", "last_at", "checks"), span)) for span in conn.execute(
            "SELECT e.name, s.first_at, s.last_at, s.checks FROM imported_spans s"
            " JOIN endpoints e ON e.id = s.endpoint_id WHERE s.import_id = ?", (import_id,))]
        records.append({"record": "import", "file": file, "imported_at": imported_at, "spans": spans})
    return records


def import_records(conn, records: list[tuple[int, dict]], import_id: int | None) -> int:
    """Add the paper-trail records of an export (lines numbered), each unless already there;
    returns how many were added. ValueError("line N: ...") on a bad one."""
    from probe import maintenance

    added = 0
    for number, record in records:
        kind = record["record"]
        try:
            if kind == "maintenance":
                added += maintenance.import_record(conn, record)
            elif kind == "incident":
                added += _import_incident(conn, record)
            elif kind == "daemon_run":
                added += _import_daemon_run(conn, record, import_id)
            else:
                added += _import_import(conn, record)
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"line {number}: {kind}: {error}") from None
    return added


def _endpoint_id(conn, name) -> int:
    row = conn.execute("SELECT id FROM endpoints WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise ValueError(f"no endpoint {name!r} (its checks must be imported with it)")
    return row[0]


def _ms_or_none(record: dict, key: str, required: bool = False) -> int | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if type(value) is not int:
        raise ValueError(f"{key} must be milliseconds since the epoch (an integer), not {value!r}")
    return value


def _text_or_none(record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null, not {value!r}")
    return value


def _import_incident(conn, record: dict) -> bool:
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


def _import_daemon_run(conn, record: dict, import_id: int | None) -> bool:
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


def _import_import(conn, record: dict) -> bool:
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
