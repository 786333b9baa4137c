"""Three sites and a hub, end to end, as real `probe run` processes on loopback. Each site
reaches the service and its control endpoint through its own network: a TCP forwarder per
target that the test cuts (listeners closed, connections aborted) and mends. Cutting site-3's
network makes both unreachable from site-3 only: site-3 abstains, the combined figures show
no downtime, its own figures show the abstention. Then the service stops for everyone: the
hub's combined figures show downtime, and the hub opens an incident and sends its alert to a
webhook, then resolves it when the service is back."""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from probe.result import parse_iso
from probe.store.records import STATE_NAMES  # the state as stored
from servers import refused_port, respond
from test_daemon import RUNNING, Daemon, no_daemon_left_behind  # noqa: F401 - the fixture
from test_hub import TOKENS, hub_config, hub_env, hub_tls, start_hub, wait_for  # noqa: F401 - hub_tls: a fixture

PARIS = ZoneInfo("Europe/Paris")


class Switchable:
    """A listener on a fixed port of 127.0.0.1, on the test servers' loop, that can be closed
    (its socket and every connection it accepted) and opened again."""

    def __init__(self, loop, handler, context=None):
        self.loop, self.handler, self.context = loop, handler, context
        self.port = refused_port()
        self.server = None
        self.writers = set()
        self.open()

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    async def _guarded(self, reader, writer):
        self.writers.add(writer)
        try:
            await self.handler(reader, writer, self.writers)
        except (ConnectionError, asyncio.IncompleteReadError, OSError, asyncio.CancelledError):
            pass
        finally:
            self.writers.discard(writer)
            writer.transport.abort()

    def open(self):
        async def start():
            extra = {"ssl": self.context, "ssl_handshake_timeout": 30} if self.context else {}
            self.server = await asyncio.start_server(self._guarded, "127.0.0.1", self.port, **extra)

        self._run(start())

    def close(self):
        async def stop():
            self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()

        self._run(stop())


def serving(handler):
    async def handle(reader, writer, writers):
        await handler(reader, writer)
    return handle


def forwarding(port):
    """A plain TCP forwarder to 127.0.0.1:port: bytes both ways until either side ends."""

    async def handle(reader, writer, writers):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        writers.add(up_writer)

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            finally:
                sink.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            writers.discard(up_writer)

    return handle


class SiteNetwork:
    """One site's way out: a forwarder per target, cut and mended together."""

    def __init__(self, loop, *targets):
        self.links = [Switchable(loop, forwarding(port)) for port in targets]
        self.ports = [link.port for link in self.links]

    def cut(self):
        for link in self.links:
            link.close()

    def mend(self):
        for link in self.links:
            link.open()


