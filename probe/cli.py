"""The command line: parses options, calls the library, turns library errors into one-line
messages. Exit statuses follow monitoring plugins: 0 ok, 1 warning, 2 critical, 3 unknown."""

from __future__ import annotations

import os
import sys

import click

from probe import __version__
from probe.spec import CheckSpec
from probe.table import text_table
from probe.text import json_text, printable, refuse_controls
from probe.config import (
    TLS_VERSIONS,
    _duration_in,
    check_ca_file,
    check_url,
    parse_header,
    parse_status_list,
)

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3


class ProbeError(click.ClickException):
    """A one-line error; exit 3 like a monitoring plugin's 'unknown'."""

    exit_code = EXIT_UNKNOWN

    def show(self, file=None):
        click.echo(f"probe: {printable(self.format_message())}", err=True)


class ProbeGroup(click.Group):
    def main(self, *args, **kwargs):
        # Usage errors exit 3 (click's default is 2, which a monitoring system reads as CRITICAL).
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("probe: aborted", err=True)
            sys.exit(130)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "probe"
            click.echo(printable(f"{command}: {exc.format_message()} (see '{command} --help')"), err=True)
            sys.exit(EXIT_UNKNOWN)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)


def _positive_int(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ValueError(f"{text!r} is not a number of workers (1 to 64, or auto)")
    return int(text)


def _converter(parse, what):
    def convert(ctx, param, value):
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return convert


@click.group(cls=ProbeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="probe")
def cli():
    """probe: HTTPS availability checks and the monthly SLA evidence.

    \b
    probe check https://example.com/health     one check now
    probe run --config probe.toml              the daemon
    probe report --month 2026-10               the monthly report
    """


@cli.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per URL per line.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, readable=True),
              help="Trust these CA certificates instead of the system store.")
@click.option("--timeout", default="10s", show_default=True, metavar="DURATION",
              callback=_converter(_duration_in(0.1, 300), "duration"),
              help="One deadline for the whole check: DNS, connect, TLS, request, body.")
@click.option("--expect-status", default="200-299", show_default=True, metavar="LIST",
              callback=_converter(parse_status_list, "status list"), help="Codes and ranges, e.g. 200-299,301.")
@click.option("--expect-body", metavar="TEXT", help="The body (first 1 MiB) must contain this text.")
@click.option("--max-latency", metavar="DURATION", callback=_converter(_duration_in(0.001, 300), "duration"),
              help="Slower than this is degraded, e.g. 2s.")
@click.option("--min-tls", type=click.Choice(list(TLS_VERSIONS)), default="1.2", show_default=True,
              help="Lowest TLS version accepted (never below 1.2).")
@click.option("--cert-warn-days", type=click.IntRange(0, 3650), default=14, show_default=True,
              help="A certificate expiring sooner is degraded.")
@click.option("--concurrency", type=click.IntRange(1, 10000), default=64, show_default=True,
              help="Checks in flight at once.")
@click.option("--header", "headers", multiple=True, callback=_converter(lambda v: tuple(map(parse_header, v)), "header"),
              help="'Name: value', repeatable. Never printed.")
@click.option("--method", type=click.Choice(["GET", "HEAD", "POST"], case_sensitive=False), default="GET",
              show_default=True)
@click.option("--no-follow-redirects", is_flag=True, help="Judge a redirect itself instead of following it.")
@click.option("--workers", default="auto", show_default=True, metavar="N|auto",
              callback=_converter(lambda v: v if v == "auto" else _positive_int(v), "workers"),
              help="Processes sharing the checks (auto: one per CPU for long lists of URLs).")
@click.option("--loop", type=click.Choice(["auto", "uvloop", "asyncio"]), default="auto", hidden=True,
              help="The event loop (auto: uvloop when installed); for side-by-side measurements.")
def check(urls, as_json, ca_file, timeout, expect_status, expect_body, max_latency, min_tls,
          cert_warn_days, concurrency, headers, method, no_follow_redirects, workers, loop):
    """Check each URL once, concurrently, and report.

    Exit status: 0 all up, 1 some degraded and none down, 2 some down, 3 usage error.

    \b
    Example:
      probe check https://example.com/health --expect-body ok --max-latency 2s
    """
    from probe.urls import idna_problem

    try:
        for url in urls:
            if idna_problem(url) is None:  # else its own row says so, and the others are checked
                check_url(url)
        if ca_file:
            check_ca_file(ca_file)
    except ValueError as exc:
        raise ProbeError(str(exc)) from None
    specs = [
        CheckSpec(
            url=url,
            timeout=timeout,
            expect_status=expect_status,
            expect_body=expect_body,
            max_latency=max_latency,
            min_tls=min_tls,
            cert_warn_days=cert_warn_days,
            headers=headers or (),
            method=method.upper(),
            follow_redirects=not no_follow_redirects,
            ca_file=ca_file,
        )
        for url in urls
    ]
    from probe.check import run_many, workers_for

    if workers == "auto":
        workers = workers_for(len(specs))
    results = run_many(specs, concurrency=concurrency, workers=workers, loop=loop)
    if as_json:
        for result in results:
            click.echo(json_text(result.to_json()))
    else:
        click.echo(format_table(results))
    states = {result.state for result in results}
    if "down" in states:
        sys.exit(EXIT_CRITICAL)
    if "degraded" in states:
        sys.exit(EXIT_WARNING)
    sys.exit(EXIT_OK)


