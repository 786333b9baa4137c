"""When each [[heartbeat]] job was declared: the first time probe saw it in the config (daemon
start and reload, and the commands that read config and database together, as for maintenance
windows), with the terms it is expected on (schedule or every, grace, duration bounds). Terms
that change are a new declaration from when probe sees them; the terms declared before still
apply before it. Never back-dated; exported and imported as records ("job_declaration")."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from probe.sla import to_ms
from probe.sla.heartbeats import Declaration, Expectation

from .records import log
from .schema import write_transaction

if TYPE_CHECKING:  # annotations only
    from probe.config import Config, Heartbeat

    from .store import Store

_TERMS = ("schedule", "every_ms", "grace_ms", "min_duration_ms", "max_duration_ms")
_COLUMNS = ("heartbeat", *_TERMS, "declared_at", "declared_by", "source")


@dataclass(frozen=True)
class JobDeclaration:
    heartbeat: str
    declared_at: float
    schedule: str | None
    every: float | None
    grace: float
    min_duration: float | None
    max_duration: float | None
    declared_by: str | None
    source: str  # config | import


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _record(row: tuple[Any, ...]) -> JobDeclaration:
    heartbeat, schedule, every, grace, shortest, longest, declared_at, declared_by, source = row
    return JobDeclaration(heartbeat, declared_at / 1000, schedule, _seconds(every), grace / 1000,
                          _seconds(shortest), _seconds(longest), declared_by, source)


def _terms(heartbeat: Heartbeat) -> tuple[Any, ...]:
    def ms(seconds: float | None) -> int | None:
        return None if seconds is None else to_ms(seconds)

    return (heartbeat.schedule, ms(heartbeat.every), to_ms(heartbeat.grace), ms(heartbeat.min_duration),
            ms(heartbeat.max_duration))


def declarations(conn: sqlite3.Connection, heartbeat: str, as_of: float | None = None) -> list[JobDeclaration]:
    """A job's declarations (those made by ``as_of``, when given), oldest first."""
    sql = f"SELECT {', '.join(_COLUMNS)} FROM job_declarations WHERE heartbeat = ?"
    params: list[Any] = [heartbeat]
    if as_of is not None:
        sql += " AND declared_at <= ?"
        params.append(to_ms(as_of))
    return [_record(row) for row in conn.execute(sql + " ORDER BY declared_at, id", params)]


def expectations(conn: sqlite3.Connection, heartbeat: str, timezone: str,
                 as_of: float | None = None) -> list[Declaration]:
    """A job's declarations as the SLA judges runs by (cron in ``timezone``), oldest first."""
    return [Declaration(d.declared_at, Expectation(d.schedule, d.every, d.grace, timezone, d.min_duration,
                                                   d.max_duration))
            for d in declarations(conn, heartbeat, as_of)]


def declare_from_config(store: Store, cfg: Config, now: float | None = None) -> int:
    """Declare, ``now``, each of the config's jobs that probe sees for the first time or on terms
    other than its newest declaration's; returns how many were declared."""
    if not cfg.heartbeats:
        return 0
    declared_ms = to_ms(time.time() if now is None else now)
    by = f"config {cfg.path}" if cfg.path else "config"
    conn = store.db.conn
    added = []
    with write_transaction(conn):
        for heartbeat in cfg.heartbeats:
            terms = _terms(heartbeat)
            newest = conn.execute(f"SELECT {', '.join(_TERMS)} FROM job_declarations WHERE heartbeat = ?"
                                  " ORDER BY declared_at DESC, id DESC LIMIT 1", (heartbeat.name,)).fetchone()
            if newest is not None and tuple(newest) == terms:
                continue
            conn.execute(f"INSERT INTO job_declarations ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (heartbeat.name, *terms, declared_ms, by, "config"))
            added.append(heartbeat.name)
    if added:
        log.info("job(s) declared from the config: %s", ", ".join(added))
    return len(added)


def _check_cron(schedule: str) -> None:
    from cronsim import CronSim, CronSimError

    try:
        CronSim(schedule, datetime(2026, 1, 1, tzinfo=timezone.utc))
    except CronSimError:
        raise ValueError(f"schedule is not a cron expression: {schedule!r}"[:120]) from None


def export_records(store: Store) -> list[dict[str, Any]]:
    """Every declaration, as `probe export` writes it (times in ms since the epoch, UTC)."""
    return [{"record": "job_declaration", **dict(zip(_COLUMNS, row))} for row in store.db.conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM job_declarations ORDER BY declared_at, id")]


def import_record(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    """One exported declaration, unless the same (job, terms, time) is there already; ValueError
    on a bad one."""
    unknown = record.keys() - set(_COLUMNS) - {"record"}
    if unknown:
        raise ValueError(f"unknown key {min(unknown)!r}")
    heartbeat = record.get("heartbeat")
    if not isinstance(heartbeat, str) or not heartbeat or len(heartbeat) > 64 or not heartbeat.isprintable():
        raise ValueError(f"heartbeat must be a heartbeat's name, not {heartbeat!r}"[:120])
    for key in ("every_ms", "grace_ms", "min_duration_ms", "max_duration_ms", "declared_at"):
        value = record.get(key)
        if (value is not None or key in ("grace_ms", "declared_at")) and (type(value) is not int or value < 0):
            raise ValueError(f"{key} must be milliseconds (an integer), not {value!r}"[:120])
    schedule, declared_by = record.get("schedule"), record.get("declared_by")
    if schedule is not None and (not isinstance(schedule, str) or not schedule.isprintable() or len(schedule) > 200):
        raise ValueError(f"schedule must be a cron expression or null, not {schedule!r}"[:120])
    if (schedule is None) == (record.get("every_ms") is None):
        raise ValueError("needs either schedule or every_ms")
    if schedule is not None:
        _check_cron(schedule)
    if declared_by is not None and (not isinstance(declared_by, str) or len(declared_by) > 1000):
        raise ValueError(f"declared_by must be a string or null, not {declared_by!r}"[:120])
    values = (heartbeat, *(record.get(key) for key in _TERMS), record["declared_at"])
    same = conn.execute(
        "SELECT 1 FROM job_declarations WHERE heartbeat = ? AND schedule IS ? AND every_ms IS ? AND grace_ms = ?"
        " AND min_duration_ms IS ? AND max_duration_ms IS ? AND declared_at = ?", values).fetchone()
    if same:
        return False
    conn.execute(f"INSERT INTO job_declarations ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (*values, declared_by, "import"))
    return True
