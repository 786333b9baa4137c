"""`probe export`, `probe import`, `probe backup` and `probe report`: the stored history and the
monthly evidence."""

from __future__ import annotations

import os
import sys

import click

from probe.text import printable

from . import report_output
from .options import (
    ProbeError,
    _default_config,
    cli,
    database_path,
    declare_maintenance,
    history_options,
    load_config,
    open_store,
    parse_time_option,
)


@cli.command("export")
@history_options
@click.option("--endpoint", help="Only this endpoint.")
@click.option("--since", help="From this time (ISO 8601; without offset: UTC).")
@click.option("--until", help="Up to this time, excluded.")
@click.option("--output", "-o", type=click.File("w"), default="-", help="File to write (default: stdout).")
def export_command(config_path, db_path, endpoint, since, until, output):
    """Write checks as JSON Lines: the keys of `probe check --json` plus endpoint,
    interval_s and site; then the paper trail (maintenance windows, incidents recorded by hand,
    acknowledgements, daemon runs, imports), one record a line, for `probe import`.

    \b
    Example:
      probe export --since 2026-10-01 --until 2026-11-01 -o october.jsonl
    """
    import time as clock

    from probe.store import StoreError, export_jsonl

    cfg = load_config(config_path)
    since, until = parse_time_option(since), parse_time_option(until)
    store = open_store(cfg, db_path)
    with store:
        if cfg:
            declare_maintenance(store, cfg, clock.time())
        try:
            lines = export_jsonl(store, output, endpoint, since, until)
        except StoreError as exc:
            raise ProbeError(str(exc)) from None
    if output is not sys.stdout and output.name != "<stdout>":
        click.echo(printable(f"exported {lines} checks to {output.name}"), err=True)


@cli.command("import")
@history_options
@click.argument("file", type=click.File("rb"))
@click.option("--skip-errors", is_flag=True, help="Skip bad lines (listed) instead of importing nothing.")
@click.option("--future", is_flag=True, help="Accept checks dated more than a day ahead of now.")
def import_command(config_path, db_path, file, skip_errors, future):
    """Read checks from JSON Lines (the format of `probe export`), to back-fill or migrate
    history. Importing the same file twice adds nothing. A check dated before 1970, or more
    than a day ahead of now (without --future), is a bad line.

    \b
    Example:
      probe import october.jsonl --db /var/lib/probe/probe.db
    """
    import time as clock

    from probe.store import StoreError, import_jsonl

    cfg = load_config(config_path)
    store = open_store(cfg, db_path, must_exist=False)
    started = clock.perf_counter()
    with store:
        try:
            stats = import_jsonl(store, file, skip_errors=skip_errors, future=future)
        except StoreError as exc:
            raise ProbeError(f"{file.name}: {exc}; nothing was imported") from None
    for error in stats.errors:
        click.echo(printable(f"{file.name}: skipped {error}"), err=True)
    pruned = f", {stats.skipped_pruned} older than the history kept" if stats.skipped_pruned else ""
    click.echo(f"imported {stats.added} checks ({stats.skipped_duplicates} already present{pruned})"
               f" in {clock.perf_counter() - started:.1f}s")


@cli.command()
@history_options
@click.argument("dest", type=click.Path())
@click.option("--rotate", type=click.IntRange(1, 10000),
              help="DEST is a directory: write probe-YYYYMMDD-HHMMSS.db there and keep the newest N.")
def backup(config_path, db_path, dest, rotate):
    """Copy the database consistently (SQLite's online backup, safe while the daemon
    writes), then check the copy with integrity_check.

    \b
    Example:
      probe backup /var/backups/probe.db
    """
    import time as clock
    from pathlib import Path

    from probe.store import StoreError
    from probe.store import backup as backup_database

    cfg = load_config(config_path)
    source = database_path(cfg, db_path)
    target = Path(dest)
    try:
        target.exists()
    except OSError as exc:  # a name too long, say
        raise ProbeError(f"cannot back up to {dest}: {exc.strerror}") from None
    if rotate or target.is_dir():
        if not target.is_dir():
            raise ProbeError(f"{dest}: not a directory (with --rotate, DEST is a directory)")
        target = target / clock.strftime("probe-%Y%m%d-%H%M%S.db", clock.gmtime())
    try:
        written = backup_database(source, target)
    except StoreError as exc:
        raise ProbeError(str(exc)) from None
    click.echo(printable(f"backed up {source} to {written} ({os.path.getsize(written)} bytes, integrity ok)"))
    if rotate:
        copies = sorted(Path(dest).glob("probe-*.db"))
        for old in copies[:-rotate]:
            old.unlink()
            click.echo(f"removed old backup {old}")


