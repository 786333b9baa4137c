"""The monthly report's model: figures from the store's runs and rollups through the SLA rules,
incidents with their deadlines, maintenance and probe gaps. Rendering is `probe.render`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from probe import sla
from probe.render import ERROR_CLASSES
from probe.spec import public_url
from probe.store import Store, percentile_from_histogram
from probe.workdays import WorkCalendar
from probe.workers import map_shares

if TYPE_CHECKING:  # only for annotations: probe.config imports aiohttp, slow to load
    from probe.config import Config, Maintenance

PARALLEL_MIN = 200  # endpoints from which a report is built in several processes
LOOKBACK = 7 * 86400  # runs read before the month, doubled until the first is not an episode
MAX_LOOKBACK = 800 * 86400

_HUNDRED = sla.truncate_percent(Fraction(100), 3)  # a day without downtime

DEFAULT_TITLES = {"fr": "Disponibilité du service", "en": "Service availability"}


def parse_month(text: str) -> tuple[int, int]:
    try:
        moment = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f"{text!r} is not a month (like 2026-10)") from None
    return moment.year, moment.month


def last_complete_month(now: float, tz: str) -> tuple[int, int]:
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    first = local.date().replace(day=1) - timedelta(days=1)
    return first.year, first.month


def iso_local(epoch: float | None, zone: ZoneInfo) -> str | None:
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, zone)
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


@dataclass
class ReportContext:
    config: Config
    store: Store
    year: int
    month: int
    now: float
    language: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.sla.timezone)


def maintenance_windows(items: tuple[Maintenance, ...], period: sla.Interval, tz: str) -> list[sla.Window]:
    """The config's windows (one-off and recurring) that overlap the period."""
    windows = []
    for item in items:
        if item.every:
            windows.extend(sla.expand_weekly(item.every, item.at, item.duration, period, tz,
                                             item.endpoints, item.reason))
        else:
            start, end = item.start.timestamp(), item.end.timestamp()
            if start < period[1] and end > period[0]:
                windows.append(sla.Window(start, end, item.endpoints, item.reason))
    return sorted(windows, key=lambda w: w.start)


def runs_around(store: Store, name: str, period: sla.Interval, first_seen: float | None = None) -> list[sla.Run]:
    """The endpoint's runs that the period's figures need: from the start of any episode in
    progress at the period's start (so that its start and check count are right), to the end
    of any episode in progress at the period's end (so that its end is right).

    Consecutive down (or degraded) checks are one episode even across a hole in the data, so
    the look back goes on while the runs read before the period all have the state of the
    run in progress at its start, up to the endpoint's first check (``first_seen``, when
    known) or MAX_LOOKBACK."""
    lookback = LOOKBACK
    while True:
        since = period[0] - lookback
        runs = store.runs(name, since, period[1])
        if (_episode_start_found(runs, period[0]) or lookback >= MAX_LOOKBACK
                or (first_seen is not None and since <= first_seen)):
            break
        lookback *= 2
    if runs and runs[-1].state != sla.UP:
        # An episode under way at the period's end ends at the first later check in another
        # state: read on until then.
        later = store.runs(name, runs[-1].start, None)
        runs += [run for run in later if run.start > runs[-1].start]
    return runs


def _episode_start_found(runs: list[sla.Run], start: float) -> bool:
    """True when ``runs`` begin with the whole of any episode that reaches ``start`` or later:
    the first run is up, or a run in another state than the first one begins by ``start``."""
    if not runs or runs[0].state == sla.UP:
        return True
    state = runs[0].state
    for run in runs:
        if run.start > start:
            return False
        if run.state != state:
            return True
    return False


def local_days(period: sla.Interval, zone: ZoneInfo) -> list[tuple[date, float, float]]:
    """(date, start, end) of each local day of the period; a DST day lasts 23 or 25 hours."""
    first = datetime.fromtimestamp(period[0], zone).date()
    days = []
    day = first
    while True:
        start = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        if start >= period[1]:
            return days
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=zone).timestamp()
        days.append((day, start, min(end, period[1])))
        day = following


