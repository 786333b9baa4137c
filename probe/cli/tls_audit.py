"""`probe tls-audit URL...`: which TLS versions and suites a server accepts, its certificate,
HSTS and OCSP stapling, judged against a profile."""

from __future__ import annotations

import sys

import click

from probe.config import check_ca_file, check_url, duration_in
from probe.text import json_text, printable, text_table

from .options import EXIT_CRITICAL, EXIT_OK, EXIT_UNKNOWN, EXIT_WARNING, ProbeError, _converter, cli

_PROFILES = ("tls12+", "intermediate")  # probe.check.TLS_AUDIT_PROFILES, without importing it at start
_EXIT = {"compliant": EXIT_OK, "warning": EXIT_WARNING, "not_compliant": EXIT_CRITICAL}


@cli.command("tls-audit")
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per URL per line.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, readable=True),
              help="Trust these CA certificates instead of the system store.")
@click.option("--profile", type=click.Choice(_PROFILES), default="tls12+", show_default=True,
              help="tls12+: nothing below TLS 1.2, a certificate valid for the host name; "
                   "intermediate: Mozilla's intermediate configuration.")
@click.option("--timeout", default="10s", show_default=True, metavar="DURATION",
              callback=_converter(duration_in(0.1, 300), "duration"), help="Deadline of each connection.")
def tls_audit(urls, as_json, ca_file, profile, timeout):
    """Audit the TLS of each URL: each protocol version offered alone (1.0 to 1.3), the TLS 1.2
    suites accepted (flagging those without forward secrecy, with CBC or a SHA-1 MAC, or
    export-grade), the certificate (key, signature, expiry, chain, host name), HSTS and OCSP
    stapling.

    Exit status: 0 all compliant, 1 compliant with warnings, 2 some not compliant, 3 usage error
    or a server that could not be audited.

    \b
    Example:
      probe tls-audit https://example.com/ --profile intermediate
    """
    from probe.check import AuditFailed, audit

    try:
        for url in urls:
            check_url(url)
        if ca_file:
            check_ca_file(ca_file)
    except ValueError as exc:
        raise ProbeError(str(exc)) from None
    statuses = []
    for url in urls:
        try:
            report = audit(url, ca_file=ca_file, profile=profile, timeout=timeout)
        except AuditFailed as exc:
            statuses.append(EXIT_UNKNOWN)
            if as_json:
                click.echo(json_text({"url": url, "profile": profile, "error": str(exc)}))
            else:
                click.echo(f"{printable(url)}: could not audit: {printable(str(exc))}")
            continue
        statuses.append(_EXIT[report["level"]])
        click.echo(json_text(report) if as_json else describe(report))
    sys.exit(EXIT_UNKNOWN if EXIT_UNKNOWN in statuses else max(statuses))


# The table's words for the audit's level: a warning is compliant all the same (exit 1).
VERDICTS = {"compliant": "compliant", "warning": "compliant, with warnings", "not_compliant": "not compliant"}


def _yes(value) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def describe(report: dict) -> str:
    """The audit as the terminal shows it: a table of facts, then the findings."""
    cert = report["certificate"]
    hsts = report["hsts"]
    rows = [("URL", report["url"]), ("profile", report["profile"]),
            ("verdict", VERDICTS.get(report["level"], report["level"]))]
    rows += [(name, "accepted" if accepted else "refused") for name, accepted in report["protocols"].items()]
    rows += [
        ("TLS 1.2 suites", f"{len(report['tls12_suites'])} accepted, {len(report['weak_suites'])} weak"),
        ("certificate", f"{cert['key_type']} {cert['key_bits'] or ''} bits, {cert['signature_algorithm']}"),
        ("expires", f"{cert['not_after'][:10]} ({cert['days_left']} days)"),
        ("chain verified", _yes(cert["chain_verified"])),
        ("host name", "valid" if cert["host_matches"] else "not valid"),
        ("HSTS", "none" if hsts is None else f"max-age={hsts['max_age']}"
                 + ("; includeSubDomains" if hsts["include_subdomains"] else "")),
        ("OCSP stapling", _yes(report["ocsp_stapling"])),
    ]
    lines = [text_table(rows)]
    lines += [printable(f"{finding['level']}: {finding['text']}") for finding in report["findings"]]
    return "\n".join(lines)
