"""/metrics for [[heartbeat]] jobs: each job's last signal and last success, the state of its
newest run due and when the next is due. Read from the database in a thread before each scrape
(the scrape itself only formats them)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.core import GaugeMetricFamily

from probe.report import heartbeat_status
from probe.result import parse_iso
from probe.sla import heartbeats as hb

log = logging.getLogger("probe.web")

STATES = (*hb.RUN_STATES, hb.PENDING, hb.RUNNING, hb.OVERDUE, hb.WAITING)


class HeartbeatCollector:
    def __init__(self, view: Any):
        self.view = view
        self.rows: list[dict[str, Any]] = []

    def _read(self) -> list[dict[str, Any]]:
        cfg = self.view.config
        if not cfg.heartbeats:
            return []
        path = Path(self.view.store_path).resolve()
        try:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)
        except sqlite3.Error:
            return []  # no database yet: nothing to say
        try:
            return heartbeat_status.heartbeat_rows(conn, cfg, time.time())
        except sqlite3.Error as error:
            log.warning("/metrics: cannot read the heartbeats' signals: %s", error)
            return []
        finally:
            conn.close()

    async def refresh(self) -> None:
        self.rows = await asyncio.to_thread(self._read)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        g = lambda name, text, labels=(): GaugeMetricFamily(name, text, labels=["heartbeat", *labels])  # noqa: E731
        ok = g("probe_heartbeat_ok", "0 when the job's newest run is overdue, missed, failed, too short or too long.")
        state = g("probe_heartbeat_state", "1 for the state of the job's newest run due.", ["state"])
        last = g("probe_heartbeat_last_signal_timestamp_seconds", "When the job last signalled (start, success, fail).",
                 ["kind"])
        success = g("probe_heartbeat_last_success_timestamp_seconds", "When the job last signalled success.")
        due = g("probe_heartbeat_next_due_timestamp_seconds", "When the job's next run is due.")
        for row in self.rows:
            name = row["heartbeat"]
            ok.add_metric([name], 1 if row["ok"] else 0)
            for one in STATES:
                state.add_metric([name, one], 1 if row["state"] == one else 0)
            if row["last_signal"] is not None:
                last.add_metric([name, row["last_signal_kind"]], _epoch(row["last_signal"]))
            if row["last_success"] is not None:
                success.add_metric([name], _epoch(row["last_success"]))
            if row["next_due"] is not None:
                due.add_metric([name], _epoch(row["next_due"]))
        return [ok, state, last, success, due] if self.rows else []


def _epoch(iso: str) -> float:
    return parse_iso(iso)


def metrics_handler(registry: CollectorRegistry, view: Any):
    """The /metrics handler: the heartbeats read afresh (in a thread), then the registry's."""
    collector = HeartbeatCollector(view)
    registry.register(collector)
    scrape = make_aiohttp_handler(registry)

    async def handler(request: web.Request) -> web.StreamResponse:
        await collector.refresh()
        return await scrape(request)

    return handler