def build(context: ReportContext, endpoints: list[str] | None = None) -> dict:
    """The report model (JSON-able) for one month."""
    cfg = context.config
    zone = context.zone
    store = context.store
    period = sla.month_period(context.year, context.month, cfg.sla.timezone)
    # A month still under way is reported up to now; the rest is not yet due.
    counted = (period[0], min(period[1], max(period[0], context.now)))
    names = endpoints or [e.name for e in cfg.endpoints]
    stored = {e.name: e for e in store.endpoints()}
    sections = _sections_in_parallel(context, names) if len(names) >= PARALLEL_MIN else _sections(context, names)
    lang = context.language
    return {
        "month": f"{context.year:04d}-{context.month:02d}",
        "timezone": cfg.sla.timezone,
        "target_percent": cfg.sla.target,
        "period_seconds": period[1] - period[0],
        "period_start": iso_local(period[0], zone),
        "period_end": iso_local(period[1], zone),
        "generated_at": iso_local(context.now, zone),
        "title": cfg.report.title or DEFAULT_TITLES[lang],
        "provider": cfg.report.provider,
        "client": cfg.report.client,
        "support": cfg.report.support,
        "language": lang,
        "probe_sites": sorted({e.site for e in stored.values() if e.site and e.name in names}),
        "rules": {
            "confirm": cfg.sla.confirm,
            "coverage_factor": sla.COVERAGE_FACTOR,
            "holidays": cfg.sla.holidays,
            "deadlines": {k: dict(v) for k, v in cfg.sla.deadlines.items()},
        },
        "daemon_gaps": _daemon_gaps(store, counted, zone),
        "endpoints": sections,
    }


def _sections(context: ReportContext, names: list[str]) -> list[dict]:
    """The per-endpoint sections of the model, in the order of names."""
    cfg = context.config
    zone = context.zone
    store = context.store
    period = sla.month_period(context.year, context.month, cfg.sla.timezone)
    counted = (period[0], min(period[1], max(period[0], context.now)))
    windows = maintenance_windows(cfg.maintenance, period, cfg.sla.timezone)
    configured = {e.name: e for e in cfg.endpoints}
    stored = {e.name: e for e in store.endpoints()}
    # What every section shares, worked out once: the contract's clock, the days, the
    # incidents recorded by hand.
    rules = IncidentRules.from_config(cfg, store, context.now, context.language)
    days = local_days(period, zone)
    manual: dict[str, list] = {}
    for record in store.list_incidents(since=counted[0], until=counted[1]):
        if record.source == "manual":
            manual.setdefault(record.endpoint, []).append(record)
    sections = []
    for name in names:
        endpoint = configured.get(name)
        known = stored.get(name)
        confirm = endpoint.confirm if endpoint else cfg.sla.confirm
        cap = endpoint.severity_cap if endpoint else None
        runs = runs_around(store, name, period, known.first_seen) if known else []
        maintenance = sla.maintenance_for(windows, name)
        figures = sla.availability(runs, counted, maintenance, confirm, cfg.sla.target)
        url = public_url(endpoint.spec.url) if endpoint else (known.url if known else None)
        sections.append(_endpoint_section(context, rules, name, url, runs, figures, days, counted,
                                          windows, cap, manual.get(name, []), zone))
    return sections


def _sections_in_parallel(context: ReportContext, names: list[str]) -> list[dict]:
    """Sections of many endpoints, shared out over the CPUs: each process reads its own
    endpoints from the database (read-only, WAL) and the parts are joined in order. Spawned,
    not forked: an SQLite connection must not cross a fork."""
    remote = partial(_sections_of, str(context.store.path), context.config, context.year, context.month,
                     context.now, context.language)
    return map_shares(partial(_sections, context), remote, names, "spawn")


def _sections_of(store_path, config, year, month, now, language, names) -> list[dict]:
    with Store.open(store_path) as store:
        return _sections(ReportContext(config, store, year, month, now, language), names)



