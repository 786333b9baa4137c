"""The client's status page and its feed: only what a client may read. Display names, never
URLs nor error texts; control endpoints left out; the incidents of the last days (current ones
first) and the maintenance windows around now (those ahead, those under way)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from probe import sla
from probe.config import Config
from probe.store import Store, maintenance

from .calendar import iso_local
from .incidents import recent

FEED_DAYS = 90  # incidents and windows of the last days in the page's history and the feed
AHEAD_DAYS = 30  # windows announced that far ahead


def collect(store: Store, cfg: Config, now: float, status_rows: list[dict]) -> dict:
    """``status_rows``: the status page's rows (state, 90-day availability, bars per day)."""
    shown = {e.name: e.display_name for e in cfg.endpoints if not e.control}
    zone = ZoneInfo(cfg.sla.timezone)
    endpoints = [
        # abstained (the probe sites' own network down): for the client, no data
        {"name": shown[row["endpoint"]], "state": "unknown" if row["state"] == "abstained" else row["state"],
         "availability_90d": row.get("availability_90d"),
         "days": row.get("days", [])}
        for row in status_rows if row["endpoint"] in shown
    ]
    incidents = []
    for row in recent(store, cfg, now, FEED_DAYS, jobs=False):  # jobs are never the client's
        if row["endpoint"] not in shown:
            continue
        moments = [_epoch(row[key]) for key in ("start", "end", "acknowledged") if row[key]]
        incidents.append({
            "id": row["id"], "source": row["source"], "endpoint": shown[row["endpoint"]],
            "severity": row["severity"], "start": row["start"], "end": row["end"],
            "ongoing": row["end"] is None, "duration_seconds": row["duration_seconds"],
            # the cause in the client's words (its class), never the error text; what a person
            # wrote for an incident recorded by hand
            "cause": row["error_class"], "summary": row["summary"] if row["source"] == "manual" else None,
            "updated": iso_local(max(moments), zone),
        })
    incidents.sort(key=lambda item: (not item["ongoing"], -_epoch(item["start"])))
    windows = []
    period = (now - FEED_DAYS * 86400, now + AHEAD_DAYS * 86400)
    for window in sla.occurrences(maintenance.declared(store, now), period, cfg.sla.timezone):
        record = window.record
        concerned = None if record.endpoints is None else [shown[n] for n in record.endpoints if n in shown]
        if concerned == []:
            continue  # for control endpoints only
        windows.append({
            "id": record.id, "start": iso_local(window.start, zone), "end": iso_local(window.end, zone),
            "reason": record.reason, "endpoints": concerned,
            "under_way": window.start <= now < window.end, "ahead": window.start > now,
            "cancelled": record.cancelled_by_then(now),
            "updated": iso_local(max(record.declared_at, record.cancelled_at or 0.0), zone),
        })
    return {
        "generated": iso_local(now, zone), "timezone": cfg.sla.timezone, "target_percent": cfg.sla.target,
        "endpoints": endpoints,
        "current_incidents": [item for item in incidents if item["ongoing"]],
        "incidents": incidents,
        "maintenance_now": [w for w in windows if w["under_way"] and not w["cancelled"]],
        "maintenance_ahead": [w for w in windows if w["ahead"] and not w["cancelled"]],
        "maintenance": windows,
    }


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
