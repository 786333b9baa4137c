"""Declared maintenance windows and their paper trail: each window is a record with the time it
was declared (by command, or when probe first saw it in the config), who declared it, and
whether it was cancelled. Which part of a window excuses downtime follows the rule in
docs/accounting.md ("Maintenance"): only what comes after its declaration, unless
``[sla] late_maintenance = "exclude"``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from probe import sla
from probe.store import Store, StoreError, _write_transaction
from probe.sla import to_ms

if TYPE_CHECKING:  # probe.config imports aiohttp, slow to load
    from probe.config import Config, Maintenance

LATE_POLICIES = ("count", "exclude")


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared window: one-off (start, end) or recurring (every, at, duration)."""

    id: int
    start: float | None
    end: float | None
    every: tuple[int, ...]
    at: str | None
    duration: float | None
    endpoints: tuple[str, ...] | None  # None: every endpoint
    reason: str
    declared_at: float
    declared_by: str | None
    source: str  # command | config | import
    cancelled_at: float | None
    cancelled_by: str | None

    def cancelled_by_then(self, as_of: float) -> bool:
        return self.cancelled_at is not None and self.cancelled_at <= as_of


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A window of a declared record that falls in a period (a recurring record has many)."""

    start: float
    end: float
    record: Declared

    def applies_to(self, endpoint: str) -> bool:
        return self.record.endpoints is None or endpoint in self.record.endpoints

    @property
    def late(self) -> bool:
        """Declared after it began."""
        return self.record.declared_at > self.start

    def excused(self, late_policy: str, as_of: float) -> sla.Interval | None:
        """The part of the window that excuses downtime, as of ``as_of``: none once
        cancelled; from its declaration on, unless late declarations are allowed."""
        if self.record.cancelled_by_then(as_of):
            return None
        start = self.start if late_policy == "exclude" else max(self.start, self.record.declared_at)
        return (start, self.end) if self.end > start else None


_COLUMNS = ('id, start, "end", every, at, duration_ms, endpoints, reason, declared_at, declared_by,'
            " source, cancelled_at, cancelled_by")


def _record(row) -> Declared:
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
    return _insert(store.db.conn, {
        "start": to_ms(start), "end": to_ms(end), "endpoints": _names(endpoints), "reason": reason,
        "declared_at": to_ms(time.time() if now is None else now), "declared_by": by, "source": "command",
    })


def cancel(store: Store, window_id: int, by: str | None, now: float | None = None) -> None:
    """Cancel a window: from then on it excuses nothing (its record stays)."""
    conn = store.db.conn
    with _write_transaction(conn):
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
    maintenance commands)."""
    if not cfg.maintenance:
        return 0
    declared_ms = to_ms(time.time() if now is None else now)
    conn = store.db.conn
    added = 0
    with _write_transaction(conn):
        for item in cfg.maintenance:
            row = {**_config_columns(item), "reason": item.reason, "declared_at": declared_ms,
                   "declared_by": f"config {cfg.path}" if cfg.path else "config", "source": "config"}
            row["config_key"] = _config_key(row)
            added += _insert(conn, row, unique=True, in_transaction=True) is not None
    return added


def _config_columns(item: Maintenance) -> dict:
    if item.every:
        return {"every": ",".join(map(str, item.every)), "at": item.at,
                "duration_ms": to_ms(item.duration), "endpoints": _names(item.endpoints)}
    return {"start": to_ms(item.start.timestamp()), "end": to_ms(item.end.timestamp()),
            "endpoints": _names(item.endpoints)}


def _config_key(row: dict) -> str:
    """A config window's identity: its times and endpoints (a new reason is the same window)."""
    keys = ("start", "end", "every", "at", "duration_ms", "endpoints")
    return json.dumps([row.get(key) for key in keys])


def _names(endpoints) -> str | None:
    return None if endpoints is None else json.dumps(list(endpoints), ensure_ascii=False)


def _insert(conn, row: dict, unique: bool = False, in_transaction: bool = False) -> int | None:
    columns = ", ".join(f'"{key}"' for key in row)
    verb = "INSERT OR IGNORE" if unique else "INSERT"
    sql = f"{verb} INTO maintenance ({columns}) VALUES ({', '.join('?' * len(row))})"
    if in_transaction:
        cursor = conn.execute(sql, tuple(row.values()))
    else:
        with _write_transaction(conn):
            cursor = conn.execute(sql, tuple(row.values()))
    return cursor.lastrowid if cursor.rowcount else None


def occurrences(records: list[Declared], period: sla.Interval, tz: str) -> list[Occurrence]:
    """The windows of ``records`` that overlap the period, in time order."""
    found = []
    for record in records:
        if record.every:
            for window in sla.expand_weekly(record.every, record.at, record.duration, period, tz):
                found.append(Occurrence(window.start, window.end, record))
        elif record.start < period[1] and record.end > period[0]:
            found.append(Occurrence(record.start, record.end, record))
    return sorted(found, key=lambda o: (o.start, o.record.id))


def excused_intervals(windows: list[Occurrence], endpoint: str, late_policy: str, as_of: float) -> list[sla.Interval]:
    """The time that maintenance excuses for one endpoint, merged."""
    parts = (w.excused(late_policy, as_of) for w in windows if w.applies_to(endpoint))
    return sla.merge(part for part in parts if part is not None)


# --- export and import: windows carry their declaration -------------------------------------

def export_records(store: Store) -> list[dict]:
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


def import_record(conn, record: dict) -> bool:
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
