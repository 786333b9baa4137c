"""Recent incidents for `probe incident list`: detected ones (given stable ids so they can be
acknowledged) and those recorded by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from probe import sla
from probe.config import Config
from probe.store import Store, incident_notes, maintenance, runs_around
from probe.text import local_stamp, printable, text_table

from . import heartbeat_incidents
from . import sites as several
from .calendar import iso_local
from .incident_rows import IncidentRules, detected_row, manual_row


def recent(store: Store, cfg: Config, now: float, days: int, jobs: bool = True) -> list[dict]:
    """The incidents of the last ``days`` days; with ``jobs``, the [[heartbeat]] jobs' too."""
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
    if jobs:
        rows += heartbeat_incidents.recent(store, cfg, now, days)
    rows.sort(key=lambda row: row["start"])
    for row in rows:
        row.pop("downtime_seconds")
    return rows


def with_notes(store: Store, rows: list[dict], timezone: str) -> list[dict]:
    """Each row with its notes (oldest first): ``notes`` [{at, author, text}], times local."""
    found = incident_notes.notes(store, [row["id"] for row in rows if row["id"] is not None])
    zone = ZoneInfo(timezone)
    for row in rows:
        row["notes"] = [{"at": iso_local(note.at, zone), "author": note.author, "text": note.text}
                        for note in found.get(row["id"], [])]
    return rows


def format_text(rows: list[dict], zone: str = "UTC") -> str:
    """One line per incident, every time in the SLA's time zone and labelled with it."""
    if not rows:
        return "no incidents"
    header = ("ID", "ENDPOINT", "CLASS", "START", "END", "ACK DEADLINE", "ACK", "ACKNOWLEDGED", "FIX DEADLINE",
              "FIX", "NOTES", "SUMMARY")
    table = [header]
    for row in rows:
        acknowledged = "-" if row["acknowledged"] is None else (
            _stamp(row["acknowledged"], zone) + (f" by {row['acknowledged_by']}" if row["acknowledged_by"] else ""))
        table.append((
            str(row["id"]), row["endpoint"], row["severity"], _stamp(row["start"], zone),
            _stamp(row["end"], zone) or "ongoing", _stamp(row["acknowledge_deadline"], zone) or "-", row["acknowledge"],
            acknowledged, _stamp(row["fix_deadline"], zone) or "-", row["fix"], str(len(row.get("notes", []))),
            row["summary"],
        ))
    return text_table(table)


def format_show(row: dict, zone: str = "UTC") -> str:
    """One incident: its facts, then its timeline (start, acknowledgement, notes, end)."""
    lines = [f"incident {row['id']}: {row['endpoint']} ({row['severity']}, {row['source']})"]
    facts = [
        ("started", _stamp(row["start"], zone)),
        ("ended", _stamp(row["end"], zone) or "ongoing"),
        ("summary", row["summary"] or "-"),
        ("acknowledge", f"by {_stamp(row['acknowledge_deadline'], zone) or '-'}: {row['acknowledge']}"),
        ("fix", f"by {_stamp(row['fix_deadline'], zone) or '-'}: {row['fix']}"),
    ]
    lines += [f"  {label:<12} {value}" for label, value in facts]
    events = [(row["start"], "started" + (f": {row['summary']}" if row["summary"] else ""))]
    if row["acknowledged"]:
        events.append((row["acknowledged"], "acknowledged" + (f" by {row['acknowledged_by']}"
                                                              if row["acknowledged_by"] else "")))
    events += [(note["at"], f"{note['author'] or 'note'}: {note['text']}") for note in row.get("notes", [])]
    if row["end"]:
        events.append((row["end"], "ended"))
    events.sort(key=lambda event: datetime.fromisoformat(event[0]).timestamp())
    lines.append("timeline:")
    lines += [f"  {_stamp(at, zone)}  {what}" for at, what in events]
    # every text from checks, sites and people neutralised: one line each, no escape sequence
    return "\n".join(printable(line) for line in lines)


def _stamp(iso: str | None, zone: str) -> str:
    """An ISO time of the model as the terminal shows it: '2026-11-03 14:05 CET'."""
    return local_stamp(datetime.fromisoformat(iso).timestamp(), zone) if iso else ""
