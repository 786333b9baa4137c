"""Each [[heartbeat]] job where it stands now, for `probe status`, /status.json, the status
page and /metrics: its last signal and last success, the state of its newest run due (on time,
late, failed, too short or long; pending or running within its grace; overdue past it; waiting
when none is due yet), the state of the run before, when the next run is due, and since when
it is expected (its first declaration)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from probe.result import iso_utc, parse_iso
from probe.sla import heartbeats as hb
from probe.store import job_declarations, pings
from probe.text import cut, local_stamp, printable, short_span, text_table

from .calendar import iso_local
from .heartbeats import LOOKBACK, expectation

if TYPE_CHECKING:  # annotations only
    from probe.config import Config

# how far back runs are looked for, in turn: a job run every minute is judged on two hours of
# signals, not on eight days of them (a scrape of /metrics reads this)
WINDOWS = (2 * 3600.0, 2 * 86400.0, LOOKBACK)

# states that need someone's attention: 0 in probe_heartbeat_ok
TROUBLE = (hb.OVERDUE, hb.MISSED, hb.FAILED, hb.TOO_SHORT, hb.TOO_LONG)


def heartbeat_rows(conn: sqlite3.Connection, cfg: Config | None, now: float) -> list[dict[str, Any]]:
    """One row per configured heartbeat, times in UTC (ISO 8601)."""
    rows: list[dict[str, Any]] = []
    if cfg is None:
        return rows
    for heartbeat in cfg.heartbeats:
        # on the terms of its newest declaration, from then on (a job never declared: on the
        # config's, over the windows)
        declared = job_declarations.expectations(conn, heartbeat.name, cfg.sla.timezone, now)
        job = declared[-1].job if declared else expectation(heartbeat, cfg.sla.timezone)
        floor = declared[-1].at if declared else float("-inf")
        for window in WINDOWS:  # the shortest that holds the newest run and the one before
            since = max(now - window, floor)
            signals = pings.read_signals(conn, heartbeat.name, until=now,
                                         since=since - max(2 * (heartbeat.every or 0) + heartbeat.grace, window))
            status = hb.job_status(job, signals, since, now)
            if status.previous is not None:
                break
        last = pings.newest(conn, heartbeat.name)
        success = pings.newest(conn, heartbeat.name, hb.SUCCESS)
        rows.append({
            "heartbeat": heartbeat.name,
            "state": status.state,
            "ok": _ok(status),
            "due": iso_utc(status.due) if status.due is not None else None,
            "previous_state": status.previous,
            "last_signal": iso_utc(last[0]) if last else None,
            "last_signal_kind": last[1] if last else None,
            "last_success": iso_utc(success[0]) if success else None,
            "next_due": iso_utc(status.next_due) if status.next_due is not None else None,
            "severity": heartbeat.severity,
            "declared_at": iso_utc(declared[0].at) if declared else None,  # expected from then on
        })
    return rows


def _ok(status: hb.JobStatus) -> bool:
    """False when the newest run needs attention, or is under way while the incident of a
    missed or failed run before it is still open (no success since)."""
    if status.state in TROUBLE:
        return False
    return not (status.state in (hb.PENDING, hb.RUNNING) and status.previous in (hb.MISSED, hb.FAILED))


def localised(rows: list[dict[str, Any]], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The rows with their times in the SLA's time zone (for /status.json and the page)."""
    keys = ("due", "last_signal", "last_success", "next_due", "declared_at")
    return [{**row, **{key: None if row[key] is None else iso_local(parse_iso(row[key]), zone) for key in keys}}
            for row in rows]


def format_text(rows: list[dict[str, Any]], zone: str, now: float, width: int = 80) -> str:
    """One line per job: its state, its last signal (how long ago, and which) and its next
    due, within ``width`` columns: the next due as a time in the SLA's time zone, or as a
    duration ("in 12h05m") where that does not fit; a long name cut short with "…"."""
    for stamps in (True, False):
        table = [("JOB", "STATE", "LAST SIGNAL", "NEXT DUE")]
        for row in rows:
            state = row["state"].upper().replace("_", " ")
            if row["state"] in (hb.PENDING, hb.RUNNING) and row["previous_state"] in TROUBLE:
                state += f" (last {row['previous_state'].replace('_', ' ')})"
            last = "never" if row["last_signal"] is None else (
                f"{row['last_signal_kind']} {short_span(now - parse_iso(row['last_signal']))} ago")
            due = "-" if row["next_due"] is None else (
                local_stamp(parse_iso(row["next_due"]), zone) if stamps
                else f"in {short_span(parse_iso(row['next_due']) - now)}")
            table.append((printable(row["heartbeat"]), state, last, due))
        rest = sum(max(len(r[i]) for r in table) + 2 for i in range(1, 4))
        if max(len(r[0]) for r in table) + rest <= width:
            break
    name_width = max(8, width - rest)
    return text_table([(cut(r[0], name_width), *r[1:]) for r in table])


