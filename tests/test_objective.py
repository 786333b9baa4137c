"""The performance objective (`latency_objective`), worked out by hand.

The percentile is the nearest rank: the p-th percentile of n response times is the value at
rank ceil(p/100 x n) in increasing order (docs/accounting.md, "Performance").

The month used below (October 2026, Paris time, UTC+2 until the 25th), endpoint "api":
- Monday 5 October, 10:00 + 5 min x i for i = 0..19: 20 answers of (i + 1) x 50 ms, that is
  50, 100, ..., 1000 ms; the last (1000 ms) is degraded (too slow): it counts.
- Monday 5 October 12:00 and 12:05: two down checks (HTTP 503) of 5000 ms: left out.
- Monday 5 October 14:00, 14:05, 14:10, 14:15: four answers of 9000 ms inside the maintenance
  window 14:00-15:00: left out.
- Tuesday 6 October, 10:00 + 5 min x i for i = 0..9: 10 answers of 50 ms.

Counted: 30 times; sorted: 50 (11 times), then 100, 150, ..., 1000 (the k-th is 50 x (k - 10)
for k >= 11).
- p90 of the month: rank ceil(0.9 x 30) = 27 -> 50 x 17 = 850 ms.
- p90 of Monday alone (20 times, 50..1000): rank 18 -> 900 ms. Tuesday: 50 ms.
- Were the down checks counted (32 times), rank ceil(28.8) = 29 would be 950 ms; were the
  maintenance answers counted, the top four would be 9000 ms.

From the hourly histograms (raw checks pruned): 850 ms falls in the bucket
[10^(58/20), 10^(59/20)) = [794.33, 891.25) ms; the value stated is its upper bound, 891.25 ms.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from probe.cli import cli
from probe.sla import nearest_rank, objective_from_buckets, objective_from_times
from probe.store import Store, bucket_bounds, latency_bucket

PARIS = ZoneInfo("Europe/Paris")


def paris(*fields) -> float:
    return datetime(*fields, tzinfo=PARIS).timestamp()


def utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat().replace("+00:00", "Z")


def record(at, state, total_ms, error_class=None):
    line = {"endpoint": "api", "at": utc(at), "state": state, "interval_s": 300, "site": "paris-1",
            "url": "https://api.example.com/health", "http_status": 503 if state == "down" else 200,
            "total_ms": total_ms}
    if error_class:
        line.update(error_class=error_class, error="slower than 0.9 s" if state == "degraded" else "HTTP 503")
    return line


def history() -> list[dict]:
    lines = []
    for i in range(20):
        degraded = i == 19
        lines.append(record(paris(2026, 10, 5, 10) + 300 * i, "degraded" if degraded else "up", (i + 1) * 50.0,
                            "too_slow" if degraded else None))
    lines += [record(paris(2026, 10, 5, 12) + 300 * i, "down", 5000.0, "http_status") for i in range(2)]
    lines += [record(paris(2026, 10, 5, 14) + 300 * i, "up", 9000.0) for i in range(4)]
    lines += [record(paris(2026, 10, 6, 10) + 300 * i, "up", 50.0) for i in range(10)]
    return sorted(lines, key=lambda r: r["at"])


CONFIG = """
[sla]
timezone = "Europe/Paris"
late_maintenance = "exclude"

[report]
language = "{language}"

[[endpoint]]
name = "api"
url = "https://api.example.com/health"
latency_objective = {{ percentile = 90, under = "{under}" }}

