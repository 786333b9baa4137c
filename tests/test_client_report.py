"""The report as handed to a client: wholly in the client's language (the causes that checks
record in English are said again in French), a title per language, display names, URLs only
on request."""

from __future__ import annotations

import asyncio
import json
import ssl

import pytest

from probe.check import CheckSpec, check
from probe.render.causes import ENGLISH_MARKERS, cause_text
from servers import garbage, hang, redirect, refused_port, reset, respond
from test_report import (
    OCT_END,
    OCT_START,
    Timeline,
    import_history,
    paris,
    report_json,
    run,
    utc,
    write_config,
    write_jsonl,
)


def real_failures(servers, certs) -> dict[str, tuple[str, str, str]]:
    """What real checks against local servers that fail each way record:
    name -> (state, error_class, error)."""
    tls = certs.context()
    ports = {
        "wrong_host": servers.serve(respond(), certs.context("wrong_host")),
        "expired": servers.serve(respond(), certs.context("expired")),
        "self_signed": servers.serve(respond(), certs.context("self_signed")),
        "old_tls": servers.serve(respond(), certs.context(max_version=ssl.TLSVersion.TLSv1_2)),
        "status": servers.serve(respond(503, b"down"), tls),
        "body": servers.serve(respond(body=b"maintenance"), tls),
        "slow": servers.serve(respond(delay=0.4), tls),
        "expiring": servers.serve(respond(), certs.context("expiring")),
        "hang": servers.serve(hang, tls),
        "garbage": servers.serve(garbage, tls),
        "reset": servers.serve(reset, tls),
        "to_http": servers.serve(redirect(lambda path: "http://127.0.0.1:1/"), tls),
        "refused": refused_port(),
    }
    options = {"body": {"expect_body": "ok"}, "slow": {"max_latency": 0.2}, "old_tls": {"min_tls": "1.3"},
               "hang": {"timeout": 0.5}}
    found = {}
    for name, port in ports.items():
        spec = CheckSpec(url=f"https://127.0.0.1:{port}/", ca_file=certs.ca_file,
                         **{"timeout": 2.0, **options.get(name, {})})
        result = asyncio.run(check(spec))
        assert result.state != "up", name
        found[name] = (result.state, result.error_class, result.error)
    found["dns"] = ("down", "dns", "cannot resolve nowhere.invalid: Name or service not known")
    return found


@pytest.fixture(scope="module")
def failing(tmp_path_factory, servers, certs):
    """A history in which each endpoint has one outage (or degradation) with the message a real
    check recorded; its config in French."""
    tmp = tmp_path_factory.mktemp("failing")
    failures = real_failures(servers, certs)
    lines = []
    for number, (name, (state, error_class, error)) in enumerate(failures.items()):
        timeline = Timeline(name, OCT_START, OCT_END)
        for line in timeline.lines():
            at = paris(2026, 10, 5 + number, 10)
            if line["at"] in (utc(at), utc(at + 5), utc(at + 300)):
                line.update(state=state, error_class=error_class, error=error)
                line.pop("http_status", None)
            lines.append(line)
    jsonl = write_jsonl(tmp / "failing.jsonl", lines)
    db = tmp / "probe.db"
    import_history(db, jsonl)
    config = write_config(tmp / "probe.toml", [(name, f'title = "Service {name}"') for name in failures])
    return {"db": db, "config": config, "failures": failures, "tmp": tmp}


def html_report(config, db, tmp, *args) -> str:
    out = tmp / "report.html"
    result = run("report", "--config", config, "--db", db, "--month", "2026-10", "-o", out, *args)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_the_french_report_shows_no_english_cause(failing):
    html = html_report(failing["config"], failing["db"], failing["tmp"], "--lang", "fr")
    for name, (_, _, error) in failing["failures"].items():
        assert error not in html, error
    for marker in ENGLISH_MARKERS:
        assert marker not in html, marker
    # the causes said again in French, from the real messages
    assert "le certificat ne nomme pas 127.0.0.1" in html
    assert "le certificat a expiré" in html
    assert "connexion impossible à 127.0.0.1:" in html
    assert "le serveur n’offre au mieux que TLS 1.2" in html
    assert "HTTP 503, attendu 200-399" in html or "HTTP 503, attendu 200-299" in html
    assert "délai de 500\u00a0ms dépassé" in html
    # the JSON keeps what the check recorded, word for word: it is evidence
    model = report_json(failing["config"], failing["db"], "--month", "2026-10")
    summaries = {e["name"]: e["incidents"][0]["summary"] for e in model["endpoints"]}
    for name, (_, _, error) in failing["failures"].items():
        assert summaries[name] == error, name


