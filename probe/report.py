"""The monthly report's model: figures from the store's runs and rollups through the SLA rules,
incidents with their deadlines, maintenance and probe gaps. Rendering is `probe.render`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from probe.store import maintenance as maintenance_records
from probe import provenance, sla
from probe.render import ERROR_CLASSES
from probe.spec import public_url
from probe.store import Store, percentile_from_histogram
from probe.sla import WorkCalendar
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


def check_month_begun(year: int, month: int, as_of: float, tz: str) -> None:
    """A month not yet begun (as of ``as_of``) has no report: ValueError says so."""
    if sla.month_period(year, month, tz)[0] > as_of:
        raise ValueError(f"{year:04d}-{month:02d} has not begun yet: no report for a month in the future")


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
    now: float  # the as-of time: every figure is the database's and the config's as of then
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
    """The report model (JSON-able) for one month, as of ``context.now``."""
    cfg = context.config
    zone = context.zone
    store = context.store
    period = sla.month_period(context.year, context.month, cfg.sla.timezone)
    counted = _counted(period, context.now)
    names = endpoints or [e.name for e in cfg.endpoints]
    stored = {e.name: e for e in store.endpoints()}
    sections = _sections_in_parallel(context, names) if len(names) >= PARALLEL_MIN else _sections(context, names)
    lang = context.language
    record = provenance.daemon_record(store, counted, context.now)
    return {
        "month": f"{context.year:04d}-{context.month:02d}",
        "timezone": cfg.sla.timezone,
        "target_percent": cfg.sla.target,
        "period_seconds": period[1] - period[0],
        "period_start": iso_local(period[0], zone),
        "period_end": iso_local(period[1], zone),
        "as_of": iso_local(context.now, zone),
        "generated_at": iso_local(context.now, zone),  # the as-of time, under its former name
        "provisional": context.now < period[1],
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
            "late_maintenance": cfg.sla.late_maintenance,
        },
        "daemon_runs": [provenance.run_json(run, zone) for run in record.runs],
        "daemon_gaps": [
            {"start": iso_local(start, zone), "end": iso_local(end, zone),
             "seconds": sla.total_ms([(start, end)]) / 1000, "reason": reason}
            for start, end, reason in record.gaps
        ],
        "probe_ran_throughout": record.throughout,
        "history_imported": any(section["imported"] for section in sections),
        "endpoints": sections,
    }


def _counted(period: sla.Interval, as_of: float) -> sla.Interval:
    """The part of the period that is due as of ``as_of``: a month under way is reported up
    to then; the rest is not yet due."""
    return period[0], min(period[1], max(period[0], as_of))


def _sections(context: ReportContext, names: list[str]) -> list[dict]:
    """The per-endpoint sections of the model, in the order of names."""
    cfg = context.config
    zone = context.zone
    store = context.store
    as_of = context.now
    period = sla.month_period(context.year, context.month, cfg.sla.timezone)
    counted = _counted(period, as_of)
    windows = sla.occurrences(maintenance_records.declared(store, as_of), period,
                                              cfg.sla.timezone)
    configured = {e.name: e for e in cfg.endpoints}
    stored = {e.name: e for e in store.endpoints()}
    # What every section shares, worked out once: the contract's clock, the days, the
    # incidents recorded by hand.
    rules = IncidentRules.from_config(cfg, store, as_of, context.language)
    days = local_days(period, zone)
    manual: dict[str, list] = {}
    for record in store.list_incidents(since=counted[0], until=counted[1]):
        if record.source == "manual" and _recorded_by(record, store, as_of):
            manual.setdefault(record.endpoint, []).append(_as_of(record, as_of))
    imports = provenance.imported_spans(store, counted)
    sections = []
    for name in names:
        endpoint = configured.get(name)
        known = stored.get(name)
        confirm = endpoint.confirm if endpoint else cfg.sla.confirm
        cap = endpoint.severity_cap if endpoint else None
        runs = runs_as_of(store, name, runs_around(store, name, period, known.first_seen), as_of) if known else []
        excused = sla.excused_intervals(windows, name, cfg.sla.late_maintenance, as_of)
        figures = sla.availability(runs, counted, excused, confirm, cfg.sla.target)
        url = public_url(endpoint.spec.url) if endpoint else (known.url if known else None)
        section = _endpoint_section(context, rules, name, url, runs, figures, days, counted,
                                    cap, manual.get(name, []), zone, excused)
        section["maintenance_windows"] = [
            _window_json(window, counted, cfg.sla.late_maintenance, as_of, zone)
            for window in windows if window.applies_to(name)
        ]
        covered = sla.monitored(runs, counted)
        section["recorded_from"] = iso_local(covered[0][0], zone) if covered else None
        section["recorded_until"] = iso_local(covered[-1][1], zone) if covered else None
        section["site"] = known.site if known else None
        section["imports"] = [provenance.span_json(span, zone) for span in imports.get(name, [])]
        section["imported"] = bool(section["imports"])
        sections.append(section)
    return sections


def _window_json(window, counted: sla.Interval, late_policy: str, as_of: float, zone: ZoneInfo) -> dict:
    excused = window.excused(late_policy, as_of)
    record = window.record
    cancelled = record.cancelled_by_then(as_of)
    return {
        "id": record.id,
        "start": iso_local(window.start, zone),
        "end": iso_local(window.end, zone),
        "reason": record.reason,
        "declared_at": iso_local(record.declared_at, zone),
        "declared_by": record.declared_by,
        "source": record.source,
        "recurring": bool(record.every),
        "late": window.late,
        "cancelled_at": iso_local(record.cancelled_at, zone) if cancelled else None,
        "excluded_seconds": sla.total_ms(sla.clip([excused], counted)) / 1000 if excused else 0.0,
    }


def _recorded_by(record, store: Store, as_of: float) -> bool:
    """A record made after the as-of time was not there then (records of old have no time)."""
    recorded_at = store.incident_recorded_at(record.id)
    return recorded_at is None or recorded_at <= as_of


def _detected_as_of(store: Store, record, as_of: float):
    """The record (id, acknowledgement) of a detected incident as it stood at ``as_of``: none
    when it was made later, unless it holds an acknowledgement dated by then."""
    if record is None:
        return None
    if not _recorded_by(record, store, as_of) and not (record.ack_at is not None and record.ack_at <= as_of):
        return None
    return _as_of(record, as_of)


def _as_of(record, as_of: float):
    """An incident record as it stood at ``as_of``: later acknowledgements and closings
    had not happened yet."""
    if record.ack_at is not None and record.ack_at > as_of:
        record = replace(record, ack_at=None, ack_by=None)
    if record.closed_at is not None and record.closed_at > as_of:
        record = replace(record, closed_at=None, end=None)
    return record


def runs_as_of(store: Store, name: str, runs: list[sla.Run], as_of: float) -> list[sla.Run]:
    """``runs`` as the checks made by ``as_of`` (included) give them: later checks are left
    out, and the newest run's end is where its last check's coverage ends (no later check
    had come yet). The run under way at ``as_of`` is folded again from its raw checks (when
    they have been pruned, it is kept whole)."""
    kept = [run for run in runs if run.start <= as_of]
    if not kept:
        return kept
    newest = kept[-1]
    if newest.last > as_of:
        checks = [sla.Check(result.at, result.state, result.error_class, interval_s)
                  for _, interval_s, _, result in store.checks(name, since=newest.start, until=as_of + 0.001)]
        if checks:
            return kept[:-1] + sla.runs_from_checks(checks)
        return kept
    if len(kept) < len(runs):
        kept[-1] = replace(newest, end=sla.coverage_end(newest.last, newest.interval))
    return kept


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



def _endpoint_section(context, rules, name, url, runs, figures, days, counted, cap, manual, zone,
                      excused) -> dict:
    shown = figures.availability_shown(3)
    detected = list(zip(figures.outages, figures.outage_downtime_seconds))
    detected += [(episode, 0.0) for episode in figures.degradations]
    incidents = [
        detected_row(rules, name, episode, downtime, cap,
                     _detected_as_of(context.store, context.store.detected_incident(name, episode.start), rules.now),
                     excused)
        for episode, downtime in detected
    ]
    incidents += [manual_row(rules, record, excused) for record in manual]
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
        "blip_events": [
            {"start": iso_local(blip.start, zone), "end": iso_local(blip.end, zone), "state": blip.state,
             "error_class": _highest_class(blip), "checks": blip.checks}
            for blip in figures.blips
        ],
        "days": _days(context, name, runs, figures, days, counted),
        "incidents": incidents,
        "unmonitored": [
            {"start": iso_local(a, zone), "end": iso_local(b, zone), "seconds": sla.total_ms([(a, b)]) / 1000}
            for a, b in figures.unmonitored
        ],
    }


def _highest_class(episode: sla.Episode) -> str | None:
    return max(episode.error_classes, key=lambda c: sla.classify(c, episode.state))


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


def _incident_row(rules: IncidentRules, *, record, start, fixed_at, last_seen, severity, error_class,
                  source, summary, downtime, excused) -> dict:
    """``last_seen``: where an incident not fixed (as of the as-of time) is known to last
    until: its last check's coverage, or the as-of time for one recorded by hand."""
    end = fixed_at if fixed_at is not None else last_seen
    # An incident entirely inside maintenance has no deadline to miss.
    in_maintenance = bool(excused) and not sla.subtract([(start, max(end, start + 0.001))], excused)
    if in_maintenance:
        acknowledge_by = fix_by = None
        acknowledge = fix = NO_DEADLINE
    else:
        acknowledge_by, fix_by = sla.incident_deadlines(start, severity, rules.calendar, rules.deadlines)
    ack_at = record.ack_at if record else None
    if not in_maintenance:
        acknowledge = sla.deadline_status(acknowledge_by, ack_at, rules.now)
        fix = sla.deadline_status(fix_by, fixed_at, rules.now)
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
        "duration_seconds": sla.total_ms([(start, end)]) / 1000,
        "in_maintenance": in_maintenance,
        "acknowledge_deadline": iso_local(acknowledge_by, zone),
        "acknowledged": iso_local(ack_at, zone),
        "acknowledged_by": record.ack_by if record else None,
        "acknowledge": acknowledge,
        "fix_deadline": iso_local(fix_by, zone),
        "fix": fix,
    }


NO_DEADLINE = "none"  # the status of both deadlines of an incident entirely inside maintenance


def detected_row(rules: IncidentRules, name: str, episode: sla.Episode, downtime: float, cap, record,
                 excused=()) -> dict:
    """An outage or degradation as an incident: its class, cause, deadlines and their status."""
    error_class = _highest_class(episode)
    summary = _first_error(rules.store, name, episode.start) or ERROR_CLASSES[rules.language].get(
        error_class, error_class or "")
    return _incident_row(rules, record=record, start=episode.start, fixed_at=sla.fix_time(episode),
                         last_seen=episode.end, severity=sla.incident_severity(episode, cap),
                         error_class=error_class, source="detected", summary=summary, downtime=downtime,
                         excused=excused)


def manual_row(rules: IncidentRules, record, excused=()) -> dict:
    """An incident recorded by hand: fixed when closed."""
    return _incident_row(rules, record=record, start=record.start, fixed_at=record.closed_at,
                         last_seen=max(rules.now, record.start), severity=record.severity, error_class=None,
                         source="manual", summary=record.summary or "", downtime=0.0, excused=excused)
