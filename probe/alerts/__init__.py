"""Alerts: an incident's opening, escalation, near deadlines and end, sent to webhooks and by
e-mail. Events go to an outbox table first, so a dead receiver never blocks probing and a
restart neither re-sends nor loses a message."""

from probe.config import AlertSettings, Email, Route, Webhook, parse_alerts
from probe.spec import is_loopback

from .alerter import Alerter
from .delivery import DeliveryError, deliver, send_test
from .messages import Incident, compose
from .sites import observe_pushed

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
    "Incident",
    "send_test",
    "observe_pushed",
]