def test_the_english_report_keeps_the_checks_words(failing):
    html = html_report(failing["config"], failing["db"], failing["tmp"], "--lang", "en")
    assert "the certificate names 127.0.0.1 in no subjectAltName" in html


def test_display_names_and_no_urls_by_default(failing):
    html = html_report(failing["config"], failing["db"], failing["tmp"])
    assert "Service wrong_host" in html
    assert ".example.com/health" not in html
    model = report_json(failing["config"], failing["db"], "--month", "2026-10")
    first = model["endpoints"][0]
    assert first["title"] == "Service wrong_host" and first["name"] == "wrong_host"
    assert first["url"].endswith(".example.com/health")  # JSON keeps the URL
    assert model["show_urls"] is False


def test_show_urls_and_a_title_per_language(failing, tmp_path):
    config = write_config(tmp_path / "probe.toml", ["status"], extra=(
        '[report]\n'))  # replaced below: one [report] table only
    text = config.read_text().replace(
        '[report]\n', '[report]\nshow_urls = true\ntitle = { fr = "Disponibilité de l’Espace client", '
                      'en = "Client area availability" }\n', 1).rsplit("[report]\n", 1)[0]
    config.write_text(text)
    fr = html_report(config, failing["db"], tmp_path, "--lang", "fr")
    en = html_report(config, failing["db"], tmp_path, "--lang", "en")
    assert "<h1>Disponibilité de l’Espace client</h1>" in fr
    assert "<h1>Client area availability</h1>" in en
    assert "https://status.example.com/health" in fr
    assert report_json(config, failing["db"], "--month", "2026-10", "--lang", "en")["title"] == \
        "Client area availability"


@pytest.mark.parametrize("message, french", [
    ("cannot resolve api.example: Name or service not known", "le nom api.example ne se résout pas\u00a0: nom inconnu"),
    ("cannot connect to 10.0.0.1:443: connection refused", "connexion impossible à 10.0.0.1:443\u00a0: connexion refusée"),
    ("timed out after 10s: redirect 1 to https://x/: waiting for the response",
     "délai de 10\u00a0s dépassé\u00a0: à la redirection 1, attente de la réponse"),
    ("took 2500ms, over max_latency 2s", "réponse en 2500\u00a0ms, au-delà du seuil de 2\u00a0s"),
    ("certificate expires in 9 days (2026-10-29)", "le certificat expire dans 9\u00a0jours (2026-10-29)"),
    ("bad HTTP answer: server closed the connection without answering",
     "réponse HTTP invalide\u00a0: le serveur a fermé la connexion sans répondre"),
    ("something no pattern knows", "statut HTTP"),
])
def test_causes_in_french(message, french):
    assert cause_text(message, "http_status", "fr") == french


def test_an_english_cause_leaves_urls_out_unless_they_are_shown():
    message = "redirected to a non-HTTPS URL: http://intranet.example/health"
    assert cause_text(message, "redirects", "en", show_urls=False) == "redirected to a non-HTTPS URL: …"
    assert cause_text(message, "redirects", "en", show_urls=True) == message
    assert cause_text(message, "redirects", "fr", show_urls=True) == "redirection vers une adresse non HTTPS"


def test_a_cause_written_by_a_person_is_shown_as_written():
    assert cause_text("Wrong total on the invoices page", None, "fr", "manual") == \
        "Wrong total on the invoices page"


# ------------------------------------------------------------------ the service line


