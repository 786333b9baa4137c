"""The report's presentation: formats, escaping, self-containment, template override, and the
rendered page in a real headless Chromium (screenshot, A4 PDF, DOM)."""

from __future__ import annotations

import copy
import json
import re
import struct
import sys
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from probe import render
from probe.render import (
    NBSP,
    NNBSP,
    default_filename,
    format_date,
    format_datetime,
    format_deadline,
    format_duration,
    format_month,
    format_number,
    format_percent,
    render_html,
)

sys.path.insert(0, str(Path(__file__).parent))
import browser  # noqa: E402  (the Chromium helper next to this file)

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&'


def day_seconds(day: date) -> int:
    # 25 October 2026: Paris goes back from summer time, the day lasts 25 hours.
    return 90000 if day == date(2026, 10, 25) else 86400


def make_days(overrides=None, latency=True):
    days = []
    for n in range(31):
        day = date(2026, 10, 1) + timedelta(days=n)
        days.append({
            "date": day.isoformat(), "availability_percent": 100.0, "downtime_seconds": 0,
            "eligible_seconds": day_seconds(day), "unmonitored_seconds": 0, "maintenance_seconds": 0,
            "latency_p50_ms": (110.0 + (n * 7) % 40) if latency else None,
            "latency_p95_ms": (300.0 + (n * 37) % 160) if latency else None,
        })
    for index, values in (overrides or {}).items():
        days[index].update(values)
    return days


