"""The live status of an endpoint checked from several sites: `probe status` (text and JSON), the
status model of /status.json and the status page, and the public page's model show its
combined state by the `[sla] sites` rule, each site's own word and its newest check; control
endpoints are marked and listed apart.

The database holds three sites' checks of "api" and of the control endpoint "resolver", 30
checks each, every ``INTERVAL`` seconds; the sites check 10 s apart (paris-1 at +0 s, lyon-1 at
+10 s, nyc-1 at +20 s). Check i of a site is at T0 + i * INTERVAL + its offset. A site's "down"
from check 20 on is an outage (confirm = 2: its checks 20 to 29 are ten in a row).

Scenario "two-down": api down from check 20 at paris-1 and lyon-1, up at nyc-1; every resolver up.
  At the newest check (nyc-1's 29th), the voters are the three sites, two of them see an outage:
  majority: 2 > 3/2, DOWN; all: 2 < 3, UP; any: DOWN. SITES "2/3 down" under every rule.
Scenario "nyc-network": api down from check 20 at paris-1 and nyc-1, up at lyon-1; nyc-1's resolver
  (its only control endpoint) down from check 20 too: nyc-1 abstains from its check 20 on, its
  api checks are then no evidence. At the newest check that is evidence (lyon-1's 29th) the
  voters are paris-1 (down) and lyon-1 (up):
  majority: 1 is not > 2/2, UP; all: UP; any: DOWN. SITES "1/2 down"; nyc-1 "abstained".
  (Without the abstention, majority would say 2/3: DOWN.)
Scenario "all-networks": every site's api and resolver down from check 20: every site abstains,
  api is "abstained" under every rule (see its test).
"""

import http.client
import json
import os
import subprocess
import sys
import time

import pytest

import browser
from probe import config as config_module
from probe.daemon.web import status_model
from probe.report import public, status
from probe.result import CheckResult, iso_utc
from probe.store import Store, Writer
from servers import refused_port
from test_daemon import RUNNING, Daemon, no_daemon_left_behind  # noqa: F401 - the fixture

SITES = {"paris-1": 0.0, "lyon-1": 10.0, "nyc-1": 20.0}  # each site's offset in seconds
SCENARIOS = {  # which sites see api down, and which see their resolver down, from check 20 on
    "two-down": ({"paris-1", "lyon-1"}, set()),
    "nyc-network": ({"paris-1", "nyc-1"}, {"nyc-1"}),
    "all-networks": (set(SITES), set(SITES)),
}
API, RESOLVER = "https://api.example.com/health", "https://dns.example.net/"


def result(url, at, down):
    if down:
        return CheckResult(url=url, at=at, state="down", error_class="timeout", error="timed out after 10s")
    return CheckResult(url=url, at=at, state="up", http_status=200, total_ms=30.0)


def fill(db, scenario, t0, interval):
    api_down, resolver_down = SCENARIOS[scenario]
    with Writer(db) as writer:
        for index in range(30):
            for site, offset in SITES.items():
                at = t0 + index * interval + offset
                late = index >= 20
                writer.submit("api", result(API, at, late and site in api_down), interval, site)
                writer.submit("resolver", result(RESOLVER, at, late and site in resolver_down), interval, site)
        writer.flush(10)


def config(db, rule, extra=None):
    return config_module.from_dict({
        "probe": {"database": str(db), "site": "hub"},
        "report": {"language": "en"},
        "sla": {"sites": rule},
        "endpoint": [{"name": "api", "url": API, "title": "The API"},
                     {"name": "resolver", "url": RESOLVER, "control": True}],
        **(extra or {}),
    }, "probe.toml")


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    """Each scenario's database; ``now`` 30 s after nyc-1's 29th check."""
    now = time.time() // 60 * 60
    t0 = now - 29 * 60 - 20 - 30
    found = {}
    for scenario in ("two-down", "nyc-network"):
        db = tmp_path_factory.mktemp(scenario) / "hub.db"
        fill(db, scenario, t0, 60.0)
        found[scenario] = db
    return found, t0, now


