"""Several probe sites in the report: each site's abstentions (its control endpoints all in an
outage), each endpoint's runs per site and combined by the site rule, each site's own figures
and the day-by-day agreement of the sites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from probe import sla
from probe.store import Store, StoredEndpoint

from .calendar import iso_local

if TYPE_CHECKING:
    from probe.config import Config


def site_rule(cfg: Config | None) -> sla.SiteRule:
    return sla.SiteRule(cfg.sla.sites, cfg.sla.min_sites) if cfg is not None else sla.SiteRule()


def site_rule_json(cfg: Config) -> dict:
    return {"sites": cfg.sla.sites, "min_sites": cfg.sla.min_sites}


def series_by_name(store: Store) -> dict[str, list[StoredEndpoint]]:
    """Each endpoint's series, one per site, first stored first."""
    series: dict[str, list[StoredEndpoint]] = {}
    for known in store.endpoints():
        series.setdefault(known.name, []).append(known)
    return series


def control_names(cfg: Config) -> list[str]:
    return [e.name for e in cfg.endpoints if e.control]


ReadRuns = Callable[[StoredEndpoint], list[sla.Run]]  # one site's runs of one endpoint, as of the report


def site_abstentions(cfg: Config | None, store: Store, read: ReadRuns) -> dict[str, list[sla.Abstention]]:
    """Each site's abstentions: while every control endpoint checked from it is in an outage."""
    if cfg is None:
        return {}
    controls: dict[str, dict[str, list[sla.Run]]] = {}
    names = set(control_names(cfg))
    for known in store.endpoints():
        if known.name in names:
            runs = read(known)
            controls.setdefault(known.site or "", {})[known.name] = runs
    return {site: sla.abstentions(runs, {name: cfg.confirm_for(name) for name in runs})
            for site, runs in controls.items()}


def abstentions_json(found: dict[str, list[sla.Abstention]], counted: sla.Interval, zone: ZoneInfo) -> list[dict]:
    """Every abstention that overlaps the counted period, cut to it, in time order."""
    rows = []
    for site, spans in found.items():
        for span in spans:
            cut = sla.clip([(span.start, span.end)], counted)
            if not cut:
                continue
            start, end = cut[0]
            rows.append({
                "site": site,
                "start": iso_local(start, zone),
                "end": iso_local(end, zone),
                "seconds": sla.total_ms([(start, end)]) / 1000,
                "causes": [{"endpoint": name, "error_classes": list(classes)} for name, classes in span.causes],
                "_start": start,
            })
    rows.sort(key=lambda row: (row["_start"], row["site"]))
    for row in rows:
        del row["_start"]
    return rows


@dataclass
class Evidence:
    """One endpoint's runs: each site's (abstained time cut out), and those the section's
    figures come from (the one site's, or the sites' combined by the rule)."""

    runs: list[sla.Run]
    sites: list[tuple[str, list[sla.Run]]] = field(default_factory=list)
    abstained: dict[str, list[sla.Interval]] = field(default_factory=dict)
    combined: bool = False


def evidence(rule: sla.SiteRule, series: list[StoredEndpoint], found: dict[str, list[sla.Abstention]],
             read: ReadRuns, confirm: int) -> Evidence:
    sites = []
    abstained: dict[str, list[sla.Interval]] = {}
    for known in series:
        site = known.site or ""
        abstained[site] = [(a.start, a.end) for a in found.get(site, [])]
        sites.append((site, sla.cut_runs(read(known), abstained[site])))
    if len(sites) == 1 and rule.min_sites <= 1:  # one site: its runs as they are
        return Evidence(sites[0][1], sites, abstained)
    timelines = {site: sla.site_timeline(runs, confirm) for site, runs in sites}
    return Evidence(sla.combine_sites(timelines, rule, confirm), sites, abstained, combined=True)


def sites_json(found: Evidence, counted: sla.Interval, excused: list[sla.Interval], confirm: int, target: float,
               bounds: list[tuple[str, float, float]], combined: sla.EndpointFigures) -> list[dict]:
    """Each site's own figures, as if it were alone (one site: the endpoint's ``combined``
    figures, from the same runs), and, with several sites, its days."""
    rows = []
    for site, runs in found.sites:
        figures = combined if not found.combined else sla.availability(runs, counted, excused, confirm, target)
        shown = figures.availability_shown(3)
        abstained = sla.intersect(sla.clip(found.abstained.get(site, []), counted), list(figures.unmonitored))
        row: dict[str, object] = {
            "name": site,
            "availability_percent": float(shown) if shown is not None else None,
            "eligible_seconds": figures.eligible_seconds,
            "downtime_seconds": figures.downtime_seconds,
            "unmonitored_seconds": figures.unmonitored_seconds,
            "abstained_seconds": sla.total_ms(abstained) / 1000,
            "blips": figures.blip_count,  # a site's blips: no evidence of an outage, so not in the vote
        }
        if found.combined:
            row["days"] = _agreement(sla.site_timeline(runs, confirm), found.abstained.get(site, []), bounds)
        rows.append(row)
    return rows


def _agreement(segments: list[sla.Segment], abstained: list[sla.Interval],
               bounds: list[tuple[str, float, float]]) -> list[dict]:
    """Per day, the seconds the site saw the endpoint up (or degraded), down (in an outage),
    abstained, or had no data."""
    up = sla.merge((s.start, s.end) for s in segments if s.state != sla.DOWN)
    down = sla.merge((s.start, s.end) for s in segments if s.state == sla.DOWN)
    away = sla.subtract(sla.merge(abstained), sla.merge(up + down))
    shares = {key: _per_day(spans, bounds) for key, spans in (("up", up), ("down", down), ("abstained", away))}
    days = []
    for index, (day, start, end) in enumerate(bounds):
        seconds = {key: shares[key][index] / 1000 for key in shares}
        seconds["no_data"] = max(0.0, sla.total_ms([(start, end)]) / 1000 - sum(seconds.values()))
        days.append({"date": day, **seconds})
    return days


def _per_day(spans: list[sla.Interval], bounds: list[tuple[str, float, float]]) -> list[int]:
    """The milliseconds of ``spans`` (merged) in each day of ``bounds`` (in order, not
    overlapping), in one pass: as ``total_ms(clip(spans, day))`` for each day."""
    totals = [0] * len(bounds)
    first = 0
    for start, end in spans:
        while first < len(bounds) and bounds[first][2] <= start:
            first += 1
        index = first
        while index < len(bounds) and bounds[index][1] < end:
            low, high = max(start, bounds[index][1]), min(end, bounds[index][2])
            if high > low:
                totals[index] += sla.to_ms(high) - sla.to_ms(low)
            index += 1
    return totals
