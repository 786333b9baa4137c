"""Alerts: an incident's opening, escalation, near deadlines and end, sent to webhooks and by
e-mail. Events go to an outbox table first, so a dead receiver never blocks probing and a
restart neither re-sends nor loses a message. Also the ``[alerts]`` section of the config.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import smtplib
import socket
import sqlite3
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo


if TYPE_CHECKING:  # annotations only: the client is imported when a message is sent
    import aiohttp

from probe import sla
from probe.sla import to_ms as _ms
from probe.spec import is_ip_address, public_url, tls_context
from probe.config import (
    SEVERITIES,
    _bool,
    _duration_in,
    _int_in,
    _string,
    _unknown,
    _value,
    _Where,
    check_ca_file,
    check_url,
    expand_env,
    parse_headers,
)
from probe.render import ERROR_CLASSES, format_duration
from probe.report import runs_around
from probe.result import CheckResult, iso_utc
from probe.store import Store, StoreError, write_transaction
from probe.sla import WorkCalendar

log = logging.getLogger("probe.alerts")

OPENED, ESCALATED, DEADLINE, RESOLVED = "opened", "escalated", "deadline", "resolved"
EVENTS = (OPENED, ESCALATED, DEADLINE, RESOLVED)
REMIND_BEFORE = 3600.0  # a deadline event this long before an acknowledge or fix deadline
# Seconds to wait after each failed attempt: 10 attempts over about an hour, then failed.
RETRY_DELAYS = (15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 900.0, 900.0, 900.0)
TICK_EVERY = 30.0  # how often deadlines are looked at
DEFAULT_TIMEOUT = 10.0
LOOPBACK_NAMES = ("localhost",)


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Webhook:
    """A JSON POST with a ``text`` field (Slack, Mattermost and Teams-style incoming webhooks)."""

    kind: ClassVar[str] = "webhook"
    name: str
    url: str = field(repr=False)  # incoming-webhook URLs are secrets themselves
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Email:
    """E-mail over SMTP: STARTTLS (plain only to a server on loopback), optional login."""

    kind: ClassVar[str] = "email"
    name: str
    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Route:
    """Which channels get which events; None means any."""

    channels: tuple[str, ...]
    endpoints: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    events: tuple[str, ...] | None = None

    def matches(self, endpoint: str, severity: str, event: str) -> bool:
        return (
            (self.endpoints is None or endpoint in self.endpoints)
            and (self.severities is None or severity in self.severities)
            and (self.events is None or event in self.events)
        )


@dataclass(frozen=True)
class AlertSettings:
    webhooks: tuple[Webhook, ...] = ()
    emails: tuple[Email, ...] = ()
    routes: tuple[Route, ...] = ()  # none: every channel gets every event

    def __bool__(self) -> bool:
        return bool(self.webhooks or self.emails)

    @property
    def channels(self) -> dict[str, Webhook | Email]:
        return {channel.name: channel for channel in (*self.webhooks, *self.emails)}

    def channels_for(self, endpoint: str, severity: str, event: str) -> tuple[str, ...]:
        if not self.routes:
            return tuple(self.channels)
        chosen: dict[str, None] = {}
        for route in self.routes:
            if route.matches(endpoint, severity, event):
                chosen.update(dict.fromkeys(route.channels))
        return tuple(chosen)


# ---------------------------------------------------------------- config


def parse_alerts(table: dict, path: str, endpoint_names, environ=os.environ) -> AlertSettings:
    """The ``[alerts]`` table -> AlertSettings; ConfigError with a one-line message naming the
    file, the channel or route, and the key: ``probe.toml: alerts.webhook 'ops': url: ...``."""
    where = _Where(path)
    if not isinstance(table, dict):
        raise where.error("must be a table ([alerts])", None, "alerts")
    _unknown(table, {"webhook", "email", "route"}, where, "alerts")
    webhooks = tuple(
        _webhook(item, index, where, environ)
        for index, item in enumerate(_tables(table, "webhook", where), start=1)
    )
    emails = tuple(
        _email(item, index, where, environ)
        for index, item in enumerate(_tables(table, "email", where), start=1)
    )
    names: set[str] = set()
    for channel in (*webhooks, *emails):
        if channel.name in names:
            raise where.error(
                "duplicate name (channel names must be unique)",
                f"alerts.{channel.kind} {channel.name!r}", "name",
            )
        names.add(channel.name)
    routes = tuple(
        _route(item, index, where, names, set(endpoint_names))
        for index, item in enumerate(_tables(table, "route", where), start=1)
    )
    return AlertSettings(webhooks=webhooks, emails=emails, routes=routes)


WEBHOOK_KEYS = {"name", "url", "headers", "ca_file", "timeout"}
EMAIL_KEYS = {"name", "host", "port", "starttls", "username", "password", "from", "to", "ca_file",
              "timeout"}
ROUTE_KEYS = {"channels", "endpoints", "severities", "events"}


def _tables(table: dict, key: str, where: _Where) -> list[dict]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise where.error(f"must be an array of tables ([[alerts.{key}]])", "alerts", key)
    return value


def _channel_section(table: dict, kind: str, index: int, where: _Where, keys: set) -> str:
    name = table.get("name")
    section = f"alerts.{kind} {name!r}" if isinstance(name, str) and name.strip() else f"alerts.{kind} #{index}"
    _unknown(table, keys, where, section)
    if not isinstance(name, str) or not name.strip():
        raise where.error("missing (every channel needs a unique name)", section, "name")
    return section


def _common(table: dict, section: str, where: _Where) -> dict:
    return {
        "ca_file": _value(table, "ca_file", lambda v: check_ca_file(_string(v)), where, section),
        "timeout": _value(table, "timeout", _duration_in(0.1, 300), where, section, DEFAULT_TIMEOUT),
    }


def _webhook(table: dict, index: int, where: _Where, environ) -> Webhook:
    section = _channel_section(table, "webhook", index, where, WEBHOOK_KEYS)
    if "url" not in table:
        raise where.error("missing", section, "url")
    return Webhook(
        name=table["name"],
        url=_value(table, "url", lambda v: _secret_url(v, environ), where, section),
        headers=_value(table, "headers", lambda v: parse_headers(v, environ), where, section, ()),
        **_common(table, section, where),
    )


def _secret_url(value, environ) -> str:
    """An https:// URL, ${VAR} expanded; a message about it shows it as written, so that a
    secret taken from the environment is never printed."""
    text = _string(value)
    expanded = expand_env(text, environ)
    try:
        return check_url(expanded)
    except ValueError as exc:
        raise ValueError(str(exc).replace(repr(expanded), repr(text))) from None


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: what never leaves the machine."""
    host = host.strip("[]")
    return host.lower() in LOOPBACK_NAMES or (is_ip_address(host) and ipaddress.ip_address(host).is_loopback)


