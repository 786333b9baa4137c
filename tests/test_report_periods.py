"""`probe report` over a quarter, a year and a range of days (same rules, figures from the
months' seconds), as CSV and as PDF. Figures worked out by hand in the comments; times are
Paris wall-clock times."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from fractions import Fraction

import pytest

from test_report import (
    OCT_END,
    Timeline,
    import_history,
    paris,
    run,
    write_config,
    write_jsonl,
)

AS_OF = "2026-11-15T12:00"  # November under way (provisional), December not begun

SEPTEMBER, OCTOBER = 2_592_000, 2_682_000  # seconds, Paris (October has the extra hour)


@pytest.fixture(scope="module")
def autumn(tmp_path_factory):
    """a: checked every 300 s from Tue 1 Sep 00:00 to Sat 31 Oct 23:55.
    - down Wed 30 Sep 23:50 -> Thu 1 Oct 00:10 (timeout): September counts 600 s, October 600 s;
    - down Mon 5 Oct 10:00 -> 10:15 (HTTP 503): 900 s.
    The last check (31 Oct 23:55) vouches until 1 Nov 00:02:30: November has 150 s eligible.
    b: the same grid, always up, named "=HYPERLINK(...)" for the client and "@b" for probe."""
    tmp = tmp_path_factory.mktemp("autumn")
    start = paris(2026, 9, 1)
    a = (Timeline("a", start, OCT_END)
         .episode(paris(2026, 9, 30, 23, 50), paris(2026, 10, 1, 0, 10), "timeout")
         .episode(paris(2026, 10, 5, 10), paris(2026, 10, 5, 10, 15), "http_status"))
    b = Timeline("@b", start, OCT_END)
    db = tmp / "probe.db"
    import_history(db, write_jsonl(tmp / "h.jsonl", a, b))
    config = write_config(tmp / "probe.toml", [("a", 'title = "Espace client"'),
                                               ("@b", 'title = "=HYPERLINK(\\"http://evil/\\",\\"x\\")"')])
    return {"db": db, "config": config, "tmp": tmp}


def report(fixture, *args, fmt="json"):
    result = run("report", "--config", fixture["config"], "--db", fixture["db"], "--as-of", AS_OF,
                 "--format", fmt, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if fmt == "json" else result.stdout


def test_the_year_is_worked_out_from_its_months_seconds(autumn):
    model = report(autumn, "--year", "2026")
    assert model["year"] == 2026 and model["provisional"] is True
    assert [m["month"] for m in model["months"]] == [f"2026-{n:02d}" for n in range(1, 13)]
    assert [m["begun"] for m in model["months"]] == [True] * 11 + [False]
    assert model["months"][10]["provisional"] is True and model["months"][9]["provisional"] is False
    assert "endpoints" not in model["months"][11]  # not begun: no figures
    a = next(e for e in model["endpoints"] if e["name"] == "a")
    # eligible: September 2 592 000 + October 2 682 000 + November 150 = 5 274 150 s;
    # downtime: 600 (September) + 600 + 900 (October) = 2 100 s
    assert a["eligible_seconds"] == SEPTEMBER + OCTOBER + 150
    assert a["downtime_seconds"] == 2100
    exact = 100 * (1 - Fraction(2100, SEPTEMBER + OCTOBER + 150))  # 99.96018...
    assert a["availability_display"] == "99.960" and Fraction(99960, 1000) <= exact < Fraction(99961, 1000)
    # not the average of the months' percentages (99.976, 99.944 and 100: 99.973...)
    monthly = [m["availability_percent"] for m in a["months"] if m.get("availability_percent") is not None]
    assert monthly == [99.976, 99.944, 100.0]
    assert a["availability_display"] != f"{sum(monthly) / 3:.3f}"
    assert a["allowed_downtime_seconds"] == 10548.3  # 0.2 % of 5 274 150 s, cut to the ms
    assert a["met"] is True
    # the outage across September's edge is one incident, not two
    assert a["incidents_by_class"] == {"blocking": 2, "major": 0, "minor": 0}
    assert a["title"] == "Espace client"
    # January to August: begun, but nothing recorded: no data
    assert a["months"][0] == {"month": "2026-01", "begun": True, "provisional": False,
                              "availability_percent": None, "availability_display": None, "met": False,
                              "downtime_seconds": 0.0, "eligible_seconds": 0.0}
    # the service (a and @b, both blocking): the same downtime over the same eligible time
    assert model["service"]["downtime_seconds"] == 2100
    assert model["service"]["availability_display"] == "99.960"


def test_a_quarter_and_a_range_follow_the_same_rules(autumn):
    quarter = report(autumn, "--quarter", "2026-Q4")
    assert quarter["quarter"] == "2026-Q4"
    assert [m["month"] for m in quarter["months"]] == ["2026-10", "2026-11", "2026-12"]
    a = next(e for e in quarter["endpoints"] if e["name"] == "a")
    # October 2 682 000 + November 150 eligible; October's 600 + 900 s down
    assert (a["eligible_seconds"], a["downtime_seconds"]) == (OCTOBER + 150, 1500)
    assert a["availability_display"] == "99.944"
    # 30 Sep 00:00 -> 2 Oct 00:00 (--to is included): 172 800 s; 1 200 s down, one incident
    span = report(autumn, "--from", "2026-09-30", "--to", "2026-10-01")
    assert span["range"] == {"from": "2026-09-30", "to": "2026-10-01"}
    a = next(e for e in span["endpoints"] if e["name"] == "a")
    assert (a["eligible_seconds"], a["downtime_seconds"]) == (172_800, 1200)
    assert a["availability_display"] == "99.305"  # 100 x (1 - 1200 / 172800) = 99.3055...
    assert a["incidents_by_class"]["blocking"] == 1
    assert span["period_start"] == "2026-09-30T00:00:00+02:00" and span["period_end"] == "2026-10-02T00:00:00+02:00"


def test_the_year_in_html_has_a_month_by_month_table(autumn):
    out = autumn["tmp"] / "year.html"
    result = run("report", "--config", autumn["config"], "--db", autumn["db"], "--as-of", AS_OF,
                 "--year", "2026", "--lang", "fr", "-o", out)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Année 2026" in html and "Mois par mois" in html
    assert "décembre 2026" in html and "pas encore commencé" in html and "provisoire" in html
    assert "99,960\u202f%" in html
    assert "=HYPERLINK(&#34;http://evil/&#34;,&#34;x&#34;)" in html  # escaped, shown as text


def test_csv_one_row_per_endpoint_per_month_with_formulas_neutralised(autumn):
    text = report(autumn, "--quarter", "2026-Q4", fmt="csv")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:6] == ["month", "endpoint", "title", "availability_percent", "target_percent", "met"]
    assert [(r[0], r[1]) for r in body] == [("2026-10", "a"), ("2026-10", "'@b"), ("2026-11", "a"), ("2026-11", "'@b")]
    october_a = dict(zip(header, body[0]))
    assert october_a["availability_percent"] == "99.944" and october_a["met"] == "yes"
    assert october_a["eligible_seconds"] == str(OCTOBER) and october_a["downtime_seconds"] == "1500"
    assert october_a["incidents_blocking"] == "2" and october_a["provisional"] == "no"
    assert dict(zip(header, body[2]))["provisional"] == "yes"
    assert (october_a["period_start"], october_a["period_end"]) == ("2026-10-01T00:00:00+02:00",
                                                                    "2026-11-01T00:00:00+01:00")
    # a title a spreadsheet would run as a formula is text
    assert body[1][2] == "'=HYPERLINK(\"http://evil/\",\"x\")"
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    # a month's CSV: the same columns, its rows
    month = list(csv.reader(io.StringIO(report(autumn, "--month", "2026-10", fmt="csv"))))
    assert month[0] == header and month[1] == body[0]


@pytest.mark.parametrize("args, message", [
    (("--quarter", "2026-Q5"), "'2026-Q5' is not a quarter (like 2026-Q4)"),
    (("--year", "26"), "'26' is not a year (like 2026)"),
    (("--year", "2027"), "that period has not begun yet"),
    (("--from", "2026-10-01"), "--from and --to go together"),
    (("--from", "2026-10-05", "--to", "2026-10-01"), "--to 2026-10-01 is before --from 2026-10-05"),
    (("--from", "2026-13-01", "--to", "2026-10-01"), "--from '2026-13-01' is not a date"),
    (("--month", "2026-10", "--year", "2026"), "--month and --year name different periods"),
])
def test_period_errors_are_one_line(autumn, args, message):
    result = run("report", "--config", autumn["config"], "--db", autumn["db"], "--as-of", AS_OF, *args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


# ------------------------------------------------------------------ PDF

needs_pdf_tools = pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="needs chromium and poppler-utils")


def dark_pixels(pdf, page: int) -> int:
    """Pixels darker than light grey on ``page`` rendered at 50 dpi (PGM from pdftoppm)."""
    pgm = subprocess.run(["pdftoppm", "-gray", "-r", "50", "-f", str(page), "-l", str(page), str(pdf)],
                         capture_output=True, check=True).stdout
    assert pgm[:2] == b"P5"
    header = pgm.split(b"\n", 3)  # P5, width height, maxval, data
    width, height = map(int, header[1].split())
    pixels = header[3][: width * height]
    return sum(1 for value in pixels if value < 200)


@needs_pdf_tools
def test_a_month_as_pdf_one_page_per_endpoint_with_running_header_and_page_numbers(tmp_path):
    start = paris(2026, 10, 1)
    timelines = [Timeline(name, start, OCT_END).episode(paris(2026, 10, 5 + n, 10), paris(2026, 10, 5 + n, 10, 15),
                                                        "http_status")
                 for n, name in enumerate(("api", "app", "admin"))]
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", *timelines))
    config = write_config(tmp_path / "probe.toml", ["api", "app", "admin"])
    out = tmp_path / "october.pdf"
    result = run("report", "--config", config, "--db", db, "--month", "2026-10", "--format", "pdf", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:5] == b"%PDF-"
    pages = int(next(line.split()[1] for line in subprocess.run(
        ["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))
    # the summary, one page per endpoint, the rules: no near-empty page left over
    assert 1 + 3 <= pages <= 1 + 3 + 2, pages
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(out), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert f"Page {page} sur {pages}" in text, page
        assert "Prestataire SAS · Client SA" in text, page
        assert "octobre 2026" in text, page
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Service dans son ensemble" in text and "Méthode de calcul" in text
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(out), str(png)], check=True)
    [first] = tmp_path.glob("page*.png")
    assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dark_pixels(out, 1) > 2000  # a blank page has none


@needs_pdf_tools
def test_a_year_as_pdf(autumn):
    out = autumn["tmp"] / "year.pdf"
    result = run("report", "--config", autumn["config"], "--db", autumn["db"], "--as-of", AS_OF,
                 "--year", "2026", "--lang", "en", "--format", "pdf", "-o", out)
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Year 2026" in text and "Month by month" in text and "99.960%" in text
    assert "Page 1 of" in text


def test_pdf_without_a_browser_is_one_line(autumn, monkeypatch, tmp_path):
    monkeypatch.setenv("PROBE_CHROMIUM", str(tmp_path / "no-such-browser"))
    result = run("report", "--config", autumn["config"], "--db", autumn["db"], "--as-of", AS_OF,
                 "--month", "2026-10", "--format", "pdf", "-o", tmp_path / "x.pdf")
    assert result.exit_code != 0
    assert "--format pdf needs Chromium" in result.output
    assert not (tmp_path / "x.pdf").exists()
