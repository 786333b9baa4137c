"""Alerts: the [alerts] config (with a table of broken configs and their exact messages), the
incident events, the messages, and delivery through real local receivers: a TLS webhook
receiver, an SMTP server (aiosmtpd, STARTTLS and AUTH), and ones that refuse, hang or fail."""

import asyncio
import json
import sqlite3
import time
import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from probe import alerts
from probe.alerts import AlertSettings, Alerter, Email, Webhook, compose, parse_alerts, send_test
from probe.check import CheckSpec
from probe.config import ConfigError, Endpoint, SLASettings
from probe.result import CheckResult
from probe.sla import Severity
from probe.store import Store, Writer
from servers import hang, refused_port

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 10, 7, 10, 0, tzinfo=PARIS).timestamp()  # a Wednesday
FAST = (0.05, 0.05, 0.05, 0.05)  # retry delays for the tests: 5 attempts


def endpoint(name="api", confirm=2, cap=None):
    return Endpoint(name=name, spec=CheckSpec(url=f"https://user:pw@{name}.example.com/health"),
                    interval=60.0, confirm=confirm, severity_cap=cap)


def result(at, state="down", error_class="http_status", error="HTTP 503"):
    if state == "up":
        error_class = error = None
    return CheckResult(url="https://api.example.com/health", at=at, state=state,
                       error_class=error_class, error=error)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def outbox(db):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT channel, event, status, attempts, message, last_error FROM alert_outbox"
                        " ORDER BY id").fetchall()
    conn.close()
    return [{"channel": r[0], "event": r[1], "status": r[2], "attempts": r[3],
             "message": json.loads(r[4]), "error": r[5]} for r in rows]


