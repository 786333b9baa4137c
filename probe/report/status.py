"""`probe status`: each endpoint's state now, since when, its last check, availability over the
last 24 hours and 30 days, and the daemon's own health (lag, queue, write errors)."""

from __future__ import annotations

import textwrap
import time

from probe import sla
from probe.config import Config, SLASettings
from probe.result import iso_utc, parse_iso
from probe.spec import public_url
from probe.store import Store, maintenance, runs_around
from probe.text import cut, local_stamp, printable, short_span, text_table

from . import sites as several
from .heartbeat_status import format_text as heartbeats_text
from .heartbeat_status import heartbeat_rows
from .site_status import abstaining, endpoint_sites, format_sites, format_upstream, shown_check, site_rows, sites_word, upstream_row

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
        # a control endpoint's own outage is what it shows: abstentions cut the services only
        cut = {} if endpoint and endpoint.control else abstained
        found = several.evidence(several.site_rule(cfg), series[name], cut, read, confirm) if name in known else None
        runs = found.runs if found else []
        newest = max((own[-1].last for _, own in found.sites if own), default=None) if found else None
        if found and found.combined and newest is not None:
            # the verdict at the newest check: not the tail where the sites' coverages end apart
            runs = [run for run in runs if run.start <= min(now, newest)]
        excused = sla.excused_intervals(windows, name, settings.late_maintenance, now)
        last = store.last_check(name) if runs else None
        away = abstaining(store, series[name], found) if found and not (endpoint and endpoint.control) else None
        voting: list[dict] = []
        if found and found.combined:  # each site's word, and the error of one that sees the verdict
            at = away[1] if away else min(now, newest or now)
            voting, checks = endpoint_sites(store, series[name], found, at, confirm)
            last = shown_check(voting, checks, runs[-1].state) if runs else None
        rows.append({
            "endpoint": name,
            "url": public_url(endpoint.spec.url) if endpoint else known[name].url,
            # every site abstains (its own network down): no evidence, whatever its checks say
            "state": "abstained" if away else runs[-1].state if runs else "unknown",
            "since": iso_utc(away[0]) if away else iso_utc(_since(runs)) if runs else None,
            "last_check": iso_utc(away[1]) if away else iso_utc(newest) if runs and newest is not None else None,
            "error": last.error if last else None,
            "availability_24h": _percent(sla.availability(runs, day, excused, confirm, target)),
            "availability_30d": _percent(sla.availability(runs, month, excused, confirm, target)),
            "configured": endpoint is not None,
            "control": bool(endpoint and endpoint.control),  # the sites' own network, not a service
            **({"sites": voting} if voting else {}),
        })
    sites, upstream, daemon = site_rows(store, cfg, now), upstream_row(store, cfg), _daemon(store, now)
    if upstream is not None:
        daemon["upstream"] = upstream
    jobs = heartbeat_rows(store.db.conn, cfg, now)
    return {"daemon": daemon, "endpoints": rows, **({"sites": sites} if sites else {}),
            **({"heartbeats": jobs} if jobs else {})}


def period_runs(store: Store, cfg: Config, period: tuple[float, float]) -> dict[str, list[sla.Run]]:
    """Each stored endpoint's runs around ``period``, as the report counts them: one site's with
    its abstentions cut out, several sites' combined by the site rule."""
    series = several.series_by_name(store)

    def read(stored) -> list[sla.Run]:
        return runs_around(store, stored.id, period, stored.first_seen)

    abstained = several.site_abstentions(cfg, store, read)
    rule, controls = several.site_rule(cfg), set(several.control_names(cfg))
    return {name: several.evidence(rule, found, {} if name in controls else abstained, read, cfg.confirm_for(name)).runs
            for name, found in series.items()}


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


WIDTH = 80  # a terminal's columns: `probe status` fits them