def _endpoint_section(context, rules, name, url, runs, figures, days, counted, windows, cap,
                      manual, zone) -> dict:
    shown = figures.availability_shown(3)
    detected = list(zip(figures.outages, figures.outage_downtime_seconds))
    detected += [(episode, 0.0) for episode in figures.degradations]
    incidents = [
        detected_row(rules, name, episode, downtime, cap, context.store.detected_incident(name, episode.start))
        for episode, downtime in detected
    ]
    incidents += [manual_row(rules, record) for record in manual]
    incidents.sort(key=lambda i: i["start"])
    return {
        "name": name,
        "url": url,
        "severity_cap": cap,
        "availability_percent": float(shown) if shown is not None else None,
        "availability_display": str(shown) if shown is not None else None,
        "met": figures.met,
        "period_seconds": figures.period_seconds,
        "eligible_seconds": figures.eligible_seconds,
        "unmonitored_seconds": figures.unmonitored_seconds,
        "maintenance_seconds": figures.maintenance_seconds,
        "downtime_seconds": figures.downtime_seconds,
        "allowed_downtime_seconds": figures.allowed_downtime_seconds,
        "coverage_percent": float(sla.truncate_percent(figures.coverage_exact, 2)),
        "blips": figures.blip_count,
        "days": _days(context, name, runs, figures, days, counted),
        "incidents": incidents,
        "maintenance": [
            {"start": iso_local(w.start, zone), "end": iso_local(w.end, zone), "reason": w.reason}
            for w in windows if w.applies_to(name)
        ],
        "unmonitored": [
            {"start": iso_local(a, zone), "end": iso_local(b, zone), "seconds": round(b - a, 3)}
            for a, b in figures.unmonitored
        ],
    }


def _days(context, name, runs, figures, days, counted) -> list[dict]:
    """Each local day's figures, as ``sla.availability`` gives them for the day alone (the
    month's episodes, so an outage begun the day before counts), and latency percentiles.

    Worked out in one pass over the month's intervals rather than by calling
    ``sla.availability`` once per day: the same millisecond totals (clipping picks existing
    boundaries and ``to_ms`` is applied to each), for a cost that follows runs + days."""
    due = [(day, start, min(end, counted[1])) for day, start, end in days if start < counted[1]]
    bounds = [start for _, start, _ in due] + [due[-1][2]] if due else []
    covered = sla.monitored(runs, counted)
    eligible = sla.subtract(covered, figures.maintenance)
    downtime = [piece for outage in figures.outages for piece in sla.intersect(outage.covered, eligible)]
    eligible_ms = _per_period_ms(eligible, bounds)
    downtime_ms = _per_period_ms(sorted(downtime), bounds)
    unmonitored_ms = _per_period_ms(figures.unmonitored, bounds)
    maintenance_ms = _per_period_ms(figures.maintenance, bounds)
    histograms = context.store.latency_histograms(name, bounds) if runs and bounds else []
    result = []
    for index, (day, start, end) in enumerate(days):
        if index < len(due):
            down, elig = downtime_ms[index], eligible_ms[index]
            if not elig:
                shown = None
            elif not down:  # most days: no Fraction arithmetic needed
                shown = _HUNDRED
            else:
                shown = sla.truncate_percent(100 * (1 - Fraction(down, elig)), 3)
            histogram = histograms[index] if histograms else {}
            result.append({
                "date": day.isoformat(),
                "availability_percent": float(shown) if shown is not None else None,
                "downtime_seconds": down / 1000,
                "eligible_seconds": elig / 1000,
                "unmonitored_seconds": unmonitored_ms[index] / 1000,
                "maintenance_seconds": maintenance_ms[index] / 1000,
                "latency_p50_ms": percentile_from_histogram(histogram, 0.5),
                "latency_p95_ms": percentile_from_histogram(histogram, 0.95),
            })
        else:  # not yet due
            result.append({
                "date": day.isoformat(),
                "availability_percent": None,
                "downtime_seconds": 0.0,
                "eligible_seconds": 0.0,
                "unmonitored_seconds": end - start,
                "maintenance_seconds": 0.0,
                "latency_p50_ms": None,
                "latency_p95_ms": None,
            })
    return result


