"""The click group and what its commands share: exit statuses, one-line errors, the options
for the config and the database, time options, tables for the terminal."""

from __future__ import annotations

import os
import sys

import click

from probe import __version__
from probe.text import printable, refuse_controls, text_table

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


def declare_maintenance(store, cfg, now) -> None:
    """The config's maintenance windows that probe sees for the first time are declared now."""
    from probe.store import StoreError
    from probe.store.maintenance import declare_from_config

    try:
        declare_from_config(store, cfg, now)
    except StoreError as exc:
        raise ProbeError(str(exc)) from None


def _default_config(db_path):
    """No config file: the contract's defaults, every endpoint of the database."""
    from probe.config import from_dict

    return from_dict({"probe": {"database": db_path}} if db_path else {}, "<defaults>")


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