def make_model() -> dict:
    """A month shaped like the one the report model builder produces."""
    api = {
        "name": "api", "url": "https://api.example.com/health", "severity_cap": None,
        "availability_percent": 99.80672, "availability_display": "99.806", "met": True,
        "period_seconds": 2682000, "eligible_seconds": 2678400, "unmonitored_seconds": 600,
        "maintenance_seconds": 3000, "downtime_seconds": 5180, "allowed_downtime_seconds": 5356.8,
        "coverage_percent": 99.97762, "blips": 3,
        "days": make_days({6: {"availability_percent": 94.005, "downtime_seconds": 5180},
                           11: {"latency_p50_ms": None, "latency_p95_ms": None}}),
        "incidents": [
            {"id": 12, "start": "2026-10-07T10:00:00+02:00", "end": "2026-10-07T11:26:20+02:00",
             "severity": "blocking", "error_class": "http_status", "source": "detected",
             "summary": "HTTP 503", "downtime_seconds": 5180, "duration_seconds": 5180,
             "acknowledge_deadline": "2026-10-07T15:00:00+02:00",
             "acknowledged": "2026-10-07T10:12:00+02:00", "acknowledged_by": "alice",
             "acknowledge": "met", "fix_deadline": "2026-10-08T10:00:00+02:00", "fix": "met"},
            {"id": 13, "start": "2026-10-25T02:30:00+01:00", "end": "2026-10-25T02:40:00+01:00",
             "severity": "major", "error_class": "too_slow", "source": "detected",
             "summary": "p95 above 2 s", "downtime_seconds": 0, "duration_seconds": 600,
             "acknowledge_deadline": "2026-10-27T09:00:00+01:00", "acknowledged": None,
             "acknowledged_by": None, "acknowledge": "missed",
             "fix_deadline": "2026-10-28T09:00:00+01:00", "fix": "met"},
            {"id": None, "start": "2026-10-30T16:00:00+01:00", "end": None,
             "severity": "minor", "error_class": None, "source": "manual",
             "summary": "Wrong total on the invoices page", "downtime_seconds": 0,
             "duration_seconds": 115200, "acknowledge_deadline": "2026-11-03T16:00:00+01:00",
             "acknowledged": None, "acknowledged_by": None, "acknowledge": "open",
             "fix_deadline": "2026-11-06T16:00:00+01:00", "fix": "open"},
        ],
        "maintenance_windows": [
            {"id": 1, "start": "2026-10-14T22:00:00+02:00", "end": "2026-10-14T22:50:00+02:00",
             "reason": "database upgrade", "declared_at": "2026-10-01T09:00:00+02:00",
             "declared_by": "alice", "source": "command", "recurring": False, "late": False,
             "cancelled_at": None, "excluded_seconds": 3000},
            {"id": 2, "start": "2026-10-21T01:00:00+02:00", "end": "2026-10-21T02:00:00+02:00",
             "reason": "emergency patch", "declared_at": "2026-10-21T01:30:00+02:00",
             "declared_by": "bob", "source": "command", "recurring": False, "late": True,
             "cancelled_at": None, "excluded_seconds": 1800},
        ],
        "blip_events": [
            {"start": "2026-10-09T04:00:00+02:00", "end": "2026-10-09T04:00:05+02:00", "state": "down",
             "error_class": "connect", "checks": 1},
            {"start": "2026-10-12T11:00:00+02:00", "end": "2026-10-12T11:00:05+02:00", "state": "degraded",
             "error_class": "too_slow", "checks": 1},
            {"start": "2026-10-16T18:00:00+02:00", "end": "2026-10-16T18:00:05+02:00", "state": "down",
             "error_class": "timeout", "checks": 1},
        ],
        "recorded_from": "2026-10-01T00:00:00+02:00", "recorded_until": "2026-11-01T00:00:00+01:00",
        "site": "paris-1", "imports": [], "imported": False,
        "unmonitored": [{"start": "2026-10-20T03:00:00+02:00", "end": "2026-10-20T03:10:00+02:00",
                         "seconds": 600}],
    }
    www = {
        "name": "www", "url": "https://www.example.com/", "severity_cap": "major",
        "availability_percent": 99.79968, "availability_display": "99.799", "met": False,
        "period_seconds": 2682000, "eligible_seconds": 2595600, "unmonitored_seconds": 86400,
        "maintenance_seconds": 0, "downtime_seconds": 5200, "allowed_downtime_seconds": 5191.2,
        "coverage_percent": 96.77852, "blips": 0,
        "days": make_days({2: {"availability_percent": None, "eligible_seconds": 0,
                               "unmonitored_seconds": 86400, "latency_p50_ms": None,
                               "latency_p95_ms": None},
                           17: {"availability_percent": 99.5, "downtime_seconds": 432},
                           21: {"availability_percent": 95.2, "downtime_seconds": 4147}}),
        "incidents": [], "maintenance_windows": [], "blip_events": [],
        "recorded_from": "2026-10-01T00:00:00+02:00", "recorded_until": "2026-11-01T00:00:00+01:00",
        "site": None, "imported": True,
        "imports": [{"file": "www-2026.jsonl", "imported_at": "2026-10-05T10:00:00+02:00",
                     "first_check": "2026-10-01T00:00:00+02:00", "last_check": "2026-10-05T09:55:00+02:00",
                     "checks": 1152}],
        "unmonitored": [{"start": "2026-10-03T00:00:00+02:00", "end": "2026-10-04T00:00:00+02:00",
                         "seconds": 86400}],
    }
    legacy = {
        "name": "legacy", "url": "https://legacy.example.com/", "severity_cap": None,
        "availability_percent": None, "availability_display": None, "met": False,
        "period_seconds": 2682000, "eligible_seconds": 0, "unmonitored_seconds": 2682000,
        "maintenance_seconds": 0, "downtime_seconds": 0, "allowed_downtime_seconds": 0,
        "coverage_percent": 0.0, "blips": 0,
        "days": make_days({n: {"availability_percent": None, "eligible_seconds": 0,
                               "unmonitored_seconds": 86400} for n in range(31)}, latency=False),
        "incidents": [], "maintenance_windows": [], "blip_events": [],
        "recorded_from": None, "recorded_until": None, "site": None, "imports": [], "imported": False,
        "unmonitored": [{"start": "2026-10-01T00:00:00+02:00", "end": "2026-11-01T00:00:00+01:00",
                         "seconds": 2682000}],
    }
    deadlines = {"blocking": {"acknowledge": "5h", "fix": "24wh"},
                 "major": {"acknowledge": "24wh", "fix": "48wh"},
                 "minor": {"acknowledge": "48wh", "fix": "5wd"}}
    return {
        "month": "2026-10", "timezone": "Europe/Paris", "target_percent": 99.8,
        "period_seconds": 2682000, "period_start": "2026-10-01T00:00:00+02:00",
        "period_end": "2026-11-01T00:00:00+01:00", "as_of": "2026-11-01T06:00:00+01:00",
        "generated_at": "2026-11-01T06:00:00+01:00", "provisional": False,
        "title": "Disponibilité du service", "provider": "Exemple SAS", "client": "Client SA",
        "support": "support@example.com · +33 1 23 45 67 89 (lun.–ven. 9:00–17:00)",
        "language": "fr", "probe_sites": ["paris-1"],
        "rules": {"confirm": 2, "coverage_factor": 1.5, "holidays": "FR", "deadlines": deadlines,
                  "late_maintenance": "count"},
        "daemon_gaps": [{"start": "2026-10-20T03:00:00+02:00", "end": "2026-10-20T03:10:00+02:00",
                         "seconds": 600, "reason": "stopped"}],
        "daemon_runs": [
            {"started": "2026-09-28T10:00:00+02:00", "ended": "2026-10-20T03:00:00+02:00",
             "end_reason": "stopped", "pid": 812, "host": "probe-1", "version": "1.4.0", "site": "paris-1",
             "imported_from": None},
            {"started": "2026-10-20T03:10:00+02:00", "ended": None, "end_reason": None, "pid": 9140,
             "host": "probe-1", "version": "1.4.0", "site": "paris-1", "imported_from": None},
        ],
        "probe_ran_throughout": False, "history_imported": True,
        "endpoints": [api, www, legacy],
    }