def _per_period_ms(intervals, bounds: list[float]) -> list[int]:
    """Milliseconds of sorted, non-overlapping ``intervals`` inside each [bounds[i],
    bounds[i + 1]), counted as ``sla.total_ms`` counts them."""
    totals = [0] * max(len(bounds) - 1, 0)
    first = 0
    for start, end in intervals:
        while first < len(totals) and bounds[first + 1] <= start:
            first += 1
        index = first
        while index < len(totals) and bounds[index] < end:
            low, high = max(start, bounds[index]), min(end, bounds[index + 1])
            if high > low:
                totals[index] += sla.to_ms(high) - sla.to_ms(low)
            index += 1
    return totals


def _first_error(store: Store, name: str, at: float) -> str | None:
    for _, _, _, result in store.checks(name, since=at, until=at + 0.001):
        return result.error
    return None


@dataclass
class IncidentRules:
    """What an incident's row needs besides the incident: the clock and the contract."""

    store: Store
    calendar: WorkCalendar
    deadlines: dict  # severity -> (acknowledge, fix)
    zone: ZoneInfo
    now: float
    language: str

    @classmethod
    def from_config(cls, cfg: Config, store: Store, now: float, language: str) -> IncidentRules:
        return cls(
            store=store,
            calendar=WorkCalendar(cfg.sla.holidays, cfg.sla.timezone, cfg.sla.closed_days),
            deadlines={k: (v["acknowledge"], v["fix"]) for k, v in cfg.sla.deadlines.items()},
            zone=ZoneInfo(cfg.sla.timezone),
            now=now,
            language=language,
        )


def _incident_row(rules: IncidentRules, *, record, start, fixed_at, severity, error_class, source,
                  summary, downtime) -> dict:
    acknowledge_by, fix_by = sla.incident_deadlines(start, severity, rules.calendar, rules.deadlines)
    ack_at = record.ack_at if record else None
    zone = rules.zone
    return {
        "id": record.id if record else None,
        "start": iso_local(start, zone),
        "end": iso_local(fixed_at, zone),
        "severity": str(severity),
        "error_class": error_class,
        "source": source,
        "summary": summary,
        "downtime_seconds": downtime,
        "duration_seconds": (fixed_at or rules.now) - start,
        "acknowledge_deadline": iso_local(acknowledge_by, zone),
        "acknowledged": iso_local(ack_at, zone),
        "acknowledged_by": record.ack_by if record else None,
        "acknowledge": sla.deadline_status(acknowledge_by, ack_at, rules.now),
        "fix_deadline": iso_local(fix_by, zone),
        "fix": sla.deadline_status(fix_by, fixed_at, rules.now),
    }


def detected_row(rules: IncidentRules, name: str, episode: sla.Episode, downtime: float, cap, record) -> dict:
    """An outage or degradation as an incident: its class, cause, deadlines and their status."""
    error_class = max(episode.error_classes, key=lambda c: sla.classify(c, episode.state))
    summary = _first_error(rules.store, name, episode.start) or ERROR_CLASSES[rules.language].get(
        error_class, error_class or "")
    return _incident_row(rules, record=record, start=episode.start, fixed_at=sla.fix_time(episode),
                         severity=sla.incident_severity(episode, cap), error_class=error_class,
                         source="detected", summary=summary, downtime=downtime)


def manual_row(rules: IncidentRules, record) -> dict:
    """An incident recorded by hand: fixed when closed."""
    return _incident_row(rules, record=record, start=record.start, fixed_at=record.closed_at,
                         severity=record.severity, error_class=None, source="manual",
                         summary=record.summary or "", downtime=0.0)


def _daemon_gaps(store: Store, period: sla.Interval, zone: ZoneInfo) -> list[dict]:
    """When the probe itself was not running: between one daemon run's end and the next one's
    start, with why the run ended (stopped, or crashed at its last heartbeat)."""
    gaps = []
    runs = store.daemon_runs(period[0] - MAX_LOOKBACK, period[1])
    for previous, following in zip(runs, runs[1:] + [None]):
        ended = previous.stopped_at
        if ended is None:
            continue
        resumed = following.started_at if following else period[1]
        start, end = max(ended, period[0]), min(resumed, period[1])
        if end > start:
            reason = "probe crashed" if previous.stop_reason == "crash" else "probe stopped"
            gaps.append({"start": iso_local(start, zone), "end": iso_local(end, zone), "reason": reason})
    return gaps
