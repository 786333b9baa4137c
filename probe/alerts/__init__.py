"""Alerts: an incident's opening, escalation, near deadlines and end, sent to webhooks and by
e-mail. Events go to an outbox table first, so a dead receiver never blocks probing and a
restart neither re-sends nor loses a message."""
from .messages import Incident, compose, trial_message
from probe.config import AlertSettings, Email, Route, Webhook, parse_alerts
from probe.spec import is_loopback

from .delivery import DeliveryError, deliver, header_text, send_test
from .outbox import OUTBOX_BUSY_TIMEOUT
from .alerter import Alerter, REMIND_BEFORE, RETRY_DELAYS, TICK_EVERY

__all__ = [
    "AlertSettings",
    "Email",
    "Route",
    "Webhook",
    "parse_alerts",
    "is_loopback",
    "Alerter",
    "compose",
    "deliver",
    "DeliveryError",
    "header_text",
    "Incident",
    "OUTBOX_BUSY_TIMEOUT",
    "REMIND_BEFORE",
    "RETRY_DELAYS",
    "send_test",
    "TICK_EVERY",
    "trial_message",
]
