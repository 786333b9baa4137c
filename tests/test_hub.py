"""Several sites and a hub as real `probe run` processes on loopback: sites check a local TLS
server and push over TLS to the hub; the hub killed and started again; forged pushes."""

import http.client
import json
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone

import pytest

import browser
from probe.config import load
from probe.store import Store, shipping
from servers import refused_port, respond
from test_daemon import RUNNING, Daemon, no_daemon_left_behind  # noqa: F401 - the fixture

TOKENS = {f"site-{n}": f"token-of-site-{n}-0123456789" for n in (1, 2, 3)}


@pytest.fixture(scope="module")
def service(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"


@pytest.fixture(scope="module")
def hub_tls(certs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub-tls")
    cert, key = folder / "hub.pem", folder / "hub.key"
    for blob in certs.good.cert_chain_pems:
        with open(cert, "ab") as handle:
            handle.write(blob.bytes())
    certs.good.private_key_pem.write_to_path(str(key))
    return str(cert), str(key)


def hub_config(db, extra=""):
    text = f'[probe]\ndatabase = "{db}"\nsite = "hub"\n{extra}\n'
    for name in TOKENS:
        text += f'[[site]]\nname = "{name}"\ntoken = "${{TOKEN_{name.replace("-", "_").upper()}}}"\n'
    return text


def hub_env():
    return {f"TOKEN_{name.replace('-', '_').upper()}": token for name, token in TOKENS.items()}


def site_config(db, name, hub_port, service, ca_file):
    return (f'[probe]\ndatabase = "{db}"\nsite = "{name}"\nretry_interval = "300ms"\n'
            f'[upstream]\nurl = "https://127.0.0.1:{hub_port}/"\ntoken = "${{PROBE_SITE_TOKEN}}"\n'
            f'ca_file = "{ca_file}"\nevery = "200ms"\n'
            f'[[endpoint]]\nname = "api"\nurl = "{service}"\ninterval = "1s"\ntimeout = "900ms"\n'
            f'ca_file = "{ca_file}"\n')


def start_hub(folder, port, hub_tls, extra=""):
    """A hub over TLS on loopback; ``extra`` is more config (an endpoint of its own, say)."""
    folder.mkdir(exist_ok=True)
    return Daemon(folder, hub_config(folder / "hub.db", extra), env=hub_env(),
                  args=("--listen", f"127.0.0.1:{port}", "--listen-tls-cert", hub_tls[0],
                        "--listen-tls-key", hub_tls[1]))


def checks_at(db):
    """Each endpoint's checks by site: {(name, site): [(time in ms, state), ...]}, in time order."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT e.name, e.site, c.at, c.state FROM checks c JOIN endpoints e"
                            " ON e.id = c.endpoint_id ORDER BY e.name, e.site, c.at").fetchall()
    found = {}
    for name, site, at, state in rows:
        found.setdefault((name, site), []).append((at, state))
    return found


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s")


def test_three_sites_ship_everything_to_the_hub_and_back_fill_after_it_was_down(
        tmp_path, service, certs, hub_tls):
    port = refused_port()
    own = (f'[[endpoint]]\nname = "api"\nurl = "{service}"\ninterval = "1s"\ntimeout = "900ms"\n'
           f'ca_file = "{certs.ca_file}"\n')  # the hub probes too, as one more site
    hub = start_hub(tmp_path / "hub", port, hub_tls, own)
    hub.wait_log("serving /metrics")
    sites = {}
    for name, token in TOKENS.items():
        folder = tmp_path / name
        folder.mkdir()
        sites[name] = Daemon(folder, site_config(folder / "site.db", name, port, service, certs.ca_file),
                             env={"PROBE_SITE_TOKEN": token})
    for site in sites.values():
        site.wait_log("started: 1 endpoints")
    hub_db = tmp_path / "hub" / "hub.db"
    wait_for(lambda: len(checks_at(hub_db)) == 4, what="every site's checks at the hub")

    # What the hub shows of its sites while they push.
    status = subprocess.run([sys.executable, "-m", "probe", "status", "--config", str(hub.config), "--json"],
                            capture_output=True, text=True, timeout=30, env={**os.environ, **hub_env()})
    assert status.returncode == 0, status.stderr
    rows = [json.loads(line) for line in status.stdout.splitlines()]
    shown = {row["site"]: row for row in rows if "last_push" in row}
    assert set(shown) == set(TOKENS) and all(row["last_push"] for row in shown.values())
    assert all(row["lag_s"] is not None and not row["silent"] for row in shown.values())
    context = ssl.create_default_context(cafile=certs.ca_file)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    assert 'probe_site_data_lag_seconds{site="site-1"}' in metrics
    assert 'probe_site_last_push_timestamp_seconds{site="site-3"}' in metrics
    connection.request("GET", "/status.json")
    model = json.loads(connection.getresponse().read())
    assert [row["site"] for row in model["sites"]] == list(TOKENS)
    assert all(row["last_push"][-6:] in ("+01:00", "+02:00") for row in model["sites"])  # Paris time, as the page
    connection.request("GET", "/")
    page = connection.getresponse().read().decode()
    assert "site-2" in page and "token-of-site" not in page
    saved = tmp_path / "status.html"
    saved.write_text(page)
    dom = browser.dump_dom(saved)
    assert dom.returncode == 0 and not dom.console_messages()
    assert dom.stdout.count('<th scope="row">site-') == 3 and "sites-table" in dom.stdout

    # The hub dies; the sites go on probing and keep what the hub has not stored.
    hub.process.kill()
    hub.process.wait(10)
    def waiting():
        return {name: sqlite3.connect(tmp_path / name / "site.db").execute(
            "SELECT count(*) FROM upstream_outbox").fetchone()[0] for name in sites}

    wait_for(lambda: all(count >= 3 for count in waiting().values()), what="checks waiting for the hub")
    hub = start_hub(tmp_path / "hub", port, hub_tls, own)
    hub.wait_log("serving /metrics")
    wait_for(lambda: all(sqlite3.connect(tmp_path / name / "site.db").execute(
        "SELECT count(*) FROM upstream_outbox").fetchone()[0] <= 2 for name in sites), what="back-fill")
    for site in sites.values():
        assert site.stop() == 0
    # Each site's database is complete, and the hub holds exactly the same checks: none lost,
    # none twice, in the same order.
    at_hub = checks_at(hub_db)
    # one endpoint, checked by four sites (the hub one of them): four series, the hub's its own
    # (how many checks it made between its kill and its stop depends on the machine's load)
    assert sorted(site for name, site in at_hub if name == "api") == sorted(["hub", *sites])
    assert at_hub[("api", "hub")]
    for name in sites:
        kept = checks_at(tmp_path / name / "site.db")
        assert list(kept) == [("api", name)]
        assert at_hub[("api", name)] == kept[("api", name)]
        assert len(kept[("api", name)]) >= 4  # pushed before the kill, and waiting after it
        assert sqlite3.connect(tmp_path / name / "site.db").execute(
            "SELECT count(*) FROM upstream_outbox").fetchone()[0] == 0
    # The sites' daemon runs are at the hub, with their site, stopped; the hub's own is apart.
    with Store.open(hub_db) as store:
        pushed = [run for run in store.daemon_runs() if run.site in TOKENS]
        local = store.daemon_runs(local=True)
    assert sorted(run.site for run in pushed) == sorted(TOKENS)
    assert all(run.stop_reason == "stop" and run.stopped_at for run in pushed)
    assert all(run.heartbeat_at > run.started_at for run in pushed)  # alive while it pushed checks
    assert [run.site for run in local] == ["hub", "hub"] and local[0].stop_reason == "crash"
    assert hub.stop() == 0
    assert "Traceback" not in hub.logs()
    for site in sites.values():
        assert "Traceback" not in site.logs() and "token-of-site" not in site.logs()


def _push(port, ca_file, site, token, body, stream="00112233aabbccdd", first=1):
    context = ssl.create_default_context(cafile=ca_file)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    headers = {"Content-Type": "application/x-ndjson"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    connection.request("POST", f"/api/v1/checks?site={site}&stream={stream}&first={first}", body=body,
                       headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode()


def _line(endpoint, site, at="2026-12-01T10:00:00Z", state="up"):
    return json.dumps({"endpoint": endpoint, "at": at, "state": state, "interval_s": 60, "site": site})


def test_forged_and_broken_pushes_store_nothing(tmp_path, certs, hub_tls):
    port = refused_port()
    hub = start_hub(tmp_path / "hub", port, hub_tls, extra="[hub]\nmax_body = 4096\n")
    hub.wait_log("serving /metrics")
    ca = certs.ca_file
    body = (_line("api", "site-1") + "\n").encode()
    assert _push(port, ca, "site-1", None, body)[0] == 401
    assert _push(port, ca, "site-1", "wrong-token-0123456789", body)[0] == 401
    status, text = _push(port, ca, "site-1", TOKENS["site-2"], body)  # site 2's token, site 1's name
    assert status == 403 and "site 'site-2'" in text
    status, text = _push(port, ca, "site-2", TOKENS["site-2"], body)  # a line of site 1's
    assert status == 403 and "site-1" in text
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(cafile=ca),
                                             timeout=10)
    connection.request("POST", "/api/v1/checks", body=body, headers={"Authorization": f"Bearer {TOKENS['site-1']}"})
    response = connection.getresponse()  # a push that names no site: a mistake, not a forgery
    assert response.status == 400 and "names its site" in response.read().decode()
    status, text = _push(port, ca, "site-1", TOKENS["site-1"], body * 100)
    assert status == 413 and "4096 bytes" in text
    broken = body + b'{"endpoint": "api", "at": "yesterday"}\n'
    status, text = _push(port, ca, "site-1", TOKENS["site-1"], broken)
    assert status == 400 and text.count("\n") == 1 and "line 2" in text
    hub_db = tmp_path / "hub" / "hub.db"
    assert checks_at(hub_db) == {}
    # A good push is stored once, however often it is sent.
    status, text = _push(port, ca, "site-1", TOKENS["site-1"], body)
    assert status == 200 and json.loads(text)["stored_through"] == 1 and json.loads(text)["stored"] == 1
    status, text = _push(port, ca, "site-1", TOKENS["site-1"], body)
    assert status == 200 and json.loads(text) == {"site": "site-1", "stream": "00112233aabbccdd",
                                                  "stored_through": 1, "stored": 0}
    assert len(checks_at(hub_db)[("api", "site-1")]) == 1
    hub.process.send_signal(signal.SIGHUP)  # a hub without endpoints of its own reloads too
    hub.wait_log("config reloaded: 0 endpoints")
    assert hub.stop() == 0
    logs = hub.logs()
    assert "Traceback" not in logs and "token-of-site" not in logs and "wrong-token" not in logs


def test_a_plain_http_hub_off_loopback_does_not_start(tmp_path):
    folder = tmp_path / "hub"
    folder.mkdir()
    (folder / "probe.toml").write_text(hub_config(folder / "hub.db"))
    env = {**os.environ, **hub_env(), "PROBE_LISTEN_TOKEN": "a-token-for-metrics-0123"}
    done = subprocess.run([sys.executable, "-m", "probe", "run", "--config", str(folder / "probe.toml"),
                           "--listen", f"0.0.0.0:{refused_port()}"],
                          capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 78
    assert done.stderr.strip().splitlines()[-1].endswith(
        "sites' pushes carry tokens and evidence: serve TLS (--listen-tls-cert and --listen-tls-key) or,"
        " behind a TLS proxy, set [hub] behind_tls_proxy = true")
    # Behind a TLS proxy, said so in the config, it starts.
    port = refused_port()
    hub = Daemon(folder, hub_config(folder / "hub.db", "[hub]\nbehind_tls_proxy = true\n"),
                 env={**hub_env(), "PROBE_LISTEN_TOKEN": "a-token-for-metrics-0123"},
                 args=("--listen", f"0.0.0.0:{port}"))
    hub.wait_log("serving /metrics")
    # Pushes carry their site's token, not the listener's; the rest still needs the listener's.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/api/v1/checks?site=site-1&stream=00112233aabbccdd&first=1",
                       body=(_line("api", "site-1") + "\n").encode(),
                       headers={"Authorization": f"Bearer {TOKENS['site-1']}"})
    response = connection.getresponse()
    assert response.status == 200, response.read()
    response.read()
    connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKENS['site-1']}"})
    assert connection.getresponse().status == 401
    assert hub.stop() == 0


def test_a_silent_site_is_an_alert(tmp_path, certs, hub_tls, servers):
    received = []
    hook = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/hook"
    port = refused_port()
    extra = f'[alerts]\n[[alerts.webhook]]\nname = "ops"\nurl = "{hook}"\nca_file = "{certs.ca_file}"\n'
    folder = tmp_path / "hub"
    folder.mkdir()
    text = hub_config(folder / "hub.db", extra).replace(
        '[[site]]\nname = "site-1"\n', '[[site]]\nname = "site-1"\nsilent_after = "1s"\n')
    hub = Daemon(folder, text, env=hub_env(), args=("--listen", f"127.0.0.1:{port}", "--listen-tls-cert",
                                                   hub_tls[0], "--listen-tls-key", hub_tls[1]))
    hub.wait_log("site site-1 silent since")
    hub.wait_log("alert: [SITE] site-1 silent since")
    assert "site-2 silent" not in hub.logs()  # its silent_after is 5 minutes
    body = (_line("api", "site-1") + "\n").encode()
    assert _push(port, certs.ca_file, "site-1", TOKENS["site-1"], body)[0] == 200
    hub.wait_log("alert: [RESOLVED] site site-1 pushes again")
    assert hub.stop() == 0
    with sqlite3.connect(folder / "hub.db") as conn:
        rows = conn.execute("SELECT endpoint, event, channel FROM alert_outbox ORDER BY id").fetchall()
    assert rows == [("site site-1", "opened", "ops"), ("site site-1", "resolved", "ops")]
    assert not received


def test_a_site_killed_loses_nothing_and_the_hub_sees_the_crash(tmp_path, service, certs, hub_tls):
    port = refused_port()
    hub = start_hub(tmp_path / "hub", port, hub_tls)
    hub.wait_log("serving /metrics")
    folder = tmp_path / "site-1"
    folder.mkdir()
    config = site_config(folder / "site.db", "site-1", port, service, certs.ca_file)
    env = {"PROBE_SITE_TOKEN": TOKENS["site-1"]}
    site = Daemon(folder, config, env=env)
    site.wait_log("started: 1 endpoints")
    time.sleep(3)
    site.process.kill()  # kill -9: what was stored is in the outbox, in the same transaction
    site.process.wait(10)
    site_port = refused_port()
    site = Daemon(folder, config, env=env, args=("--listen", f"127.0.0.1:{site_port}"))
    site.wait_log("started: 1 endpoints")
    time.sleep(2)
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{site_port}/metrics", timeout=10).read().decode()
    assert "probe_upstream_outbox_lines" in metrics and "probe_upstream_last_push_timestamp_seconds" in metrics
    status = subprocess.run([sys.executable, "-m", "probe", "status", "--config", str(site.config)],
                            capture_output=True, text=True, timeout=30, env={**os.environ, **env})
    assert status.returncode == 0 and f"lines waiting for https://127.0.0.1:{port}/; last push stored 20" in status.stdout
    assert site.stop() == 0
    own, at_hub = checks_at(folder / "site.db"), checks_at(tmp_path / "hub" / "hub.db")
    assert at_hub == own and len(own[("api", "site-1")]) >= 2
    with Store.open(tmp_path / "hub" / "hub.db") as store:
        runs = [(run.site, run.stop_reason) for run in store.daemon_runs() if run.site == "site-1"]
    assert runs == [("site-1", "crash"), ("site-1", "stop")]
    assert hub.stop() == 0


def test_commands_that_push_nothing_need_no_token(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config(tmp_path / "hub.db") + '[upstream]\nurl = "https://hub.example/"\n'
                    'token = "${PROBE_SITE_TOKEN}"\n')
    cfg = load(path, environ={}, secrets=False)
    assert [site.name for site in cfg.sites] == list(TOKENS)
    assert "site 'site-2' token: TOKEN_SITE_2" in cfg.unset_secrets
    assert "upstream token: PROBE_SITE_TOKEN" in cfg.unset_secrets


def test_config_check_describes_shipping_without_a_token(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config(tmp_path / "hub.db") + '[upstream]\nurl = "https://hub.example:9464"\n'
                    'token = "${PROBE_SITE_TOKEN}"\n')
    env = {**os.environ, **hub_env(), "PROBE_SITE_TOKEN": "the-site-token-0123456789"}
    done = subprocess.run([sys.executable, "-m", "probe", "config", "check", str(path)],
                          capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 0, done.stderr
    assert "upstream: pushes every check to https://hub.example:9464/ (token ***)" in done.stdout
    assert "3 site(s) may push here" in done.stdout and "  site-2: token ***; silent after 5m" in done.stdout
    assert "needs at least one [[endpoint]]" not in done.stdout
    assert "token-of-site" not in done.stdout + done.stderr and "the-site-token" not in done.stdout + done.stderr


def test_config_check_says_when_the_hub_checks_nothing_itself(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config(tmp_path / "hub.db", '[hub]\ncheck_endpoints = false\n'
                               '[[endpoint]]\nname = "api"\nurl = "https://api.example.com/"\n'))
    done = subprocess.run([sys.executable, "-m", "probe", "config", "check", str(path)],
                          capture_output=True, text=True, timeout=30, env={**os.environ, **hub_env()})
    assert done.returncode == 0, done.stderr
    assert "the hub checks no endpoint itself" in done.stdout
    cfg = load(path, environ=hub_env())
    assert [e.name for e in cfg.endpoints] == ["api"] and cfg.checked == ()


def test_the_outbox_takes_this_sites_checks_in_the_transaction_that_stores_them(tmp_path):
    from probe.store import Writer
    from test_store import make_result

    path = tmp_path / "probe.db"
    with Writer(path) as writer:
        writer.ship_upstream("paris-1")
        writer.submit("api", make_result(1_790_000_000.0006), 60.0, "paris-1")
        writer.submit("api-lyon", make_result(1_790_000_000.0), 60.0, "lyon-1")  # pushed to this hub
        writer.submit("api", make_result(1_790_000_060.0, state="down", error_class="connect"), 60.0, "paris-1")
        assert writer.flush(10)
    with Store.open(path) as store:
        conn = store.db.conn
        assert conn.execute("SELECT line FROM upstream_outbox").fetchall() == [(None,), (None,)]  # a few bytes each
        first, texts = shipping.OutboxReader(conn).pending(100)  # the lines, made when pushed
        lines = [json.loads(text) for text in texts]
        stored = [at for (at,) in conn.execute("SELECT at FROM checks c JOIN endpoints e ON e.id = c.endpoint_id"
                                               " WHERE e.name = 'api' ORDER BY at")]
        # a check pruned before it could be pushed leaves the outbox; the next one goes
        conn.execute("DELETE FROM checks WHERE at = ?", (stored[0],))
        assert shipping.OutboxReader(conn).pending(100) == (first + 1, texts[1:])
        assert conn.execute("SELECT count(*) FROM upstream_outbox").fetchone()[0] == 1
    assert [(line["endpoint"], line["site"], line["state"]) for line in lines] == [
        ("api", "paris-1", "up"), ("api", "paris-1", "down")]
    # the time as the store keeps it, to the millisecond: the hub stores the very same check
    assert [line["at"] for line in lines] == ["2026-09-21T14:13:20.001Z", "2026-09-21T14:14:20Z"]
    assert stored == [1_790_000_000_001, 1_790_000_060_000]


def test_hostile_pushes_are_one_line_refusals(tmp_path, certs, hub_tls):
    port = refused_port()
    hub = start_hub(tmp_path / "hub", port, hub_tls)
    hub.wait_log("serving /metrics")
    good = _line("api", "site-1").encode()
    run = {"record": "daemon_run", "started_at": 1_790_000_000_000, "site": "site-2"}
    cases = [
        (b"\xff\xfe garbage\n", 400, "line 1: not UTF-8 text"),
        (b"[" * 100_000 + b"\n", 400, "line 1: not valid JSON"),
        (good + b"\n" + good.replace(b'"up"', b'"sideways"') + b"\n", 400, "line 2: state must be one of"),
        (_line("api", "site-1", at="9999-01-01T00:00:00Z").encode() + b"\n", 400, "more than a day ahead"),
        (b'{"record": "maintenance", "start": 1}\n', 400, "a push carries checks and daemon runs only"),
        (json.dumps(run).encode() + b"\n", 403, "a daemon run of site 'site-2'"),
        (good.replace(b'"api"', b'"api\\u001b[2J"') + b"\n", 400, "endpoint holds a control character"),
    ]
    for body, status, words in cases:
        got, text = _push(port, certs.ca_file, "site-1", TOKENS["site-1"], body)
        assert (got, text.count("\n")) == (status, 1) and words in text, (body[:40], got, text)
    for query in ("stream=XYZ&first=1", "stream=00112233aabbccdd&first=0", "stream=00112233aabbccdd&first=-1"):
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                                 context=ssl.create_default_context(cafile=certs.ca_file))
        connection.request("POST", f"/api/v1/checks?site=site-1&{query}", body=good,
                           headers={"Authorization": f"Bearer {TOKENS['site-1']}"})
        assert connection.getresponse().status == 400
    assert checks_at(tmp_path / "hub" / "hub.db") == {}
    assert hub.stop() == 0
    assert "Traceback" not in hub.logs() and "\x1b" not in hub.logs()


# ---------------------------------------------------------------- alerts from pushed checks


def _pushed_events(db, batches):
    """Feed batches of pushed checks, each (hub's now, [(result, site), ...]), to an alerter
    through observe_pushed; return the outbox's (event, started, ended)."""
    import asyncio

    from probe.alerts import AlertSettings, Alerter, Webhook, observe_pushed
    from probe.config import SLASettings
    from test_alerts import endpoint, outbox

    api = endpoint()

    async def main():
        alerter = Alerter(AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),)), SLASettings(), db)
        await alerter.start([api])
        for now, checks in batches:
            observe_pushed(alerter, {"api": api}, [("api", result, 60.0, site) for result, site in checks], now)
        await alerter.close()

    asyncio.run(main())
    return [(row["event"], row["message"]["fields"]["started"], row["message"]["fields"]["ended"])
            for row in outbox(db)]


