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
