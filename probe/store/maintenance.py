"""The records of declared maintenance windows: added by command or first seen in the config,
cancelled, exported and imported with their declaration time."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from probe.sla import Declared, to_ms

from . import job_declarations
from .records import StoreError
from .schema import write_transaction

if TYPE_CHECKING:  # annotations only
    from probe.config import Config, Maintenance

    from .store import Store


_COLUMNS = ('id, start, "end", every, at, duration_ms, endpoints, reason, declared_at, declared_by,'
            " source, cancelled_at, cancelled_by")


def _record(row: tuple[Any, ...]) -> Declared:
    (id_, start, end, every, at, duration_ms, endpoints, reason, declared_at, declared_by, source,
     cancelled_at, cancelled_by) = row
    return Declared(
        id=id_,
        start=None if start is None else start / 1000,
        end=None if end is None else end / 1000,
        every=tuple(int(day) for day in every.split(",")) if every else (),
        at=at,
        duration=None if duration_ms is None else duration_ms / 1000,
        endpoints=None if endpoints is None else tuple(json.loads(endpoints)),
        reason=reason,
        declared_at=declared_at / 1000,
        declared_by=declared_by,
        source=source,
        cancelled_at=None if cancelled_at is None else cancelled_at / 1000,
        cancelled_by=cancelled_by,
    )


def declared(store: Store, as_of: float | None = None) -> list[Declared]:
    """Every window declared (by ``as_of``, when given), oldest declaration first."""
    sql, params = f"SELECT {_COLUMNS} FROM maintenance", []
    if as_of is not None:
        sql += " WHERE declared_at <= ?"
        params.append(to_ms(as_of))
    return [_record(row) for row in store.db.conn.execute(sql + " ORDER BY declared_at, id", params)]


def add(store: Store, start: float, end: float, endpoints: tuple[str, ...] | None, reason: str,
        by: str | None, now: float | None = None) -> int:
    """Declare a one-off window now (or at ``now``); returns its id."""
    if end <= start:
        raise StoreError("the window must end after it starts")
    return cast(int, _insert(store.db.conn, {  # a window by command is always new
        "start": to_ms(start), "end": to_ms(end), "endpoints": _names(endpoints), "reason": reason,
        "declared_at": to_ms(time.time() if now is None else now), "declared_by": by, "source": "command",
    }))


def cancel(store: Store, window_id: int, by: str | None, now: float | None = None) -> None:
    """Cancel a window: from then on it excuses nothing (its record stays)."""
    conn = store.db.conn
    with write_transaction(conn):
        row = conn.execute("SELECT cancelled_at FROM maintenance WHERE id = ?", (window_id,)).fetchone()
        if row is None:
            raise StoreError(f"no maintenance window {window_id} in {store.path}")
        if row[0] is not None:
            raise StoreError(f"maintenance window {window_id} is already cancelled")
        conn.execute("UPDATE maintenance SET cancelled_at = ?, cancelled_by = ? WHERE id = ?",
                     (to_ms(time.time() if now is None else now), by, window_id))


def declare_from_config(store: Store, cfg: Config, now: float | None = None) -> int:
    """Record the config's windows that probe sees for the first time, declared ``now``;
    windows seen before keep their first declaration. Returns how many were new. To be
    called whenever config and database are read together (daemon start and reload, report,
    maintenance commands). The config's [[heartbeat]] jobs are declared there and then too."""
    now = time.time() if now is None else now
    job_declarations.declare_from_config(store, cfg, now)
    if not cfg.maintenance:
        return 0
    declared_ms = to_ms(now)
    conn = store.db.conn
    added = 0
    with write_transaction(conn):
        for item in cfg.maintenance:
            row = {**_config_columns(item), "reason": item.reason, "declared_at": declared_ms,
                   "declared_by": f"config {cfg.path}" if cfg.path else "config", "source": "config"}
            row["config_key"] = _config_key(row)
            added += _insert(conn, row, unique=True, in_transaction=True) is not None
    return added


