"""On a hub: each site's last push and the lag of its data (the age of its newest check), for
`probe status`, /status.json, the status page and the silent-site alert."""

from __future__ import annotations

from probe import sla
from probe.config import Config
from probe.result import CheckResult, iso_utc
from probe.store import Store, StoredEndpoint, shipping
from probe.text import say_duration

from .sites import Evidence


def site_rows(store: Store, cfg: Config | None, now: float, started: float | None = None) -> list[dict]:
    """One row per site of the config (then any other that pushed): ``silent`` when its last
    push (or, before any, ``started``) is older than its ``silent_after``."""
    states = shipping.site_states(store.db.conn)
    if started is None:  # before its first push, a site is timed from the hub's start
        runs = store.daemon_runs(local=True)
        started = runs[-1].started_at if runs else None
    configured = {site.name: site for site in cfg.sites} if cfg else {}
    rows = []
    for name in list(configured) + sorted(set(states) - set(configured)):
        state, site = states.get(name), configured.get(name)
        last = state.last_push if state else None
        newest = state.newest_check if state else None
        since = last if last is not None else started
        rows.append({
            "site": name,
            "configured": site is not None,
            "last_push": iso_utc(last),
            "newest_check": iso_utc(newest),
            "lag_s": None if newest is None else round(max(0.0, now - newest), 3),
            "silent_after_s": site.silent_after if site else None,
            "silent": site is not None and (since is None or now - since > site.silent_after),
            "checks": state.checks if state else 0,
        })
    return rows


def upstream_row(store: Store, cfg: Config | None) -> dict | None:
    """On a site with [upstream]: what waits in its outbox and when its hub last stored a push."""
    if cfg is None or cfg.upstream is None:
        return None
    conn = store.db.conn
    state = conn.execute("SELECT shipped_through, shipped_at FROM upstream_state WHERE id = 1").fetchone()
    return {"hub": cfg.upstream.url, "waiting": shipping.outbox_depth(conn),
            "stored_through": state[0] if state else 0,
            "last_push": iso_utc(state[1] / 1000) if state and state[1] is not None else None}


def format_upstream(row: dict) -> str:
    return (f"upstream: {row['waiting']} lines waiting for {row['hub']}; last push stored"
            f" {_short(row['last_push'])}")


def format_sites(rows: list[dict]) -> list[tuple[str, ...]]:
    """The sites as `probe status` lists them, a header first."""
    table: list[tuple[str, ...]] = [("SITE", "LAST PUSH", "DATA LAG", "CHECKS", "")]
    for row in rows:
        lag = "-" if row["lag_s"] is None else say_duration(round(row["lag_s"], 1))
        table.append((row["site"], _short(row["last_push"]), lag, str(row["checks"]),
                      "SILENT" if row["silent"] else ""))
    return table


def _short(iso: str | None) -> str:
    return iso[:19].replace("T", " ") + "Z" if iso else "never"


def endpoint_sites(store: Store, series: list[StoredEndpoint], found: Evidence, at: float,
                   confirm: int) -> tuple[list[dict], list[CheckResult | None]]:
    """An endpoint checked from several sites: each site's word at ``at`` (the instant of the
    combined verdict shown) as the site rule counts it (``down``/``degraded`` once its own
    outage or degradation is confirmed, a blip is ``up``; ``abstained`` while its control
    endpoints are all in an outage; ``unknown`` where none of its checks vouches), with its newest
    check; and those newest checks."""
    rows: list[dict] = []
    checks: list[CheckResult | None] = []
    for known, (site, runs) in zip(series, found.sites):
        last = store.last_check(known.id)
        word = next((s.state for s in sla.site_timeline(runs, confirm) if s.start <= at < s.end), None)
        if word is None:
            away = any(start <= at < end for start, end in found.abstained.get(site, []))
            word = "abstained" if away else "unknown"
        rows.append({"site": site, "state": word, "last_check": iso_utc(last.at) if last else None})
        checks.append(last)
    return rows, checks


def shown_check(sites: list[dict], checks: list[CheckResult | None], state: str) -> CheckResult | None:
    """The check whose error a combined row shows: the newest of a site that sees ``state``
    (else the newest of all)."""
    found = [(row["state"] == state, check.at, check) for row, check in zip(sites, checks) if check]
    return max(found, key=lambda item: item[:2])[2] if found else None


def sites_word(sites: list[dict]) -> str:
    """The SITES column of `probe status`: how many of the voting sites see an outage, "2/3 down"."""
    voters = [row for row in sites if row["state"] in (sla.UP, sla.DEGRADED, sla.DOWN)]
    return f"{sum(row['state'] == sla.DOWN for row in voters)}/{len(voters)} down"


def abstaining(store: Store, series: list[StoredEndpoint], found: Evidence) -> tuple[float, float] | None:
    """When every site that checked the endpoint abstains at its newest check (its checks are then
    no evidence): since when the last of them abstains, and the newest check; else None."""
    if not any(found.abstained.values()):
        return None
    starts, newest = [], []
    for known, (site, _) in zip(series, found.sites):
        last = store.last_check(known.id)
        if last is None:
            continue
        span = next(((start, end) for start, end in found.abstained.get(site, []) if start <= last.at < end), None)
        if span is None:
            return None
        starts.append(span[0])
        newest.append(last.at)
    return (max(starts), max(newest)) if starts else None
