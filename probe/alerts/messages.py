"""The words of an alert: subject and text of each event, in the SLA's time zone."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from probe import sla
from probe.config import DEADLINE, ESCALATED, OPENED, RESOLVED
from probe.labels import format_duration
from probe.result import iso_utc
from probe.spec import public_url


def _local(epoch: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, zone)


def _full(epoch: float, zone: ZoneInfo) -> str:
    """2026-10-07 10:00 CEST"""
    return _local(epoch, zone).strftime("%Y-%m-%d %H:%M %Z")


def _near(epoch: float, reference: float, zone: ZoneInfo) -> str:
    """As short as the reference allows, labelled with the time zone: 15:00 CEST the same day,
    8 Oct 10:00 CEST the same year."""
    moment, ref = _local(epoch, zone), _local(reference, zone)
    if moment.date() == ref.date():
        return moment.strftime("%H:%M %Z")
    if moment.year == ref.year:
        return f"{moment.day} {moment.strftime('%b %H:%M %Z')}"
    return f"{moment.day} {moment.strftime('%b %Y %H:%M %Z')}"


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


def with_incident_id(message: dict, number: int) -> dict:
    """The message with the incident's id (what `probe incident ack|note|show` take):
    "[BLOCKING] #12 api down since ...", a line of the e-mail, ``incident_id`` in the JSON."""

    def tagged(text: str) -> str:
        tag, sep, rest = text.partition("] ")
        return f"{tag}{sep}#{number} {rest}" if sep and text.startswith("[") else f"#{number} {text}"

    head, sep, tail = message["body"].partition("\n\n-- \n")
    line = f"{'Incident:':<16}#{number} (probe incident ack {number})"
    return {**message, "text": tagged(message["text"]), "subject": tagged(message["subject"]),
            "body": tagged(head) + "\n" + line + sep + tail,
            "fields": {**message["fields"], "incident_id": number}}


def trial_message() -> dict:
    host = socket.gethostname()
    text = f"[TEST] probe alert test from {host}: this channel works."
    fields = {"endpoint": None, "event": "test", "severity": None}
    return {"text": text, "subject": "[TEST] probe alert test", "body": text + "\n\n-- \nprobe\n",
            "fields": fields}