def test_a_back_fill_of_an_outage_long_over_opens_no_alert(tmp_path):
    from test_alerts import T0, result

    late = [(result(T0 + 60 * i, "down" if i < 3 else "up"), "paris-1") for i in range(6)]
    assert _pushed_events(tmp_path / "p.db", [(T0 + 3600, late)]) == []


def test_an_outage_still_open_when_the_back_fill_catches_up_is_announced_from_its_start(tmp_path):
    from probe.result import iso_utc
    from test_alerts import T0, result

    # down from T0; the hub was away: the first eight checks arrive late, the last two fresh
    checks = [(result(T0 + 60 * i), "paris-1") for i in range(10)]
    events = _pushed_events(tmp_path / "p.db", [(T0 + 9 * 60 + 5, checks)])
    assert events == [("opened", iso_utc(T0), None)]


def test_late_checks_end_an_incident_announced_before_the_hub_was_away(tmp_path):
    from probe.result import iso_utc
    from test_alerts import T0, result

    fresh = [(result(T0), "paris-1"), (result(T0 + 60), "paris-1")]
    late = [(result(T0 + 120), "paris-1"), (result(T0 + 180, "up"), "paris-1"), (result(T0 + 240, "up"), "paris-1")]
    events = _pushed_events(tmp_path / "p.db", [(T0 + 61, fresh), (T0 + 3600, late)])
    assert events == [("opened", iso_utc(T0), None), ("resolved", iso_utc(T0), iso_utc(T0 + 180))]