def _config_columns(item: Maintenance) -> dict[str, Any]:
    if item.every:
        return {"every": ",".join(map(str, item.every)), "at": item.at,
                "duration_ms": to_ms(cast(float, item.duration)), "endpoints": _names(item.endpoints)}
    start, end = cast(datetime, item.start), cast(datetime, item.end)  # a one-off window has both
    return {"start": to_ms(start.timestamp()), "end": to_ms(end.timestamp()),
            "endpoints": _names(item.endpoints)}


def _config_key(row: dict[str, Any]) -> str:
    """A config window's identity: its times and endpoints (a new reason is the same window)."""
    keys = ("start", "end", "every", "at", "duration_ms", "endpoints")
    return json.dumps([row.get(key) for key in keys])


def _names(endpoints: Iterable[str] | None) -> str | None:
    return None if endpoints is None else json.dumps(list(endpoints), ensure_ascii=False)


def _insert(conn: sqlite3.Connection, row: dict[str, Any], unique: bool = False, in_transaction: bool = False) -> int | None:
    columns = ", ".join(f'"{key}"' for key in row)
    verb = "INSERT OR IGNORE" if unique else "INSERT"
    sql = f"{verb} INTO maintenance ({columns}) VALUES ({', '.join('?' * len(row))})"
    if in_transaction:
        cursor = conn.execute(sql, tuple(row.values()))
    else:
        with write_transaction(conn):
            cursor = conn.execute(sql, tuple(row.values()))
    return cursor.lastrowid if cursor.rowcount else None


def export_records(store: Store) -> list[dict[str, Any]]:
    """Every window, as `probe export` writes it (times in ms since the epoch, UTC)."""
    rows = store.db.conn.execute(
        'SELECT start, "end", every, at, duration_ms, endpoints, reason, declared_at, declared_by,'
        " source, config_key, cancelled_at, cancelled_by FROM maintenance ORDER BY id").fetchall()
    keys = ("start", "end", "every", "at", "duration_ms", "endpoints", "reason", "declared_at",
            "declared_by", "source", "config_key", "cancelled_at", "cancelled_by")
    records = []
    for row in rows:
        record = {"record": "maintenance", **dict(zip(keys, row))}
        if record["endpoints"] is not None:
            record["endpoints"] = json.loads(record["endpoints"])
        records.append(record)
    return records


_TYPES = {"start": int, "end": int, "every": str, "at": str, "duration_ms": int, "endpoints": list,
          "reason": str, "declared_at": int, "declared_by": str, "source": str, "config_key": str,
          "cancelled_at": int, "cancelled_by": str}


def import_record(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    """Add one exported window unless the same declaration is there already; True if added.
    ValueError says what is wrong with the record."""
    unknown = record.keys() - _TYPES.keys() - {"record"}
    if unknown:
        raise ValueError(f"maintenance: unknown key {min(unknown)!r}")
    for key, kind in _TYPES.items():
        value = record.get(key)
        if value is not None and type(value) is not kind:
            raise ValueError(f"maintenance: {key} must be {kind.__name__} or null, not {value!r}")
    if record.get("declared_at") is None:
        raise ValueError("maintenance: missing declared_at")
    if (record.get("start") is None or record.get("end") is None) and not record.get("every"):
        raise ValueError("maintenance: needs start and end, or every, at and duration_ms")
    row = {key: record.get(key) for key in _TYPES}
    row["endpoints"] = _names(row["endpoints"])
    row["reason"] = row["reason"] or ""
    row["source"] = row["source"] if row["source"] in ("command", "config") else "import"
    same = conn.execute(
        'SELECT 1 FROM maintenance WHERE start IS ? AND "end" IS ? AND every IS ? AND at IS ?'
        " AND duration_ms IS ? AND endpoints IS ? AND declared_at = ?",
        (row["start"], row["end"], row["every"], row["at"], row["duration_ms"], row["endpoints"],
         row["declared_at"])).fetchone()
    if same:
        return False
    if row["config_key"] and conn.execute("SELECT 1 FROM maintenance WHERE config_key = ?",
                                          (row["config_key"],)).fetchone():
        row["config_key"] = None  # seen here too: both declarations are kept
    return _insert(conn, row, in_transaction=True) is not None
