"""Several probe sites' checks of the same endpoints in one database: one series of checks,
runs and rollups per (endpoint, site); the import of each site's export keeps them all."""

from __future__ import annotations

import io
import json
import sqlite3

from probe.result import CheckResult
from probe.store import Store, Writer, export_jsonl, import_jsonl
from probe.store import schema

BASE = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def result(at: float, state: str = "up", error_class: str | None = None) -> CheckResult:
    return CheckResult(url="https://a.example/health", at=at, state=state, error_class=error_class,
                       error=None if state == "up" else "it failed", http_status=200 if state == "up" else 503,
                       total_ms=120.0)


def site_history(site: str, down_from: int) -> list[tuple[str, CheckResult, float, str]]:
    """60 checks a minute apart of "web" and "dns" at the same milliseconds at every site,
    "web" down from check ``down_from`` on."""
    items = []
    for index in range(60):
        at = BASE + 60 * index + 0.123
        state, error_class = ("down", "timeout") if index >= down_from else ("up", None)
        items.append(("web", result(at, state, error_class), 60.0, site))
        items.append(("dns", result(at), 60.0, site))
    return items


def site_export(tmp_path, site: str, down_from: int) -> str:
    path = tmp_path / f"{site}.db"
    with Writer(path) as writer:
        for item in site_history(site, down_from):
            writer.submit(*item)
    out = io.StringIO()
    with Store.open(path) as store:
        assert export_jsonl(store, out) == 120
    return out.getvalue()


def test_two_sites_exports_imported_into_one_database_are_kept_whole(tmp_path):
    paris, lyon = site_export(tmp_path, "paris-1", 30), site_export(tmp_path, "lyon-1", 50)
    with Store.open(tmp_path / "hub.db") as hub:
        assert import_jsonl(hub, io.StringIO(paris)).added == 120
        assert import_jsonl(hub, io.StringIO(lyon)).added == 120  # the same milliseconds: both kept
        assert import_jsonl(hub, io.StringIO(lyon)).added == 0  # twice: nothing more
        assert [(e.name, e.site) for e in hub.endpoints()] == [
            ("dns", "paris-1"), ("dns", "lyon-1"), ("web", "paris-1"), ("web", "lyon-1")]
        web_paris, web_lyon = hub.series("web")
        # each site its own runs: up then down, from its own checks
        assert [(r.state, r.count) for r in hub.runs(web_paris.id)] == [("up", 30), ("down", 30)]
        assert [(r.state, r.count) for r in hub.runs(web_lyon.id)] == [("up", 50), ("down", 10)]
        assert sum(r.up + r.down for r in hub.rollups(web_paris.id)) == 60
        assert [(r.up, r.down) for r in hub.rollups(web_lyon.id)] == [(50, 10)]
        # by name: every site's checks, in time order
        checks = list(hub.checks("web"))
        assert len(checks) == 120 and [c[2] for c in checks[:2]] == ["paris-1", "lyon-1"]
        # the hub's export holds both sites, and re-imports whole elsewhere
        out = io.StringIO()
        assert export_jsonl(hub, out) == 240
    with Store.open(tmp_path / "copy.db") as copy:
        assert import_jsonl(copy, io.StringIO(out.getvalue())).added == 240
        assert len(copy.series("web")) == 2


def test_a_check_that_names_no_site_joins_the_endpoints_first_series(tmp_path):
    with Store.open(tmp_path / "probe.db") as store:
        line = {"endpoint": "web", **result(BASE).to_json(), "interval_s": 60.0, "site": None}
        import_jsonl(store, [json.dumps(line)])
        # a site's first check adopts the series that named none
        import_jsonl(store, [json.dumps({**line, "at": BASE + 60, "site": "paris-1"})])
        import_jsonl(store, [json.dumps({**line, "at": BASE + 120, "site": None})])
        [web] = store.endpoints()
        assert web.site == "paris-1" and len(list(store.checks("web"))) == 3
        import_jsonl(store, [json.dumps({**line, "at": BASE + 120, "site": "lyon-1"})])
        assert [e.site for e in store.series("web")] == ["paris-1", "lyon-1"]


def test_a_database_of_the_former_schema_keeps_its_endpoints_and_ids(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(schema.MIGRATIONS[:5], start=1):
        for statement in schema._statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO endpoints VALUES (7, 'web', 'https://a.example/', 60, 'paris-1', 1, 2, NULL)")
    conn.execute("INSERT INTO incidents (endpoint_id, start, source) VALUES (7, 5, 'manual')")
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == len(schema.MIGRATIONS)
        [web] = store.endpoints()
        assert (web.id, web.name, web.site) == (7, "web", "paris-1")
        assert [i.endpoint for i in store.list_incidents()] == ["web"]
        with Writer(path) as writer:
            writer.submit("web", result(BASE), 60.0, "paris-1")
            writer.submit("web", result(BASE), 60.0, "lyon-1")
        assert [(e.id, e.site) for e in store.series("web")][0] == (7, "paris-1")
        assert len(store.series("web")) == 2


def test_status_shows_the_site_rules_verdict(tmp_path):
    from probe.config import from_dict
    from probe.report import status

    path = tmp_path / "hub.db"
    with Writer(path) as writer:
        for minute in range(5):
            at = BASE + 60 * minute
            writer.submit("web", result(at, "down", "timeout"), 60.0, "paris-1")
            writer.submit("web", result(at + 1), 60.0, "lyon-1")
            writer.submit("web", result(at + 2), 60.0, "lille-1")
    endpoints = [{"name": "web", "url": "https://a.example/health"}]
    with Store.open(path) as store:
        for rule, state in (("majority", "up"), ("any", "down")):
            cfg = from_dict({"sla": {"sites": rule}, "endpoint": endpoints})
            [row] = status.collect(store, cfg, BASE + 250)["endpoints"]
            assert row["state"] == state, rule
            assert row["last_check"] == "2026-01-01T00:04:02Z"  # the newest check of any site


def test_response_times_by_name_pool_every_sites_checks(tmp_path):
    """The performance objective and the latency chart read an endpoint's response times by
    name: every site's checks, not its first site's. Paris answers in 100 ms, Lyon in 900 ms."""
    from probe.store import response_times
    from probe.store.histograms import latency_bucket

    path = tmp_path / "hub.db"
    with Writer(path) as writer:
        for index in range(10):
            for site, total in (("paris-1", 100.0), ("lyon-1", 900.0)):
                check = CheckResult(url="https://a.example/", at=BASE + 60 * index, state="up", http_status=200,
                                    total_ms=total)
                writer.submit("web", check, 60.0, site)
    with Store.open(path) as store:
        paris, lyon = store.series("web")
        pooled = response_times(store, "web", BASE, BASE + 3600)
        assert len(pooled) == 20 and sorted({ms for _, ms in pooled}) == [100.0, 900.0]
        assert [ms for _, ms in response_times(store, paris.id, BASE, BASE + 3600)] == [100.0] * 10
        # the hour's rollups, once per site; the day's histogram holds both sites' checks
        assert len(store.rollups("web", BASE, BASE + 3600)) == 2
        day, = store.latency_histograms("web", [BASE, BASE + 86400])
        assert day == {latency_bucket(100.0): 10, latency_bucket(900.0): 10}
