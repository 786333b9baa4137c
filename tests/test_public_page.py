"""The client's status page (`[web] public = true`) and its Atom feed: served by a real aiohttp
server from a real database; opened at 375 px in headless Chromium; the feed read as Atom."""

import asyncio
import re
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from types import SimpleNamespace

import aiohttp
import pytest

import browser
import devtools
from probe import config as config_module
from probe.daemon import LiveResults, start_web
from probe.schedule import Stats
from probe.store import Store, Writer
from probe.store import maintenance as maintenance_records
from test_daemon import no_daemon_left_behind  # noqa: F401 - the fixture
from test_web import check

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = "<script>alert(1)</script> & \"Co\""
TOKEN = "s3cret-token"
LONG = "Espace client de facturation électronique et de paiement des fournisseurs"


def make_config(db, public=True, language="fr"):
    return config_module.from_dict({
        "probe": {"database": str(db), "site": "paris-1"},
        "endpoint": [
            {"name": "api", "url": "https://internal-api.example.com/health?key=abc", "title": "API publique"},
            {"name": "portal", "url": "https://portal.internal.example.com/ping", "title": HOSTILE},
            {"name": "long", "url": "https://long.internal.example.com/", "title": LONG},
            {"name": "net", "url": "https://control.example.net/", "control": True},
        ],
        "report": {"language": language, "title": "Acme Cloud", "provider": "Acme"},
        "web": {"public": public},
    }, "probe.toml")


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """Two days of checks every 10 minutes; 'api' down for the last 30 minutes (an incident
    in progress), 'portal' down for an hour yesterday; a maintenance window ahead."""
    db = tmp_path_factory.mktemp("public") / "probe.db"
    now = time.time()
    with Writer(db) as writer:
        at = now - 2 * 86400
        while at < now:
            api_down = at >= now - 1800
            portal_down = now - 86400 <= at < now - 86400 + 3600
            writer.submit("api", check(at, "down" if api_down else "up"), 600.0, "test")
            writer.submit("portal", check(at, "down" if portal_down else "up"), 600.0, "test")
            writer.submit("long", check(at), 600.0, "test")
            writer.submit("net", check(at), 600.0, "test")
            at += 600
        writer.flush(10)
    with Store.open(db) as store:
        maintenance_records.add(store, now + 86400, now + 90000, ("api",), "Mise à jour <b>base</b>", "ops")
        maintenance_records.add(store, now + 86400, now + 90000, ("net",), "Réseau interne", "ops")
    return db


class View:
    def __init__(self, db, **options):
        self.config = make_config(db, **options)
        self.store_path = str(db)
        self.live = LiveResults()
        self.scheduler = SimpleNamespace(stats=Stats(started=1, missed=0, in_flight=0))
        self.writer = None
        self.alerter = None


def serve(view, requests, token=TOKEN):
    async def main():
        runner = await start_web(view, "127.0.0.1", 0, token)
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


def test_public_page_without_token_metrics_and_json_keep_it(database):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    answers = serve(View(database), [("/", None), ("/feed.atom", None), ("/metrics", None), ("/status.json", None),
                                     ("/metrics", bearer), ("/status.json", bearer)])
    assert [status for status, _, _ in answers] == [200, 200, 401, 401, 200, 200]
    assert answers[0][1]["Content-Type"].startswith("text/html")
    assert answers[1][1]["Content-Type"].startswith("application/atom+xml")


def test_not_public_keeps_the_token_everywhere(database):
    answers = serve(View(database, public=False), [("/", None), ("/feed.atom", None),
                                                   ("/feed.atom", {"Authorization": f"Bearer {TOKEN}"})])
    assert [status for status, _, _ in answers] == [401, 401, 404]


def test_page_shows_display_names_no_urls_no_control_endpoint(database):
    (status, headers, html), = serve(View(database), [("/", None)])
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "API publique" in html and LONG in html
    for hidden in ("internal", "https://", "http://", "health", "key=abc", "control.example.net",
                   "Réseau interne", ">net<"):
        assert hidden not in html, hidden
    # the hostile title is text, never markup
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in html
    assert "Mise à jour &lt;b&gt;base&lt;/b&gt;" in html
    # banners: the incident in progress, the window ahead
    assert re.search(r'class="banner banner-incident"[^>]*><strong>Incident en cours · API publique', html)
    assert 'class="banner banner-ahead"' in html and "Maintenance prévue" in html
    assert html.count('<svg class="bars"') == 3
    assert html.count("<rect ") == 3 * 90
    assert "Certains services sont perturbés." in html


