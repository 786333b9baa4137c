"""The report's "Security of connections" section: a month of dated TLS audits and checks,
imported as `probe export` writes them, reported with the real CLI; figures worked out by hand.

October 2026 in Paris. One audit a day at 03:00 local time, 31 in all:
- 20 October: the server could not be reached: `failed`, counted neither way -> 30 audits made;
- 12 October: TLSv1 accepted -> not compliant; the other 29 are compliant -> 29 of 30;
- 1 to 9 October: no HSTS header (a warning, compliant all the same): 9 audits, first seen on
  1 October 03:00, last seen on 9 October 03:00;
- the certificate's serial changes on 10 October: renewed then, valid until 2027-01-08.
Checks: 10 negotiated TLSv1.3 and 2 TLSv1.2 (1 failed to connect, no TLS): TLSv1.3 on 10/12 =
83.33... % of checks, shown truncated 83.3 %; TLSv1.2 on 2/12 = 16.66... %, shown 16.6 %.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from probe.cli import cli

PARIS = ZoneInfo("Europe/Paris")
NAME = "portail"


def at_ms(day: int, hour: int = 3) -> int:
    return int(datetime(2026, 10, day, hour, tzinfo=PARIS).timestamp() * 1000)


def utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")


def audit_record(day: int) -> dict:
    if day == 20:
        return {"record": "tls_audit", "endpoint": NAME, "at": at_ms(day),
                "report": {"url": None, "profile": "tls12+", "error": "cannot connect to portail.example.com:443"}}
    findings = []
    if day == 12:
        findings.append({"level": "critical", "code": "old_protocol", "text": "TLSv1 is accepted", "subject": "TLSv1"})
    if day < 10:
        findings.append({"level": "warning", "code": "no_hsts", "text": "no Strict-Transport-Security header",
                         "subject": None})
    compliant = day != 12
    level = "not_compliant" if not compliant else "warning" if findings else "compliant"
    report = {
        "url": "https://portail.example.com/", "profile": "tls12+", "compliant": compliant, "level": level,
        "protocols": {"TLSv1": day == 12, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True},
        "certificate": {"serial": "aa" if day < 10 else "bb",
                        "not_after": "2026-11-01T00:00:00+00:00" if day < 10 else "2027-01-08T12:00:00+00:00"},
        "findings": findings,
    }
    return {"record": "tls_audit", "endpoint": NAME, "at": at_ms(day), "report": report}


def check_lines() -> list[dict]:
    lines = []
    for number in range(13):
        record = {"endpoint": NAME, "at": utc(at_ms(5, 10) + number * 300_000), "interval_s": 300,
                  "site": "paris-1"}
        if number == 6:
            record.update(state="down", error_class="connect", error="connection refused")
        else:
            record.update(state="up", http_status=200, total_ms=120.0,
                          tls_version="TLSv1.2" if number in (3, 9) else "TLSv1.3")
        lines.append(record)
    return lines


@pytest.fixture(scope="module")
def october(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls-report")
    history = tmp / "history.jsonl"
    records = check_lines() + [audit_record(day) for day in range(1, 32)]
    history.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    db = tmp / "probe.db"
    done = CliRunner().invoke(cli, ["import", str(history), "--db", str(db)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    config = tmp / "probe.toml"
    config.write_text('[sla]\ntimezone = "Europe/Paris"\n\n[[endpoint]]\nname = "portail"\n'
                      'url = "https://portail.example.com/"\n', encoding="utf-8")
    return tmp, config, db


def report(october, *options):
    _, config, db = october
    done = CliRunner().invoke(cli, ["report", "--config", str(config), "--db", str(db), "--month", "2026-10",
                                    *options], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.stdout


def test_the_json_report_counts_the_months_audits_and_the_negotiated_versions(october):
    [section] = json.loads(report(october, "--format", "json"))["endpoints"]
    tls = section["tls_audit"]
    assert (tls["profile"], tls["audits"], tls["compliant_audits"], tls["failed_audits"]) == ("tls12+", 30, 29, 1)
    assert tls["first_audit"] == "2026-10-01T03:00:00+02:00" and tls["last_audit"] == "2026-10-31T03:00:00+01:00"
    assert tls["failures"] == [{"at": "2026-10-20T03:00:00+02:00", "error": "cannot connect to portail.example.com:443"}]
    assert [(f["code"], f["audits"], f["first_seen"], f["last_seen"]) for f in tls["findings"]] == [
        ("old_protocol", 1, "2026-10-12T03:00:00+02:00", "2026-10-12T03:00:00+02:00"),
        ("no_hsts", 9, "2026-10-01T03:00:00+02:00", "2026-10-09T03:00:00+02:00"),
    ]
    assert tls["certificate_renewals"] == [{"date": "2026-10-10T03:00:00+02:00", "not_after": "2027-01-08T12:00:00+00:00"}]
    assert tls["certificate_not_after"] == "2027-01-08T12:00:00+00:00"
    assert tls["protocols"] == {"TLSv1": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True}
    assert tls["negotiated_versions"] == [{"version": "TLSv1.3", "checks": 10, "percent": 83.3},
                                          {"version": "TLSv1.2", "checks": 2, "percent": 16.6}]


def test_an_as_of_time_leaves_out_later_audits(october):
    [section] = json.loads(report(october, "--format", "json", "--as-of", "2026-10-15T00:00:00+02:00"))["endpoints"]
    # 1 to 14 October: 14 audits, none failed, all but the 12th compliant
    assert (section["tls_audit"]["audits"], section["tls_audit"]["compliant_audits"]) == (14, 13)


@pytest.mark.parametrize("lang, words", [
    ("fr", ["Sécurité des connexions", "TLS 1.2 ou plus uniquement : conforme lors de 29 des 30 audits quotidiens.",
            "TLSv1.3 négocié par 83,3\u202f% des mesures ; TLSv1.2 négocié par 16,6\u202f% des mesures.",
            "Certificat renouvelé le 10 octobre 2026 à 03:00.", "Version ancienne acceptée : TLSv1",
            "Pas d’en-tête HSTS"]),
    ("en", ["Security of connections", "TLS 1.2+ only: compliant on 29 of 30 daily audits.",
            "TLSv1.3 negotiated by 83.3% of checks; TLSv1.2 negotiated by 16.6% of checks.",
            "Certificate renewed on 10 October 2026, 03:00.", "Old protocol version accepted: TLSv1",
            "No HSTS header"]),
])
def test_the_html_section_in_french_and_english(october, lang, words):
    tmp, _, _ = october
    page = tmp / f"report-{lang}.html"
    report(october, "--lang", lang, "-o", str(page))
    html = page.read_text(encoding="utf-8")
    for text in words:
        assert text.replace("’", "&#39;") in html or text in html, text


@pytest.mark.browser
def test_the_section_reads_in_chromium(october):
    import browser

    if not browser.available():
        pytest.skip("no /usr/bin/chromium")
    tmp, _, _ = october
    page = tmp / "report-browser.html"
    report(october, "--lang", "en", "-o", str(page))
    dom = browser.dump_dom(page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.console_messages() == []
    assert "TLS 1.2+ only: compliant on 29 of 30 daily audits." in dom.stdout
    assert '<tr class="tls-critical">' in dom.stdout