[[maintenance]]
start = "2026-10-05T14:00"
end = "2026-10-05T15:00"
reason = "upgrade"
"""


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def month(tmp_path):
    db = tmp_path / "probe.db"
    jsonl = tmp_path / "h.jsonl"
    jsonl.write_text("".join(json.dumps(line) + "\n" for line in history()))
    run("import", jsonl, "--db", db)
    return tmp_path, db


def report(tmp_path: Path, db: Path, under="900ms", language="fr", fmt="json") -> str:
    config = tmp_path / f"probe-{under}-{language}.toml"
    config.write_text(CONFIG.format(under=under, language=language))
    from probe import config as config_module
    from probe.store import maintenance

    with Store.open(db) as store:  # as a daemon started on 1 October would have declared it
        maintenance.declare_from_config(store, config_module.load(config), paris(2026, 10, 1))
    out = tmp_path / f"report-{under}-{language}.{fmt}"
    run("report", "--config", config, "--db", db, "--month", "2026-10", "--format", fmt,
        "--as-of", "2026-11-02T00:00", "--output", out)
    return out.read_text(encoding="utf-8")


def objective(tmp_path, db, under="900ms") -> dict:
    model = json.loads(report(tmp_path, db, under))
    return next(e for e in model["endpoints"] if e["name"] == "api")["latency_objective"]


# --- the rules, pure ---------------------------------------------------------------------------


def test_nearest_rank():
    assert nearest_rank(20, 95) == 19  # not 20: 0.95 x 20 is 19 exactly
    assert nearest_rank(30, 90) == 27
    assert nearest_rank(30, 95) == 29  # ceil(28.5)
    assert nearest_rank(7, 100) == 7
    assert nearest_rank(1, 0.1) == 1
    with pytest.raises(ValueError):
        nearest_rank(10, 0)


def test_from_times_is_exact_and_met_at_the_bound():
    times = [(i + 1) * 50.0 for i in range(20)]
    figure = objective_from_times(times, 90, 900)
    assert (figure.value_ms, figure.met, figure.exact, figure.count) == (900, True, True, 20)
    assert objective_from_times(times, 90, 899.9).met is False
    assert objective_from_times([], 90, 900).met is None


def test_from_buckets_is_never_more_favourable():
    # 30 times as in the month above, put in histogram buckets
    times = [50.0] * 11 + [50.0 * (k - 10) for k in range(12, 31)]
    histogram: dict[int, int] = {}
    for value in times:
        histogram[latency_bucket(value)] = histogram.get(latency_bucket(value), 0) + 1
    buckets = [(*bucket_bounds(b), histogram[b]) for b in sorted(histogram)]
    exact = objective_from_times(times, 90, 860)
    estimate = objective_from_buckets(buckets, 90, 860)
    assert exact.value_ms == 850 and exact.met is True
    low, high = bucket_bounds(latency_bucket(850))
    assert (estimate.low_ms, estimate.value_ms) == (low, high)
    assert round(low, 2) == 794.33 and round(high, 2) == 891.25
    assert estimate.low_ms <= exact.value_ms < estimate.value_ms
    assert estimate.met is False and estimate.exact is False
    # whatever the bound, the estimate is met only where the truth is met
    for bound in range(700, 1000, 5):
        if objective_from_buckets(buckets, 90, bound).met:
            assert objective_from_times(times, 90, bound).met


# --- the report ----------------------------------------------------------------------------------


def test_report_month_value_from_checks(month):
    tmp_path, db = month
    figure = objective(tmp_path, db)
    assert figure["percentile"] == 90 and figure["under_ms"] == 900
    assert figure["value_ms"] == 850  # not 950 (down checks) nor 9000 (maintenance)
    assert figure["met"] is True and figure["exact"] is True and figure["source"] == "checks"
    assert figure["checks"] == 30
    days = {day["date"]: day for day in figure["days"]}
    assert len(days) == 31
    assert days["2026-10-05"]["value_ms"] == 900 and days["2026-10-05"]["met"] is True
    assert days["2026-10-06"]["value_ms"] == 50
    assert days["2026-10-07"]["value_ms"] is None and days["2026-10-07"]["met"] is None
    breached = objective(tmp_path, db, under="849ms")
    assert breached["value_ms"] == 850 and breached["met"] is False


def test_report_from_histograms_after_pruning(month):
    tmp_path, db = month
    with Store.open(db) as store:
        assert store.prune(older_than=paris(2026, 10, 20)) == 36
    figure = objective(tmp_path, db, under="860ms")
    assert figure["source"] == "histograms" and figure["exact"] is False
    assert round(figure["low_ms"], 2) == 794.33 and round(figure["value_ms"], 2) == 891.25
    assert figure["met"] is False  # the truth (850 ms) is met; the estimate may not say more
    assert figure["checks"] == 30  # the maintenance hour is left out, down checks never counted
    assert objective(tmp_path, db, under="900ms")["met"] is True


def test_no_objective_is_null(month):
    tmp_path, db = month
    config = tmp_path / "plain.toml"
    config.write_text('[[endpoint]]\nname = "api"\nurl = "https://api.example.com/health"\n')
    model = json.loads(run("report", "--config", config, "--db", db, "--month", "2026-10", "--format", "json",
                           "--as-of", "2026-11-02T00:00"))
    assert model["endpoints"][0]["latency_objective"] is None


def text(html: str) -> str:
    """The page's text: tags dropped, entities of the report read, spaces as they are."""
    return re.sub(r"<[^>]+>", "", html).replace("&#39;", "'").replace("&nbsp;", "\u00a0")