def test_a_title_per_language(database):
    view = View(database)
    view.config = config_module.from_dict({
        "probe": {"database": str(database)},
        "endpoint": [{"name": "api", "url": "https://internal-api.example.com/", "title": "API"}],
        "report": {"language": "fr", "title": {"fr": "Statut Acme", "en": "Acme status"}},
        "web": {"public": True},
    }, "probe.toml")
    (_, _, fr), (_, _, en), (_, _, feed) = serve(view, [("/", None), ("/?lang=en", None), ("/feed.atom?lang=en", None)])
    assert "<h1>Statut Acme</h1>" in fr and "<h1>Acme status</h1>" in en
    assert ET.fromstring(feed.encode()).find(f"{ATOM}title").text == "Acme status"


def test_english_by_query(database):
    (_, _, html), = serve(View(database), [("/?lang=en", None)])
    assert '<html lang="en">' in html and "Incident in progress · API publique" in html
    assert "Scheduled maintenance" in html and "Last 90 days" in html
    (_, _, html), = serve(View(database), [("/?lang=de", None)])
    assert '<html lang="fr">' in html  # an unknown language: the config's


def test_feed_is_atom(database):
    (status, _, text), = serve(View(database), [("/feed.atom?lang=en", None)])
    root = ET.fromstring(text.encode())
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    assert root.find(f"{ATOM}id").text.startswith("urn:uuid:")
    assert root.find(f"{ATOM}title").text == "Acme Cloud"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"self": "feed.atom?lang=en", "alternate": "./?lang=en"}  # the language asked for, kept
    entries = root.findall(f"{ATOM}entry")
    assert entries
    ids = []
    for entry in entries:
        for required in ("id", "title", "updated", "content"):
            element = entry.find(f"{ATOM}{required}")
            assert element is not None and element.text, required
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text.replace("Z", "+00:00"))
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids))
    titles = [entry.find(f"{ATOM}title").text for entry in entries]
    assert any(title.startswith("Incident: API publique") for title in titles), titles
    assert any(title.startswith(f"Resolved: {HOSTILE}") for title in titles), titles  # escaped in XML, read back
    assert any(title == "Maintenance: Mise à jour <b>base</b>" for title in titles), titles
    assert "internal" not in text and "Réseau interne" not in text and "https://internal" not in text
    assert "<script>" not in text  # markup in titles is escaped
    content = entries[0].find(f"{ATOM}content")
    assert content.get("type") == "text" and "\n" in content.text and "\\n" not in text  # line breaks kept
    # the same ids from one request to the next
    (_, _, again), = serve(View(database), [("/feed.atom?lang=en", None)])
    assert [e.find(f"{ATOM}id").text for e in ET.fromstring(again.encode()).findall(f"{ATOM}entry")] == ids


@pytest.mark.skipif(not browser.available(), reason="Chromium is not installed")
def test_page_fits_a_phone_375px_wide(database, tmp_path):
    (_, _, html), = serve(View(database), [("/", None)])
    page = tmp_path / "public.html"
    page.write_text(html)
    scroll_width, inner_width, bars = devtools.measure(
        page, "[document.documentElement.scrollWidth, window.innerWidth,"
              " Math.max(...[...document.querySelectorAll('svg.bars')].map(s => s.getBoundingClientRect().right))]")
    assert inner_width == 375
    assert scroll_width <= 375, scroll_width
    assert bars <= 375


def test_a_running_daemon_serves_the_public_page_and_a_reload_turns_it_off(tmp_path, servers, certs):
    import signal
    import urllib.error
    import urllib.request

    from servers import refused_port, respond
    from test_daemon import Daemon, config_text

    url = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/internal/health"
    port = refused_port()
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"\ntitle = "Espace client"'
    text = config_text(tmp_path / "probe.db", [("portal", url, opts)], extra="")
    public = text + "[web]\npublic = true\n"
    daemon = Daemon(tmp_path, public, env={"PROBE_LISTEN_TOKEN": TOKEN}, args=("--listen", f"127.0.0.1:{port}"))

    def get(path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    try:
        daemon.wait_log("portal: first successful check")
        status, html = get("/")
        assert status == 200 and "Espace client" in html and "internal" not in html and "portal" not in html
        assert get("/feed.atom")[0] == 200
        assert get("/metrics")[0] == 401 and get("/status.json")[0] == 401
        daemon.config.write_text(text)
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_log("[web] changed")
        assert get("/")[0] == 401 and get("/feed.atom")[0] == 401
    finally:
        assert daemon.stop() == 0


def test_config_check_says_the_page_is_public(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "probe.toml"
    path.write_text('[web]\npublic = true\n[[endpoint]]\nname = "a"\nurl = "https://a.example.com/"\n')
    done = subprocess.run([sys.executable, "-m", "probe", "config", "check", str(path)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "web: public: with --listen, the status page (/) and /feed.atom are served without the token" in done.stdout


def test_the_time_zone_note_reads_in_both_languages(database):
    (_, _, fr), (_, _, en) = serve(View(database), [("/", None), ("/?lang=en", None)])
    assert re.search(r"Heures du fuseau [A-Za-z_/]+\.", fr) and "Heures de " not in fr
    assert re.search(r"Times in the [A-Za-z_/]+ time zone\.", en)
