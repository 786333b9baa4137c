"""What a loaded config is: frozen dataclasses, with their defaults in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

from probe import contract
from probe.spec import CheckSpec

from .heartbeats import Heartbeat
from .upstream import HubSettings, Site, Upstream
from .web import WebSettings

SEVERITIES = contract.SEVERITIES
# [sla.deadlines] as the config writes it: {class: {acknowledge, fix}}
DEFAULT_SUPPORT_HOURS = contract.DEFAULT_SUPPORT_HOURS
DEFAULT_DEADLINES = {k: {"acknowledge": a, "fix": f} for k, (a, f) in contract.DEFAULT_DEADLINES.items()}




@dataclass(frozen=True)
class LatencyObjective:
    """A performance objective: the month's ``percentile`` of response times at most ``under``."""

    percentile: float  # in (0, 100]
    under: float  # seconds


@dataclass(frozen=True)
class Endpoint:
    name: str
    spec: CheckSpec
    interval: float = 60.0
    confirm: int = 2
    severity_cap: str | None = None  # the highest class this endpoint's incidents may take
    title: str | None = None  # the name the client reads (report, public status page)
    control: bool = False  # a control endpoint: tells whether the site's own network works
    latency_objective: LatencyObjective | None = None  # the performance objective
    tls_audit: float | None = 86400.0  # seconds between two TLS audits; None: never audited

    @property
    def display_name(self) -> str:
        return self.title or self.name


@dataclass(frozen=True)
class ProbeSettings:
    database: str
    site: str = "default"
    retention_days: int = 400
    max_in_flight: int = 256
    rate: float = 500.0  # checks started per second, at most
    per_host: int = 8  # checks in flight against one host, at most
    retry_interval: float = 5.0  # re-check after a down check, until confirmed
    workers: int | None = None  # processes that run the checks; None: as many as needed


@dataclass(frozen=True)
class Maintenance:
    reason: str
    endpoints: tuple[str, ...] | None  # None: all endpoints
    start: datetime | None = None  # one-off, aware local times
    end: datetime | None = None
    every: tuple[int, ...] = ()  # recurring: weekdays, 0 = Monday
    at: str | None = None  # recurring: local "HH:MM"
    duration: float | None = None  # recurring: seconds

    def applies_to(self, endpoint: str) -> bool:
        return self.endpoints is None or endpoint in self.endpoints


@dataclass(frozen=True)
class SLASettings:
    target: float = 99.8
    timezone: str = "Europe/Paris"
    holidays: str = "FR"
    closed_days: tuple[date, ...] = ()
    confirm: int = 2
    deadlines: dict[str, dict[str, str]] = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_DEADLINES.items()})
    late_maintenance: str = "count"  # a window's part before its declaration: "count" or "exclude"
    support_hours: str = DEFAULT_SUPPORT_HOURS  # the `sh` deadline unit's opening hours, local time
    sites: str = "majority"  # how several sites' verdicts combine: "majority", "all" or "any"
    min_sites: int = 1  # fewer voting sites than this: the instant is unmonitored


@dataclass(frozen=True)
class ReportSettings:
    title: str | None = None  # in the report's language (the one of `titles` for it)
    provider: str = ""
    client: str = ""
    language: str = "fr"
    support: str = ""
    titles: tuple[tuple[str, str], ...] = ()  # (language, title) when given per language
    show_urls: bool = False  # endpoint URLs are internal: shown in the report only on request

    def title_in(self, language: str) -> str | None:
        """The title for a report in ``language``: its own, else the one string given."""
        if self.titles:
            return dict(self.titles).get(language)
        return self.title


@dataclass(frozen=True)
class Config:
    path: str | None
    probe: ProbeSettings
    endpoints: tuple[Endpoint, ...]
    sla: SLASettings = field(default_factory=SLASettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    maintenance: tuple[Maintenance, ...] = ()
    # false
    # when no alert channel is configured
    alerts: AlertSettings | None = None
    # loaded without secrets: the ${VARIABLES} that are not set, where ("alerts.webhook #1
    # url: HOOK_URL"); their values are placeholders that must never be used
    unset_secrets: tuple[str, ...] = ()
    upstream: Upstream | None = None  # where this site ships its checks (probe.config.upstream)
    sites: tuple[Site, ...] = ()  # the sites that may push to this hub
    hub: HubSettings = field(default_factory=HubSettings)
    heartbeats: tuple[Heartbeat, ...] = ()  # [[heartbeat]]: jobs that signal their runs
    web: WebSettings = field(default_factory=WebSettings)

    def heartbeat(self, name: str) -> Heartbeat | None:
        return next((h for h in self.heartbeats if h.name == name), None)

    @property
    def checked(self) -> tuple[Endpoint, ...]:
        """The endpoints this daemon checks itself: none on a hub that leaves them to its sites."""
        return self.endpoints if self.hub.check_endpoints else ()

    def endpoint(self, name: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.name == name), None)

    def confirm_for(self, name: str) -> int:
        """How many down checks in a row make an outage of ``name``: the endpoint's own
        setting, else the SLA's (an endpoint that left the config keeps being counted)."""
        endpoint = self.endpoint(name)
        return endpoint.confirm if endpoint else self.sla.confirm


def default_database() -> str:
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return str(Path(state.split(":")[0]) / "probe.db")
    return "probe.db"


OPENED, ESCALATED, DEADLINE, RESOLVED = "opened", "escalated", "deadline", "resolved"


EVENTS = (OPENED, ESCALATED, DEADLINE, RESOLVED)


DEFAULT_TIMEOUT = 10.0


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
        channels: tuple[Webhook | Email, ...] = (*self.webhooks, *self.emails)
        return {channel.name: channel for channel in channels}

    def channels_for(self, endpoint: str, severity: str, event: str) -> tuple[str, ...]:
        if not self.routes:
            return tuple(self.channels)
        chosen: dict[str, None] = {}
        for route in self.routes:
            if route.matches(endpoint, severity, event):
                chosen.update(dict.fromkeys(route.channels))
        return tuple(chosen)