async def eventually(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------- receivers


class Hook:
    """A webhook receiver over TLS on 127.0.0.1: answers the given statuses in turn, then 200;
    records what it accepted."""

    def __init__(self, servers, certs, statuses=(), port=None):
        self.statuses = list(statuses)
        self.requests = 0
        self.accepted = []  # (headers, json)
        self.port = servers.serve(self.handle, certs.context()) if port is None else port

    async def handle(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        self.requests += 1
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.accepted.append((headers, json.loads(body)))
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()

    def channel(self, certs, name="chat", **options):
        return Webhook(name=name, url=f"https://127.0.0.1:{self.port}/hook", ca_file=certs.ca_file,
                       timeout=options.pop("timeout", 2.0), **options)


def listen_on(servers, handler, context, port):
    """Start serving on a given port of 127.0.0.1 (one that refused connections so far)."""

    async def guarded(reader, writer):
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.transport.abort()

    async def start():
        servers.servers.append(await asyncio.start_server(guarded, "127.0.0.1", port, ssl=context))

    asyncio.run_coroutine_threadsafe(start(), servers.loop).result(10)


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


def _auth(server, session, envelope, mechanism, auth_data):
    good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"probe", b"s3cret")
    return AuthResult(success=good, handled=False)


@pytest.fixture
def smtp(certs):
    """An SMTP server on 127.0.0.1 that requires STARTTLS, then AUTH."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=refused_port(), tls_context=certs.context(),
                            require_starttls=True, authenticator=_auth, auth_require_tls=True,
                            auth_required=True)
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def mail_channel(certs, port, **options):
    values = dict(name="support", host="127.0.0.1", port=port, sender="probe@example.com",
                  recipients=("support@example.com", "oncall@example.com"), username="probe",
                  password="s3cret", ca_file=certs.ca_file, timeout=2.0)
    return Email(**{**values, **options})


# ---------------------------------------------------------------- config

GOOD = """
[[alerts.webhook]]
name = "ops-chat"
url = "https://hooks.example.com/T000/${HOOK_PATH}"
headers = { Authorization = "Bearer ${HOOK_TOKEN}" }

[[alerts.email]]
name = "support"
host = "smtp.example.com"
username = "probe"
password = "${SMTP_PASSWORD}"
from = "Probe <probe@example.com>"
to = ["support@example.com", "oncall@example.com"]

[[alerts.route]]
channels = ["ops-chat", "support"]
endpoints = ["api"]
severities = ["blocking", "major"]

[[alerts.route]]
channels = ["ops-chat"]
events = ["opened", "resolved"]
"""
ENV = {"HOOK_PATH": "B000/XXX", "HOOK_TOKEN": "tok", "SMTP_PASSWORD": "pw"}


def parse(text, environ=ENV):
    return parse_alerts(tomllib.loads(text).get("alerts", {}), "probe.toml", {"api", "www"}, environ)


def test_good_config():
    settings = parse(GOOD)
    hook, = settings.webhooks
    assert hook.url == "https://hooks.example.com/T000/B000/XXX"
    assert hook.headers == (("Authorization", "Bearer tok"),)
    mail, = settings.emails
    assert (mail.port, mail.starttls, mail.password) == (587, True, "pw")
    assert mail.recipients == ("support@example.com", "oncall@example.com")
    assert settings.channels_for("api", "blocking", "deadline") == ("ops-chat", "support")
    assert settings.channels_for("api", "minor", "deadline") == ()
    assert settings.channels_for("www", "minor", "opened") == ("ops-chat",)
    assert "tok" not in repr(settings) and "XXX" not in repr(settings) and "pw" not in repr(settings)


def test_no_route_means_every_channel_gets_everything():
    settings = parse(GOOD.split("[[alerts.route]]")[0])
    assert settings.channels_for("www", "minor", "deadline") == ("ops-chat", "support")
    assert not parse("") and parse("")  == AlertSettings()


def test_starttls_off_only_on_loopback():
    text = '[[alerts.email]]\nname = "m"\nhost = "127.0.0.1"\nport = 2525\nstarttls = false\nfrom = "a@b.c"\nto = ["d@e.f"]\n'
    assert parse(text).emails[0].starttls is False
    assert parse(text.replace("127.0.0.1", "localhost")).emails[0].starttls is False
    assert parse(text.replace("127.0.0.1", "::1")).emails[0].host == "::1"


MAIL = '[[alerts.email]]\nname = "m"\nhost = "smtp.example.com"\nfrom = "a@b.c"\nto = ["d@e.f"]\n'
HOOK = '[[alerts.webhook]]\nname = "w"\nurl = "https://h.example.com/x"\n'
BROKEN = [
    ("[alerts]\nwebhooks = []",
     "probe.toml: alerts: webhooks: unknown key (expected one of: email, route, webhook)"),
    ("[alerts]\nwebhook = 1", "probe.toml: alerts: webhook: must be an array of tables ([[alerts.webhook]])"),
    ('[[alerts.webhook]]\nurl = "https://h.example.com/"',
     "probe.toml: alerts.webhook #1: name: missing (every channel needs a unique name)"),
    ('[[alerts.webhook]]\nname = "ops"', "probe.toml: alerts.webhook 'ops': url: missing"),
    ('[[alerts.webhook]]\nname = "ops"\nurl = "http://h.example.com/"',
     "probe.toml: alerts.webhook 'ops': url: 'http://h.example.com/' is plain HTTP; probe checks https:// URLs only"),
    ('[[alerts.webhook]]\nname = "ops"\nurl = "${HOOK_TOKEN}"',
     "probe.toml: alerts.webhook 'ops': url: '${HOOK_TOKEN}' is not an https:// URL"),
    ('[[alerts.webhook]]\nname = "ops"\nurl = "https://h.example.com/${NOPE}"',
     "probe.toml: alerts.webhook 'ops': url: environment variable NOPE is not set"),
    (HOOK + 'headers = { "Bad Name" = "x" }',
     "probe.toml: alerts.webhook 'w': headers: 'Bad Name' is not a header name (like 'Name: value';"
     " letters, digits and !#$%&'*+.^_`|~-)"),
    (HOOK + 'colour = "red"',
     "probe.toml: alerts.webhook 'w': colour: unknown key (expected one of: ca_file, headers, name, timeout, url)"),
    (HOOK + 'ca_file = "/nonexistent/ca.pem"',
     "probe.toml: alerts.webhook 'w': ca_file: cannot read /nonexistent/ca.pem: No such file or directory"),
    (HOOK + 'timeout = "0s"', "probe.toml: alerts.webhook 'w': timeout: '0s' is not a positive duration"),
    (HOOK + HOOK, "probe.toml: alerts.webhook 'w': name: duplicate name (channel names must be unique)"),
    (HOOK + MAIL.replace('"m"', '"w"'),
     "probe.toml: alerts.email 'w': name: duplicate name (channel names must be unique)"),
    ('[[alerts.email]]\nname = "m"\nfrom = "a@b.c"\nto = ["d@e.f"]', "probe.toml: alerts.email 'm': host: missing"),
    (MAIL + "starttls = false",
     "probe.toml: alerts.email 'm': starttls: false is allowed only for a server on loopback"
     " (127.0.0.1, ::1, localhost): mail and passwords would cross the network in clear"),
    (MAIL + 'username = "probe"',
     "probe.toml: alerts.email 'm': password: missing (username and password go together)"),
    (MAIL + 'password = "${SMTP_PASSWORD}"',
     "probe.toml: alerts.email 'm': username: missing (username and password go together)"),
    (MAIL + "port = 0", "probe.toml: alerts.email 'm': port: 0 is out of range (1 to 65535)"),
    (MAIL.replace('"a@b.c"', '"nobody"'), "probe.toml: alerts.email 'm': from: 'nobody' is not an e-mail address"),
    (MAIL.replace('["d@e.f"]', "[]"),
     "probe.toml: alerts.email 'm': to: must be a list of e-mail addresses (like [\"support@example.com\"])"),
    (MAIL.replace('"smtp.example.com"', '"smtp example"'),
     "probe.toml: alerts.email 'm': host: 'smtp example' is not a host name or address"),
    (HOOK + '[[alerts.route]]\nendpoints = ["api"]',
     "probe.toml: alerts.route #1: channels: missing (which channels this route sends to)"),
    (HOOK + '[[alerts.route]]\nchannels = ["x"]', "probe.toml: alerts.route #1: channels: no channel named 'x'"),
    (HOOK + '[[alerts.route]]\nchannels = ["w"]\nendpoints = ["nope"]',
     "probe.toml: alerts.route #1: endpoints: no endpoint named 'nope'"),
    (HOOK + '[[alerts.route]]\nchannels = ["w"]\nseverities = ["critical"]',
     "probe.toml: alerts.route #1: severities: 'critical' is not one of minor, major, blocking"),
    (HOOK + '[[alerts.route]]\nchannels = ["w"]\nevents = ["closed"]',
     "probe.toml: alerts.route #1: events: 'closed' is not one of opened, escalated, deadline, resolved"),
    (HOOK + '[[alerts.route]]\nchannels = ["w"]\nwhen = 1',
     "probe.toml: alerts.route #1: when: unknown key (expected one of: channels, endpoints, events, severities)"),
]


@pytest.mark.parametrize("text, message", BROKEN)
def test_broken_config(text, message):
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_secret_url_is_not_echoed():
    with pytest.raises(ConfigError) as caught:
        parse('[[alerts.webhook]]\nname = "ops"\nurl = "${HOOK_TOKEN}"', {"HOOK_TOKEN": "hunter2"})
    assert "hunter2" not in str(caught.value)


# ---------------------------------------------------------------- messages


def incident(severity=Severity.BLOCKING):
    from probe.sla import WorkCalendar
    from probe.sla import incident_deadlines

    ack, fix = incident_deadlines(T0, severity, WorkCalendar())
    return alerts.Incident("api", "https://user:pw@api.example.com/health", "down", severity, "http_status",
                           "HTTP 503", T0, ack, fix)


def test_opened_message():
    message = compose("opened", incident(), PARIS, now=T0 + 60)
    assert message["text"] == ("[BLOCKING] api down since 2026-10-07 10:00 CEST: HTTP 503."
                               " Acknowledge by 15:00 CEST, fix by 8 Oct 10:00 CEST.")
    assert message["subject"] == "[BLOCKING] api down: HTTP 503"
    fields = message["fields"]
    assert fields["started"] == "2026-10-07T08:00:00Z"
    assert fields["acknowledge_deadline"] == "2026-10-07T13:00:00Z"
    assert fields["fix_deadline"] == "2026-10-08T08:00:00Z"
    assert fields["url"] == "https://api.example.com/health"  # no user or password
    assert "pw@" not in message["body"] and "Fix by:" in message["body"]


def test_resolved_and_deadline_messages():
    resolved = compose("resolved", incident(), PARIS, now=T0, end=T0 + 5400)
    assert resolved["text"] == ("[RESOLVED] api down from 2026-10-07 10:00 CEST to 11:30 CEST"
                                " (1\u00a0h\u00a030\u00a0min), blocking: HTTP 503. Fix deadline 8 Oct 10:00 CEST met.")
    reminder = compose("deadline", incident(), PARIS, now=T0 + 4 * 3600, deadline="acknowledge")
    assert reminder["text"].startswith("[BLOCKING] api: acknowledge deadline at 15:00 CEST (in 1\u00a0h);")
    assert reminder["fields"]["deadline"] == "acknowledge"


# ---------------------------------------------------------------- events


def events_of(db):
    return [(row["channel"], row["event"], row["message"]["fields"]["severity"]) for row in outbox(db)]


def run_events(db, steps, settings=None, clock=None, endpoints=None):
    """Feed (endpoint, result) pairs, or 'tick' at a time, to an Alerter; return the outbox."""
    settings = settings or AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),))
    clock = clock or Clock(T0)

    async def main():
        alerter = Alerter(settings, SLASettings(), db, clock=clock)
        await alerter.start(endpoints or [endpoint()])
        for step in steps:
            if step[0] == "tick":
                clock.now = step[1]
                await alerter.tick()
            elif step[0] == "call":
                await step[1]()
            else:
                alerter.observe(*step)
        await alerter.close()

    asyncio.run(main())
    return events_of(db)


def test_opened_after_confirm_then_resolved(tmp_path):
    ep = endpoint(confirm=3)
    db = tmp_path / "p.db"
    events = run_events(db, [(ep, result(T0)), (ep, result(T0 + 5)), (ep, result(T0 + 10, "up")),  # a blip
                             (ep, result(T0 + 60)), (ep, result(T0 + 65)), (ep, result(T0 + 70)),
                             (ep, result(T0 + 75)), (ep, result(T0 + 120, "up"))])
    assert events == [("chat", "opened", "blocking"), ("chat", "resolved", "blocking")]
    opened, resolved = (row["message"]["fields"] for row in outbox(db))
    assert opened["started"] == resolved["started"] == "2026-10-07T08:01:00Z"
    assert resolved["ended"] == "2026-10-07T08:02:00Z"


def test_class_cap_degradation_and_escalation(tmp_path):
    capped, api = endpoint("www", cap="minor"), endpoint("api")
    slow = dict(state="degraded", error_class="too_slow", error="took 3000ms, over max_latency 1s")
    db = tmp_path / "p.db"
    events = run_events(db, [
        (capped, result(T0)), (capped, result(T0 + 5)),  # an outage, lowered to minor
        (api, result(T0, **slow)), (api, result(T0 + 60, **slow)),  # a degradation: major
        (api, result(T0 + 120)), (api, result(T0 + 125)),  # the degradation ends, an outage opens
        (api, result(T0 + 130, error_class="body_mismatch", error="no 'ok'")),
    ], endpoints=[capped, api])
    assert events == [("chat", "opened", "minor"), ("chat", "opened", "major"), ("chat", "resolved", "major"),
                      ("chat", "opened", "blocking")]

    # body_mismatch is major; the connect failure that follows makes the incident blocking
    db = tmp_path / "q.db"
    events = run_events(db, [(api, result(T0, error_class="body_mismatch", error="no 'ok'")),
                             (api, result(T0 + 5, error_class="body_mismatch", error="no 'ok'")),
                             (api, result(T0 + 10, error_class="connect", error="refused"))],
                        endpoints=[api])
    assert events == [("chat", "opened", "major"), ("chat", "escalated", "blocking")]
    escalated = outbox(db)[1]["message"]
    assert escalated["fields"]["previous_severity"] == "major"
    assert "Acknowledge by 15:00" in escalated["text"]  # the blocking deadlines, from the start


def test_routing_per_endpoint_and_class(tmp_path):
    settings = parse(GOOD)
    api, www = endpoint("api"), endpoint("www", cap="minor")
    events = run_events(tmp_path / "p.db", [(api, result(T0)), (api, result(T0 + 5)),
                                            (www, result(T0)), (www, result(T0 + 5)),
                                            (www, result(T0 + 10, "up"))],
                        settings=settings, endpoints=[api, www])
    assert events == [("ops-chat", "opened", "blocking"), ("support", "opened", "blocking"),
                      ("ops-chat", "opened", "minor"), ("ops-chat", "resolved", "minor")]


def test_deadline_events_an_hour_before(tmp_path):
    ep = endpoint()
    db = tmp_path / "p.db"
    thursday_9 = datetime(2026, 10, 8, 9, 0, tzinfo=PARIS).timestamp()
    events = run_events(db, [(ep, result(T0)), (ep, result(T0 + 60)),
                             ("tick", T0 + 4 * 3600 - 1),  # 13:59:59: too early
                             ("tick", T0 + 4 * 3600),  # 14:00: the acknowledgement is due at 15:00
                             ("tick", T0 + 4.5 * 3600),  # once only
                             ("tick", thursday_9 - 60), ("tick", thursday_9)])  # fixing is due at 10:00
    assert events == [("chat", "opened", "blocking"), ("chat", "deadline", "blocking"),
                      ("chat", "deadline", "blocking")]
    assert [row["message"]["fields"]["deadline"] for row in outbox(db)[1:]] == ["acknowledge", "fix"]


def write_checks(db, name, results):
    with Writer(db) as writer:
        for item in results:
            writer.submit(name, item, 60.0, "test")
        writer.flush(5)


def test_no_acknowledge_reminder_once_acknowledged(tmp_path):
    ep, db = endpoint(), tmp_path / "p.db"
    write_checks(db, "api", [result(T0), result(T0 + 60)])

    async def acknowledge():
        with Store.open(db) as store:
            store.ack_incident(endpoint="api", start=T0, by="ops", at=T0 + 3600)

    events = run_events(db, [(ep, result(T0 + 120)), ("call", acknowledge), ("tick", T0 + 4 * 3600)])
    # restored from the store at start: the opened event is the only one
    assert events == [("chat", "opened", "blocking")]


def test_restart_rebuilds_incidents_and_announces_nothing_twice(tmp_path):
    ep, db = endpoint(), tmp_path / "p.db"
    checks = [result(T0), result(T0 + 60)]
    run_events(db, [(ep, r) for r in checks])
    write_checks(db, "api", checks)
    # a new daemon: the incident is rebuilt from the runs; its next checks announce nothing,
    # and its end is announced with the original start
    events = run_events(db, [(ep, result(T0 + 120)), ("tick", T0 + 4 * 3600 - 60), (ep, result(T0 + 180, "up"))])
    assert events == [("chat", "opened", "blocking"), ("chat", "resolved", "blocking")]
    assert outbox(db)[1]["message"]["fields"]["started"] == "2026-10-07T08:00:00Z"


def test_restart_after_a_crash_before_the_outbox_announces_late(tmp_path):
    ep, db = endpoint(), tmp_path / "p.db"
    write_checks(db, "api", [result(T0), result(T0 + 60)])  # confirmed, never announced
    assert run_events(db, [(ep, result(T0 + 120))]) == [("chat", "opened", "blocking")]


# ---------------------------------------------------------------- delivery


def deliver_events(db, settings, steps=2, retry_delays=FAST, until=None, timeout=10.0):
    """Open an incident of 'api' and run the alerter until ``until()`` holds."""
    ep = endpoint()

    async def main():
        alerter = Alerter(settings, SLASettings(), db, retry_delays=retry_delays, tick_every=0.05)
        await alerter.start([ep])
        stop = asyncio.Event()
        task = asyncio.create_task(alerter.run(stop))
        now = time.time()
        for n in range(steps):
            alerter.observe(ep, result(now + n))
        started = time.monotonic()
        await eventually(until, timeout)
        stop.set()
        await task
        await alerter.close()
        return time.monotonic() - started

    return asyncio.run(main())


def test_webhook_over_tls_with_headers(servers, certs, tmp_path):
    hook = Hook(servers, certs)
    channel = hook.channel(certs, headers=(("Authorization", "Bearer tok"),))
    deliver_events(tmp_path / "p.db", AlertSettings(webhooks=(channel,)), until=lambda: hook.accepted)
    headers, body = hook.accepted[0]
    assert headers["authorization"] == "Bearer tok"
    assert headers["content-type"] == "application/json"
    assert body["text"].startswith("[BLOCKING] api down since")
    assert body["event"] == "opened" and body["endpoint"] == "api" and body["error_class"] == "http_status"
    assert "tok" not in json.dumps(body)
    row, = outbox(tmp_path / "p.db")
    assert (row["status"], row["attempts"]) == ("sent", 1)


def test_webhook_answering_500_is_retried_until_it_recovers(servers, certs, tmp_path):
    hook = Hook(servers, certs, statuses=[500, 500, 503])
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(webhooks=(hook.channel(certs),)), until=lambda: hook.accepted)
    assert hook.requests == 4
    row, = outbox(db)
    assert (row["status"], row["attempts"]) == ("sent", 4)


def test_webhook_gives_up_after_the_last_attempt(servers, certs, tmp_path, caplog):
    hook = Hook(servers, certs, statuses=[500] * 10)
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(webhooks=(hook.channel(certs),)),
                   until=lambda: outbox(db) and outbox(db)[0]["status"] == "failed")
    assert hook.requests == 5
    row, = outbox(db)
    assert (row["attempts"], row["error"]) == (5, "HTTP 500 X")
    assert "failed for good after 5 attempts: HTTP 500 X" in caplog.text


def test_webhook_client_error_is_not_retried(servers, certs, tmp_path):
    hook = Hook(servers, certs, statuses=[404])
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(webhooks=(hook.channel(certs),)),
                   until=lambda: outbox(db) and outbox(db)[0]["status"] == "failed")
    assert hook.requests == 1


def test_refused_then_listening_receiver_gets_the_alert(servers, certs, tmp_path):
    port = refused_port()
    hook = Hook(servers, certs, port=port)
    db = tmp_path / "p.db"

    def recovered():
        rows = outbox(db)
        if rows and rows[0]["attempts"] >= 2 and hook.requests == 0 and not getattr(hook, "listening", False):
            hook.listening = True
            listen_on(servers, hook.handle, certs.context(), port)
        return bool(hook.accepted)

    deliver_events(db, AlertSettings(webhooks=(hook.channel(certs),)), retry_delays=(0.05,) * 20, until=recovered)
    row, = outbox(db)
    assert row["status"] == "sent" and row["attempts"] >= 3
    assert "onnect" in (row["error"] or "")  # the last failure said why


def test_hanging_receiver_times_out_and_other_channels_still_deliver(servers, certs, tmp_path):
    stuck = Webhook("stuck", f"https://127.0.0.1:{servers.serve(hang, certs.context())}/", ca_file=certs.ca_file,
                    timeout=0.3)
    hook = Hook(servers, certs)
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(webhooks=(stuck, hook.channel(certs))),
                   until=lambda: hook.accepted and outbox(db)[0]["attempts"] >= 2)
    rows = {row["channel"]: row for row in outbox(db)}
    assert rows["chat"]["status"] == "sent"
    assert rows["stuck"]["status"] == "pending" and rows["stuck"]["error"] == "no answer within 0.3s"


def test_outbox_survives_a_restart(servers, certs, tmp_path):
    db = tmp_path / "p.db"
    dead = Webhook("chat", f"https://127.0.0.1:{refused_port()}/", ca_file=certs.ca_file, timeout=1)
    deliver_events(db, AlertSettings(webhooks=(dead,)), retry_delays=(60,),
                   until=lambda: outbox(db) and outbox(db)[0]["attempts"] == 1)
    assert outbox(db)[0]["status"] == "pending"

    hook = Hook(servers, certs)
    alive = AlertSettings(webhooks=(hook.channel(certs),))
    # the next attempt is due in a minute: a restart keeps that, then delivers once due
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alert_outbox SET next_at = 0")
    deliver_events(db, alive, steps=0, until=lambda: hook.accepted)
    assert len(hook.accepted) == 1 and outbox(db)[0]["status"] == "sent"
    # and a third start sends nothing again
    started = time.monotonic()
    deliver_events(db, alive, steps=0, until=lambda: time.monotonic() - started > 0.3)
    assert len(hook.accepted) == 1


def test_email_with_starttls_and_login(smtp, certs, tmp_path):
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(emails=(mail_channel(certs, smtp.port),)), until=lambda: smtp.messages)
    sender, recipients, content = smtp.messages[0]
    assert sender == "probe@example.com"
    assert recipients == ["support@example.com", "oncall@example.com"]
    assert "Subject: [BLOCKING] api down: HTTP 503" in content
    assert "Acknowledge by:" in content and "s3cret" not in content
    assert outbox(db)[0]["status"] == "sent"


def test_email_with_a_wrong_password_fails_for_good(smtp, certs, tmp_path):
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(emails=(mail_channel(certs, smtp.port, password="wrong"),)),
                   until=lambda: outbox(db) and outbox(db)[0]["status"] != "pending")
    row, = outbox(db)
    assert row["status"] == "failed" and row["error"].startswith("SMTP 535")
    assert not smtp.messages


def test_email_to_a_dead_server_is_retried(tmp_path, certs):
    db = tmp_path / "p.db"
    channel = mail_channel(certs, refused_port())
    deliver_events(db, AlertSettings(emails=(channel,)),
                   until=lambda: outbox(db) and outbox(db)[0]["status"] == "failed")
    assert outbox(db)[0]["attempts"] == 5


def test_plain_smtp_on_loopback(tmp_path):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=refused_port())
    controller.start()
    try:
        channel = Email("local", "127.0.0.1", "probe@example.com", ("root@localhost",), port=controller.port,
                        starttls=False, timeout=2.0)
        deliver_events(tmp_path / "p.db", AlertSettings(emails=(channel,)), until=lambda: mailbox.messages)
    finally:
        controller.stop()
    assert mailbox.messages[0][1] == ["root@localhost"]


def test_send_test_through_each_channel(servers, certs, smtp):
    hook = Hook(servers, certs)
    dead = Webhook("dead", f"https://127.0.0.1:{refused_port()}/", ca_file=certs.ca_file, timeout=1)
    settings = AlertSettings(webhooks=(hook.channel(certs), dead), emails=(mail_channel(certs, smtp.port),))
    outcomes = send_test(settings)
    assert [(name, ok) for name, ok, _ in outcomes] == [("chat", True), ("dead", False), ("support", True)]
    assert "onnect" in outcomes[1][2]
    assert hook.accepted[0][1]["text"].startswith("[TEST] probe alert test from ")
    assert "Subject: [TEST] probe alert test" in smtp.messages[0][2]


def test_untrusted_certificate_is_refused(servers, certs, tmp_path):
    hook = Hook(servers, certs)
    channel = Webhook("chat", f"https://127.0.0.1:{hook.port}/", timeout=2)  # no ca_file: system CAs only
    name, ok, why = send_test(AlertSettings(webhooks=(channel,)))[0]
    assert not ok and "certificate" in why.lower()
    assert not hook.accepted


def test_a_name_with_a_line_break_is_mailed_on_one_subject_line(smtp, certs, tmp_path):
    db = tmp_path / "p.db"
    ep = endpoint("api\r\nBcc: someone@example.net")

    async def main():
        alerter = Alerter(AlertSettings(emails=(mail_channel(certs, smtp.port),)), SLASettings(), db,
                          retry_delays=FAST, tick_every=0.05)
        await alerter.start([ep])
        stop = asyncio.Event()
        task = asyncio.create_task(alerter.run(stop))
        now = time.time()
        alerter.observe(ep, result(now))
        alerter.observe(ep, result(now + 1))
        await eventually(lambda: smtp.messages)
        stop.set()
        await task
        await alerter.close()

    asyncio.run(main())
    (_, recipients, content), = smtp.messages
    assert "Subject: [BLOCKING] api Bcc: someone@example.net down: HTTP 503" in content
    head = content.replace("\r\n", "\n").split("\n\n", 1)[0]
    assert "\nBcc:" not in head and "someone@example.net" not in recipients
    assert outbox(db)[0]["status"] == "sent"


def test_any_delivery_error_is_retried_with_backoff_never_in_a_spin(tmp_path, monkeypatch, caplog):
    """Whatever a delivery raises, the message waits its retry delay, then fails for good."""
    import probe.alerts.alerter as alerts_module

    calls = []

    async def broken(channel, message, session):
        calls.append(time.monotonic())
        raise RuntimeError("a bug\nin two lines")

    monkeypatch.setattr(alerts_module, "deliver", broken)
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),)),
                   retry_delays=(0.2, 0.2), until=lambda: outbox(db) and outbox(db)[0]["status"] == "failed")
    assert len(calls) == 3, f"{len(calls)} attempts"
    assert all(b - a >= 0.15 for a, b in zip(calls, calls[1:])), "retried without waiting"
    row, = outbox(db)
    assert row["attempts"] == 3 and row["error"] == "RuntimeError: a bug in two lines"
    assert "Traceback" not in caplog.text
    assert all("\n" not in r.getMessage() for r in caplog.records)


def test_an_outcome_the_outbox_cannot_take_is_not_retried_at_once(tmp_path, monkeypatch):
    """Delivered, but the database refuses to record it (locked, full): the message waits
    before it is tried again, instead of being sent again and again."""
    import probe.alerts.alerter as alerts_module

    calls = []

    async def delivered(channel, message, session):
        calls.append(time.monotonic())

    def refuse(self, *args):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(alerts_module, "deliver", delivered)
    monkeypatch.setattr(alerts_module._Outbox, "sent", refuse)
    db = tmp_path / "p.db"
    deliver_events(db, AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),)),
                   until=lambda: calls and time.monotonic() - calls[0] > 1.5, timeout=5)
    assert 1 <= len(calls) <= 3, f"{len(calls)} deliveries in 1.5 s"