def test_the_sites_own_trouble_is_no_evidence(tmp_path):
    from test_alerts import T0, result

    checks = [(result(T0 + 60 * i, "down", "probe_error", "too many open files"), "paris-1") for i in range(4)]
    assert _pushed_events(tmp_path / "p.db", [(T0 + 200, checks)]) == []


def test_a_hub_restarted_during_a_combined_incident_announces_it_once(tmp_path):
    """The combined incident was announced before the hub restarted: after the restart the
    sites' checks go on with it (no second "opened"), and its end is announced with its start."""
    import asyncio

    from probe.alerts import AlertSettings, Alerter, Webhook, observe_pushed
    from probe.config import SLASettings
    from probe.result import iso_utc
    from probe.store import Writer
    from test_alerts import T0, endpoint, outbox, result

    db, api = tmp_path / "p.db", endpoint()
    steps = [[(T0 + 60 * i, "down" if i >= 2 else "up") for i in range(6)],  # before the restart
             [(T0 + 60 * i, "down" if i < 8 else "up") for i in range(6, 10)]]  # after

    async def run(checks):
        alerter = Alerter(AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),)), SLASettings(), db)
        await alerter.start([api])
        for at, state in checks:
            pushed = [("api", result(at + n, state), 60.0, site) for n, site in enumerate(("paris-1", "lyon-1"))]
            with Writer(db) as writer:  # stored by the hub's writer, then observed
                for name, found, interval, site in pushed:
                    writer.submit(name, found, interval, site)
                writer.flush(10)
            observe_pushed(alerter, {"api": api}, pushed, at + 2)
        await alerter.close()

    asyncio.run(run(steps[0]))
    asyncio.run(run(steps[1]))
    events = [(row["event"], row["message"]["fields"]["started"], row["message"]["fields"]["ended"])
              for row in outbox(db)]
    # down at both sites from T0+120 (lyon-1 a second later): 2 of 2 once lyon-1 confirms at
    # T0+181; over at paris-1's first up check (T0+480): 1 of 2 is no majority
    assert events == [("opened", iso_utc(T0 + 181), None), ("resolved", iso_utc(T0 + 181), iso_utc(T0 + 480))]