def test_report_html_french_and_english(month):
    tmp_path, db = month
    french = report(tmp_path, db, under="900ms", language="fr", fmt="html")
    shown = text(french)
    assert "Objectif de performance\u00a0: 90e\u00a0centile des temps de réponse au plus 900\u00a0ms." in shown
    assert "Valeur du mois\u00a0: 850\u00a0ms — respecté." in shown
    assert "30 mesures comptées\u00a0: en service ou dégradées, hors maintenance" in shown
    assert '<p class="objective objective-met">' in french
    assert '<line class="objective"' in french and 'class="line line-objective"' in french
    english = report(tmp_path, db, under="849ms", language="en", fmt="html")
    shown = text(english)
    assert "Performance objective: 90th percentile of response times at most 849\u00a0ms." in shown
    assert "Month's value: 850\u00a0ms — breached." in shown
    assert '<p class="objective objective-breached">' in english
    assert "90th percentile (objective)" in shown


def test_report_html_says_how_exact_an_estimate_is(month):
    tmp_path, db = month
    with Store.open(db) as store:
        store.prune(older_than=paris(2026, 10, 20))
    shown = text(report(tmp_path, db, under="860ms", language="en", fmt="html"))
    # 891.25 ms is shown rounded up, 794.33 ms rounded down: never more favourable
    assert "Month's value: 892\u00a0ms — breached." in shown
    assert "read from the hourly histograms: between 794\u00a0ms and 892\u00a0ms" in shown
    assert "never more favourable than the truth" in shown
    shown = text(report(tmp_path, db, under="900ms", language="fr", fmt="html"))
    assert "Valeur du mois\u00a0: 892\u00a0ms — respecté." in shown
    assert "entre 794\u00a0ms et 892\u00a0ms" in shown


@pytest.mark.browser
def test_the_chart_draws_the_bound_and_the_daily_values_in_chromium(month):
    import browser

    if not browser.available():
        pytest.skip("no Chromium")
    tmp_path, db = month
    page = tmp_path / "report.html"
    page.write_text(report(tmp_path, db, under="900ms", language="en", fmt="html"), encoding="utf-8")
    run = browser.dump_dom(page)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.console_messages() == []
    dom = run.stdout
    # the bound: one dashed line across the plot, at 900 ms
    line = re.search(r'<line class="objective" x1="52" x2="708" y1="([\d.]+)" y2="\1"><title>objective 900&nbsp;ms'
                     r'</title></line>', dom)
    assert line, dom[dom.find("chart-latency"):][:3000]
    # the daily p90: a dot on each of the two days with checks (5 and 6 October)
    dots = re.findall(r'<circle class="dot dot-objective"[^>]*><title>([^<]*)</title>', dom)
    assert len(dots) == 2 and "90th percentile (objective) 900&nbsp;ms" in dots[0], dots
    assert "90th percentile (objective) 50&nbsp;ms" in dots[1], dots
    # the 900 ms dot sits on the line
    first = re.search(r'<circle class="dot dot-objective" cx="[\d.]+" cy="([\d.]+)"', dom)
    assert first.group(1) == line.group(1)


def test_the_rules_section_states_the_percentile_only_with_an_objective(month):
    tmp_path, db = month
    assert "celui de rang p/100 × n arrondi au supérieur" in report(tmp_path, db, language="fr", fmt="html")
    assert "nearest rank" in report(tmp_path, db, language="en", fmt="html")
    config = tmp_path / "plain.toml"
    config.write_text('[[endpoint]]\nname = "api"\nurl = "https://api.example.com/health"\n')
    out = tmp_path / "plain.html"
    run("report", "--config", config, "--db", db, "--month", "2026-10", "--as-of", "2026-11-02T00:00",
        "--output", out)
    assert "<strong>Performance.</strong>" not in out.read_text(encoding="utf-8")


def test_a_month_under_way_as_of_a_time_inside_an_hour_reads_the_checks(month):
    tmp_path, db = month
    config = tmp_path / "probe.toml"
    config.write_text(CONFIG.format(under="900ms", language="en"))
    out = tmp_path / "partial.json"
    # as of Monday 5 October 10:32: the checks of 10:00 ... 10:30 (7 of them, 50 ... 350 ms),
    # though the rollup of 10:00-11:00 holds the 12 of the hour
    run("report", "--config", config, "--db", db, "--month", "2026-10", "--format", "json",
        "--as-of", "2026-10-05T10:32", "--output", out)
    figure = json.loads(out.read_text())["endpoints"][0]["latency_objective"]
    assert figure["source"] == "checks" and figure["checks"] == 7
    assert figure["value_ms"] == 350  # rank ceil(0.9 x 7) = 7