def hostile_model() -> dict:
    """Every free-text string of the model replaced by markup."""
    model = make_model()
    for key in ("title", "provider", "client", "support"):
        model[key] = f"{key} {HOSTILE}"
    model["probe_sites"] = [f"site {HOSTILE}"]
    model["show_urls"] = True
    model["daemon_gaps"][0]["reason"] = f"gap {HOSTILE}"
    for endpoint in model["endpoints"]:
        endpoint["name"] = f"{endpoint['name']} {HOSTILE}"
        endpoint["url"] = f"https://example.com/?q={HOSTILE}"
        for incident in endpoint["incidents"]:
            incident["summary"] = f"summary {HOSTILE}"
            incident["acknowledged_by"] = f"who {HOSTILE}"
        for window in endpoint["maintenance_windows"]:
            window["reason"] = f"reason {HOSTILE}"
            window["declared_by"] = f"by {HOSTILE}"
        for span in endpoint["imports"]:
            span["file"] = f"file {HOSTILE}"
        endpoint["site"] = f"site {HOSTILE}"
    for run in model["daemon_runs"]:
        run["host"] = f"host {HOSTILE}"
        run["version"] = f"version {HOSTILE}"
    return model


class Elements(HTMLParser):
    """Every element and attribute of a document, as the browser's parser would see them."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def model():
    return make_model()


@pytest.fixture(scope="module")
def html_fr(model):
    return render_html(model)


# --- Formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "lang", "places", "expected"), [
    ("99.806", "fr", None, f"99,806{NNBSP}%"),
    ("99.806", "en", None, "99.806%"),
    ("99.799", "fr", None, f"99,799{NNBSP}%"),  # already truncated: shown digit for digit
    ("100.000", "fr", None, f"100,000{NNBSP}%"),
    (99.8, "fr", None, f"99,8{NNBSP}%"),
    (99.97762, "en", 2, "99.97%"),  # cut, never rounded up
    (99.999, "fr", 2, f"99,99{NNBSP}%"),
    (100.0, "en", 2, "100%"),
])
def test_format_percent(value, lang, places, expected):
    assert format_percent(value, lang, places) == expected


def test_format_number():
    assert format_number(1.5, "fr") == "1,5"
    assert format_number(1.5, "en") == "1.5"
    assert format_number(99.7996, "en", 3) == "99.799"


@pytest.mark.parametrize(("seconds", "lang", "expected"), [
    (0, "fr", "0 min"),
    (45, "en", "45 s"),
    (300, "fr", "5 min"),
    (3900, "fr", "1 h 05 min"),
    (3600, "en", "1 h"),
    (5356.8, "en", "1 h 29 min 17 s"),
    (183600, "fr", "2 j 3 h"),
    (183600, "en", "2 d 3 h"),
    (2682000, "fr", "31 j 1 h"),
    (90061, "en", "1 d 1 h 01 min 01 s"),
])
def test_format_duration(seconds, lang, expected):
    # Parts are held together by no-break spaces so that a duration never wraps.
    assert format_duration(seconds, lang) == expected.replace(" ", NBSP)


@pytest.mark.parametrize(("value", "lang", "expected"), [
    ("2026-10-07T10:00:00+02:00", "fr", "7 octobre 2026 à 10:00"),
    ("2026-10-07T10:00:00+02:00", "en", "7 October 2026, 10:00"),
    ("2026-11-01T00:00:00+01:00", "fr", "1er novembre 2026 à 00:00"),
    (None, "fr", "—"),
])
def test_format_datetime(value, lang, expected):
    assert format_datetime(value, lang, "Europe/Paris") == expected


def test_format_datetime_names_the_offset_of_an_hour_that_happens_twice():
    # 02:30 happens twice on 25 October 2026 in Paris; the offset tells which.
    first = format_datetime("2026-10-25T02:30:00+02:00", "fr", "Europe/Paris")
    second = format_datetime("2026-10-25T02:30:00+01:00", "fr", "Europe/Paris")
    assert first == "25 octobre 2026 à 02:30 (UTC+02:00)"
    assert second == "25 octobre 2026 à 02:30 (UTC+01:00)"
    assert format_datetime("2026-10-25T12:30:00+01:00", "en", "Europe/Paris") == "25 October 2026, 12:30"


def test_format_date_month_deadline():
    assert format_date("2026-10-07", "en") == "7 October 2026"
    assert format_month("2026-10", "fr") == "octobre 2026"
    assert format_month("2026-02", "en") == "February 2026"
    assert format_deadline("24wh", "fr") == f"24{NBSP}heures ouvrées"
    assert format_deadline("5h", "en") == f"5{NBSP}hours"
    assert format_deadline("1wd", "en") == f"1{NBSP}working day"
    assert format_deadline("5wd", "fr") == f"5{NBSP}jours ouvrés"


def test_default_filename(model):
    assert default_filename(model) == "probe-report-2026-10.html"
    with pytest.raises(ValueError, match="YYYY-MM"):
        default_filename({"month": "../../etc"})


def test_every_language_has_every_label():
    for table in (render.MESSAGES, render.ERROR_LABELS, render.MONTHS, render.DEADLINE_UNITS):
        assert set(table) == set(render.LANGUAGES)
    assert render.MESSAGES["fr"].keys() == render.MESSAGES["en"].keys()
    assert render.ERROR_LABELS["fr"].keys() == render.ERROR_LABELS["en"].keys()


def test_unknown_language_is_refused(model):
    with pytest.raises(ValueError, match="not supported"):
        render_html(model, lang="de")
    assert render.check_language("fr-FR") == "fr"


# --- The document --------------------------------------------------------------------------


def test_model_is_plain_json(model):
    # The model crosses a process boundary as JSON; rendering it back must give the same page.
    assert render_html(json.loads(json.dumps(model))) == render_html(model)


def test_self_contained_no_script(html_fr):
    doc = parse(html_fr)
    assert "script" not in doc.tags
    assert not re.search(r"<script", html_fr, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html_fr, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html_fr, re.I)
    for name, value in doc.attrs:
        assert not name.startswith("on"), name
        if name in ("src", "href", "action", "xlink:href"):
            assert value.startswith("#"), (name, value)
    assert "<style>" in html_fr and "@page" in html_fr and "size: A4" in html_fr
    assert doc.tags.count("svg") == 5  # availability x3, response time x2 (legacy has none)


def test_french_report_contents(html_fr):
    text = " ".join(parse(html_fr).text)
    for expected in (
        "Disponibilité du service", "octobre 2026", "Exemple SAS", "Client SA", "paris-1",
        f"99,806{NNBSP}%", f"99,799{NNBSP}%", "pas de données", "Respecté", "Non respecté",
        "7 octobre 2026 à 10:00", "1er octobre 2026 à 00:00", "1er novembre 2026 à 00:00",
        "Méthode de calcul", "1,5 fois", "au moins 2 mesures", "tronquée, jamais arrondie",
        "jours fériés de France", "24\u00a0heures ouvrées", "5\u00a0jours ouvrés",
        "database upgrade", "sonde arrêtée", "HTTP 503", "statut HTTP", "alice",
        "saisi manuellement", "en cours", "dépassée", "respectée", "Majeur",
        "(UTC+01:00)", "31\u00a0j\u00a01\u00a0h", "machine de la sonde avant d’y être lue en est exclu",
    ):
        assert expected in text, expected
    figures = text.split("Méthode de calcul")[0]  # the rules quote 99,80 % as a counter-example
    shown = set(re.findall(r"99,\d*(?=\u202f%)", figures))
    # The two availabilities as given, the target, a coverage, a day and the chart's ticks.
    assert shown == {"99,806", "99,799", "99,8", "99,97", "99,5", "99,25", "99,75"}


def test_english_report(model):
    text = " ".join(parse(render_html(model, lang="en")).text)
    for expected in ("Availability by day", "99.806%", "99.799%", "no data", "Breached",
                     "7 October 2026, 10:00", "How these figures are computed",
                     "24\u00a0working hours", "1\u00a0h\u00a026\u00a0min\u00a020\u00a0s",
                     "waited on the probe's own machine before the probe read it is left out"):
        assert expected in text, expected
    assert "octobre" not in text


def test_language_comes_from_the_model(model):
    english = dict(model, language="en")
    assert '<html lang="en">' in render_html(english)
    assert '<html lang="fr">' in render_html(english, lang="fr")


def test_availability_display_is_never_re_rounded(model):
    changed = copy.deepcopy(model)
    changed["endpoints"][0]["availability_percent"] = 99.7999999
    changed["endpoints"][0]["availability_display"] = "99.799"
    text = " ".join(parse(render_html(changed)).text)
    assert f"99,799{NNBSP}%" in text
    assert f"99,8{NNBSP}%" in text  # the target
    assert "99,800" not in text and "99,80 " not in text


def test_no_data_endpoint(model):
    only = dict(model, endpoints=[model["endpoints"][2]])
    doc = parse(render_html(only))
    text = " ".join(doc.text)
    assert "Pas de données" in text and "pas de données" in text
    assert "Respecté" not in text
    assert "Aucune mesure de temps de réponse ce mois-ci." in text
    assert "jour sans données" in text  # the chart's legend explains the hatched days


def test_hostile_strings_render_as_text():
    model = hostile_model()
    for lang in ("fr", "en"):
        html = render_html(model, lang=lang)
        doc = parse(html)
        assert "script" not in doc.tags and "img" not in doc.tags
        assert not any(name.startswith("on") for name, _ in doc.attrs)
        text = "".join(doc.text)
        for key in ("title", "provider", "client", "support"):
            assert f"{key} {HOSTILE}" in text, key
        for needle in (f"api {HOSTILE}", f"summary {HOSTILE}", f"reason {HOSTILE}",
                       f"gap {HOSTILE}", f"site {HOSTILE}", f"who {HOSTILE}",
                       f"https://example.com/?q={HOSTILE}"):
            assert needle in text, needle
        # Inside SVG (aria-label, <title>) the name is escaped as well.
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_template_dir_overrides_packaged_templates(model, tmp_path):
    (tmp_path / "_header.html").write_text(
        "<header><h1>Custom {{ model.client }}</h1></header>\n", encoding="utf-8")
    (tmp_path / "report.css").write_text("body { color: rebeccapurple; }\n", encoding="utf-8")
    html = render_html(dict(model, client="<b>ACME</b>"), template_dir=tmp_path)
    assert "<h1>Custom &lt;b&gt;ACME&lt;/b&gt;</h1>" in html  # still escaped
    assert "rebeccapurple" in html
    assert "Méthode de calcul" in html  # the templates not overridden still come from the package


def test_missing_model_field_is_an_error(model):
    broken = copy.deepcopy(model)
    del broken["endpoints"][0]["coverage_percent"]
    with pytest.raises(Exception, match="coverage_percent"):
        render_html(broken)


def test_availability_chart_scale_and_kinds(model):
    chart = render.availability_chart(model["endpoints"][1], 99.8, "fr")
    # Worst day 95.2 %: 95 % would leave it a sliver, so the axis starts at 90 %.
    assert chart["ticks"][0]["text"] == f"90{NNBSP}%"
    kinds = [bar["kind"] for bar in chart["bars"]]
    assert len(kinds) == 31
    assert kinds[2] == "nodata" and kinds[17] == "breached" and kinds[21] == "breached"
    assert kinds.count("met") == 28
    calm = render.availability_chart(model["endpoints"][0] | {"days": make_days()}, 99.8, "en")
    assert calm["ticks"][0]["text"] == "99%" and calm["ticks"][-1]["text"] == "100%"
    # A day far below every floor is drawn to the bottom and marked, not dropped.
    awful = render.availability_chart(
        {"days": make_days({0: {"availability_percent": 12.5}})}, 99.8, "en")
    assert awful["bars"][0]["kind"] == "clipped" and awful["has_clipped"]
    assert "12.5%" in awful["bars"][0]["title"]


def test_latency_chart_breaks_on_days_without_data(model):
    chart = render.latency_chart(model["endpoints"][0], "en")
    median = next(s for s in chart["series"] if s["name"] == "median")
    assert len(median["segments"]) == 2  # day 12 has no data
    assert len(median["points"]) == 30
    assert chart["ticks"][-1]["text"] == "500\u00a0ms"  # p95 peaks at 456 ms
    assert render.latency_chart(model["endpoints"][2], "en") is None


# --- In a real browser ---------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    not browser.available(),
    reason=f"{browser.CHROMIUM} is not installed (apt-get install chromium); CI has it",
)


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory):
    page = tmp_path_factory.mktemp("report") / default_filename(make_model())
    page.write_text(render_html(hostile_model()), encoding="utf-8")
    return page


@pytest.mark.browser
@needs_chromium
def test_browser_screenshot(hostile_page):
    out = hostile_page.with_suffix(".png")
    run = browser.screenshot(hostile_page, out, 1280, 2000)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.console_messages() == []
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1280, 2000)
    assert len(png) > 50_000  # a blank page compresses to a few kB


@pytest.mark.browser
@needs_chromium
def test_browser_prints_a4_pdf(hostile_page):
    out = hostile_page.with_suffix(".pdf")
    run = browser.print_pdf(hostile_page, out)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.console_messages() == []
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    # Summary, one page per service at least (3), and the rules.
    assert browser.pdf_page_count(pdf) >= 5
    # A4 is 595 x 842 points.
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and (round(float(box[1])), round(float(box[2]))) == (595, 842)


@pytest.mark.browser
@needs_chromium
def test_browser_dom_shows_hostile_strings_as_text(hostile_page):
    run = browser.dump_dom(hostile_page)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.console_messages() == []
    doc = parse(run.stdout)
    # What the browser built: no element or handler came from the data.
    assert "script" not in doc.tags and "img" not in doc.tags
    assert not any(name.startswith("on") for name, _ in doc.attrs)
    assert doc.tags.count("svg") == 5 and doc.tags.count("section") >= 5
    text = "".join(doc.text)
    assert f"api {HOSTILE}" in text and f"title {HOSTILE}" in text
    assert "Méthode de calcul" in text


def evidence_model() -> dict:
    """The month in progress, with a late window, 25 blips and an incident inside maintenance."""
    model = make_model()
    model.update(provisional=True, as_of="2026-10-21T09:30:00+02:00")
    api = model["endpoints"][0]
    api["blip_events"] = [
        {"start": f"2026-10-{day:02d}T12:00:00+02:00", "end": f"2026-10-{day:02d}T12:00:05+02:00",
         "state": "down", "error_class": "timeout", "checks": 1} for day in range(1, 26)]
    api["incidents"][1].update(in_maintenance=True, acknowledge="none", fix="none",
                               acknowledge_deadline=None, fix_deadline=None)
    return model


@pytest.mark.browser
@needs_chromium
def test_browser_shows_the_evidence_of_the_record(tmp_path):
    page = tmp_path / "evidence.html"
    page.write_text(render_html(evidence_model()), encoding="utf-8")
    run = browser.dump_dom(page)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.console_messages() == []
    text = " ".join(parse(run.stdout).text)
    # the month in progress is provisional, with its as-of time
    assert "Rapport provisoire : le mois n’est pas terminé. Les chiffres sont ceux du 21 octobre 2026 à 09:30" in text
    # the late window is marked, with its declaration; the budget is cut down (5 356.8 s)
    assert "déclarée en retard" in text and "21 octobre 2026 à 01:30" in text
    assert "1\u00a0h\u00a029\u00a0min\u00a016\u00a0s" in text and "29\u00a0min\u00a017\u00a0s" not in text
    # 20 blips shown, the other 5 folded to a count
    assert "… et 5 autres (tous sont listés dans le rapport JSON)." in text
    assert "20 octobre 2026 à 12:00:00" in text and "21 octobre 2026 à 12:00:00" not in text
    assert "20 octobre 2026 à 12:00:05" in text  # a blip lasts seconds: they are shown
    # the incident inside maintenance has no deadline to miss
    assert "sans objet (maintenance)" in text
    # the probe's record: the interruption, the runs, the imported history
    assert "sonde arrêtée" in text and "9140" in text and "www-2026.jsonl" in text
    assert "Aucune interruption de la sonde" not in text
    shot = tmp_path / "evidence.png"
    assert browser.screenshot(page, shot, 1280, 2600).returncode == 0


@pytest.mark.parametrize("policy, fr, en", [
    ("count", "est comptée comme du temps ordinaire", "counts as ordinary time"),
    ("exclude", "le contrat admet les déclarations tardives", "the contract allows late declarations"),
])
def test_the_rules_state_how_late_maintenance_is_counted(policy, fr, en):
    model = make_model()
    model["rules"]["late_maintenance"] = policy
    assert fr in render_html(model, lang="fr") and en in render_html(model, lang="en")
    assert "de quand à quand la sonde" in render_html(model, lang="fr")
    assert "ran without interruption only when its runs cover the whole month" in render_html(model, lang="en")