class Hook:
    """A webhook receiver over TLS: every alert it is sent, as JSON."""

    def __init__(self, servers, certs):
        self.received = []
        self.port = servers.serve(self.handle, certs.context())

    async def handle(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        self.received.append(json.loads(body))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    def events(self, endpoint):
        return [(m["event"], m["severity"]) for m in self.received if m.get("endpoint") == endpoint]


def hub_extra(hook_port, ca_file):
    """The hub: no checks of its own; the endpoints the sites check, the rule, a webhook."""
    return (f'[hub]\ncheck_endpoints = false\n[sla]\nsites = "majority"\n'
            f'[alerts]\n[[alerts.webhook]]\nname = "ops"\nurl = "https://127.0.0.1:{hook_port}/hook"\n'
            f'ca_file = "{ca_file}"\n'
            f'[[endpoint]]\nname = "api"\nurl = "https://api.example.com/"\nconfirm = 2\n'
            f'[[endpoint]]\nname = "gateway"\nurl = "https://gateway.example.net/"\ncontrol = true\nconfirm = 2\n')


def site_config(db, name, hub_port, network, ca_file):
    service, control = network.ports
    return (f'[probe]\ndatabase = "{db}"\nsite = "{name}"\nretry_interval = "300ms"\n'
            f'[upstream]\nurl = "https://127.0.0.1:{hub_port}/"\ntoken = "${{PROBE_SITE_TOKEN}}"\n'
            f'ca_file = "{ca_file}"\nevery = "200ms"\n'
            f'[[endpoint]]\nname = "api"\nurl = "https://127.0.0.1:{service}/"\ninterval = "1s"\n'
            f'timeout = "900ms"\nconfirm = 2\nca_file = "{ca_file}"\n'
            f'[[endpoint]]\nname = "gateway"\nurl = "https://127.0.0.1:{control}/"\ninterval = "1s"\n'
            f'timeout = "900ms"\nconfirm = 2\ncontrol = true\nca_file = "{ca_file}"\n')


def hub_report(hub):
    month = datetime.now(PARIS).strftime("%Y-%m")
    done = subprocess.run([sys.executable, "-m", "probe", "report", "--config", str(hub.config), "--month", month,
                           "--format", "json"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **hub_env()})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def section(model, name):
    (found,) = [e for e in model["endpoints"] if e["name"] == name]
    return found


def own(model, endpoint, site):
    (found,) = [s for s in section(model, endpoint)["sites"] if s["name"] == site]
    return found


def runs_of(db, name, site):
    """A site's checks of ``name`` as (seconds, state), in time order."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT c.at, c.state FROM checks c JOIN endpoints e ON e.id = c.endpoint_id"
                            " WHERE e.name = ? AND e.site = ? ORDER BY c.at", (name, site)).fetchall()
    return [(at / 1000, STATE_NAMES[state]) for at, state in rows]


def outages(checks, confirm=2):
    """The outages of a series by the accounting's rule: ``confirm`` down checks in a row, from
    the first down check to the first later check that is not down."""
    found, run = [], []
    for at, state in checks:
        if state == "down":
            run.append(at)
            continue
        if len(run) >= confirm:
            found.append((run[0], at))
        run = []
    return found


def overlap(a, b):
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def test_a_site_whose_network_fails_abstains_and_an_outage_seen_by_all_is_an_alert(
        tmp_path, servers, certs, hub_tls):
    service = Switchable(servers.loop, serving(respond()), certs.context())
    control = Switchable(servers.loop, serving(respond()), certs.context())
    networks = {name: SiteNetwork(servers.loop, service.port, control.port) for name in TOKENS}
    hook = Hook(servers, certs)
    port = refused_port()
    hub = start_hub(tmp_path / "hub", port, hub_tls, hub_extra(hook.port, certs.ca_file))
    hub.wait_log("serving /metrics")
    assert "started: 0 endpoints" in hub.logs()  # the hub checks nothing itself
    sites = {}
    for name, token in TOKENS.items():
        folder = tmp_path / name
        folder.mkdir()
        sites[name] = Daemon(folder, site_config(folder / "site.db", name, port, networks[name], certs.ca_file),
                             env={"PROBE_SITE_TOKEN": token})
    hub_db = tmp_path / "hub" / "hub.db"

    def seen_up(site, after):
        return all(any(at > after and state == "up" for at, state in runs_of(hub_db, name, site))
                   for name in ("api", "gateway"))

    started = time.time()
    wait_for(lambda: all(seen_up(name, started) for name in TOKENS), what="every site's checks at the hub")

    # site-3's own network fails: the service and its control endpoint, from site-3 only
    networks["site-3"].cut()
    cut = time.time()
    wait_for(lambda: len([s for at, s in runs_of(hub_db, "gateway", "site-3") if at > cut and s == "down"]) >= 4,
             what="site-3's control endpoint in an outage")
    networks["site-3"].mend()
    mended = time.time()
    wait_for(lambda: seen_up("site-3", mended), what="site-3 back")
    again = time.time()
    wait_for(lambda: all(seen_up(name, again) for name in TOKENS), what="every site checked again")

    model = hub_report(hub)
    assert model["site_rule"] == {"sites": "majority", "min_sites": 1}
    assert [e["name"] for e in model["endpoints"]] == ["api"]  # the control endpoint is no service
    (abstention,) = model["abstentions"]
    assert abstention["site"] == "site-3"
    assert [cause["endpoint"] for cause in abstention["causes"]] == ["gateway"]
    assert "connect" in abstention["causes"][0]["error_classes"]
    # the abstention: from the first down check of the control endpoint's outage to its end
    (gateway_outage,) = outages(runs_of(hub_db, "gateway", "site-3"))
    start, end = parse_iso(abstention["start"]), parse_iso(abstention["end"])
    assert (start, end) == pytest.approx(gateway_outage, abs=0.0015)
    assert abstention["seconds"] == pytest.approx(end - start, abs=0.002)
    api = section(model, "api")
    assert api["downtime_seconds"] == 0.0 and api["incidents"] == []  # majority: site-3 alone is no outage
    # site-3's own figures: its abstention, and downtime only where its own outage of the service
    # lies outside it (the two checks are not made at the same instant)
    mine = own(model, "api", "site-3")
    assert mine["abstained_seconds"] == pytest.approx(abstention["seconds"], abs=0.002)
    (api_outage,) = outages(runs_of(hub_db, "api", "site-3"))
    outside = (api_outage[1] - api_outage[0]) - overlap(api_outage, gateway_outage)
    assert mine["downtime_seconds"] == pytest.approx(outside, abs=0.002)
    assert mine["unmonitored_seconds"] >= mine["abstained_seconds"]
    for name in ("site-1", "site-2"):
        assert own(model, "api", name)["downtime_seconds"] == 0.0
        assert own(model, "api", name)["abstained_seconds"] == 0.0
    assert hook.events("api") == []  # no alert for site-3's own trouble

    # `probe status` on the hub: the control endpoint marked apart
    status = subprocess.run([sys.executable, "-m", "probe", "status", "--config", str(hub.config), "--json"],
                            capture_output=True, text=True, timeout=30, env={**os.environ, **hub_env()})
    assert status.returncode == 0, status.stderr
    rows = [json.loads(line) for line in status.stdout.splitlines()]
    assert {row["endpoint"]: row["control"] for row in rows if "endpoint" in row} == {"api": False, "gateway": True}

    # the service stops for everyone: the combined verdict is down, the hub alerts
    quiet = time.time()  # every check from here on was made after site-3's trouble
    service.close()
    wait_for(lambda: ("opened", "blocking") in hook.events("api"), timeout=60, what="the opened alert")
    service.open()
    wait_for(lambda: ("resolved", "blocking") in hook.events("api"), timeout=60, what="the resolved alert")
    assert hook.events("api") == [("opened", "blocking"), ("resolved", "blocking")]
    opened = next(m for m in hook.received if m.get("event") == "opened")
    # through a site's forwarder, a stopped service is a connection closed during the handshake
    assert opened["error_class"] == "tls_handshake" and parse_iso(opened["started"]) >= quiet

    model = hub_report(hub)
    api = section(model, "api")
    assert api["downtime_seconds"] > 0
    (incident,) = api["incidents"]
    assert parse_iso(incident["start"]) >= quiet and incident["severity"] == "blocking"
    assert incident["end"] is not None
    # the incident starts when the second site's outage began: 2 of 3 (docs/accounting.md)
    starts = sorted(outages([c for c in runs_of(hub_db, "api", name) if c[0] >= quiet])[0][0] for name in TOKENS)
    assert parse_iso(incident["start"]) == pytest.approx(starts[1], abs=0.002)
    assert all(own(model, "api", name)["downtime_seconds"] > 0 for name in TOKENS)
    for site in sites.values():
        assert site.stop() == 0
    assert hub.stop() == 0
    for daemon in (hub, *sites.values()):
        assert "Traceback" not in daemon.logs()
    assert not any("token-of-site" in json.dumps(m) for m in hook.received)
    with sqlite3.connect(hub_db) as conn:
        alerts = conn.execute("SELECT endpoint, event FROM alert_outbox ORDER BY id").fetchall()
    assert alerts == [("api", "opened"), ("api", "resolved")]


def outbox_depth(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM upstream_outbox").fetchone()[0]


def test_an_outage_over_before_the_hub_is_back_is_in_the_report_and_pages_nobody(
        tmp_path, servers, certs, hub_tls):
    """The hub is down while the service has an outage that every site sees, and that ends
    before the hub is back: the sites back-fill it, the report counts it, no alert opens for
    it (its checks arrive later than the sites' silent_after: late, see docs/alerts.md)."""
    service = Switchable(servers.loop, serving(respond()), certs.context())
    control = Switchable(servers.loop, serving(respond()), certs.context())
    networks = {name: SiteNetwork(servers.loop, service.port, control.port) for name in TOKENS}
    hook = Hook(servers, certs)
    port = refused_port()
    extra = hub_extra(hook.port, certs.ca_file)

    def hub_up():
        folder = tmp_path / "hub"
        folder.mkdir(exist_ok=True)
        text = hub_config(folder / "hub.db", extra).replace(
            'token = "${TOKEN_SITE_', 'silent_after = "3s"\ntoken = "${TOKEN_SITE_')
        hub = Daemon(folder, text, env=hub_env(), args=("--listen", f"127.0.0.1:{port}", "--listen-tls-cert",
                                                        hub_tls[0], "--listen-tls-key", hub_tls[1]))
        hub.wait_log("serving /metrics")
        return hub

    hub = hub_up()
    sites = {}
    for name, token in TOKENS.items():
        folder = tmp_path / name
        folder.mkdir()
        sites[name] = Daemon(folder, site_config(folder / "site.db", name, port, networks[name], certs.ca_file),
                             env={"PROBE_SITE_TOKEN": token})
    hub_db = tmp_path / "hub" / "hub.db"
    started = time.time()
    wait_for(lambda: all(any(at > started and s == "up" for at, s in runs_of(hub_db, "api", name))
                         for name in TOKENS), what="every site's checks at the hub")
    hub.process.kill()
    hub.process.wait(10)

    # the outage, seen by every site while the hub is away, and over before it is back
    service.close()
    stopped = time.time()
    wait_for(lambda: all(len([1 for at, s in runs_of(tmp_path / name / "site.db", "api", name)
                              if at > stopped and s == "down"]) >= 3 for name in TOKENS), what="the outage")
    service.open()
    back = time.time()
    wait_for(lambda: all(any(at > back and s == "up" for at, s in runs_of(tmp_path / name / "site.db", "api", name))
                         for name in TOKENS), what="the service back")
    time.sleep(4)  # the outage's checks are older than the sites' silent_after (3s) when pushed

    hub = hub_up()
    wait_for(lambda: all(outbox_depth(tmp_path / name / "site.db") <= 2 for name in TOKENS), what="back-fill")
    again = time.time()
    wait_for(lambda: all(any(at > again and s == "up" for at, s in runs_of(hub_db, "api", name)) for name in TOKENS),
             what="fresh checks at the hub")
    assert "alert: [BLOCKING] api" not in hub.logs()
    model = hub_report(hub)
    api = section(model, "api")
    (incident,) = api["incidents"]  # the report says so
    assert parse_iso(incident["start"]) > started and incident["end"] is not None
    assert api["downtime_seconds"] > 0
    for site in sites.values():
        assert site.stop() == 0
    assert hub.stop() == 0
    with sqlite3.connect(hub_db) as conn:
        alerts = conn.execute("SELECT endpoint, event FROM alert_outbox ORDER BY id").fetchall()
    assert not [row for row in alerts if row[0] == "api"], alerts
    assert hook.events("api") == []
    for daemon in (hub, *sites.values()):
        assert "Traceback" not in daemon.logs()