@cli.command()
@history_options
@click.option("--month", help="YYYY-MM (default: the last complete month).")
@click.option("--quarter", help="A quarter, like 2026-Q4: its three months and its own figures.")
@click.option("--year", help="A year, like 2026: its twelve months and its own figures.")
@click.option("--from", "first", metavar="DATE", help="From this day (YYYY-MM-DD, in the SLA's time zone), with --to.")
@click.option("--to", "last", metavar="DATE", help="Up to this day, included.")
@click.option("--format", "fmt", type=click.Choice(report_output.FORMATS), default="html", show_default=True,
              help="pdf needs Chromium; csv is one row per endpoint per month.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="File to write (HTML and PDF default: probe-report-PERIOD.html/.pdf; JSON and CSV default: stdout).")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Write the report in this directory.")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Language (default: [report] language).")
@click.option("--endpoint", "endpoints", multiple=True, help="Only these endpoints (repeatable).")
@click.option("--templates", type=click.Path(exists=True, file_okay=False),
              help="A directory of templates that override the packaged ones.")
@click.option("--as-of", "as_of_text", metavar="TIME",
              help="Make the report as it was at TIME (ISO 8601; without offset: the SLA's time zone;"
                   " default: now). The same TIME gives the same report.")
def report(config_path, db_path, month, quarter, year, first, last, fmt, output, output_dir, lang, endpoints,
           templates, as_of_text):
    """Write the availability report against the SLA target for a month (default), a quarter,
    a year or a range of days, as of now or --as-of, in HTML, JSON, CSV or PDF. A longer
    period's figures come from its months' eligible and downtime seconds, by the same rules.

    \b
    Example:
      probe report --config /etc/probe/probe.toml --month 2026-10 --lang en
      probe report --month 2026-10 --as-of 2026-11-02T09:00 --format json
      probe report --year 2026 --format pdf -o sla-2026.pdf
      probe report --quarter 2026-Q4 --format csv > q4.csv
      probe report --from 2026-10-05 --to 2026-11-20
    """
    import time as clock

    from probe import report as report_module
    from probe.report import periods

    cfg = load_config(config_path) or _default_config(db_path)
    now = clock.time()
    as_of = parse_time_option(as_of_text, cfg.sla.timezone) if as_of_text else now
    if as_of > now:
        raise ProbeError(f"--as-of {as_of_text} is in the future: a report is made as of now at the latest")
    kind, label, months, part = report_output.choose_period(month, quarter, year, first, last, as_of,
                                                            cfg.sla.timezone)
    for name in endpoints:
        if cfg.endpoints and cfg.endpoint(name) is None:
            raise ProbeError(f"no endpoint named {name!r} in {cfg.path}")
    store = open_store(cfg, db_path)
    with store:
        known = list(dict.fromkeys(e.name for e in store.endpoints()))  # one per endpoint, whatever its sites
        names = list(endpoints) or ([e.name for e in cfg.endpoints if not e.control] if cfg.endpoints else known)
        for name in names:
            if name not in known and not cfg.endpoints:
                raise ProbeError(f"no endpoint named {name!r} in {store.path}")
        declare_maintenance(store, cfg, now)
        year_number, month_number = months[0]
        context = report_module.ReportContext(cfg, store, year_number, month_number, as_of,
                                              lang or cfg.report.language)
        if kind == "month":
            model = report_module.build(context, names)
        else:
            model = periods.build_period(context, kind, label, months, names, part)
    report_output.write(model, fmt, output, output_dir, templates, lang)