def _email(table: dict, index: int, where: _Where, environ) -> Email:
    section = _channel_section(table, "email", index, where, EMAIL_KEYS)
    for key in ("host", "from", "to"):
        if key not in table:
            raise where.error("missing", section, key)
    host = _value(table, "host", _host, where, section)
    starttls = _value(table, "starttls", _bool, where, section, True)
    if not starttls and not is_loopback(host):
        raise where.error(
            "false is allowed only for a server on loopback (127.0.0.1, ::1, localhost):"
            " mail and passwords would cross the network in clear",
            section, "starttls",
        )
    secret = lambda v: expand_env(_string(v), environ)  # noqa: E731
    username = _value(table, "username", secret, where, section)
    password = _value(table, "password", secret, where, section)
    for key, present, other in (("password", username, password), ("username", password, username)):
        if present is not None and other is None:
            raise where.error("missing (username and password go together)", section, key)
    return Email(
        name=table["name"],
        host=host,
        port=_value(table, "port", _int_in(1, 65535), where, section, 587),
        starttls=starttls,
        username=username,
        password=password,
        sender=_value(table, "from", _address, where, section),
        recipients=_value(table, "to", _addresses, where, section),
        **_common(table, section, where),
    )


def _host(value) -> str:
    text = _string(value).strip().strip("[]")
    if not text or any(c.isspace() or c in "/@" for c in text) or (":" in text and not is_ip_address(text)):
        raise ValueError(f"{value!r} is not a host name or address")
    return text


def _address(value) -> str:
    text = _string(value)
    _, address = parseaddr(text)
    if "@" not in address or "\r" in text or "\n" in text:
        raise ValueError(f"{value!r} is not an e-mail address")
    return text.strip()


