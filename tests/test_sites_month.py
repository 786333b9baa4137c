"""February 2026 checked from three sites, worked by hand under the three site rules and
``min_sites``, compared with `probe report --format json` (see tests/hand_worked.md).

February 2026 in Paris is winter time throughout (+01): 28 × 86 400 = 2 419 200 s. Three
sites, paris-1 (A), lyon-1 (B) and lille-1 (C), check `web` and the control endpoint
`resolver` every 300 s at the same instants, from 31 January 23:30 to 1 March 00:30, so that
each check vouches for 300 s and the whole month is covered by every site, except:

- E1, Tue 3 Feb: `web` down at A only, checks 10:00 … 10:55 (12, timeout), up at 11:00:
  A's outage [10:00, 11:00) = 3 600 s.
- E2, Tue 10 Feb: `web` down at A 14:00 … 14:25 (http_status), at B 14:10 … 14:25 (connect),
  both up at 14:30: A's outage 1 800 s, B's 1 200 s; C is up.
- E3, Tue 17 Feb: C's network fails: its `resolver` and its `web` down 08:00 … 08:55
  (connect), up at 09:00. C's only control endpoint is in an outage [08:00, 09:00): C
  abstains 3 600 s, and its down checks of `web` are no evidence. A and B see `web` up.
- E5, Fri 20 Feb: B and C stopped: no check from 00:00 to 05:55 (included). Their 23:55
  checks vouch until 23:55 + 450 s = 00:02:30; they are back at 06:00. Only A vouches from
  00:02:30 to 06:00: 5 h 57 min 30 s = 21 450 s. A sees `web` down 02:00 … 02:25
  (timeout), up at 02:30: 1 800 s.
- E4, Tue 24 Feb: `web` down at every site 20:00 … 20:55 (http_status), up at 21:00: 3 600 s.

Combined downtime, min_sites = 1 (each instant's voters: the sites vouching, not abstaining):
| event | any | majority | all |
|---|---|---|---|
| E1 (1 of 3) | 3 600 | 0 | 0 |
| E2 (A alone 14:00-14:10, A and B 14:10-14:30) | 1 800 | 1 200 (2 of 3 from 14:10) | 0 |
| E3 (voters A, B: both up) | 0 | 0 | 0 |
| E5 (one voter, A, down) | 1 800 | 1 800 (1 of 1) | 1 800 |
| E4 (3 of 3) | 3 600 | 3 600 | 3 600 |
| total | 10 800 | 6 600 | 5 400 |

Availability = 100 × (1 − downtime ÷ 2 419 200), truncated to 3 digits:
any 99.553571… → 99.553; majority 99.727182… → 99.727; all 99.776785… → 99.776.

majority with min_sites = 2: E5's 21 450 s have one voter: unmonitored, not downtime.
Downtime 1 200 + 3 600 = 4 800 s; eligible 2 419 200 − 21 450 = 2 397 750 s;
100 × (1 − 4 800 ÷ 2 397 750) = 99.799812… → 99.799, under the 99.8 % target: not met.

Each site alone (whatever the rule):
- A: 3 600 + 1 800 + 1 800 + 3 600 = 10 800 s down, eligible 2 419 200 → 99.553.
- B: 1 200 + 3 600 = 4 800 s down, 21 450 s unmonitored, eligible 2 397 750 → 99.799.
- C: 3 600 s down (E4; E3 abstained), unmonitored 21 450 + 3 600 = 25 050 s of which 3 600
  abstained, eligible 2 394 150 → 100 × (1 − 3 600 ÷ 2 394 150) = 99.849633… → 99.849.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from probe.cli import cli
from test_hand_worked import History, report, section, t

SITES = {"A": "paris-1", "B": "lyon-1", "C": "lille-1"}
AS_OF = "2026-03-15T12:00+01:00"
ENDPOINTS = (
    '[[endpoint]]\nname = "web"\nurl = "https://web.example/"\ninterval = "5m"\n\n'
    '[[endpoint]]\nname = "resolver"\nurl = "https://resolver.example/"\ninterval = "5m"\ncontrol = true\n'
)


def site_histories(key: str) -> list[History]:
    web, resolver = History("web"), History("resolver")
    for history in (web, resolver):
        history.fill("2026-01-31T23:30+01:00", "2026-03-01T00:35+01:00")
    if key == "A":
        web.down("2026-02-03T10:00+01:00", "2026-02-03T10:55+01:00", "timeout")
        web.down("2026-02-10T14:00+01:00", "2026-02-10T14:25+01:00", "http_status")
        web.down("2026-02-20T02:00+01:00", "2026-02-20T02:25+01:00", "timeout")
    if key == "B":
        web.down("2026-02-10T14:10+01:00", "2026-02-10T14:25+01:00", "connect")
    if key == "C":
        web.down("2026-02-17T08:00+01:00", "2026-02-17T08:55+01:00", "connect")
        resolver.down("2026-02-17T08:00+01:00", "2026-02-17T08:55+01:00", "connect")
    if key in "BC":
        for history in (web, resolver):
            history.remove("2026-02-20T00:00+01:00", "2026-02-20T06:00+01:00")
    web.down("2026-02-24T20:00+01:00", "2026-02-24T20:55+01:00", "http_status")
    return [web, resolver]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """One export per site, imported one after the other into one database."""
    folder = tmp_path_factory.mktemp("sites")
    db = folder / "hub.db"
    config = folder / "probe.toml"
    config.write_text(f'[probe]\ndatabase = "{db}"\n\n{ENDPOINTS}', encoding="utf-8")
    for key, site in SITES.items():
        export = folder / f"{site}.jsonl"
        lines = [json.dumps({**json.loads(line), "site": site})
                 for history in site_histories(key) for line in history.lines()]
        export.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = CliRunner().invoke(cli, ["import", "--config", str(config), str(export)])
        assert result.exit_code == 0, result.output
    return folder, db


def month(database, rule: str, min_sites: int = 1) -> dict:
    folder, db = database
    config = folder / f"{rule}-{min_sites}.toml"
    config.write_text(f'[probe]\ndatabase = "{db}"\n\n[sla]\nsites = "{rule}"\nmin_sites = {min_sites}\n\n'
                      f'{ENDPOINTS}', encoding="utf-8")
    return report(config, "2026-02", AS_OF)


PERIOD = 2_419_200.0


@pytest.mark.parametrize("rule, downtime, shown", [
    ("any", 10_800.0, 99.553),
    ("majority", 6_600.0, 99.727),
    ("all", 5_400.0, 99.776),
])
def test_the_combined_figures_follow_the_rule(database, rule, downtime, shown):
    model = month(database, rule)
    assert model["site_rule"] == {"sites": rule, "min_sites": 1}
    assert [e["name"] for e in model["endpoints"]] == ["web"]  # the control endpoint is no service
    web = section(model, "web")
    assert (web["downtime_seconds"], web["eligible_seconds"], web["unmonitored_seconds"]) == (downtime, PERIOD, 0.0)
    assert web["availability_percent"] == shown
    assert web["met"] is False


def test_majority_incidents_start_when_the_rule_says_down(database):
    web = section(month(database, "majority"), "web")
    incidents = [(t(i["start"]), i["severity"]) for i in web["incidents"]]
    assert incidents == [
        (t("2026-02-10T14:10+01:00"), "blocking"),  # the instant B joined A: 2 of 3
        (t("2026-02-20T02:00+01:00"), "blocking"),  # A, alone voting
        (t("2026-02-24T20:00+01:00"), "blocking"),
    ]
    [e2] = [i for i in web["incidents"] if t(i["start"]) == t("2026-02-10T14:10+01:00")]
    assert t(e2["end"]) == t("2026-02-10T14:30+01:00")


def test_any_counts_the_first_site_down_and_not_an_abstaining_one(database):
    web = section(month(database, "any"), "web")
    starts = [t(i["start"]) for i in web["incidents"]]
    assert t("2026-02-03T10:00+01:00") in starts and t("2026-02-10T14:00+01:00") in starts
    assert t("2026-02-17T08:00+01:00") not in starts  # C abstained: its down checks are no evidence


def test_min_sites_leaves_time_with_fewer_voting_sites_unmonitored(database):
    web = section(month(database, "majority", 2), "web")
    assert (web["downtime_seconds"], web["unmonitored_seconds"], web["eligible_seconds"]) == (
        4_800.0, 21_450.0, 2_397_750.0)
    assert web["availability_percent"] == 99.799 and web["met"] is False


def test_each_sites_own_figures_and_the_abstention(database):
    model = month(database, "majority")
    assert model["probe_sites"] == ["lille-1", "lyon-1", "paris-1"]
    sites = {s["name"]: s for s in section(model, "web")["sites"]}
    figures = {name: (s["downtime_seconds"], s["unmonitored_seconds"], s["abstained_seconds"],
                      s["eligible_seconds"], s["availability_percent"]) for name, s in sites.items()}
    assert figures == {
        "paris-1": (10_800.0, 0.0, 0.0, PERIOD, 99.553),
        "lyon-1": (4_800.0, 21_450.0, 0.0, 2_397_750.0, 99.799),
        "lille-1": (3_600.0, 25_050.0, 3_600.0, 2_394_150.0, 99.849),
    }
    [abstention] = model["abstentions"]
    assert abstention["site"] == "lille-1" and abstention["seconds"] == 3_600.0
    assert (t(abstention["start"]), t(abstention["end"])) == (t("2026-02-17T08:00+01:00"), t("2026-02-17T09:00+01:00"))
    assert abstention["causes"] == [{"endpoint": "resolver", "error_classes": ["connect"]}]
    # the agreement, day by day: 17 February, C abstained an hour
    day = next(d for d in sites["lille-1"]["days"] if d["date"] == "2026-02-17")
    assert (day["abstained"], day["down"], day["up"], day["no_data"]) == (3_600.0, 0.0, 82_800.0, 0.0)


def html_page(database, lang: str) -> tuple:
    folder, _ = database
    config = folder / "majority-1.toml"
    month(database, "majority")  # writes the config
    page = folder / f"report-{lang}.html"
    result = CliRunner().invoke(cli, ["report", "--config", str(config), "--month", "2026-02", "--as-of", AS_OF,
                                      "--lang", lang, "-o", str(page)])
    assert result.exit_code == 0, result.output
    return page


@pytest.mark.parametrize("lang, rule_words, abstained", [
    ("en", "more than half of the voting sites", "Abstained"),
    ("fr", "plus de la moitié des sites qui votent", "Abstention"),
])
def test_the_html_report_shows_each_site_the_agreement_and_the_abstention(database, lang, rule_words, abstained):
    browser = pytest.importorskip("browser")
    if not browser.available():
        pytest.skip(f"{browser.CHROMIUM} is not installed")
    page = html_page(database, lang)
    run = browser.dump_dom(page)
    assert run.returncode == 0 and run.console_messages() == []
    dom = run.stdout
    # one row per site, then the combined verdict; the control endpoint is no service
    assert dom.count('class="site-row"') == 3 and dom.count('class="total combined-row"') == 1
    assert 'id="endpoint-2"' not in dom and ">resolver<" not in dom.split('class="abstentions"')[0]
    for site in SITES.values():
        assert f"<th scope=\"row\">{site}</th>" in dom
    # the agreement chart: a bar per site and day, with the abstained hour of lille-1 on the 17th
    chart = dom[dom.index('class="chart-sites"'):dom.index("</svg>", dom.index('class="chart-sites"'))]
    # a plain bar for a day all up at a site; a bar in parts, with its figures, for the others
    assert chart.count('class="part-up"') == 3 * 28  # every site-day was up some of the time
    assert chart.count('<g class="day">') == 10  # paris-1: 4 days, lyon-1: 3, lille-1: 3
    assert chart.count('class="part-abstained"') == 1 and chart.count('class="part-down"') >= 5
    # the abstention, its cause, and the rule stated twice (with the figures and in the rules)
    section = dom[dom.index('class="abstentions"'):]
    assert "lille-1" in section and "resolver" in section
    assert dom.count(rule_words) >= 2 and abstained in dom
    shot = page.with_suffix(".png")
    assert browser.screenshot(page, shot, 1280, 3000).returncode == 0 and shot.stat().st_size > 10_000


def test_incident_list_follows_the_rule_and_leaves_control_endpoints_out(database):
    folder, _ = database
    month(database, "majority")
    result = CliRunner().invoke(cli, ["incident", "list", "--config", str(folder / "majority-1.toml"),
                                      "--days", "3650", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]  # one a line
    assert {row["endpoint"] for row in rows} == {"web"}
    assert sorted(t(row["start"]) for row in rows) == [
        t("2026-02-10T14:10+01:00"), t("2026-02-20T02:00+01:00"), t("2026-02-24T20:00+01:00")]


def test_one_site_alone_its_abstained_time_is_unmonitored_not_downtime(tmp_path):
    """lille-1 alone: E3's hour, when its network failed, is abstained: unmonitored, not
    the 3 600 s of downtime its down checks of `web` would make; E4 is its only downtime."""
    db = tmp_path / "lille.db"
    config = tmp_path / "probe.toml"
    config.write_text(f'[probe]\ndatabase = "{db}"\n\n{ENDPOINTS}', encoding="utf-8")
    export = tmp_path / "lille-1.jsonl"
    export.write_text("\n".join(json.dumps({**json.loads(line), "site": "lille-1"})
                                for history in site_histories("C") for line in history.lines()) + "\n")
    assert CliRunner().invoke(cli, ["import", "--config", str(config), str(export)]).exit_code == 0
    model = report(config, "2026-02", AS_OF)
    web = section(model, "web")
    assert (web["downtime_seconds"], web["unmonitored_seconds"]) == (3_600.0, 25_050.0)
    assert [t(i["start"]) for i in web["incidents"]] == [t("2026-02-24T20:00+01:00")]
    [own] = web["sites"]
    assert (own["name"], own["abstained_seconds"], own["availability_percent"]) == ("lille-1", 3_600.0, 99.849)
    assert "days" not in own
    assert [a["site"] for a in model["abstentions"]] == ["lille-1"]


def test_site_names_are_text_in_the_html(database):
    from probe.render import render_html

    model = month(database, "majority")
    hostile = '<img src=x onerror="alert(1)">'
    section(model, "web")["sites"][0]["name"] = hostile
    model["abstentions"][0]["site"] = hostile
    model["abstentions"][0]["causes"][0]["endpoint"] = hostile
    html = render_html(model)
    assert hostile not in html and "<img" not in html
    assert html.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") >= 3
