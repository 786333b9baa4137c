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

from .options import EXIT_CRITICAL, EXIT_OK, EXIT_UNKNOWN, EXIT_WARNING, ProbeError, _converter, _positive_int, cli, format_table


@cli.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per URL per line.")
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
def check(urls, as_json, ca_file, timeout, expect_status, expect_body, max_latency, min_tls,
          cert_warn_days, concurrency, headers, method, no_follow_redirects, workers, loop):
    """Check each URL once, concurrently, and report.

    Exit status: 0 all up, 1 some degraded and none down, 2 some down, 3 usage error or a
    check the prober could not make (probe_error).

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
    sys.exit(exit_status(results))


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