def _addresses(value) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a list of e-mail addresses (like [\"support@example.com\"])")
    return tuple(_address(item) for item in value)


def _route(table: dict, index: int, where: _Where, channels: set, endpoints: set) -> Route:
    section = f"alerts.route #{index}"
    _unknown(table, ROUTE_KEYS, where, section)
    if "channels" not in table:
        raise where.error("missing (which channels this route sends to)", section, "channels")

    def names(known, what):
        def parse(value):
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise ValueError(f"must be a non-empty list of {what} names")
            for name in value:
                if name not in known:
                    raise ValueError(f"no {what} named {name!r}")
            return tuple(value)

        return parse

    def choices(options, what):
        def parse(value):
            if not isinstance(value, list) or not value:
                raise ValueError(f"must be a non-empty list of {what}")
            for item in value:
                if item not in options:
                    raise ValueError(f"{item!r} is not one of {', '.join(options)}")
            return tuple(value)

        return parse

    return Route(
        channels=_value(table, "channels", names(channels, "channel"), where, section),
        endpoints=_value(table, "endpoints", names(endpoints, "endpoint"), where, section),
        severities=_value(table, "severities", choices(SEVERITIES, "incident classes"), where, section),
        events=_value(table, "events", choices(EVENTS, "events"), where, section),
    )


# ---------------------------------------------------------------- messages


def _local(epoch: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, zone)


def _full(epoch: float, zone: ZoneInfo) -> str:
    """2026-10-07 10:00 CEST"""
    return _local(epoch, zone).strftime("%Y-%m-%d %H:%M %Z")


def _near(epoch: float, reference: float, zone: ZoneInfo) -> str:
    """As short as the reference allows: 15:00 the same day, 8 Oct 10:00 the same year."""
    moment, ref = _local(epoch, zone), _local(reference, zone)
    if moment.date() == ref.date():
        return moment.strftime("%H:%M")
    if moment.year == ref.year:
        return f"{moment.day} {moment.strftime('%b %H:%M')}"
    return f"{moment.day} {moment.strftime('%b %Y %H:%M')}"


@dataclass(frozen=True)
class Incident:
    """What a message says about one incident."""

    endpoint: str
    url: str | None
    state: str  # down | degraded
    severity: sla.Severity
    error_class: str | None
    cause: str
    start: float
    acknowledge_by: float
    fix_by: float


def compose(event: str, incident: Incident, zone: ZoneInfo, *, now: float, end: float | None = None,
            deadline: str | None = None, previous: sla.Severity | None = None) -> dict:
    """One message: ``text`` (one short paragraph, for chats), ``subject`` and ``body`` (for
    e-mail) and ``fields`` (the JSON of a webhook besides text). Pure: no clock, no I/O."""
    i = incident
    tag = f"[{str(i.severity).upper()}]"
    since = f"{i.state} since {_full(i.start, zone)}: {i.cause}"
    deadlines = f"Acknowledge by {_near(i.acknowledge_by, i.start, zone)}, fix by {_near(i.fix_by, i.start, zone)}."
    if event == OPENED:
        text = f"{tag} {i.endpoint} {since}. {deadlines}"
        subject = f"{tag} {i.endpoint} {i.state}: {i.cause}"
    elif event == ESCALATED:
        text = f"{tag} {i.endpoint} is now {i.severity} (was {previous}), {since}. {deadlines}"
        subject = f"{tag} {i.endpoint} now {i.severity}: {i.cause}"
    elif event == DEADLINE:
        at = i.acknowledge_by if deadline == "acknowledge" else i.fix_by
        left = format_duration(max(0.0, round((at - now) / 60) * 60), "en")
        text = (f"{tag} {i.endpoint}: {deadline} deadline at {_near(at, now, zone)} (in {left});"
                f" {since}. {deadlines}")
        subject = f"{tag} {i.endpoint}: {deadline} deadline in {left}"
    elif event == RESOLVED:
        verdict = "met" if end <= i.fix_by else "missed"
        text = (f"[RESOLVED] {i.endpoint} {i.state} from {_full(i.start, zone)} to {_near(end, i.start, zone)}"
                f" ({format_duration(end - i.start, 'en')}), {i.severity}: {i.cause}."
                f" Fix deadline {_near(i.fix_by, i.start, zone)} {verdict}.")
        subject = f"[RESOLVED] {i.endpoint} no longer {i.state} ({i.severity})"
    else:
        raise ValueError(f"unknown event {event!r}")
    fields = {
        "endpoint": i.endpoint,
        "event": event,
        "severity": str(i.severity),
        "state": i.state,
        "error_class": i.error_class,
        "cause": i.cause,
        "started": iso_utc(i.start),
        "ended": iso_utc(end),
        "acknowledge_deadline": iso_utc(i.acknowledge_by),
        "fix_deadline": iso_utc(i.fix_by),
        "deadline": deadline,
        "previous_severity": None if previous is None else str(previous),
        "url": public_url(i.url),
    }
    details = [
        ("Endpoint", i.endpoint),
        ("URL", fields["url"] or ""),
        ("Class", str(i.severity)),
        ("State", i.state),
        ("Cause", i.cause),
        ("Started", _full(i.start, zone)),
        ("Ended", _full(end, zone) if end is not None else "ongoing"),
        ("Acknowledge by", _full(i.acknowledge_by, zone)),
        ("Fix by", _full(i.fix_by, zone)),
    ]
    body = text + "\n\n" + "\n".join(f"{label + ':':<16}{value}" for label, value in details) + "\n\n-- \nprobe\n"
    return {"text": text, "subject": subject, "body": body, "fields": fields}


def trial_message() -> dict:
    host = socket.gethostname()
    text = f"[TEST] probe alert test from {host}: this channel works."
    fields = {"endpoint": None, "event": "test", "severity": None}
    return {"text": text, "subject": "[TEST] probe alert test", "body": text + "\n\n-- \nprobe\n",
            "fields": fields}


# ---------------------------------------------------------------- delivery


class DeliveryError(Exception):
    """A failed attempt; ``permanent`` when trying again cannot help (a 4xx, a 5xx SMTP reply)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


async def deliver(channel: Webhook | Email, message: dict, session: aiohttp.ClientSession) -> None:
    """One attempt to send one message through one channel; DeliveryError says why not."""
    if isinstance(channel, Webhook):
        await _post(channel, message, session)
    else:
        try:
            await asyncio.to_thread(_send_mail, channel, message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"every recipient refused: {_smtp_reasons(exc.recipients)}", True) from None
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(f"SMTP {exc.smtp_code} {reply}".strip(), exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryError(_describe(exc)) from None


async def _post(channel: Webhook, message: dict, session: aiohttp.ClientSession) -> None:
    import aiohttp  # here: reading a config must not load the HTTP client

    payload = {"text": message["text"], **message["fields"]}
    try:
        async with session.post(
            channel.url,
            json=payload,
            headers=dict(channel.headers),
            ssl=tls_context(channel.ca_file, "1.2"),
            timeout=aiohttp.ClientTimeout(total=channel.timeout),
            allow_redirects=False,  # a redirect must not carry the headers elsewhere
        ) as response:
            if 200 <= response.status < 300:
                return
            permanent = 400 <= response.status < 500 and response.status not in (408, 425, 429)
            raise DeliveryError(f"HTTP {response.status} {response.reason or ''}".strip(), permanent)
    except asyncio.TimeoutError:
        raise DeliveryError(f"no answer within {channel.timeout:g}s") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise DeliveryError(_describe(exc)) from None


def _send_mail(channel: Email, message: dict) -> None:
    mail = EmailMessage()
    mail["Subject"] = header_text(message["subject"])  # a name's line break must not refuse it
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.recipients)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=parseaddr(channel.sender)[1].rpartition("@")[2] or None)
    mail.set_content(message["body"])
    with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout) as smtp:
        smtp.ehlo()
        if channel.starttls:
            smtp.starttls(context=tls_context(channel.ca_file, "1.2"))
            smtp.ehlo()
        if channel.username is not None:
            smtp.login(channel.username, channel.password)
        refused = smtp.send_message(mail)
    if refused:
        log.warning("alert mail via %s: some recipients refused: %s", channel.name, _smtp_reasons(refused))


def header_text(text: str) -> str:
    """A header value on one line: line breaks and other control characters become spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _smtp_reasons(recipients: dict) -> str:
    return "; ".join(f"{who}: {code}" for who, (code, _) in recipients.items())


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]


