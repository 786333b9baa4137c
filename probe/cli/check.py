"""`probe check URL...`: one honest HTTPS check of each URL, now."""

from __future__ import annotations

import sys

import click

from probe.config import (
    check_ca_file,
    check_url,
    duration_in,
    parse_header,
    parse_status_list,
)
from probe.spec import TLS_VERSIONS, CheckSpec
from probe.text import json_text

from .nagios import Thresholds, plain, plugin_output, read_url_list
from .options import EXIT_CRITICAL, EXIT_OK, EXIT_UNKNOWN, EXIT_WARNING, ProbeError, _converter, _positive_int, cli, format_table


@cli.command()
@click.argument("urls", nargs=-1, metavar="URL...")
@click.option("--urls-from", metavar="FILE|-",
              help="Also check the URLs of this file (- for stdin): one a line, blank lines and # comments skipped.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per URL per line (--format json).")
@click.option("--format", "output", type=click.Choice(["table", "json", "nagios"]), default="table", show_default=True,
              help="nagios: one status line and perfdata, as Nagios, Icinga and Naemon read a plugin's output.")
@click.option("-w", "--warning", metavar="SECONDS",
              help="nagios: WARNING when the check takes longer, e.g. 2 or 2s or 500ms.")
@click.option("-c", "--critical", metavar="SECONDS",
              help="nagios: CRITICAL when the check takes longer, e.g. 10 or 10s.")
@click.option("--cert-warning", type=click.IntRange(0, 3650), default=14, show_default=True, metavar="DAYS",
              help="nagios: WARNING when the certificate expires in fewer days.")
@click.option("--cert-critical", type=click.IntRange(0, 3650), default=7, show_default=True, metavar="DAYS",
              help="nagios: CRITICAL when the certificate expires in fewer days.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, readable=True),
              help="Trust these CA certificates instead of the system store.")
@click.option("--timeout", default="10s", show_default=True, metavar="DURATION",
              callback=_converter(duration_in(0.1, 300), "duration"),
              help="One deadline for the whole check: DNS, connect, TLS, request, body.")
@click.option("--expect-status", default="200-299", show_default=True, metavar="LIST",
              callback=_converter(parse_status_list, "status list"), help="Codes and ranges, e.g. 200-299,301.")
@click.option("--expect-body", metavar="TEXT", help="The body (first 1 MiB) must contain this text.")
@click.option("--max-latency", metavar="DURATION", callback=_converter(duration_in(0.001, 300), "duration"),
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
def check(urls, urls_from, as_json, output, warning, critical, cert_warning, cert_critical, ca_file, timeout,
          expect_status, expect_body, max_latency, min_tls, cert_warn_days, concurrency, headers, method,
          no_follow_redirects, workers, loop):
    """Check each URL once, concurrently, and report.

    Exit status: 0 all up, 1 some degraded and none down, 2 some down, 3 usage error or a
    check the prober could not make (probe_error). With --format nagios, the thresholds
    (-w, -c, --cert-warning, --cert-critical) count too, and a bad URL or threshold, or a file
    that cannot be read, is a "PROBE UNKNOWN" line.

    \b
    Example:
      probe check https://example.com/health --expect-body ok --max-latency 2s
      probe check --format nagios -w 2 -c 10 https://example.com/health
      probe check --format nagios --urls-from urls.txt
    """
    if output == "nagios":
        try:
            _check(urls, urls_from, output, warning, critical, cert_warning, cert_critical, ca_file, timeout,
                   expect_status, expect_body, max_latency, min_tls, cert_warn_days, concurrency, headers, method,
                   no_follow_redirects, workers, loop)
        except ProbeError as exc:
            click.echo(f"PROBE UNKNOWN - {plain(exc.message)}")
            sys.exit(EXIT_UNKNOWN)
    _check(urls, urls_from, "json" if as_json else output, warning, critical, cert_warning, cert_critical, ca_file,
           timeout, expect_status, expect_body, max_latency, min_tls, cert_warn_days, concurrency, headers, method,
           no_follow_redirects, workers, loop)


def _check(urls, urls_from, output, warning, critical, cert_warning, cert_critical, ca_file, timeout,
           expect_status, expect_body, max_latency, min_tls, cert_warn_days, concurrency, headers, method,
           no_follow_redirects, workers, loop):
    from probe.urls import idna_problem

    warning, critical = _threshold("-w/--warning", warning), _threshold("-c/--critical", critical)
    urls = list(urls)
    if urls_from is not None:
        urls += _read_urls_from(urls_from)
    if not urls:
        raise ProbeError("no URL to check: give URLs, or --urls-from FILE (- for stdin)")
    if warning is not None and critical is not None and warning > critical:
        raise ProbeError(f"-w/--warning ({warning:g}s) is longer than -c/--critical ({critical:g}s)")
    if cert_critical > cert_warning:
        raise ProbeError(f"--cert-critical ({cert_critical}) is more days than --cert-warning ({cert_warning})")
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
    if output == "nagios":
        state, text = plugin_output(results, Thresholds(warning, critical, cert_warning, cert_critical))
        click.echo(text)
        sys.exit(state)
    if output == "json":
        for result in results:
            click.echo(json_text(result.to_json()))
    else:
        click.echo(format_table(results))
    sys.exit(exit_status(results))


def _threshold(option: str, text: str | None) -> float | None:
    """A time threshold read as every duration is (``2`` is 2 s); a bad one is a usage error
    of its own, which --format nagios says as a "PROBE UNKNOWN" line."""
    try:
        return None if text is None else duration_in(0.001, 300)(text)
    except ValueError as exc:
        raise ProbeError(f"{option}: {exc}") from None


def _read_urls_from(name: str) -> list[str]:
    """The URLs of --urls-from FILE (``-``: stdin); a file that cannot be read is a usage error
    of its own, which --format nagios says as a "PROBE UNKNOWN" line."""
    try:
        if name == "-":
            return read_url_list(sys.stdin.read())
        with open(name, encoding="utf-8") as lines:
            return read_url_list(lines.read())
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProbeError(f"--urls-from: cannot read {name}: {reason}") from None


def exit_status(results) -> int:
    """As monitoring plugins say it: CRITICAL when an endpoint is down, UNKNOWN when a check
    could not be made (``probe_error``: the prober's own trouble says nothing of the endpoint),
    WARNING when one is degraded, else OK."""
    if any(r.state == "down" and r.error_class != "probe_error" for r in results):
        return EXIT_CRITICAL
    if any(r.error_class == "probe_error" for r in results):
        return EXIT_UNKNOWN
    if any(r.state == "degraded" for r in results):
        return EXIT_WARNING
    return EXIT_OK