def format_text(report: dict, zone: str = "UTC", now: float | None = None, width: int = WIDTH) -> str:
    """The daemon's health, then one row per endpoint, every line at most ``width`` columns:
    times in the SLA's time zone, labelled with it ("2026-11-03 14:05 CET"); durations ("3h12m
    ago") where they do not fit; long names and errors cut short with "…"."""
    now = time.time() if now is None else now
    d = report["daemon"]
    if d.get("started") is None:
        text = "daemon: never ran on this database"
    elif d["running"]:
        lag = "-" if d["lag_p99_s"] is None else f"{d['lag_p50_s'] * 1000:.0f}ms p50, {d['lag_p99_s'] * 1000:.0f}ms p99"
        text = (f"daemon: running since {local_stamp(parse_iso(d['started']), zone)} ({_which(d)}, site {d['site']});"
                f" lag {lag}; missed {d['missed']}; queue {d['queue']}; write errors {d['write_errors']}")
    else:
        beat = d["heartbeat"] or d["started"]
        text = f"daemon: NOT RUNNING (last heartbeat {local_stamp(parse_iso(beat), zone)})"
    lines = textwrap.wrap(printable(text), width, subsequent_indent="  ", break_on_hyphens=False)
    tables = []
    for control in (False, True):  # the services, then the control endpoints apart
        rows = [r for r in report["endpoints"] if bool(r.get("control")) is control]
        if rows or not control:
            tables.append(text_table(_fit(_table(rows, control, zone, now, width), width)))
    if d.get("upstream"):
        lines.append(format_upstream(d["upstream"]))
    sites = [text_table(format_sites(report["sites"]))] if report.get("sites") else []
    jobs = [heartbeats_text(report["heartbeats"], zone, now, width)] if report.get("heartbeats") else []
    return "\n".join(lines + tables + sites + jobs)


def _table(rows: list[dict], control: bool, zone: str, now: float, width: int) -> list[tuple[str, ...]]:
    """The rows, with times since as stamps where they fit, else as ages."""
    voted = any("sites" in r for r in rows)  # a hub: how many of the voting sites see an outage
    header = ("CONTROL" if control else "ENDPOINT", "STATE", *(("SITES",) if voted else ()), "SINCE", "CHECKED",
              "24H %", "30D %", "ERROR")
    for stamps in (True, False):
        table = [header]
        for r in rows:
            since = "-" if r["since"] is None else (
                local_stamp(parse_iso(r["since"]), zone) if stamps else _ago(now - parse_iso(r["since"])))
            last = "-" if r["last_check"] is None else _ago(now - parse_iso(r["last_check"]))
            votes = ((sites_word(r["sites"]) if "sites" in r else "-"),) if voted else ()
            table.append((printable(r["endpoint"]), r["state"].upper(), *votes, since, last,
                          r["availability_24h"] or "no data", r["availability_30d"] or "no data",
                          printable(r["error"] or "")))
        if _fixed_width(table, _widest(table, 0)) + _widest(table, -1) <= width:
            break
    return table


ERROR_WIDTH = 12  # the least room left for an error, names cut shorter if need be


def _widest(table: list[tuple[str, ...]], column: int) -> int:
    return max(len(row[column]) for row in table)


def _fixed_width(table: list[tuple[str, ...]], name_width: int) -> int:
    """The columns before the error, with their separators."""
    return name_width + sum(_widest(table, i) + 2 for i in range(1, len(table[0]) - 1)) + 2


def _fit(table: list[tuple[str, ...]], width: int) -> list[tuple[str, ...]]:
    name_width = _widest(table, 0)
    short = min(_widest(table, -1), ERROR_WIDTH) - (width - _fixed_width(table, name_width))
    if short > 0:
        name_width = max(8, name_width - short)
    error_width = max(width - _fixed_width(table, name_width), 1)
    return [(cut(row[0], name_width), *row[1:-1], cut(row[-1], error_width)) for row in table]



def _ago(seconds: float) -> str:
    """A short age: 42s ago, 12m ago, 3h12m ago, 3d04h ago."""
    return f"{short_span(seconds)} ago"


def _which(daemon: dict) -> str:
    if daemon.get("pid") is None:
        return "pid unknown"
    return f"pid {daemon['pid']}" + (f" on {daemon['host']}" if daemon.get("host") else "")
