"""`probe run --listen`: /metrics (checked by promtool), /status.json and the status page,
served by a real aiohttp server on 127.0.0.1 from a real database; the bearer token."""

import asyncio
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from probe import config as config_module
from probe.alerts import AlertSettings, Alerter, Webhook
from probe.result import CheckResult
from probe.schedule import Stats
from probe.store import Writer
from probe.daemon.web import LiveResults, parse_listen, start_web, status_model

HOSTILE = "<script>alert(1)</script>"
PARIS = ZoneInfo("Europe/Paris")


def make_config(db, language="en"):
    return config_module.from_dict({
        "probe": {"database": str(db)},
        "endpoint": [
            {"name": "api", "url": "https://api.example.com/health"},
            {"name": HOSTILE, "url": "https://x.example.com/?q=<b>"},
            {"name": "new", "url": "https://new.example.com/"},
        ],
        "report": {"language": language, "title": "Acme & Co"},
    }, "probe.toml")


def check(at, state="up", **facts):
    values = dict(url="https://api.example.com/health", at=at, state=state, http_status=200, dns_ms=1.5,
                  connect_ms=2.0, tls_ms=5.25, ttfb_ms=20.0, total_ms=30.5, tls_version="TLSv1.3",
                  cert_not_after=at + 30 * 86400)
    if state == "down":
        values.update(error_class="http_status", error="HTTP 503", http_status=503)
    return CheckResult(**{**values, **facts})


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """Three days of checks every 10 minutes; 'api' was down for an hour yesterday."""
    db = tmp_path_factory.mktemp("web") / "probe.db"
    now = time.time()
    yesterday_noon = datetime.combine(datetime.fromtimestamp(now, PARIS).date() - timedelta(days=1),
                                      datetime.min.time(), PARIS).timestamp() + 12 * 3600
    with Writer(db) as writer:
        at = now - 3 * 86400
        while at < now:
            down = yesterday_noon <= at < yesterday_noon + 3600
            writer.submit("api", check(at, "down" if down else "up"), 600.0, "test")
            writer.submit(HOSTILE, check(at), 600.0, "test")
            at += 600
        writer.flush(10)
    return db


class View:
    """What the daemon gives the pages, built from real parts."""

    def __init__(self, db):
        self.config = make_config(db)
        self.store_path = str(db)
        self.live = LiveResults()
        self.scheduler = SimpleNamespace(stats=Stats(started=12, missed=1, in_flight=2))
        self.scheduler.stats.lags.extend([0.001, 0.002, 0.010])
        self.writer = Writer(db)
        self.alerter = Alerter(AlertSettings(webhooks=(Webhook("chat", "https://h.example.com/"),)),
                               self.config.sla, db)


def serve(view, requests, token=None, host="127.0.0.1"):
    """Start the server on a free port, make the requests [(path, headers)], return
    [(status, headers, text)]."""

    async def main():
        runner = await start_web(view, host, 0, token)
        port = runner.addresses[0][1]
        answers = []
        try:
            async with aiohttp.ClientSession() as session:
                for path, headers in requests:
                    async with session.get(f"http://127.0.0.1:{port}{path}", headers=headers or {}) as response:
                        answers.append((response.status, response.headers, await response.text()))
        finally:
            await runner.cleanup()
        return answers

    return asyncio.run(main())


@pytest.fixture
def view(database):
    view = View(database)
    now = time.time()
    view.live.record("api", check(now - 70, "down"))
    view.live.record("api", check(now - 10))
    yield view
    view.writer.close()