def test_a_site_cannot_stretch_its_checks_nor_date_them_ahead(tmp_path, certs, hub_tls):
    """A site with a valid token pushes two down checks of "web" claiming a day-long interval:
    the hub's config checks "web" every 10 s, so each vouches for 15 s at most (1.5 × 10 s),
    not hours. A check dated a minute after the hub received it is refused whole (400)."""
    port = refused_port()
    endpoint = (f'[hub]\ncheck_endpoints = false\n[[endpoint]]\nname = "web"\nurl = "https://127.0.0.1:1/"\n'
                f'interval = "10s"\ntimeout = "5s"\n')
    hub = start_hub(tmp_path / "hub", port, hub_tls, extra=endpoint)
    hub.wait_log("serving /metrics")
    now = time.time()
    stamp = lambda at: datetime.fromtimestamp(at, timezone.utc).isoformat().replace("+00:00", "Z")  # noqa: E731
    line = lambda at: json.dumps({"endpoint": "web", "at": stamp(at), "state": "down", "error_class": "connect",  # noqa: E731
                                  "interval_s": 86400, "site": "site-1"})
    body = f"{line(now - 3600)}\n{line(now - 3590)}\n".encode()
    status, text = _push(port, certs.ca_file, "site-1", TOKENS["site-1"], body)
    assert status == 200, text
    with sqlite3.connect(tmp_path / "hub" / "hub.db") as conn:
        intervals = conn.execute("SELECT DISTINCT s.interval_ms FROM checks c JOIN settings s ON s.id = c.setting_id"
                                 ).fetchall()
    assert intervals == [(10000,)]
    status, text = _push(port, certs.ca_file, "site-1", TOKENS["site-1"], (line(now + 60) + "\n").encode(),
                         stream="00112233aabbccde")
    assert status == 400 and "nothing stored" in text
    assert hub.stop() == 0
