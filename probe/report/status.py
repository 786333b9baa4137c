"""`probe status`: each endpoint's state now, since when, its last check, availability over the
last 24 hours and 30 days, and the daemon's own health (lag, queue, write errors)."""

from __future__ import annotations

from probe import sla
from probe.config import Config, SLASettings
from probe.result import iso_utc
from probe.spec import public_url
from probe.store import Store, maintenance, runs_around
from probe.text import text_table

from . import sites as several
from .site_status import format_sites, format_upstream, site_rows, upstream_row

STALE_HEARTBEAT = 60.0  # a daemon silent for longer is not running


def _since(runs: list[sla.Run]) -> float:
    """Start of the current state: runs split on error class and holes, so walk back over
    runs of the same state. Up (or degraded) since never spans a hole in the data: nothing
    vouches for the time in it, so it counts from the first check after the last hole. An
    outage does span one (the accounting's rule), so down since is its start."""
    state = runs[-1].state
    start = runs[-1].start
    for run in reversed(runs[:-1]):
        if run.state != state or (state != sla.DOWN and run.end < start):
            break
        start = run.start
    return start


def _percent(figures: sla.EndpointFigures) -> str | None:
    shown = figures.availability_shown(3)
    return str(shown) if shown is not None else None


def collect(store: Store, cfg: Config | None, now: float) -> dict:
    day, month = (now - 86400, now), (now - 30 * 86400, now)
    settings = cfg.sla if cfg else SLASettings()
    # the windows declared by now, as the report counts them: a late one excuses only what
    # followed its declaration, unless the contract allows late declarations
    windows = sla.occurrences(maintenance.declared(store, now), month, settings.timezone)
    target = settings.target
    rows = []
    configured = [e.name for e in cfg.endpoints] if cfg else []
    known = {e.name: e for e in store.endpoints()}
    series = several.series_by_name(store)  # several sites: their verdict by the site rule

    def read(stored) -> list[sla.Run]:
        return runs_around(store, stored.id, month, stored.first_seen)

    abstained = several.site_abstentions(cfg, store, read)
    for name in configured + sorted(set(known) - set(configured)):
        endpoint = cfg.endpoint(name) if cfg else None
        confirm = cfg.confirm_for(name) if cfg else settings.confirm
        found = several.evidence(several.site_rule(cfg), series[name], abstained, read, confirm) if name in known else None
        runs = found.runs if found else []
        newest = max((own[-1].last for _, own in found.sites if own), default=None) if found else None
        if found and found.combined and newest is not None:
            # the verdict at the newest check: not the tail where the sites' coverages end apart
            runs = [run for run in runs if run.start <= min(now, newest)]
        excused = sla.excused_intervals(windows, name, settings.late_maintenance, now)
        last = store.last_check(name) if runs else None
        rows.append({
            "endpoint": name,
            "url": public_url(endpoint.spec.url) if endpoint else known[name].url,
            "state": runs[-1].state if runs else "unknown",
            "since": iso_utc(_since(runs)) if runs else None,
            "last_check": iso_utc(newest) if runs and newest is not None else None,
            "error": last.error if last else None,
            "availability_24h": _percent(sla.availability(runs, day, excused, confirm, target)),
            "availability_30d": _percent(sla.availability(runs, month, excused, confirm, target)),
            "configured": endpoint is not None,
        })
    sites, upstream, daemon = site_rows(store, cfg, now), upstream_row(store, cfg), _daemon(store, now)
    if upstream is not None:
        daemon["upstream"] = upstream
    return {"daemon": daemon, "endpoints": rows, **({"sites": sites} if sites else {})}


def _daemon(store: Store, now: float) -> dict:
    runs = store.daemon_runs(local=True)
    if not runs:
        return {"running": False, "started": None}
    latest = runs[-1]
    beat = latest.heartbeat_at or latest.started_at
    running = latest.stopped_at is None and now - beat < STALE_HEARTBEAT
    status = latest.status or {}
    return {
        "running": running,
        "started": iso_utc(latest.started_at),
        "stopped": iso_utc(latest.stopped_at),
        "heartbeat": iso_utc(latest.heartbeat_at),
        "pid": latest.pid,
        "host": latest.host,
        "version": latest.version,
        "site": latest.site,
        "lag_p50_s": status.get("lag_p50"),
        "lag_p99_s": status.get("lag_p99"),
        "checks_started": status.get("started"),
        "missed": status.get("missed"),
        "queue": status.get("queue"),
        "write_errors": status.get("write_errors"),
    }


def format_text(report: dict) -> str:
    d = report["daemon"]
    if d.get("started") is None:
        lines = ["daemon: never ran on this database"]
    elif d["running"]:
        lag = "-" if d["lag_p99_s"] is None else f"{d['lag_p50_s'] * 1000:.0f}ms p50, {d['lag_p99_s'] * 1000:.0f}ms p99"
        lines = [f"daemon: running since {d['started']} ({_which(d)}, site {d['site']}); lag {lag};"
                 f" missed {d['missed']}; queue {d['queue']}; write errors {d['write_errors']}"]
    else:
        lines = [f"daemon: NOT RUNNING (last heartbeat {d['heartbeat'] or d['started']})"]
    header = ("ENDPOINT", "STATE", "SINCE", "LAST CHECK", "24H %", "30D %", "ERROR")
    table = [header]
    for r in report["endpoints"]:
        table.append((r["endpoint"], r["state"].upper(), _short(r["since"]), _short(r["last_check"]),
                      r["availability_24h"] or "no data", r["availability_30d"] or "no data", r["error"] or ""))
    if d.get("upstream"):
        lines.append(format_upstream(d["upstream"]))
    sites = [text_table(format_sites(report["sites"]))] if report.get("sites") else []
    return "\n".join(lines + [text_table(table)] + sites)


def _which(daemon: dict) -> str:
    if daemon.get("pid") is None:
        return "pid unknown"
    return f"pid {daemon['pid']}" + (f" on {daemon['host']}" if daemon.get("host") else "")


def _short(iso: str | None) -> str:
    return iso[:19].replace("T", " ") + "Z" if iso else "-"