def test_metrics_pass_promtool(view):
    (status, headers, text), = serve(view, [("/metrics", None)])
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    for line in (
        'probe_endpoint_up{endpoint="api"} 1.0',
        'probe_endpoint_state{endpoint="api",state="up"} 1.0',
        'probe_check_duration_seconds{endpoint="api",phase="tls"} 0.00525',
        'probe_tls_version_info{endpoint="api",version="TLSv1.3"} 1.0',
        'probe_checks_total{endpoint="api",result="down"} 1.0',
        'probe_checks_total{endpoint="new",result="up"} 0.0',
        "probe_lag_p50_seconds 0.002",
        "probe_checks_missed_total 1.0",
        "probe_queue_depth 0.0",
        "probe_write_errors_total 0.0",
        'probe_alerts_sent_total{channel="chat"} 0.0',
        "probe_alerts_pending 0.0",
    ):
        assert line in text, line
    assert 'probe_cert_expiry_timestamp_seconds{endpoint="api"}' in text
    assert 'probe_endpoint_up{endpoint="new"}' not in text  # no check yet: no state to tell
    assert 'endpoint="<script>alert(1)</script>"' in text  # label values are quoted, not escaped
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus): the lint was not run")
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout.strip() == "" and lint.stderr.strip() == ""


def test_status_json(view):
    (status, _, text), = serve(view, [("/status.json", None)])
    assert status == 200
    import json

    model = json.loads(text)
    rows = {row["endpoint"]: row for row in model["endpoints"]}
    assert list(rows) == ["api", HOSTILE, "new"]
    api = rows["api"]
    assert api["state"] == "up" and api["since"].endswith(("+01:00", "+02:00"))
    assert len(api["days"]) == 90
    kinds = [day["kind"] for day in api["days"]]
    assert kinds[:85] == ["nodata"] * 85
    assert kinds[-2] == "breached"  # yesterday: an hour down
    assert api["days"][-2]["availability"] == "95.833"  # 1 h of 24 h
    assert kinds[-3] == "met" and api["days"][-3]["availability"] == "100.000"
    assert rows["new"]["state"] == "unknown" and set(d["kind"] for d in rows["new"]["days"]) == {"nodata"}
    assert model["timezone"] == "Europe/Paris" and model["days"] == 90


def test_day_bars_agree_with_the_accounting(database):
    """The fast path (no outage: 100 %) and the sliced runs give what sla.availability
    gives over each day with all the runs."""
    from probe import sla
    from probe.report import local_days
    from probe.store import runs_around
    from probe.store import Store

    cfg = make_config(database)
    with Store.open(database) as store:
        now = time.time()
        model = status_model(store, cfg, now)
        for row in model["endpoints"][:2]:
            first = datetime.fromisoformat(row["days"][0]["date"])
            period = (datetime(first.year, first.month, first.day, tzinfo=PARIS).timestamp(), now)
            runs = runs_around(store, row["endpoint"], period)
            for day, (_, start, end) in zip(row["days"], local_days(period, PARIS)):
                shown = sla.availability(runs, (start, end), (), 2, 99.8).availability_shown(3)
                assert day["availability"] == (None if shown is None else str(shown)), day


def test_status_page_escapes_and_looks_like_the_report(view):
    (status, headers, html), = serve(view, [("/", None)])
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "?q=&lt;b&gt;" in html
    assert "Acme &amp; Co" in html
    assert "--met-bar" in html  # the report's style sheet
    assert html.count('<rect class="bar-breached"') == 1
    assert "95.833%" in html


def test_status_page_in_french(view):
    view.config = make_config(view.store_path, "fr")
    (status, _, html), = serve(view, [("/", None)])
    assert "État des services" in html and "Disponible" in html and "95,833\u202f%" in html


def test_token_is_required_when_set(view):
    answers = serve(view, [("/metrics", None), ("/", {"Authorization": "Bearer wrong"}),
                           ("/status.json", {"Authorization": "Basic c2VjcmV0"}),
                           ("/metrics", {"Authorization": "Bearer s3cret-token"})], token="s3cret-token")
    assert [a[0] for a in answers] == [401, 401, 401, 200]
    assert answers[0][1]["WWW-Authenticate"].startswith("Bearer")


def test_no_token_no_outside_bind(view):
    for host in ("0.0.0.0", "192.0.2.1", "::", "probe.example.com"):
        with pytest.raises(ValueError, match="not a loopback address; set a bearer token"):
            serve(view, [], host=host)


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:9464", ("::1", 9464)), (":9464", ("127.0.0.1", 9464)),
    ("0.0.0.0:80", ("0.0.0.0", 80)),
])
def test_parse_listen(text, expected):
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["9464", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "host:port"])
def test_parse_listen_errors(text):
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        parse_listen(text)