# ---------------------------------------------------------------- shared options


def history_options(func):
    """--config and --db, for every command that reads or writes the history."""
    func = click.option("--db", "db_path", type=click.Path(dir_okay=False),
                        help="The SQLite database (wins over [probe] database).")(func)
    func = click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="PROBE_CONFIG",
                        help="The TOML config file (or $PROBE_CONFIG).")(func)
    return func


def load_config(config_path, required=False, secrets=False):
    """The config, or None without one. Only commands that send or check (``secrets``) need
    the ${VARIABLES} of alert channels and headers to be set."""
    from probe import config as config_module

    if config_path is None:
        if required:
            raise ProbeError("no config file given (use --config FILE)")
        return None
    try:
        return config_module.load(config_path, secrets=secrets)
    except config_module.ConfigError as exc:
        raise ProbeError(str(exc)) from None


def database_path(cfg, db_path) -> str:
    from probe.config import default_database

    if cfg is None or cfg.path == "<defaults>":
        _say_defaults(cfg, db_path or (cfg.probe.database if cfg else default_database()))
    if db_path:
        return db_path
    return cfg.probe.database if cfg else default_database()


def _say_defaults(cfg, database) -> None:
    """Without a config file, one line on stderr says what stands in for it."""
    from probe.config import SLASettings

    sla = cfg.sla if cfg else SLASettings()
    click.echo(f"probe: no config file (--config or $PROBE_CONFIG): using the defaults: target {sla.target} %,"
               f" time zone {sla.timezone}, database {os.path.abspath(database)}", err=True)


def open_store(cfg, db_path, must_exist=True):
    import os

    from probe.store import Store, StoreError

    path = database_path(cfg, db_path)
    if must_exist and not os.path.exists(path):
        raise ProbeError(f"no database at {path} (start `probe run` first, or give --db)")
    try:
        return Store.open(path, retention_days=cfg.probe.retention_days if cfg else 400)
    except StoreError as exc:
        raise ProbeError(str(exc)) from None


def parse_time_option(value, zone_name="UTC", up_to_now=False):
    """ISO 8601 date or date-time; without an offset, in `zone_name`. With up_to_now (when
    something happened), it must lie between 1970 and a day ahead of now."""
    import time as clock
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone_name))
        at = moment.timestamp()
    except (ValueError, OverflowError):
        raise ProbeError(f"{value!r} is not a date or time (like 2026-10-01 or 2026-10-01T12:00Z)") from None
    if up_to_now and at < 0:
        raise ProbeError(f"{value!r} is before 1970")
    if up_to_now and at > clock.time() + 86400:
        raise ProbeError(f"{value!r} is more than a day ahead of now")
    return at


# ---------------------------------------------------------------- run, config


@cli.command()
@history_options
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default="INFO", show_default=True)
@click.option("--listen", metavar="HOST:PORT", callback=_converter(lambda v: _parse_listen(v), "address"),
              help="Serve /metrics, /status.json and the status page there "
                   "(loopback only, unless $PROBE_LISTEN_TOKEN sets a bearer token).")
def run(config_path, db_path, log_level, listen):
    """Run the daemon: check every endpoint on schedule and record every check.

    Stops cleanly on SIGTERM or Ctrl-C (a second Ctrl-C exits at once); SIGHUP reloads the
    config (a broken one is refused and the running one kept). One daemon per database.

    \b
    Exit status:
      0   stopped by a signal
      71  --listen cannot bind
      73  the database cannot be opened
      74  the database was deleted or replaced while running (a restart makes a new one)
      75  another daemon is running on the database (its pid, host and start are named)
      78  configuration error

    \b
    Example:
      probe run --config /etc/probe/probe.toml
    """
    from probe import daemon

    daemon.setup_logging(log_level.upper())
    token = os.environ.get("PROBE_LISTEN_TOKEN") or None  # not a flag: it would show in ps
    sys.exit(daemon.run(config_path, db_path, listen, token))


def _parse_listen(value):
    from probe.web import parse_listen

    return parse_listen(value)


@cli.group("config")
def config_group():
    """Validate a config file."""


