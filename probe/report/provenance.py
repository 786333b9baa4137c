"""When the probe was running, as of a time: daemon runs, their gaps, and the imports that
brought checks."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from probe import sla
from probe.sla import to_ms

from .calendar import iso_local

STALE_HEARTBEAT = 60.0  # a daemon run silent for longer than this was no longer running


STOPPED, CRASHED, SILENT, NOT_RECORDED = "stopped", "crashed", "silent", "not_recorded"


def _iso(epoch: float | None, zone: ZoneInfo) -> str | None:
    return iso_local(epoch, zone)


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