@pytest.mark.parametrize("scenario, rule, state, word", [
    ("two-down", "majority", "down", "2/3 down"),
    ("two-down", "all", "up", "2/3 down"),
    ("two-down", "any", "down", "2/3 down"),
    ("nyc-network", "majority", "up", "1/2 down"),
    ("nyc-network", "all", "up", "1/2 down"),
    ("nyc-network", "any", "down", "1/2 down"),
])
def test_status_shows_the_combined_state_by_the_site_rule(databases, scenario, rule, state, word):
    dbs, t0, now = databases
    cfg = config(dbs[scenario], rule)
    with Store.open(dbs[scenario]) as store:
        report = status.collect(store, cfg, now)
    rows = {row["endpoint"]: row for row in report["endpoints"]}
    api = rows["api"]
    assert api["state"] == state and api["control"] is False and rows["resolver"]["control"] is True
    # the newest check across the sites: nyc-1's 29th, or lyon-1's when nyc-1 abstains
    newest = t0 + 29 * 60 + (20.0 if scenario == "two-down" else 10.0)
    assert api["last_check"] == iso_utc(newest)
    down = SCENARIOS[scenario][0]
    abstaining = SCENARIOS[scenario][1]
    assert api["sites"] == [
        {"site": site,
         "state": "abstained" if site in abstaining else ("down" if site in down else "up"),
         "last_check": iso_utc(t0 + 29 * 60 + offset)}  # its own newest check, abstained or not
        for site, offset in sorted(SITES.items(), key=lambda item: item[1])
    ]
    if state == "down":
        # since the first instant the rule says down: with majority, the second site's first
        # down check (lyon-1's 20th in "two-down"); with any, the first one's (paris-1's 20th)
        first = {"majority": 10.0, "any": 0.0}[rule]
        assert api["since"] == iso_utc(t0 + 20 * 60 + first)
        assert api["error"] == "timed out after 10s"  # from a site that sees the outage
    else:
        assert api["error"] is None  # from lyon-1 (it sees the endpoint up)
    # a control endpoint shows its own outage: nyc-1's resolver down is 1 of 3 sites (the
    # abstention it causes cuts the services' checks only): any says DOWN, majority and all UP
    resolver = rows["resolver"]
    assert [s["state"] for s in resolver["sites"]] == ["down" if s in abstaining else "up" for s in SITES]
    resolver_down = bool(abstaining) and rule == "any"
    assert resolver["state"] == ("down" if resolver_down else "up")
    text = status.format_text(report, now=now)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("ENDPOINT"))
    assert header.split()[:3] == ["ENDPOINT", "STATE", "SITES"]
    api_line = next(line for line in lines if line.startswith("api "))
    assert api_line.split()[1] == state.upper() and word in api_line
    resolver_line = next(line for line in lines if line.startswith("resolver "))
    assert f"{len(abstaining)}/3 down" in resolver_line
    assert all(len(line) <= status.WIDTH for line in lines)


def test_the_availability_figures_and_bars_are_the_combined_ones(databases):
    """"two-down" under majority: monitored from paris-1's first check (T0) to now (T0 + 29 * 60
    + 20 + 30 = T0 + 1790 s); down from lyon-1's 20th check (T0 + 1210 s) to now: 580 s.
    Availability: 1210 / 1790 = 67.5977...%, printed truncated, 67.597. paris-1 alone would say
    down from T0 + 1200 s: 1200 / 1790 = 67.039%; the figure is the combined one over 24 h, 30 days, 90 days and in the
    day's bar (every check is in the last hour: today's bar, or yesterday's just after midnight)."""
    dbs, t0, now = databases
    cfg = config(dbs["two-down"], "majority")
    with Store.open(dbs["two-down"]) as store:
        row = next(r for r in status.collect(store, cfg, now)["endpoints"] if r["endpoint"] == "api")
        page = next(r for r in status_model(store, cfg, now)["endpoints"] if r["endpoint"] == "api")
    assert row["availability_24h"] == row["availability_30d"] == "67.597"
    assert page["availability_24h"] == page["availability_90d"] == "67.597"
    assert page["sites"] == row["sites"]
    shown = [day["availability"] for day in page["days"] if day["availability"] is not None]
    assert shown and float(min(shown)) < 100.0 and "67.039" not in shown


