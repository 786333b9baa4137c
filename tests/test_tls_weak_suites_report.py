"""A weak TLS 1.2 suite in the report says what makes it weak (the audit's own flags for that
suite), in the report's language, rather than every reason a suite may be weak."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from probe.cli import cli

PARIS = ZoneInfo("Europe/Paris")


def suite(name, forward_secrecy=True, cbc=False, sha1_mac=False):
    return {"name": name, "forward_secrecy": forward_secrecy, "cbc": cbc, "sha1_mac": sha1_mac, "export": False,
            "anonymous": False, "null_encryption": False}


def finding(name, weakness):
    return {"level": "warning", "code": "weak_suite", "text": f"TLS 1.2 suite {name}: {weakness}", "subject": name}


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("weak-suites")
    at = int(datetime(2026, 10, 5, 3, tzinfo=PARIS).timestamp() * 1000)
    report = {
        "url": "https://portail.example.com/", "profile": "tls12+", "compliant": True, "level": "warning",
        "protocols": {"TLSv1": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True},
        "tls12_suites": [suite("ECDHE-RSA-AES128-GCM-SHA256"), suite("ECDHE-RSA-AES128-SHA", cbc=True, sha1_mac=True),
                         suite("AES256-GCM-SHA384", forward_secrecy=False)],
        "certificate": {"serial": "aa", "not_after": "2027-01-08T12:00:00+00:00"},
        "findings": [finding("ECDHE-RSA-AES128-SHA", "CBC, SHA-1 MAC"), finding("AES256-GCM-SHA384", "no forward secrecy")],
    }
    history = tmp / "history.jsonl"
    history.write_text(json.dumps({"record": "tls_audit", "endpoint": "portail", "at": at, "report": report}) + "\n")
    db = tmp / "probe.db"
    done = CliRunner().invoke(cli, ["import", str(history), "--db", str(db)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    config = tmp / "probe.toml"
    config.write_text('[sla]\ntimezone = "Europe/Paris"\n\n[[endpoint]]\nname = "portail"\n'
                      'url = "https://portail.example.com/"\n', encoding="utf-8")
    return config, db


def report(month, *options):
    config, db = month
    done = CliRunner().invoke(cli, ["report", "--config", str(config), "--db", str(db), "--month", "2026-10",
                                    "--as-of", "2026-11-02T00:00", *options], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.stdout


def test_the_json_names_each_suites_weaknesses(month):
    [section] = json.loads(report(month, "--format", "json"))["endpoints"]
    assert [(f["subject"], f["weaknesses"]) for f in section["tls_audit"]["findings"]] == [
        ("ECDHE-RSA-AES128-SHA", ["cbc", "sha1_mac"]), ("AES256-GCM-SHA384", ["no_forward_secrecy"])]


@pytest.mark.parametrize("lang, lines", [
    ("fr", ["Suite TLS 1.2 faible : ECDHE-RSA-AES128-SHA (CBC, MAC SHA-1)",
            "Suite TLS 1.2 faible : AES256-GCM-SHA384 (sans confidentialité persistante)"]),
    ("en", ["Weak TLS 1.2 suite: ECDHE-RSA-AES128-SHA (CBC, SHA-1 MAC)",
            "Weak TLS 1.2 suite: AES256-GCM-SHA384 (no forward secrecy)"]),
])
def test_the_html_says_what_makes_each_suite_weak(month, lang, lines, tmp_path):
    report(month, "--lang", lang, "-o", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for line in lines:
        assert line in html, line
    assert "export" not in html  # only the suites' own weaknesses are named
