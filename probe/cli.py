"""The command line: parses options, calls the library, turns library errors into one-line
messages. Exit statuses follow monitoring plugins: 0 ok, 1 warning, 2 critical, 3 unknown."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from probe import __version__
from probe.check import CheckSpec, check_many
from probe.config import (
    TLS_VERSIONS,
    check_ca_file,
    check_url,
    parse_duration,
    parse_header,
    parse_status_list,
)

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3


class ProbeError(click.ClickException):
    """A one-line error; exit 3 like a monitoring plugin's 'unknown'."""

    exit_code = EXIT_UNKNOWN

    def show(self, file=None):
        click.echo(f"probe: {self.format_message()}", err=True)


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
            click.echo(f"{command}: {exc.format_message()} (see '{command} --help')", err=True)
            sys.exit(EXIT_UNKNOWN)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)


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
@click.option("--timeout", default="10s", show_default=True,
              callback=_converter(parse_duration, "duration"),
              help="One deadline for the whole check: DNS, connect, TLS, request, body.")
@click.option("--expect-status", default="200-299", show_default=True,
              callback=_converter(parse_status_list, "status list"), help="Codes and ranges, e.g. 200-299,301.")
@click.option("--expect-body", help="The body (first 1 MiB) must contain this text.")
@click.option("--max-latency", callback=_converter(parse_duration, "duration"),
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
def check(urls, as_json, ca_file, timeout, expect_status, expect_body, max_latency, min_tls,
          cert_warn_days, concurrency, headers, method, no_follow_redirects):
    """Check each URL once, concurrently, and report.

    Exit status: 0 all up, 1 some degraded and none down, 2 some down, 3 usage error.

    \b
    Example:
      probe check https://example.com/health --expect-body ok --max-latency 2s
    """
    try:
        for url in urls:
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
    results = asyncio.run(check_many(specs, concurrency=concurrency))
    if as_json:
        for result in results:
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(format_table(results))
    states = {result.state for result in results}
    if "down" in states:
        sys.exit(EXIT_CRITICAL)
    if "degraded" in states:
        sys.exit(EXIT_WARNING)
    sys.exit(EXIT_OK)


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
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    return "\n".join(lines)


def main():
    cli.main(prog_name="probe")
