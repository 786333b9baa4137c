"""`probe alert test` and `probe incident list|show|ack|note|open|close`."""

from __future__ import annotations

import sys

import click

from probe.text import json_text

from .options import (
    ProbeError,
    _default_config,
    _echo_lines,
    _no_controls,
    cli,
    declare_maintenance,
    history_options,
    load_config,
    open_store,
    parse_time_option,
)


@cli.group()
def alert():
    """Alert channels (webhooks, e-mail)."""


@alert.command("test")
@history_options
def alert_test(config_path, db_path):
    """Send a test message through each alert channel, now.

    \b
    Example:
      probe alert test --config /etc/probe/probe.toml
    """
    from probe.alerts import send_test

    cfg = load_config(config_path, required=True, secrets=True)
    if not cfg.alerts:
        raise ProbeError(f"{cfg.path}: no [[alerts.webhook]] or [[alerts.email]] to test")
    outcomes = send_test(cfg.alerts)
    for name, ok, message in outcomes:
        click.echo(f"{name}: {'sent' if ok else 'FAILED: ' + message}")
    sys.exit(0 if all(ok for _, ok, _ in outcomes) else 1)


def _change_incidents(config_path, db_path, when_text, change):
    """Open the history and apply change(store, when); when is --at/--start or now, read in
    the SLA's time zone. Store errors become one-line messages."""
    import time as clock

    from probe.store import StoreError

    cfg = load_config(config_path)
    zone = cfg.sla.timezone if cfg else "Europe/Paris"
    when = parse_time_option(when_text, zone, up_to_now=True) if when_text else clock.time()
    store = open_store(cfg, db_path)
    with store:
        try:
            return change(store, when)
        except StoreError as exc:
            raise ProbeError(str(exc)) from None


@cli.group()
def incident():
    """List, show, acknowledge, annotate, open and close incidents."""


@incident.command("list")
@history_options
@click.option("--days", type=click.IntRange(1, 3650), default=31, show_default=True, help="How far back.")
@click.option("--json", "as_json", is_flag=True)
def incident_list(config_path, db_path, days, as_json):
    """Incidents of the last DAYS days, detected and recorded by hand, with their ids; the
    heartbeat jobs' too (endpoint "heartbeat NAME": a missed, failed or overdue run).

    \b
    Example:
      probe incident list --days 7
    """
    import time as clock

    from probe.report import incidents

    cfg = load_config(config_path) or _default_config(db_path)
    store = open_store(cfg, db_path)
    with store:
        declare_maintenance(store, cfg, clock.time())
        rows = incidents.with_notes(store, incidents.recent(store, cfg, clock.time(), days), cfg.sla.timezone)
    if as_json:
        for row in rows:
            click.echo(json_text(row))
        return
    _echo_lines(incidents.format_text(rows, cfg.sla.timezone))


@incident.command("show")
@history_options
@click.argument("incident_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--json", "as_json", is_flag=True)
def incident_show(config_path, db_path, incident_id, as_json):
    """Incident ID: its class, times, deadlines, and its timeline (start, acknowledgement,
    notes, end), times in the SLA's time zone.

    \b
    Example:
      probe incident show 12
    """
    import math
    import time as clock

    from probe.report import incidents
    from probe.store import job_incidents

    cfg = load_config(config_path) or _default_config(db_path)
    store = open_store(cfg, db_path)
    with store:
        now = clock.time()
        record = store.incident(incident_id)
        start = record.start if record is not None else job_incidents.start_of(store.db.conn, incident_id)
        if start is None:
            raise ProbeError(f"no incident {incident_id} in {store.path} (see `probe incident list`)")
        declare_maintenance(store, cfg, now)
        days = max(1, math.ceil((now - start) / 86400) + 1)
        rows = [row for row in incidents.recent(store, cfg, now, days) if row["id"] == incident_id]
        if not rows:
            raise ProbeError(f"incident {incident_id}: its checks are no longer in {store.path}")
        row, = incidents.with_notes(store, rows, cfg.sla.timezone)
    if as_json:
        click.echo(json_text(row))
        return
    _echo_lines(incidents.format_show(row, cfg.sla.timezone))


@incident.command("note")
@history_options
@click.argument("incident_id", type=click.IntRange(1, 2**63 - 1))
@click.argument("text")
@click.option("--by", default=None, help="Who writes (default: $USER).")
def incident_note(config_path, db_path, incident_id, text, by):
    """Add a note to incident ID's timeline (what was seen, done, decided), now.

    \b
    Example:
      probe incident note 12 "database failover started"
    """
    import getpass

    from probe.store import incident_notes

    _no_controls("TEXT", text)
    _no_controls("--by", by)
    number = _change_incidents(config_path, db_path, None, lambda store, at: incident_notes.add(
        store, incident_id, text, by or getpass.getuser(), at))
    click.echo(f"note {number} added to incident {incident_id}")


@incident.command("ack")
@history_options
@click.argument("incident_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--by", default=None, help="Who acknowledges (default: $USER).")
@click.option("--at", "at_text", help="When (ISO 8601; default: now).")
def incident_ack(config_path, db_path, incident_id, by, at_text):
    """Acknowledge incident ID (from `probe incident list`).

    \b
    Example:
      probe incident ack 12 --by alice
    """
    import getpass

    _no_controls("--by", by)
    _change_incidents(config_path, db_path, at_text,
                      lambda store, at: store.ack_incident(incident_id, by=by or getpass.getuser(), at=at))
    click.echo(f"incident {incident_id} acknowledged")


@incident.command("open")
@history_options
@click.option("--endpoint", required=True, help="The endpoint concerned.")
@click.option("--severity", type=click.Choice(["blocking", "major", "minor"]), required=True)
@click.option("--summary", required=True, help="What is wrong, in one line.")
@click.option("--start", "start_text", help="When it started (ISO 8601; default: now).")
def incident_open(config_path, db_path, endpoint, severity, summary, start_text):
    """Record an incident the probe cannot see (a wrong figure on a screen, say).

    \b
    Example:
      probe incident open --endpoint api --severity major --summary "totals wrong on invoices"
    """
    _no_controls("--summary", summary)

    def record(store, start):
        if endpoint not in {e.name for e in store.endpoints()}:
            raise ProbeError(f"no endpoint named {endpoint!r} in {store.path} (it needs at least one check)")
        return store.open_incident(endpoint, start, severity, summary)

    number = _change_incidents(config_path, db_path, start_text, record)
    click.echo(f"incident {number} opened")


@incident.command("close")
@history_options
@click.argument("incident_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--at", "at_text", help="When it was fixed (ISO 8601; default: now).")
def incident_close(config_path, db_path, incident_id, at_text):
    """Close (fix) incident ID recorded by hand.

    \b
    Example:
      probe incident close 12
    """
    from probe.store import job_incidents

    def close(store, at):
        record = store.incident(incident_id)
        if job_incidents.heartbeat_of(store.db.conn, incident_id) is not None:
            raise ProbeError(f"incident {incident_id} is a job's: it is fixed by the job's next success, not by hand")
        if record is not None and record.source == "detected":
            raise ProbeError(f"incident {incident_id} was detected by the probe: it is fixed when the endpoint "
                             "answers again, not by hand")
        store.close_incident(incident_id, at=at)

    _change_incidents(config_path, db_path, at_text, close)
    click.echo(f"incident {incident_id} closed")