@config_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def config_check(file):
    """Validate FILE and explain what probe will do with it.

    \b
    Example:
      probe config check /etc/probe/probe.toml
    """
    cfg = load_config(file, required=True)
    from probe.spec import describe_status_list, public_url
    from probe.config import _say

    _echo_lines(f"{file}: OK")
    for where in cfg.unset_secrets:
        click.echo(printable(f"warning: {where} is not set in the environment: `probe run` and `probe alert test`"
                             " will refuse to start without it"), err=True)
    _echo_lines(f"database: {cfg.probe.database}   site: {cfg.probe.site}   retention: {cfg.probe.retention_days} days")
    _echo_lines(f"SLA: {cfg.sla.target} % in {cfg.sla.timezone}, holidays {cfg.sla.holidays}, confirm {cfg.sla.confirm}")
    _echo_lines(f"{len(cfg.endpoints)} endpoint(s):")
    for e in cfg.endpoints:
        spec = e.spec
        expect = [f"status {describe_status_list(spec.expect_status)}"]
        if spec.expect_body is not None:
            expect.append(f"body contains {spec.expect_body!r}")
        if spec.max_latency:
            expect.append(f"degraded over {_say(spec.max_latency)}")
        headers = ", ".join(f"{name}: ***" for name, _ in spec.headers)
        _echo_lines(f"  {e.name}: {spec.method} {public_url(spec.url)} every {_say(e.interval)}, timeout {_say(spec.timeout)},"
                    f" TLS >= {spec.min_tls}, {'; '.join(expect)}; outage after {e.confirm} down checks"
                    + (f"; at most {e.severity_cap}" if e.severity_cap else "")
                    + (f"; headers {headers}" if headers else ""))
    if not cfg.endpoints:
        _echo_lines("  (none: `probe run` needs at least one [[endpoint]])")
    for m in cfg.maintenance:
        who = ", ".join(m.endpoints) if m.endpoints else "all endpoints"
        if m.every:
            from probe.config import WEEKDAYS

            days = ", ".join(WEEKDAYS[d] for d in m.every)
            _echo_lines(f"maintenance: every {days} at {m.at} for {_say(m.duration)} ({who}) {m.reason}".rstrip())
        else:
            _echo_lines(f"maintenance: {m.start.isoformat()} to {m.end.isoformat()} ({who}) {m.reason}".rstrip())


# ---------------------------------------------------------------- status


@cli.command()
@history_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per endpoint per line.")
def status(config_path, db_path, as_json):
    """Each endpoint's state, since when, its last check, the daemon's lag, and availability
    over the last 24 hours and 30 days.

    \b
    Example:
      probe status --config /etc/probe/probe.toml
    """
    import time as clock

    from probe import status as status_module

    cfg = load_config(config_path)
    store = open_store(cfg, db_path)
    with store:
        report = status_module.collect(store, cfg, clock.time())
    if as_json:
        click.echo(json_text(report["daemon"]))
        for row in report["endpoints"]:
            click.echo(json_text(row))
    else:
        _echo_lines(status_module.format_text(report))


# ---------------------------------------------------------------- export, import, backup


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
    import os
    import time as clock
    from pathlib import Path

    from probe.store import StoreError, backup as backup_database

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


# ---------------------------------------------------------------- report


@cli.command()
@history_options
@click.option("--month", help="YYYY-MM (default: the last complete month).")
@click.option("--format", "fmt", type=click.Choice(["html", "json"]), default="html", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="File to write (HTML default: probe-report-YYYY-MM.html; JSON default: stdout).")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Write the report in this directory.")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Language (default: [report] language).")
@click.option("--endpoint", "endpoints", multiple=True, help="Only these endpoints (repeatable).")
@click.option("--templates", type=click.Path(exists=True, file_okay=False),
              help="A directory of templates that override the packaged ones.")
@click.option("--as-of", "as_of_text", metavar="TIME",
              help="Make the report as it was at TIME (ISO 8601; without offset: the SLA's time zone;"
                   " default: now). The same TIME gives the same report.")
