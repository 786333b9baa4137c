"""`probe run`, `probe config check` and `probe status`: the daemon, its config, and what it sees now."""

from __future__ import annotations

import os
import sys

import click

from probe.text import json_text, printable

from .options import _converter, _echo_lines, cli, declare_maintenance, history_options, load_config, open_store


@cli.command()
@history_options
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default=None, help="What is logged  [default: INFO].")
@click.option("-q", "--quiet", is_flag=True, help="Warnings and errors only (--log-level WARNING).")
@click.option("-v", "--verbose", is_flag=True, help="Everything, debug lines too (--log-level DEBUG).")
@click.option("--listen", metavar="HOST:PORT", callback=_converter(lambda v: _parse_listen(v), "address"),
              help="Serve /metrics, /status.json and the status page there "
                   "(loopback only, unless $PROBE_LISTEN_TOKEN sets a bearer token).")
@click.option("--listen-tls-cert", metavar="FILE", type=click.Path(dir_okay=False),
              help="Serve --listen over TLS with this certificate chain (PEM); needs --listen-tls-key.")
@click.option("--listen-tls-key", metavar="FILE", type=click.Path(dir_okay=False),
              help="The private key (PEM) of --listen-tls-cert.")
def run(config_path, db_path, log_level, quiet, verbose, listen, listen_tls_cert, listen_tls_key):
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
      probe run -q --config probe.toml     warnings and errors only

    \b
    A hub, taking the pushes of the [[site]] sections of its config, over TLS:
      probe run --config hub.toml --listen 0.0.0.0:9464 \\
        --listen-tls-cert hub.pem --listen-tls-key hub.key
    """
    from probe import daemon

    if sum(map(bool, (log_level, quiet, verbose))) > 1:
        raise click.UsageError("give one of --log-level, -q/--quiet and -v/--verbose")
    daemon.setup_logging("WARNING" if quiet else "DEBUG" if verbose else (log_level or "INFO").upper())
    token = os.environ.get("PROBE_LISTEN_TOKEN") or None  # not a flag: it would show in ps
    if bool(listen_tls_cert) != bool(listen_tls_key):
        raise click.UsageError("--listen-tls-cert and --listen-tls-key go together")
    tls = (listen_tls_cert, listen_tls_key) if listen_tls_cert else None
    sys.exit(daemon.run(config_path, db_path, listen, token, tls))


def _parse_listen(value):
    from probe.daemon.web import parse_listen

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
    from probe.config import describe_sites
    from probe.spec import describe_status_list, public_url
    from probe import sla
    from probe.text import say_duration

    _echo_lines(f"{file}: OK")
    for where in cfg.unset_secrets:
        click.echo(printable(f"warning: {where} is not set in the environment: `probe run` and `probe alert test`"
                             " will refuse to start without it"), err=True)
    _echo_lines(f"database: {cfg.probe.database}   site: {cfg.probe.site}   retention: {cfg.probe.retention_days} days")
    _echo_lines(f"SLA: {cfg.sla.target} % in {cfg.sla.timezone}, holidays {cfg.sla.holidays}, confirm {cfg.sla.confirm}"
                + (f", support hours {cfg.sla.support_hours}" if sla.uses_support_hours(cfg.sla.deadlines) else ""))
    if cfg.web.public:
        _echo_lines("web: public: with --listen, the status page (/) and /feed.atom are served without the token,"
                    " with display names and no URLs")
    _echo_lines(f"{len(cfg.endpoints)} endpoint(s):")
    for e in cfg.endpoints:
        spec = e.spec
        expect = [f"status {describe_status_list(spec.expect_status)}"]
        if spec.expect_body is not None:
            expect.append(f"body contains {spec.expect_body!r}")
        if spec.max_latency:
            expect.append(f"degraded over {say_duration(spec.max_latency)}")
        headers = ", ".join(f"{name}: ***" for name, _ in spec.headers)
        _echo_lines(f"  {e.name}: {spec.method} {public_url(spec.url)} every {say_duration(e.interval)}, timeout {say_duration(spec.timeout)},"
                    f" TLS >= {spec.min_tls}, {'; '.join(expect)}; outage after {e.confirm} down checks"
                    + (f"; at most {e.severity_cap}" if e.severity_cap else "")
                    + (f"; objective p{e.latency_objective.percentile:g} at most {say_duration(e.latency_objective.under)}"
                       if e.latency_objective else "")
                    + (f"; headers {headers}" if headers else "")
                    + ("; no TLS audit" if e.tls_audit is None else f"; TLS audit every {say_duration(e.tls_audit)}"))
    if not cfg.endpoints and not cfg.sites:
        _echo_lines("  (none: `probe run` needs at least one [[endpoint]])")
    for line in describe_sites(cfg.upstream, cfg.sites, cfg.hub):
        _echo_lines(line)
    for m in cfg.maintenance:
        who = ", ".join(m.endpoints) if m.endpoints else "all endpoints"
        if m.every:
            from probe.config import WEEKDAYS

            days = ", ".join(WEEKDAYS[d] for d in m.every)
            _echo_lines(f"maintenance: every {days} at {m.at} for {say_duration(m.duration)} ({who}) {m.reason}".rstrip())
        else:
            _echo_lines(f"maintenance: {m.start.isoformat()} to {m.end.isoformat()} ({who}) {m.reason}".rstrip())
    for h in cfg.heartbeats:
        _echo_lines(f"heartbeat: {h.name}: {repr(h.schedule) if h.schedule else 'every ' + say_duration(h.every)},"
                    f" grace {say_duration(h.grace)}, incidents {h.severity}")


@cli.command()
@history_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per endpoint (then per site, on a hub, then per heartbeat job) per line.")
def status(config_path, db_path, as_json):
    """Each endpoint's state, since when, its last check, the daemon's lag, and availability
    over the last 24 hours and 30 days; then each heartbeat job's state, last signal and next
    due.

    \b
    Example:
      probe status --config /etc/probe/probe.toml
    """
    import time as clock

    from probe.config import SLASettings
    from probe.report import status as status_module

    cfg = load_config(config_path)
    store = open_store(cfg, db_path)
    with store:
        if cfg:
            declare_maintenance(store, cfg, clock.time())
        report = status_module.collect(store, cfg, clock.time())
    if as_json:
        click.echo(json_text(report["daemon"]))
        for row in report["endpoints"]:
            click.echo(json_text(row))
        for row in report.get("sites", ()):  # a hub's: the sites that push to it
            click.echo(json_text(row))
        for row in report.get("heartbeats", ()):  # the [[heartbeat]] jobs
            click.echo(json_text(row))
    else:
        zone = cfg.sla.timezone if cfg else SLASettings().timezone
        _echo_lines(status_module.format_text(report, zone, clock.time()))
