"""Recent incidents for `probe incident list`: detected ones (given stable ids so they can be
acknowledged) and those recorded by hand."""

from __future__ import annotations

from probe import sla
from probe.config import Config
from probe.store import Store, maintenance, runs_around
from probe.text import text_table

from . import sites as several
from .incident_rows import IncidentRules, detected_row, manual_row


def recent(store: Store, cfg: Config, now: float, days: int) -> list[dict]:
    since = now - days * 86400
    rules = IncidentRules.from_config(cfg, store, now, cfg.report.language)
    windows = sla.occurrences(maintenance.declared(store, now), (since - 31 * 86400, now), cfg.sla.timezone)
    rows = []
    series = several.series_by_name(store)

    def read(known) -> list[sla.Run]:
        return runs_around(store, known.id, (since, now), known.first_seen)

    abstained = several.site_abstentions(cfg, store, read)
    for name, found in series.items():
        known = found[0]
        endpoint = cfg.endpoint(known.name)
        if endpoint is not None and endpoint.control:
            continue  # no service: the cause of abstentions only
        confirm = cfg.confirm_for(known.name)
        cap = endpoint.severity_cap if endpoint else None
        runs = several.evidence(several.site_rule(cfg), found, abstained, read, confirm).runs
        excused = sla.excused_intervals(windows, known.name, cfg.sla.late_maintenance, now)
        for episode in sla.episodes(runs, confirm):
            if episode.kind == sla.BLIP or not episode.overlaps((since, now)):
                continue
            severity = str(sla.incident_severity(episode, cap))
            record = store.register_detected(known.name, episode.start, severity)
            rows.append({"endpoint": known.name, **detected_row(rules, known.name, episode, None, cap, record,
                                                                 excused)})
    for record in store.list_incidents(since=since, until=now):
        if record.source == "manual":
            excused = sla.excused_intervals(windows, record.endpoint, cfg.sla.late_maintenance, now)
            rows.append({"endpoint": record.endpoint, **manual_row(rules, record, excused)})
    rows.sort(key=lambda row: row["start"])
    for row in rows:
        row.pop("downtime_seconds")
    return rows


def format_text(rows: list[dict]) -> str:
    if not rows:
        return "no incidents"
    header = ("ID", "ENDPOINT", "CLASS", "START", "END", "ACK BY", "ACK", "FIX BY", "FIX", "SUMMARY")
    table = [header]
    for row in rows:
        table.append((
            str(row["id"]), row["endpoint"], row["severity"], _short(row["start"]), _short(row["end"]) or "ongoing",
            _short(row["acknowledge_deadline"]) or "-", row["acknowledge"], _short(row["fix_deadline"]) or "-", row["fix"],
            row["summary"],
        ))
    return text_table(table)


def _short(iso: str | None) -> str | None:
    return iso[:16].replace("T", " ") if iso else None