def report(config_path, db_path, month, fmt, output, output_dir, lang, endpoints, templates, as_of_text):
    """Write the monthly availability report against the SLA target, as of now or --as-of.

    \b
    Example:
      probe report --config /etc/probe/probe.toml --month 2026-10 --lang en
      probe report --month 2026-10 --as-of 2026-11-02T09:00 --format json
    """
    import time as clock
    from pathlib import Path

    from probe import render
    from probe import report as report_module

    cfg = load_config(config_path) or _default_config(db_path)
    now = clock.time()
    as_of = parse_time_option(as_of_text, cfg.sla.timezone) if as_of_text else now
    if as_of > now:
        raise ProbeError(f"--as-of {as_of_text} is in the future: a report is made as of now at the latest")
    try:
        year, month_number = (report_module.parse_month(month) if month
                              else report_module.last_complete_month(as_of, cfg.sla.timezone))
        if not (1970, 1) <= (year, month_number) <= (9999, 11):  # the month after must be a date too
            raise ValueError(f"{month!r} is not a month probe reports on (1970-01 to 9999-11)")
        report_module.check_month_begun(year, month_number, as_of, cfg.sla.timezone)
    except ValueError as exc:
        raise ProbeError(str(exc)) from None
    for name in endpoints:
        if cfg.endpoints and cfg.endpoint(name) is None:
            raise ProbeError(f"no endpoint named {name!r} in {cfg.path}")
    store = open_store(cfg, db_path)
    with store:
        known = [e.name for e in store.endpoints()]
        names = list(endpoints) or ([e.name for e in cfg.endpoints] if cfg.endpoints else known)
        for name in names:
            if name not in known and not cfg.endpoints:
                raise ProbeError(f"no endpoint named {name!r} in {store.path}")
        declare_maintenance(store, cfg, now)
        context = report_module.ReportContext(cfg, store, year, month_number, as_of, lang or cfg.report.language)
        model = report_module.build(context, names)
    if fmt == "json":
        text = json_text(model, indent=2)
        if output is None and output_dir is None:
            click.echo(text)
            return
    else:
        text = render.render_html(model, template_dir=templates, lang=lang)
    target = Path(output) if output else Path(render.default_filename(model))
    if fmt == "json" and not output:
        target = target.with_suffix(".json")
    if output_dir:
        target = Path(output_dir) / target.name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ProbeError(f"cannot write {target}: {exc.strerror}") from None
    click.echo(printable(f"wrote {target}"), err=True)


def declare_maintenance(store, cfg, now) -> None:
    """The config's maintenance windows that probe sees for the first time are declared now."""
    from probe.store.maintenance import declare_from_config
    from probe.store import StoreError

    try:
        declare_from_config(store, cfg, now)
    except StoreError as exc:
        raise ProbeError(str(exc)) from None


def _default_config(db_path):
    """No config file: the contract's defaults, every endpoint of the database."""
    from probe.config import from_dict

    return from_dict({"probe": {"database": db_path}} if db_path else {}, "<defaults>")


# ---------------------------------------------------------------- alerts


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


# ---------------------------------------------------------------- incidents


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
    """List, acknowledge, open and close incidents."""


@incident.command("list")
@history_options
@click.option("--days", type=click.IntRange(1, 3650), default=31, show_default=True, help="How far back.")
@click.option("--json", "as_json", is_flag=True)
def incident_list(config_path, db_path, days, as_json):
    """Incidents of the last DAYS days, detected and recorded by hand, with their ids.

    \b
    Example:
      probe incident list --days 7
    """
    import time as clock

    from probe import incidents

    cfg = load_config(config_path) or _default_config(db_path)
    store = open_store(cfg, db_path)
    with store:
        declare_maintenance(store, cfg, clock.time())
        rows = incidents.recent(store, cfg, clock.time(), days)
    if as_json:
        for row in rows:
            click.echo(json_text(row))
        return
    _echo_lines(incidents.format_text(rows))


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
    def close(store, at):
        record = store.incident(incident_id)
        if record is not None and record.source == "detected":
            raise ProbeError(f"incident {incident_id} was detected by the probe: it is fixed when the endpoint "
                             "answers again, not by hand")
        store.close_incident(incident_id, at=at)

    _change_incidents(config_path, db_path, at_text, close)
    click.echo(f"incident {incident_id} closed")


def _echo_lines(text: str) -> None:
    """Text for the terminal, each line's control characters shown escaped."""
    click.echo("\n".join(printable(line) for line in text.split("\n")))


def _no_controls(option: str, value: str | None) -> None:
    if value is not None:
        try:
            refuse_controls(value, option)
        except ValueError as exc:
            raise ProbeError(str(exc)) from None


def format_table(results) -> str:
    header = ("URL", "STATE", "HTTP", "TLS", "CERT DAYS", "TIME", "ERROR")
    rows = [header]
    for r in results:
        rows.append((
            r.url,
            r.state.upper(),
            str(r.http_status) if r.http_status is not None else "-",
            (r.tls_version or "-").replace("TLSv", ""),
            str(r.cert_days_left) if r.cert_days_left is not None else "-",
            f"{r.total_ms:.0f}ms" if r.total_ms is not None else "-",
            r.error or "",
        ))
    return text_table(rows)


def main():
    cli.main(prog_name="probe")


from probe.cli_maintenance import maintenance_group  # noqa: E402  (it uses the helpers above)

cli.add_command(maintenance_group)