def test_config_reads_the_objective_and_its_default(tmp_path):
    from probe.config import load

    path = tmp_path / "probe.toml"
    path.write_text('[defaults]\nlatency_objective = { percentile = 99.9, under = "2s" }\n'
                    '[[endpoint]]\nname = "a"\nurl = "https://a.example/"\n'
                    '[[endpoint]]\nname = "b"\nurl = "https://b.example/"\n'
                    'latency_objective = { percentile = 95, under = "800ms" }\n'
                    '[[endpoint]]\nname = "c"\nurl = "https://c.example/"\nlatency_objective = { percentile = 100, under = 1 }\n')
    a, b, c = load(path, environ={}).endpoints
    assert (a.latency_objective.percentile, a.latency_objective.under) == (99.9, 2.0)
    assert (b.latency_objective.percentile, b.latency_objective.under) == (95.0, 0.8)
    assert (c.latency_objective.percentile, c.latency_objective.under) == (100.0, 1.0)


def test_the_chart_follows_the_objective_rule_and_says_so(month):
    """With an objective the chart's daily values leave maintenance out, as the objective does:
    on 5 October the four 9000 ms answers of the maintenance window are not drawn (the hourly
    histograms hold them); the median by the same rule is 500 ms (rank 10 of 50..1000 ms),
    6 October 50 ms. Without an objective the legend says maintenance is included."""
    from probe import render

    tmp_path, db = month
    model = json.loads(report(tmp_path, db, under="900ms", language="en"))
    api = next(e for e in model["endpoints"] if e["name"] == "api")
    days = {day["date"]: day for day in api["latency_objective"]["days"]}
    assert days["2026-10-05"]["median_ms"] == 500 and days["2026-10-06"]["median_ms"] == 50
    assert days["2026-10-07"]["median_ms"] is None
    assert api["days"][4]["latency_p95_ms"] > 8000  # the histograms: maintenance included
    chart = render.latency_chart(api, "en")
    assert [series["name"] for series in chart["series"]] == ["objective", "median"]
    drawn = [point["title"] for series in chart["series"] for point in series["points"]]
    assert drawn == ["5 October 2026: 90th percentile (objective) 900\u00a0ms",
                     "6 October 2026: 90th percentile (objective) 50\u00a0ms",
                     "5 October 2026: median 500\u00a0ms", "6 October 2026: median 50\u00a0ms"]
    assert chart["ticks"][-1]["text"] == "1000\u00a0ms"  # not the 9000 ms of the maintenance window
    assert chart["note"] == "Each day's values by the objective's rule: up or degraded checks, outside maintenance."
    shown = text(report(tmp_path, db, under="900ms", language="fr", fmt="html"))
    assert "Valeurs de chaque jour selon la règle de l’objectif\u00a0: mesures en service ou dégradées, hors maintenance." in shown
    plain = dict(api, latency_objective=None)
    chart = render.latency_chart(plain, "fr")
    assert [series["name"] for series in chart["series"]] == ["p95", "median"]
    assert chart["note"].endswith("maintenance comprise.")


def test_an_hour_partly_in_maintenance_is_never_more_favourable_than_the_truth():
    """After pruning, the 10:00 hour holds one 1000 ms check made before a window from 10:01 to
    11:00, and 19 checks of 50 ms made inside it; which were inside can no longer be told. From
    the raw checks the month's p95 is 1000 ms (one counted check): breached against 800 ms.
    Counting the hour whole would give p95 = the 19th of 20 = 50 ms, met: more favourable than
    the truth. The least favourable choice (leave out the 19 fast ones) states the 1000 ms
    bucket's upper bound, breached; its lower bound is the lowest bucket's."""
    from probe.sla import objective_least_favourable
    from probe.store import bucket_bounds, latency_bucket

    unsure = [(*bucket_bounds(latency_bucket(50.0)), 19), (*bucket_bounds(latency_bucket(1000.0)), 1)]
    figure = objective_least_favourable([], unsure, 95, 800)
    assert figure.value_ms == bucket_bounds(latency_bucket(1000.0))[1] and figure.met is False
    assert figure.low_ms == bucket_bounds(latency_bucket(50.0))[0] and not figure.exact
    # hours wholly outside maintenance are sure: 40 checks of 100 ms keep p95 at 100 ms whatever
    # the unsure hour's checks were (the 1000 ms one is the 41st of 41 at most, rank 39 of 41)
    sure = [(*bucket_bounds(latency_bucket(100.0)), 40)]
    figure = objective_least_favourable(sure, unsure, 95, 800)
    assert figure.value_ms == bucket_bounds(latency_bucket(100.0))[1] and figure.met is True