@pytest.fixture(scope="module")
def service_month(tmp_path_factory):
    """Two blocking endpoints and one whose outages are at most major, in October.

    a: down Mon 5 Oct 10:00-10:15 (first check up at 10:15).
    b: down Mon 5 Oct 10:10-10:20 and Tue 6 Oct 10:00-10:05.
    c (max_severity = "major"): down Wed 7 Oct 10:00-11:00: not part of the service line.
    a and b: no check from Tue 20 Oct 00:00 to 01:00 included: the 23:55 check vouches until
    00:02:30, the next is at 01:05: 00:02:30-01:05 (3 750 s) unmonitored for both.
    """
    tmp = tmp_path_factory.mktemp("service")
    gap = (paris(2026, 10, 20), paris(2026, 10, 20, 1))
    a = (Timeline("a", OCT_START, OCT_END)
         .episode(paris(2026, 10, 5, 10), paris(2026, 10, 5, 10, 15), "http_status").drop(*gap))
    b = (Timeline("b", OCT_START, OCT_END)
         .episode(paris(2026, 10, 5, 10, 10), paris(2026, 10, 5, 10, 20), "http_status")
         .episode(paris(2026, 10, 6, 10), paris(2026, 10, 6, 10, 5), "connect").drop(*gap))
    c = Timeline("c", OCT_START, OCT_END).episode(paris(2026, 10, 7, 10), paris(2026, 10, 7, 11), "http_status")
    db = tmp / "probe.db"
    import_history(db, write_jsonl(tmp / "h.jsonl", a, b, c))
    config = write_config(tmp / "probe.toml", ["a", "b", ("c", 'max_severity = "major"')])
    return {"db": db, "config": config, "tmp": tmp}


def test_the_service_line_is_worked_out_by_hand(service_month):
    from fractions import Fraction

    model = report_json(service_month["config"], service_month["db"], "--month", "2026-10")
    service = model["service"]
    assert service["endpoints"] == ["a", "b"]
    # downtime: the union 5 Oct 10:00-10:20 (1 200 s, the overlap 10:10-10:15 once) + 6 Oct
    # 10:00-10:05 (300 s) = 1 500 s; c's hour is not the service's.
    assert service["downtime_seconds"] == 1500
    # eligible: October (2 682 000 s) less the 3 750 s when neither a nor b was monitored
    assert service["eligible_seconds"] == 2_682_000 - 3750
    assert service["not_eligible_seconds"] == 3750
    exact = 100 * (1 - Fraction(1500, 2_678_250))  # 99.94399...
    assert service["availability_display"] == "99.943" and exact > Fraction(99943, 1000)
    assert service["met"] is True
    assert service["allowed_downtime_seconds"] == 5356.5  # 0.2 % of 2 678 250 s
    assert [(p["start"], p["end"]) for p in service["down_periods"]] == [
        ("2026-10-05T10:00:00+02:00", "2026-10-05T10:20:00+02:00"),
        ("2026-10-06T10:00:00+02:00", "2026-10-06T10:05:00+02:00"),
    ]
    # each endpoint keeps its own figures
    assert {e["name"]: e["downtime_seconds"] for e in model["endpoints"]} == {"a": 900, "b": 900, "c": 3600}


def test_the_service_line_heads_the_summary_in_both_languages(service_month):
    fr = html_report(service_month["config"], service_month["db"], service_month["tmp"], "--lang", "fr")
    en = html_report(service_month["config"], service_month["db"], service_month["tmp"], "--lang", "en")
    assert fr.index("Service dans son ensemble") < fr.index('class="data summary-table"')
    assert "99,943\u202f%" in fr and "99.943%" in en
    assert "Le service dans son ensemble." in fr and "The service as a whole." in en


def test_text_in_the_print_style_sheet_cannot_leave_its_string():
    from probe.render.print_css import css_string

    hostile = 'Client "SA"; } </style><script>alert(1)</script> \\'
    quoted = str(css_string(hostile))
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == '"'
    for char in '"<>/;{}\\ ':
        assert char not in inner.replace("\\0000", ""), char  # only the escapes' own backslash
    # each escape is six hex digits: the text reads back unchanged
    import re
    assert re.sub(r"\\([0-9a-f]{6})", lambda m: chr(int(m[1], 16)), inner) == hostile
