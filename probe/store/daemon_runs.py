"""The store's record of when the daemon ran."""

from __future__ import annotations

import json
import time
from typing import Any, cast

import sqlite_utils

from probe.sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere

from .records import DaemonRun, _seconds, log
from .schema import write_transaction


class DaemonRunRecords:
    """The store's record of when the daemon ran: its runs, heartbeats and stops (a part of
    `Store`)."""

    db: sqlite_utils.Database

    def start_daemon_run(
        self, pid: int | None = None, version: str | None = None, site: str | None = None,
        host: str | None = None,
    ) -> int:
        """Record a daemon start; a previous run left open is closed as a crash, ended at
        its last heartbeat or last check, whichever is later. Returns the run's id."""
        conn = self.db.conn
        now = _ms(time.time())
        with write_transaction(conn):
            for run_id, started_at, heartbeat_at in conn.execute(
                "SELECT id, started_at, heartbeat_at FROM daemon_runs"
                " WHERE stopped_at IS NULL AND pushed_at IS NULL"
            ).fetchall():
                last_check = conn.execute(
                    "SELECT max((SELECT max(at) FROM checks c WHERE c.endpoint_id = e.id))"
                    " FROM endpoints e"
                ).fetchone()[0]
                ended = max(started_at, heartbeat_at or 0, last_check or 0)
                ended = min(ended, now)
                self.db.table("daemon_runs").update(
                    run_id, {"stopped_at": ended, "stop_reason": "crash"}
                )
                log.warning("daemon run %d did not stop cleanly: recorded as a crash", run_id)
            table = self.db.table("daemon_runs")
            table.insert(
                {"started_at": now, "pid": pid, "version": version, "site": site,
                 "host": host, "heartbeat_at": now}
            )  # fmt: skip
            return cast(int, table.last_pk)

    def heartbeat(self, run_id: int, at: float | None = None, status: dict[str, Any] | None = None) -> None:
        """Record that the daemon is alive, with its figures (queue, lag...) if given."""
        at_ms = _ms(time.time() if at is None else at)
        self.db.execute(
            "UPDATE daemon_runs SET heartbeat_at = ?, status = coalesce(?, status) WHERE id = ?",
            (at_ms, None if status is None else json.dumps(status), run_id),
        )

    def stop_daemon_run(self, run_id: int, reason: str = "stop", at: float | None = None) -> None:
        if reason not in ("stop", "crash"):
            raise ValueError(f"stop reason must be 'stop' or 'crash', not {reason!r}")
        at_ms = _ms(time.time() if at is None else at)
        self.db.execute(
            "UPDATE daemon_runs SET stopped_at = ?, stop_reason = ?, heartbeat_at = ?"
            " WHERE id = ?",
            (at_ms, reason, at_ms, run_id),
        )

    def daemon_runs(
        self, since: float | None = None, until: float | None = None, local: bool = False
    ) -> list[DaemonRun]:
        """Daemon runs overlapping [since, until), oldest first; with local, only the runs of
        this database's own daemon (not those pushed by a site to this hub)."""
        sql, params = "SELECT * FROM daemon_runs WHERE 1", []
        if local:
            sql += " AND pushed_at IS NULL"
        if since is not None:
            sql += " AND coalesce(stopped_at, heartbeat_at, started_at) >= ?"
            params.append(_ms(since))
        if until is not None:
            sql += " AND started_at < ?"
            params.append(_ms(until))
        return [
            DaemonRun(
                id=row["id"],
                started_at=row["started_at"] / 1000,
                stopped_at=_seconds(row["stopped_at"]),
                stop_reason=row["stop_reason"],
                pid=row["pid"],
                version=row["version"],
                site=row["site"],
                heartbeat_at=_seconds(row["heartbeat_at"]),
                status=None if row["status"] is None else json.loads(row["status"]),
                host=row["host"],
            )
            for row in self.db.query(sql + " ORDER BY started_at", params)
        ]
