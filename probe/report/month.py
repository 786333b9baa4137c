"""The month's report: its head, the maintenance windows, and each endpoint's section, built in
several processes for many endpoints."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from probe import sla
from probe.runtime import map_shares
from probe.spec import public_url
from probe.store import Store, runs_around
from probe.store import maintenance as maintenance_records

from . import provenance, service
from . import sites as several

if TYPE_CHECKING:  # only for annotations: probe.config imports aiohttp, slow to load
    from probe.config import Config, Maintenance
from .calendar import iso_local, local_days
from .endpoint import _as_of, _endpoint_section, _recorded_by
from .heartbeats import heartbeat_sections
from .incident_rows import IncidentRules
from .performance import latency_objective
from .tls_audit import tls_audit_section

PARALLEL_MIN = 200  # endpoints from which a report is built in several processes


DEFAULT_TITLES = {"fr": "Disponibilité du service", "en": "Service availability"}


@dataclass
class ReportContext:
    config: Config
    store: Store
    year: int
    month: int
    now: float  # the as-of time: every figure is the database's and the config's as of then
    language: str
    part: sla.Interval | None = None  # only this part of the month (a report over a range of days)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.sla.timezone)

    @property
    def period(self) -> sla.Interval:
        """The month, or the part of it the report covers."""
        month = sla.month_period(self.year, self.month, self.config.sla.timezone)
        if self.part is None:
            return month
        return max(month[0], self.part[0]), min(month[1], self.part[1])


def maintenance_windows(items: tuple[Maintenance, ...], period: sla.Interval, tz: str) -> list[sla.Window]:
    """The config's windows (one-off and recurring) that overlap the period."""
    windows = []
    for item in items:  # the config gives a recurring window at and duration, a one-off start and end
        if item.every:
            windows.extend(sla.expand_weekly(item.every, cast(str, item.at), cast(float, item.duration), period,
                                             tz, item.endpoints, item.reason))
        else:
            start, end = cast(datetime, item.start).timestamp(), cast(datetime, item.end).timestamp()
            if start < period[1] and end > period[0]:
                windows.append(sla.Window(start, end, item.endpoints, item.reason))
    return sorted(windows, key=lambda w: w.start)


def build(context: ReportContext, endpoints: list[str] | None = None) -> dict:
    """The report model (JSON-able) for one month, as of ``context.now``."""
    cfg = context.config
    zone = context.zone
    store = context.store
    period = context.period
    counted = _counted(period, context.now)
    names = endpoints or [e.name for e in cfg.endpoints if not e.control]  # control endpoints: no service
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
        "title": cfg.report.title_in(lang) or DEFAULT_TITLES[lang],
        "show_urls": cfg.report.show_urls,
        "provider": cfg.report.provider,
        "client": cfg.report.client,
        "support": cfg.report.support,
        "language": lang,
        "probe_sites": sorted({e.site for e in store.endpoints() if e.site and e.name in names}),  # every site
        "rules": {
            "confirm": cfg.sla.confirm,
            "coverage_factor": sla.COVERAGE_FACTOR,
            "holidays": cfg.sla.holidays,
            "deadlines": {k: dict(v) for k, v in cfg.sla.deadlines.items()},
            "late_maintenance": cfg.sla.late_maintenance,
            # the deadlines' reading: support hours when any deadline counts them, else working days
            "support_hours": cfg.sla.support_hours if sla.uses_support_hours(cfg.sla.deadlines) else None,
        },
        "daemon_runs": [provenance.run_json(run, zone) for run in record.runs],
        "daemon_gaps": [
            {"start": iso_local(start, zone), "end": iso_local(end, zone),
             "seconds": sla.total_ms([(start, end)]) / 1000, "reason": reason}
            for start, end, reason in record.gaps
        ],
        "probe_ran_throughout": record.throughout,
        "history_imported": any(section["imported"] for section in sections),
        "service": service.service_json(sections, counted, cfg.sla.target, zone),
        "site_rule": several.site_rule_json(cfg),
        "control_endpoints": several.control_names(cfg),
        "abstentions": several.abstentions_json(
            several.site_abstentions(cfg, store, partial(_read_runs, store, period, context.now)), counted, zone),
        "endpoints": sections,
        "heartbeats": heartbeat_sections(context),
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
    period = context.period
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
    read = partial(_read_runs, store, period, as_of)
    abstained = several.site_abstentions(cfg, store, read)
    series = several.series_by_name(store)
    bounds = [(day.isoformat(), start, min(end, counted[1])) for day, start, end in days if start < counted[1]]
    sections = []
    for name in names:
        endpoint = configured.get(name)
        known = stored.get(name)
        confirm = cfg.confirm_for(name)
        cap = endpoint.severity_cap if endpoint else None
        found = several.evidence(several.site_rule(cfg), series.get(name, []), abstained, read, confirm)
        runs = found.runs
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
        section["title"] = endpoint.display_name if endpoint else name
        section[service.PARTS_KEY] = service.parts(figures, cap)
        section["imports"] = [provenance.span_json(span, zone) for span in imports.get(name, [])]
        section["imported"] = bool(section["imports"])
        objective = endpoint.latency_objective if endpoint else None
        section["latency_objective"] = (latency_objective(store, name, objective.percentile, objective.under, counted,
                                                          days, excused) if objective else None)
        section["sites"] = several.sites_json(found, counted, excused, confirm, cfg.sla.target, bounds,
                                              figures)
        section["tls_audit"] = tls_audit_section(store, name, counted, zone)
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


def _read_runs(store: Store, period: sla.Interval, as_of: float, known) -> list[sla.Run]:
    """One site's runs of one endpoint that the period's figures need, as of ``as_of``."""
    return runs_as_of(store, known.id, runs_around(store, known.id, period, known.first_seen), as_of)


def _sections_in_parallel(context: ReportContext, names: list[str]) -> list[dict]:
    """Sections of many endpoints, shared out over the CPUs: each process reads its own
    endpoints from the database (read-only, WAL) and the parts are joined in order. Spawned,
    not forked: an SQLite connection must not cross a fork."""
    remote = partial(_sections_of, str(context.store.path), context.config, context.year, context.month,
                     context.now, context.language, context.part)
    return map_shares(partial(_sections, context), remote, names)


def _sections_of(store_path, config, year, month, now, language, part, names) -> list[dict]:
    with Store.open(store_path) as store:
        return _sections(ReportContext(config, store, year, month, now, language, part), names)