@pytest.mark.parametrize("scenario, rule, state", [
    ("two-down", "majority", "down"), ("two-down", "all", "up"), ("nyc-network", "majority", "up"),
])
def test_the_public_page_shows_the_combined_state_and_no_control_endpoint(databases, scenario, rule, state):
    dbs, _, now = databases
    cfg = config(dbs[scenario], rule, {"web": {"public": True}})
    with Store.open(dbs[scenario]) as store:
        model = public.collect(store, cfg, now, status_model(store, cfg, now)["endpoints"])
    assert [(e["name"], e["state"]) for e in model["endpoints"]] == [("The API", state)]


def test_one_site_shows_no_sites_column_and_its_control_endpoints_own_outage(tmp_path):
    """One site: rows as they always were, no "sites" key and no SITES column. Its resolver down
    for its last 3 checks is an outage (confirm 2) shown DOWN, though the site abstains then."""
    now = time.time() // 60 * 60
    db = tmp_path / "probe.db"
    with Writer(db) as writer:
        for index in range(10):
            at = now - 600 + 60 * index
            writer.submit("api", result(API, at, index >= 8), 60.0, "paris-1")
            writer.submit("resolver", result(RESOLVER, at, index >= 7), 60.0, "paris-1")
        writer.flush(10)
    cfg = config(db, "majority")
    with Store.open(db) as store:
        report = status.collect(store, cfg, now)
    rows = {row["endpoint"]: row for row in report["endpoints"]}
    assert "sites" not in rows["api"] and "SITES" not in status.format_text(report, now=now)
    assert rows["resolver"]["state"] == "down" and rows["resolver"]["since"] == iso_utc(now - 600 + 7 * 60)
    # api's down checks fall in the abstention (from the resolver's 7th check): no evidence
    assert rows["api"]["state"] == "abstained" and rows["api"]["since"] == iso_utc(now - 600 + 7 * 60)
    assert rows["api"]["last_check"] == iso_utc(now - 600 + 9 * 60)
    assert "ABSTAINED" in status.format_text(report, now=now)


def test_every_site_abstaining_is_no_evidence(tmp_path):
    """Every site's network down from its check 20 (its resolver and api down): every site
    abstains, the last from nyc-1's 20th check on; api is "abstained" since then, whatever the
    rule, its newest check nyc-1's 29th. The client's page says no data."""
    now = time.time() // 60 * 60
    t0 = now - 29 * 60 - 20 - 30
    db = tmp_path / "hub.db"
    fill(db, "all-networks", t0, 60.0)
    for rule in ("majority", "any"):
        cfg = config(db, rule, {"web": {"public": True}})
        with Store.open(db) as store:
            report = status.collect(store, cfg, now)
            api = next(row for row in report["endpoints"] if row["endpoint"] == "api")
            assert api["state"] == "abstained" and api["since"] == iso_utc(t0 + 20 * 60 + 20)
            assert api["last_check"] == iso_utc(t0 + 29 * 60 + 20)
            assert [s["state"] for s in api["sites"]] == ["abstained"] * 3
            model = public.collect(store, cfg, now, status_model(store, cfg, now)["endpoints"])
            assert [(e["name"], e["state"]) for e in model["endpoints"]] == [("The API", "unknown")]


HUB_TOKENS = {"paris-1": "token-of-paris-0123456789", "lyon-1": "token-of-lyon-0123456789",
              "nyc-1": "token-of-nyc-0123456789"}