def send_test(settings: AlertSettings) -> list[tuple[str, bool, str]]:
    """``probe alert test``: one test message through each channel, now, without the outbox.
    Returns (channel, ok, "sent" or why not) per channel."""

    import aiohttp

    async def all_channels():
        async with aiohttp.ClientSession() as session:
            async def one(channel):
                try:
                    await deliver(channel, trial_message(), session)
                except DeliveryError as exc:
                    return channel.name, False, str(exc)
                return channel.name, True, "sent"

            return await asyncio.gather(*(one(c) for c in settings.channels.values()))

    return list(asyncio.run(all_channels()))


# ---------------------------------------------------------------- the outbox


@dataclass(frozen=True)
class _Row:
    id: int
    channel: str
    endpoint: str
    event: str
    message: dict
    attempts: int


OUTBOX_BUSY_TIMEOUT = 1.0  # seconds


class _Outbox:
    """The alert_outbox table, through a Store opened on first use. Called only from the
    Alerter's one database thread."""

    def __init__(self, path):
        self.path = path
        self._store = None

    @property
    def store(self):
        if self._store is None:
            # A short wait for the write lock: the delivery loop retries, and a stop must not
            # wait long for another process's transaction.
            self._store = Store.open(self.path, busy_timeout=OUTBOX_BUSY_TIMEOUT)
        return self._store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.db.conn

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def add(self, rows: list[tuple]) -> None:
        """Rows of (key, channel, endpoint, incident_start, event, created_at, message); one
        already there (same event, same channel) is left alone."""
        with write_transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO alert_outbox"
                " (key, channel, endpoint, incident_start, event, created_at, message, next_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, row[5]) for row in rows],
            )

    def due(self, now_ms: int, busy: set[str], limit: int = 100) -> tuple[list[_Row], int | None]:
        """Pending rows due now on channels not busy, oldest first, and when the next one of
        those channels is due."""
        skip = ",".join("?" * len(busy))
        where = "status = 'pending'" + (f" AND channel NOT IN ({skip})" if busy else "")
        rows = self.conn.execute(
            f"SELECT id, channel, endpoint, event, message, attempts FROM alert_outbox"
            f" WHERE {where} AND next_at <= ? ORDER BY id LIMIT ?",
            (*busy, now_ms, limit),
        ).fetchall()
        following = self.conn.execute(
            f"SELECT min(next_at) FROM alert_outbox WHERE {where}", tuple(busy)
        ).fetchone()[0]
        return [_Row(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows], following

    def sent(self, row_id: int, at_ms: int, attempts: int) -> None:
        with write_transaction(self.conn):
            self.conn.execute(
                "UPDATE alert_outbox SET status = 'sent', sent_at = ?, attempts = ? WHERE id = ?",
                (at_ms, attempts, row_id),
            )

    def retry(self, row_id: int, attempts: int, next_ms: int | None, error: str) -> None:
        """next_ms None: no more attempts, the row is failed."""
        with write_transaction(self.conn):
            self.conn.execute(
                "UPDATE alert_outbox SET attempts = ?, last_error = ?,"
                " status = CASE WHEN ? IS NULL THEN 'failed' ELSE status END,"
                " next_at = coalesce(?, next_at) WHERE id = ?",
                (attempts, error, next_ms, next_ms, row_id),
            )

    def pending(self) -> int:
        return self.conn.execute("SELECT count(*) FROM alert_outbox WHERE status = 'pending'").fetchone()[0]

    def announced(self, endpoint: str, start_ms: int) -> tuple[sla.Severity | None, set[str]]:
        """The highest class already announced for the incident, and its events' keys."""
        severity, keys = None, set()
        for key, event, message in self.conn.execute(
            "SELECT key, event, message FROM alert_outbox WHERE endpoint = ? AND incident_start = ?",
            (endpoint, start_ms),
        ):
            keys.add(key)
            if event in (OPENED, ESCALATED):
                announced = sla.Severity.parse(json.loads(message)["fields"]["severity"])
                severity = announced if severity is None else max(severity, announced)
        return severity, keys

    def acknowledged(self, endpoint: str, start: float) -> bool:
        record = self.store.detected_incident(endpoint, start)
        return record is not None and record.ack_at is not None

    def ongoing(self, endpoint, now: float) -> tuple[sla.Episode, float, str | None] | None:
        """The endpoint's episode in progress according to the store's runs, the time of its
        last check, and the error of its first check (None once pruned)."""
        runs = runs_around(self.store, endpoint.name, (now, None))  # up to the newest run
        found = sla.episodes(runs, endpoint.confirm)
        if not found or not found[-1].ongoing:
            return None
        episode = found[-1]
        first = list(self.store.checks(endpoint.name, since=episode.start, until=episode.start + 0.001))
        return episode, runs[-1].last, first[0][3].error if first else None


# ---------------------------------------------------------------- the alerter


@dataclass
class _Track:
    """One endpoint's episode in progress: consecutive down (or degraded) checks."""

    state: str
    start: float
    last: float
    url: str | None
    checks: int = 0
    error_classes: dict = field(default_factory=dict)  # an ordered set
    cause: str | None = None  # the error of the first check of the highest class
    cause_class: str | None = None
    announced: sla.Severity | None = None  # None until the opened event
    incident: Incident | None = None
    keys: set = field(default_factory=set)  # events already in the outbox

    def episode(self) -> sla.Episode:
        kind = sla.OUTAGE if self.state == sla.DOWN else sla.DEGRADATION
        return sla.Episode(kind, self.state, self.start, self.last, self.checks,
                           tuple(self.error_classes), (), True)

    def note(self, result: CheckResult) -> None:
        self.checks += 1
        self.last = result.at
        self.error_classes.setdefault(result.error_class)
        if self.cause is None or sla.classify(result.error_class, self.state) > sla.classify(self.cause_class, self.state):
            self.cause, self.cause_class = result.error, result.error_class


class Alerter:
    """Turns check results into incident events, keeps them in the outbox, delivers them.

    Lifecycle: ``await start(endpoints)`` before the first check (it rebuilds the incidents
    in progress from the store), ``observe(endpoint, result)`` for every result (sync, cheap,
    never waits for I/O), ``run(stop_event)`` as a task (persists, delivers, looks at
    deadlines), then ``await close()``.
    """

    def __init__(self, settings: AlertSettings, sla_settings, store_path, *, clock=time.time,
                 retry_delays=RETRY_DELAYS, remind_before: float = REMIND_BEFORE,
                 tick_every: float = TICK_EVERY):
        self.settings = settings
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.remind_before = remind_before
        self.tick_every = tick_every
        self._configure(sla_settings)
        self._outbox = _Outbox(store_path)
        self._db = ThreadPoolExecutor(1, thread_name_prefix="probe-alerts")
        self._tracks: dict[str, _Track] = {}
        self._new: list[tuple] = []  # outbox rows not yet written
        self._busy: dict[str, asyncio.Task] = {}  # channel -> its delivery in progress
        # row id -> not before (epoch s): an attempt whose outcome the outbox did not take
        # waits here, so that no message is tried again and again at once
        self._held: dict[int, float] = {}
        self._wake: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.pending = 0

    def _configure(self, sla_settings) -> None:
        self.zone = ZoneInfo(sla_settings.timezone)
        self.calendar = WorkCalendar(sla_settings.holidays, sla_settings.timezone, sla_settings.closed_days)
        self.deadlines = {k: (v["acknowledge"], v["fix"]) for k, v in sla_settings.deadlines.items()}

    def update(self, settings: AlertSettings, sla_settings) -> None:
        """A reloaded config: new channels and routes for new events; incidents in progress
        keep the deadlines they were announced with."""
        self.settings = settings
        self._configure(sla_settings)

    async def _call(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._db, function, *args)

    # ------------------------------------------------------------ incidents

    async def start(self, endpoints) -> None:
        """Rebuild the incidents in progress from the store's runs, and what was announced of
        them from the outbox, so that a restart announces nothing twice."""
        self._wake = asyncio.Event()
        now = self.clock()
        for endpoint in endpoints:
            found = await self._call(self._outbox.ongoing, endpoint, now)
            if found is None:
                continue
            episode, last, cause = found
            track = _Track(episode.state, episode.start, last, endpoint.spec.url, episode.checks,
                           dict.fromkeys(episode.error_classes))
            worst = max(episode.error_classes, key=lambda c: sla.classify(c, episode.state))
            track.cause, track.cause_class = cause, worst
            track.announced, track.keys = await self._call(self._outbox.announced, endpoint.name,
                                                           _ms(episode.start))
            if track.announced is not None:
                track.incident = self._incident(endpoint.name, track, track.announced)
            self._tracks[endpoint.name] = track
        if self._tracks:
            log.info("alerts: incidents in progress: %d", len(self._tracks))

    def observe(self, endpoint, result: CheckResult) -> None:
        """Fold one check result of ``endpoint`` (a config Endpoint) into its incident."""
        name = endpoint.name
        track = self._tracks.get(name)
        if track is not None and result.at < track.last:
            return  # older than what was seen: nothing to learn
        if track is not None and result.state != track.state:
            del self._tracks[name]
            if track.incident is not None:
                self._emit(RESOLVED, track, end=result.at)
            track = None
        if result.state not in (sla.DOWN, sla.DEGRADED):
            return
        if track is None:
            track = self._tracks[name] = _Track(result.state, result.at, result.at, endpoint.spec.url)
        track.note(result)
        if track.checks < endpoint.confirm:
            return
        severity = sla.incident_severity(track.episode(), endpoint.severity_cap)
        if track.announced is None:
            track.incident = self._incident(name, track, severity)
            track.announced = severity
            self._emit(OPENED, track)
        elif severity > track.announced:
            previous, track.announced = track.announced, severity
            track.incident = self._incident(name, track, severity)
            self._emit(ESCALATED, track, previous=previous)

    def _incident(self, name: str, track: _Track, severity: sla.Severity) -> Incident:
        acknowledge_by, fix_by = sla.incident_deadlines(track.start, severity, self.calendar, self.deadlines)
        cause = track.cause or ERROR_CLASSES["en"].get(track.cause_class, track.cause_class or track.state)
        return Incident(name, track.url, track.state, severity, track.cause_class, cause, track.start,
                        acknowledge_by, fix_by)

    async def tick(self, now: float | None = None) -> None:
        """Deadline events: ``remind_before`` ahead of each deadline of an incident in
        progress; for the acknowledgement only while nobody has acknowledged it."""
        now = self.clock() if now is None else now
        for name, track in list(self._tracks.items()):
            incident = track.incident
            if incident is None:
                continue
            for kind, at in (("acknowledge", incident.acknowledge_by), ("fix", incident.fix_by)):
                key = _key(name, track.start, DEADLINE, f"{kind}@{_ms(at)}")
                if key in track.keys or not at - self.remind_before <= now < at:
                    continue
                if kind == "acknowledge" and await self._call(self._outbox.acknowledged, name, track.start):
                    track.keys.add(key)
                    continue
                if self._tracks.get(name) is track:  # the incident may have ended meanwhile
                    self._emit(DEADLINE, track, deadline=kind, key=key, now=now)

    def _emit(self, event: str, track: _Track, *, end=None, previous=None, deadline=None, key=None,
              now=None) -> None:
        incident = track.incident
        now = self.clock() if now is None else now
        detail = {OPENED: None, ESCALATED: str(incident.severity), RESOLVED: None}.get(event)
        key = key or _key(incident.endpoint, track.start, event, detail)
        if key in track.keys:
            return
        track.keys.add(key)
        message = compose(event, incident, self.zone, now=now, end=end, deadline=deadline, previous=previous)
        channels = self.settings.channels_for(incident.endpoint, str(incident.severity), event)
        log.info("alert: %s", message["text"])
        text = json.dumps(message, ensure_ascii=False)
        for channel in channels:
            self._new.append((key, channel, incident.endpoint, _ms(track.start), event, _ms(now), text))
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------ delivery

    async def run(self, stop_event: asyncio.Event) -> None:
        """Write new events to the outbox and deliver what is due, one message at a time per
        channel, until stop_event; each failure waits longer (retry_delays), then gives up."""
        import aiohttp

        if self._wake is None:
            self._wake = asyncio.Event()
        self._session = aiohttp.ClientSession()
        watcher = asyncio.create_task(self._wake_on(stop_event))
        next_tick = 0.0
        try:
            while not stop_event.is_set():
                self._wake.clear()
                delay = self.tick_every
                try:
                    await self._persist()
                    now = self.clock()
                    if now >= next_tick:
                        next_tick = now + self.tick_every
                        await self.tick(now)
                        await self._persist()
                    following = await self._dispatch(now)
                    if following is not None:
                        delay = min(delay, max(0.0, following - self.clock()))
                except (sqlite3.Error, OSError, StoreError) as exc:
                    log.error("alert outbox: %s; trying again", exc)
                    delay = 1.0
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))
                except asyncio.TimeoutError:
                    pass
        finally:
            watcher.cancel()

    async def _wake_on(self, stop_event: asyncio.Event) -> None:
        await stop_event.wait()
        self._wake.set()

    async def _persist(self) -> None:
        if not self._new:
            return
        rows, self._new = self._new, []
        try:
            await self._call(self._outbox.add, rows)
        except BaseException:
            self._new[:0] = rows  # kept in memory until the database takes them
            raise

    async def _dispatch(self, now: float) -> float | None:
        """Start the deliveries due now; returns when the next one is due (epoch seconds)."""
        rows, following = await self._call(self._outbox.due, _ms(now), set(self._busy))
        following = None if following is None else following / 1000
        channels = self.settings.channels
        for row in rows:
            if row.channel in self._busy:
                continue
            held = self._held.get(row.id)
            if held is not None:
                if held > now:
                    following = held if following is None or following <= now else min(following, held)
                    continue
                del self._held[row.id]
            channel = channels.get(row.channel)
            if channel is None:
                await self._call(self._outbox.retry, row.id, row.attempts, None,
                                 "channel no longer configured")
                log.error("alert to %s dropped: no such channel in the config any more", row.channel)
                continue
            self._busy[row.channel] = asyncio.create_task(self._attempt(channel, row))
        self.pending = await self._call(self._outbox.pending)
        return following

    async def _attempt(self, channel, row: _Row) -> None:
        attempts = row.attempts + 1
        recorded = False
        try:
            try:
                await deliver(channel, row.message, self._session)
            except DeliveryError as exc:
                await self._failed(channel, row, attempts, exc)
            except Exception as exc:  # noqa: BLE001 - a bug or a bad message: retried, never a spin
                await self._failed(channel, row, attempts, DeliveryError(f"{type(exc).__name__}: {_describe(exc)}"))
            else:
                await self._call(self._outbox.sent, row.id, _ms(self.clock()), attempts)
                self.sent[channel.name] = self.sent.get(channel.name, 0) + 1
                if attempts > 1:
                    log.info("alert %s %s delivered to %s at attempt %d", row.endpoint, row.event,
                             channel.name, attempts)
            recorded = True
        except Exception as exc:  # noqa: BLE001 - the outbox could not take the outcome
            log.error("alert outbox: %s", _describe(exc))
        finally:
            if not recorded:
                delays = self.retry_delays or (1.0,)
                self._held[row.id] = self.clock() + max(1.0, delays[min(attempts, len(delays)) - 1])
            self._busy.pop(channel.name, None)
            self._wake.set()

    async def _failed(self, channel, row: _Row, attempts: int, exc: DeliveryError) -> None:
        what = f"alert {header_text(row.endpoint)} {row.event} to {channel.kind} {channel.name}"
        if exc.permanent or attempts > len(self.retry_delays):
            await self._call(self._outbox.retry, row.id, attempts, None, str(exc))
            self.failed[channel.name] = self.failed.get(channel.name, 0) + 1
            log.error("%s failed for good after %d attempts: %s", what, attempts, exc)
            return
        wait = self.retry_delays[attempts - 1]
        await self._call(self._outbox.retry, row.id, attempts, _ms(self.clock() + wait), str(exc))
        log.warning("%s: attempt %d failed (%s); next in %s", what, attempts, exc,
                    format_duration(wait, "en") if wait >= 1 else f"{wait:g}s")

    async def close(self, timeout: float = 2.0) -> None:
        """Write what is not written, give deliveries in progress ``timeout`` seconds (those
        cut short stay pending, and go at the next start), and close the database."""
        try:
            await asyncio.wait_for(self._persist(), OUTBOX_BUSY_TIMEOUT + timeout)
        except (sqlite3.Error, OSError, StoreError, asyncio.TimeoutError) as exc:
            log.error("alert outbox: %d alert events not recorded: %s", len(self._new),
                      _describe(exc) if str(exc) else "the database stayed locked")
        tasks = list(self._busy.values())
        if tasks:
            done, running = await asyncio.wait(tasks, timeout=timeout)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        try:
            await asyncio.wait_for(self._call(self._outbox.close), OUTBOX_BUSY_TIMEOUT + timeout)
        except (sqlite3.Error, asyncio.TimeoutError):
            pass
        self._db.shutdown(wait=False)

    def stats(self) -> dict:
        """For the metrics: messages sent and failed per channel since the start, and pending."""
        return {"sent": dict(self.sent), "failed": dict(self.failed), "pending": self.pending}


def _key(endpoint: str, start: float, event: str, detail: str | None) -> str:
    """What makes an event unique: the same key is never enqueued twice for a channel."""
    return json.dumps([endpoint, _ms(start), event, detail], ensure_ascii=False)
