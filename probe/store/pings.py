"""The signals of [[heartbeat]] jobs: recorded as the daemon's listener receives them, read back
for the report and the alerts, exported and imported as records. Never a token, never a body."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from probe.sla import to_ms
from probe.sla.heartbeats import SIGNALS, Signal

from .schema import write_transaction

if TYPE_CHECKING:  # annotations only
    from .store import Store


def add(store: Store, heartbeat: str, at: float, kind: str, exit_status: int | None = None,
        duration: float | None = None) -> bool:
    """Record one signal; False when the same one (heartbeat, instant, kind) is there already."""
    if kind not in SIGNALS:
        raise ValueError(f"unknown signal {kind!r}")
    conn = store.db.conn
    with write_transaction(conn):
        return _insert(conn, heartbeat, to_ms(at), kind, exit_status,
                       None if duration is None else to_ms(duration), "listen")


def _insert(conn: sqlite3.Connection, heartbeat: str, at_ms: int, kind: str, exit_status: int | None,
            duration_ms: int | None, source: str) -> bool:
    cursor = conn.execute(
        "INSERT OR IGNORE INTO pings (heartbeat, at, kind, exit_status, duration_ms, source)"
        " VALUES (?, ?, ?, ?, ?, ?)", (heartbeat, at_ms, kind, exit_status, duration_ms, source))
    return cursor.rowcount == 1


def signals(store: Store, heartbeat: str, until: float | None = None, since: float | None = None) -> list[Signal]:
    """A heartbeat's signals (from ``since``, up to ``until``), oldest first."""
    return read_signals(store.db.conn, heartbeat, until, since)


def read_signals(conn: sqlite3.Connection, heartbeat: str, until: float | None = None,
                 since: float | None = None) -> list[Signal]:
    """signals(), on a connection (a read-only one, say)."""
    sql = "SELECT at, kind, exit_status FROM pings WHERE heartbeat = ?"
    params: list[Any] = [heartbeat]
    if since is not None:
        sql += " AND at >= ?"
        params.append(to_ms(since))
    if until is not None:
        sql += " AND at <= ?"
        params.append(to_ms(until))
    return [Signal(at / 1000, kind, status)
            for at, kind, status in conn.execute(sql + " ORDER BY at, id", params)]


def last(store: Store, heartbeat: str) -> tuple[float, str, int | None] | None:
    """The newest signal of a heartbeat: (at, kind, exit status), or None."""
    return newest(store.db.conn, heartbeat)


def newest(conn: sqlite3.Connection, heartbeat: str, kind: str | None = None) -> tuple[float, str, int | None] | None:
    """The newest signal of a heartbeat (of that kind): (at, kind, exit status), or None."""
    sql, params = "SELECT at, kind, exit_status FROM pings WHERE heartbeat = ?", [heartbeat]
    if kind is not None:
        sql, params = sql + " AND kind = ?", [heartbeat, kind]
    row = conn.execute(sql + " ORDER BY at DESC, id DESC LIMIT 1", params).fetchone()
    return None if row is None else (row[0] / 1000, row[1], row[2])


def export_records(store: Store) -> list[dict[str, Any]]:
    keys = ("heartbeat", "at", "kind", "exit_status", "duration_ms")
    return [{"record": "ping", **dict(zip(keys, row))} for row in store.db.conn.execute(
        "SELECT heartbeat, at, kind, exit_status, duration_ms FROM pings ORDER BY at, id")]


def import_record(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    """One exported ping, unless already there; ValueError on a bad one."""
    heartbeat, at, kind = record.get("heartbeat"), record.get("at"), record.get("kind")
    if not isinstance(heartbeat, str) or not heartbeat or len(heartbeat) > 64 or not heartbeat.isprintable():
        raise ValueError(f"heartbeat must be a heartbeat's name, not {heartbeat!r}"[:120])
    if type(at) is not int:
        raise ValueError(f"at must be milliseconds since the epoch (an integer), not {at!r}"[:120])
    if kind not in SIGNALS:
        raise ValueError(f"kind must be one of {', '.join(SIGNALS)}, not {kind!r}"[:120])
    numbers = []
    for key in ("exit_status", "duration_ms"):
        value = record.get(key)
        if value is not None and type(value) is not int:
            raise ValueError(f"{key} must be an integer or null, not {value!r}"[:120])
        numbers.append(value)
    return _insert(conn, heartbeat, at, kind, numbers[0], numbers[1], "import")
