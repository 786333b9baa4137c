"""`probe maintenance add|list|cancel`: declared maintenance windows, each with the time it was
declared, so that the report can tell a window planned ahead from one added after the fact."""

from __future__ import annotations

import getpass
import time

import click

from probe.text import json_text

from .options import (
    ProbeError,
    _default_config,
    _no_controls,
    declare_maintenance,
    history_options,
    load_config,
    open_store,
    parse_time_option,
)


@click.group("maintenance")
def maintenance_group():
    """Declare, list and cancel maintenance windows."""


def _store_and_config(config_path, db_path, must_exist=True):
    cfg = load_config(config_path) or _default_config(db_path)
    return cfg, open_store(cfg, db_path, must_exist=must_exist)


@maintenance_group.command("add")
@history_options
@click.option("--start", "start_text", required=True, metavar="TIME",
              help="When it begins (ISO 8601; without offset: the SLA's time zone).")
@click.option("--end", "end_text", required=True, metavar="TIME", help="When it ends.")
@click.option("--endpoint", "endpoints", multiple=True, help="Only this endpoint (repeatable; default: all).")
@click.option("--reason", required=True, help="Why, in one line (shown in the report).")
@click.option("--by", default=None, help="Who declares it (default: $USER).")
def maintenance_add(config_path, db_path, start_text, end_text, endpoints, reason, by):
    """Declare a maintenance window now. Only the part of it after now excuses downtime
    (unless [sla] late_maintenance = "exclude"); the report shows when it was declared.

    \b
    Example:
      probe maintenance add --start 2026-12-08T22:00 --end 2026-12-09T00:00 --reason "database upgrade"
    """
    from probe.store import StoreError
    from probe.store.maintenance import add

    cfg, store = _store_and_config(config_path, db_path, must_exist=False)
    start = parse_time_option(start_text, cfg.sla.timezone)
    end = parse_time_option(end_text, cfg.sla.timezone)
    if end <= start:
        raise ProbeError(f"--end {end_text} must be after --start {start_text}")
    if not reason.strip():
        raise ProbeError("--reason must say why (it is shown in the report)")
    _no_controls("--reason", reason)
    _no_controls("--by", by)
    now = time.time()
    with store:
        known = {e.name for e in cfg.endpoints} | {e.name for e in store.endpoints()}
        for name in endpoints:
            if name not in known:
                raise ProbeError(f"no endpoint named {name!r} in the config or in {store.path}")
        declare_maintenance(store, cfg, now)
        try:
            number = add(store, start, end, tuple(endpoints) or None, reason.strip(), by or getpass.getuser(), now)
        except StoreError as exc:
            raise ProbeError(str(exc)) from None
    late = " (late: it began before now)" if start < now else ""
    click.echo(f"maintenance window {number} declared{late}")


@maintenance_group.command("list")
@history_options
@click.option("--month", help="Only the windows that overlap this month (YYYY-MM).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per window per line.")
def maintenance_list(config_path, db_path, month, as_json):
    """Every declared window (recurring ones as their rule, or their occurrences with
    --month), with when it was declared, by whom, and whether it was cancelled.

    \b
    Example:
      probe maintenance list --month 2026-10
    """
    from zoneinfo import ZoneInfo

    from probe import sla
    from probe.report import iso_local, parse_month
    from probe.store import maintenance
    from probe.text import text_table

    cfg, store = _store_and_config(config_path, db_path)
    zone = ZoneInfo(cfg.sla.timezone)
    now = time.time()
    with store:
        declare_maintenance(store, cfg, now)
        records = maintenance.declared(store)
    if month:
        try:
            period = sla.month_period(*parse_month(month), cfg.sla.timezone)
        except ValueError as exc:
            raise ProbeError(str(exc)) from None
        windows = [(w.start, w.end, w.record) for w in sla.occurrences(records, period, cfg.sla.timezone)]
    else:
        windows = [(r.start, r.end, r) for r in records]
    rows = []
    for start, end, record in windows:
        rows.append({
            "id": record.id,
            "start": iso_local(start, zone),
            "end": iso_local(end, zone),
            "every": _describe_rule(record) if start is None else None,
            "endpoints": list(record.endpoints) if record.endpoints else None,
            "reason": record.reason,
            "declared_at": iso_local(record.declared_at, zone),
            "declared_by": record.declared_by,
            "late": start is not None and record.declared_at > start,
            "cancelled_at": iso_local(record.cancelled_at, zone),
            "cancelled_by": record.cancelled_by,
        })
    if as_json:
        for row in rows:
            click.echo(json_text(row))
        return
    if not rows:
        click.echo("no maintenance windows")
        return
    table = [("ID", "START", "END", "ENDPOINTS", "DECLARED", "BY", "STATE", "REASON")]
    for row in rows:
        state = "cancelled" if row["cancelled_at"] else ("late" if row["late"] else "")
        table.append((str(row["id"]), _short(row["start"], zone) or row["every"], _short(row["end"], zone) or "",
                      ", ".join(row["endpoints"] or ["all"]), _short(row["declared_at"], zone), row["declared_by"] or "",
                      state, row["reason"]))
    click.echo(text_table([tuple(_printable(cell) for cell in row) for row in table]))


def _printable(text: str) -> str:
    """A cell as the terminal shows it: control characters (escape sequences) neutralised."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _describe_rule(record) -> str:
    from probe.sla import WEEKDAYS

    days = ", ".join(WEEKDAYS[day] for day in record.every)
    return f"every {days} at {record.at} for {int(record.duration // 60)} min"


def _short(iso: str | None, zone) -> str | None:
    """A time of the SLA's zone, labelled with it: 2026-10-07 10:00 CEST."""
    from datetime import datetime

    from probe.text import local_stamp

    return local_stamp(datetime.fromisoformat(iso).timestamp(), str(zone)) if iso else None


@maintenance_group.command("cancel")
@history_options
@click.argument("window_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--by", default=None, help="Who cancels it (default: $USER).")
def maintenance_cancel(config_path, db_path, window_id, by):
    """Cancel window ID (from `probe maintenance list`): it then excuses nothing, and the
    report still lists it, cancelled.

    \b
    Example:
      probe maintenance cancel 3
    """
    from probe.store import StoreError
    from probe.store.maintenance import cancel

    _no_controls("--by", by)
    cfg, store = _store_and_config(config_path, db_path)
    with store:
        try:
            cancel(store, window_id, by or getpass.getuser())
        except StoreError as exc:
            raise ProbeError(str(exc)) from None
    click.echo(f"maintenance window {window_id} cancelled")