def test_a_hub_daemon_serves_the_combined_status(tmp_path):
    """A real hub process (`probe run --listen`, checking nothing itself) over the "two-down"
    database, checks every 10 minutes (each vouches for 15 minutes, long enough for a slow
    start): /status.json and the page say api is down for 2 of 3 sites, the resolver apart."""
    now = time.time()
    t0 = now - 29 * 600 - 20 - 60  # nyc-1's newest check a minute ago
    folder = tmp_path / "hub"
    folder.mkdir()
    db = folder / "hub.db"
    fill(db, "two-down", t0, 600.0)
    text = (f'[probe]\ndatabase = "{db}"\nsite = "hub"\n[hub]\ncheck_endpoints = false\n[report]\nlanguage = "en"\n'
            f'[sla]\nsites = "majority"\n'
            f'[[endpoint]]\nname = "api"\nurl = "{API}"\n'
            f'[[endpoint]]\nname = "resolver"\nurl = "{RESOLVER}"\ncontrol = true\n')
    env = {}
    for site, token in HUB_TOKENS.items():
        variable = f"TOKEN_{site.replace('-', '_').upper()}"
        text += f'[[site]]\nname = "{site}"\ntoken = "${{{variable}}}"\n'
        env[variable] = token
    port = refused_port()
    hub = Daemon(folder, text, env=env, args=("--listen", f"127.0.0.1:{port}"))
    hub.wait_log("serving /metrics")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/status.json")
    model = json.loads(connection.getresponse().read())
    rows = {row["endpoint"]: row for row in model["endpoints"]}
    assert rows["api"]["state"] == "down" and rows["api"]["control"] is False
    assert rows["resolver"]["state"] == "up" and rows["resolver"]["control"] is True
    assert [(s["site"], s["state"]) for s in rows["api"]["sites"]] == [
        ("paris-1", "down"), ("lyon-1", "down"), ("nyc-1", "up")]
    assert all(s["last_check"] for s in rows["api"]["sites"])
    connection.request("GET", "/")
    page = connection.getresponse().read().decode()
    saved = tmp_path / "status.html"
    saved.write_text(page)
    dom = browser.dump_dom(saved)
    assert dom.returncode == 0 and not dom.console_messages()
    html = dom.stdout
    assert "2 of 3 site(s) see an outage" in html and "Control endpoints (the sites" in html
    assert html.index('<th scope="row">api') < html.index("Control endpoints (the sites") < html.index(
        '<th scope="row">resolver')
    assert "token-of" not in page
    # `probe status` reads the same database: the same verdict
    done = subprocess.run([sys.executable, "-m", "probe", "status", "--config", str(hub.config), "--json"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    api = next(line for line in lines if line.get("endpoint") == "api")
    assert api["state"] == "down" and [s["state"] for s in api["sites"]] == ["down", "down", "up"]
    assert hub.stop() == 0
    assert "Traceback" not in hub.logs()


def test_the_newest_check_by_name_is_the_newest_of_every_site(tmp_path):
    """Store.last_check by name: the newest check of any site's series (paris-1 first stored,
    lyon-1 checked last); by a series' id, that series' own."""
    db = tmp_path / "hub.db"
    with Writer(db) as writer:
        writer.submit("api", result(API, 1_767_225_600.0, False), 60.0, "paris-1")
        writer.submit("api", result(API, 1_767_225_610.0, True), 60.0, "lyon-1")
        writer.submit("api", result(API, 1_767_225_605.0, False), 60.0, "nyc-1")
        writer.flush(10)
    with Store.open(db) as store:
        paris, lyon, nyc = store.series("api")
        assert store.last_check("api").at == 1_767_225_610.0 and store.last_check("api").state == "down"
        assert [store.last_check(s.id).at for s in (paris, lyon, nyc)] == [
            1_767_225_600.0, 1_767_225_610.0, 1_767_225_605.0]
        assert store.last_check("nobody") is None
