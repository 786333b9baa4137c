"""`probe status` and the status page: "up since" never spans a hole in the data."""

import time

from probe.report import status
from probe.result import parse_iso
from probe.store import Store, Writer
from probe.daemon.web import status_model
from test_web import check, make_config


def write(db, ats_states):
    with Writer(db) as writer:
        for at, state in ats_states:
            writer.submit("api", check(at, state), 60.0, "test")
        writer.flush(10)


def since_of(db, now):
    cfg = make_config(db)
    with Store.open(db) as store:
        row = next(r for r in status.collect(store, cfg, now)["endpoints"] if r["endpoint"] == "api")
        page = next(r for r in status_model(store, cfg, now)["endpoints"] if r["endpoint"] == "api")
    return parse_iso(row["since"]), parse_iso(page["since"]), row["state"]


def test_up_since_counts_from_the_first_check_after_the_last_hole(tmp_path):
    db = tmp_path / "probe.db"
    now = time.time() // 60 * 60
    before = [(now - 6 * 3600 + i * 60, "up") for i in range(120)]  # 2 h up, then the probe stopped
    after = [(now - 3 * 3600 + i * 60, "up") for i in range(180)]  # 3 h later it runs again
    write(db, before + after)
    since, page_since, state = since_of(db, now)
    assert state == "up"
    assert since == page_since == now - 3 * 3600, "up since must not span the 2 h hole"


def test_up_since_spans_no_hole_when_there_is_none(tmp_path):
    db = tmp_path / "probe.db"
    now = time.time() // 60 * 60
    write(db, [(now - 3 * 3600 + i * 60, "down" if i in (10, 11) else "up") for i in range(180)])
    since, page_since, _ = since_of(db, now)
    assert since == page_since == now - 3 * 3600 + 12 * 60


def test_an_outage_across_a_hole_is_down_since_its_start(tmp_path):
    db = tmp_path / "probe.db"
    now = time.time() // 60 * 60
    write(db, [(now - 5 * 3600 + i * 60, "down") for i in range(10)]
          + [(now - 3 * 3600 + i * 60, "down") for i in range(10)])
    since, page_since, state = since_of(db, now - 3 * 3600 + 600)
    assert state == "down" and since == page_since == now - 5 * 3600


def _late_window_config(db, start, end, policy):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from probe import config as config_module

    paris = ZoneInfo("Europe/Paris")
    local = [datetime.fromtimestamp(t, paris).strftime("%Y-%m-%dT%H:%M") for t in (start, end)]
    return config_module.from_dict({
        "probe": {"database": str(db)},
        "sla": {"late_maintenance": policy},
        "endpoint": [{"name": "api", "url": "https://api.example.com/health"}],
        "maintenance": [{"start": local[0], "end": local[1], "reason": "said after the fact"}],
    }, "probe.toml")


def test_status_excuses_a_late_window_only_as_the_report_does(tmp_path):
    """A window first seen after the outage it covers excuses nothing under "count" (the
    default) in `probe status` and on the status page, as in the report; "exclude" excuses it."""
    from probe.store.maintenance import declare_from_config

    now = time.time() // 60 * 60
    # 3 h of checks a minute apart; down for 30 min from 2 h ago
    write(tmp_path / "count.db", [(now - 3 * 3600 + i * 60, "down" if 60 <= i < 90 else "up") for i in range(180)])
    write(tmp_path / "exclude.db", [(now - 3 * 3600 + i * 60, "down" if 60 <= i < 90 else "up") for i in range(180)])
    shown = {}
    for policy in ("count", "exclude"):
        db = tmp_path / f"{policy}.db"
        cfg = _late_window_config(db, now - 2 * 3600 - 600, now - 3600, policy)
        with Store.open(db) as store:
            declare_from_config(store, cfg, now)  # first seen now: after the window began
            row = next(r for r in status.collect(store, cfg, now)["endpoints"] if r["endpoint"] == "api")
            page = next(r for r in status_model(store, cfg, now)["endpoints"] if r["endpoint"] == "api")
        shown[policy] = (row["availability_24h"], page["availability_90d"])
    # count: 30 min down of the 3 h monitored = 100 x (1 - 1800 / 10800) = 83.333 %
    assert shown["count"] == ("83.333", "83.333")
    # exclude: the window (2 h 10 min ago to 1 h ago) covers the outage: nothing down
    assert shown["exclude"] == ("100.000", "100.000")


def test_control_endpoints_are_listed_apart_from_the_services(tmp_path):
    """A control endpoint tells whether the site's own network works: `probe status` marks it
    (JSON "control") and lists it in a table of its own, under the services."""
    from probe import config as config_module

    db = tmp_path / "probe.db"
    now = time.time() // 60 * 60
    with Writer(db) as writer:
        for i in range(10):
            writer.submit("api", check(now - 600 + i * 60), 60.0, "paris-1")
            writer.submit("resolver", check(now - 600 + i * 60, url="https://dns.example.net/"), 60.0, "paris-1")
        writer.flush(10)
    cfg = config_module.from_dict({
        "probe": {"database": str(db)},
        "endpoint": [{"name": "resolver", "url": "https://dns.example.net/", "control": True},
                     {"name": "api", "url": "https://api.example.com/health"}],
    }, "probe.toml")
    with Store.open(db) as store:
        report = status.collect(store, cfg, now)
    assert {r["endpoint"]: r["control"] for r in report["endpoints"]} == {"resolver": True, "api": False}
    lines = status.format_text(report, now=now).splitlines()
    services = next(i for i, line in enumerate(lines) if line.startswith("ENDPOINT"))
    controls = next(i for i, line in enumerate(lines) if line.startswith("CONTROL"))
    assert services < controls
    assert [line.split()[0] for line in lines[services + 1:controls]] == ["api"]
    assert lines[controls + 1].split()[:2] == ["resolver", "UP"]
    assert all(len(line) <= status.WIDTH for line in lines)
