"""`probe run --listen`: /metrics for Prometheus, and the status page (/ and /status.json), read
from the running daemon when asked. Loopback only, unless a bearer token guards them.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from probe import __version__, sla
from probe.config import Config
from probe.render import MESSAGES, make_environment
from probe.report import heartbeat_status, iso_local, local_days, status
from probe.result import STATES, CheckResult, parse_iso
from probe.spec import is_loopback
from probe.store import Store
from probe.store import maintenance as maintenance_records

from .heartbeat_metrics import metrics_handler
from .hub import HUB_MESSAGES, PUSH_ROUTE, attach_hub
from .listener import HEAD_TIMEOUT, GuardedSite, connection_cap
from .pings import add_ping_routes, is_ping
from .public import PublicCache, add_routes, is_public, page

log = logging.getLogger("probe.web")

STATUS_DAYS = 90
STATUS_TTL = 30.0  # seconds a computed status page is served again
PHASES = ("dns", "connect", "tls", "ttfb", "total")
KEEPALIVE_TIMEOUT = 30.0  # seconds an idle connection is kept: longer than a scrape interval

STATUS_MESSAGES = {
    "en": {
        "status_title": "Service status", "state": "State", "since": "Since",
        "last_days": "Last 90 days", "availability_24h": "24 h", "availability_30d": "30 days",
        "availability_90d": "90 days", "updated": "Updated", "probe": "Probe",
        "probe_running": "running", "probe_stopped": "not running", "below_target": "below target",
        "state_up": "Up", "state_degraded": "Degraded", "state_down": "Down", "state_unknown": "No data",
    },
    "fr": {
        "status_title": "État des services", "state": "État", "since": "Depuis",
        "last_days": "90 derniers jours", "availability_24h": "24 h", "availability_30d": "30 jours",
        "availability_90d": "90 jours", "updated": "Mis à jour", "probe": "Sonde",
        "probe_running": "en marche", "probe_stopped": "arrêtée", "below_target": "sous l'objectif",
        "state_up": "Disponible", "state_degraded": "Dégradé", "state_down": "Indisponible",
        "state_unknown": "Pas de données",
    },
}


class LiveResults:
    """Each endpoint's newest check result and its results by state since the start. Fed by
    the daemon for every check; cheap."""

    def __init__(self) -> None:
        self.last: dict[str, CheckResult] = {}
        self.counts: dict[str, dict[str, int]] = {}

    def record(self, name: str, result: CheckResult) -> None:
        self.last[name] = result
        counts = self.counts.get(name)
        if counts is None:
            counts = self.counts[name] = dict.fromkeys(STATES, 0)
        counts[result.state] = counts.get(result.state, 0) + 1


class DaemonView(Protocol):
    """What the pages read of the daemon (``probe.daemon.Daemon`` has all of it)."""

    config: Config  # the running config: endpoints, SLA, maintenance, report language
    store_path: str  # the database; the status page opens it read-only in a thread
    live: LiveResults
    scheduler: object | None  # .stats: lag_p(q), in_flight, started, missed, retries
    writer: object | None  # .stats(): written, write_errors, dropped, queue_depth
    alerter: object | None  # .stats(): sent, failed (per channel), pending


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:9464``, ``[::1]:9464`` or ``:9464`` (loopback) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT (like 127.0.0.1:9464)")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


# ---------------------------------------------------------------- metrics


class _Collector:
    """Reads the daemon's live state at scrape time: nothing is kept twice."""

    def __init__(self, view: DaemonView):
        self.view = view

    def collect(self) -> Iterable:
        view = self.view
        names = [endpoint.name for endpoint in view.config.endpoints]
        yield from self._endpoints(names, view.live)
        yield from self._health(view)
        info = GaugeMetricFamily("probe_build_info", "The running probe's version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info

    def _endpoints(self, names: list[str], live: LiveResults) -> Iterable:
        g = lambda name, text, labels=(): GaugeMetricFamily(name, text, labels=["endpoint", *labels])  # noqa: E731
        up = g("probe_endpoint_up", "1 when the newest check found the endpoint up or degraded, 0 when down.")
        state = g("probe_endpoint_state", "1 for the state of the newest check (up, degraded, down).", ["state"])
        duration = g("probe_check_duration_seconds", "Phase times of the newest check.", ["phase"])
        http = g("probe_http_status_code", "HTTP status of the newest check.")
        at = g("probe_last_check_timestamp_seconds", "When the newest check started.")
        tls = g("probe_tls_version_info", "TLS version of the newest check.", ["version"])
        expiry = g("probe_cert_expiry_timestamp_seconds", "When the endpoint's certificate expires.")
        checks = CounterMetricFamily("probe_checks", "Checks since the start, by result.",
                                     labels=["endpoint", "result"])
        for name in names:
            for result_state, count in live.counts.get(name, dict.fromkeys(STATES, 0)).items():
                checks.add_metric([name, result_state], count)
            result = live.last.get(name)
            if result is None:
                continue
            up.add_metric([name], 0 if result.state == sla.DOWN else 1)
            for one in STATES:
                state.add_metric([name, one], 1 if result.state == one else 0)
            for phase in PHASES:
                value = getattr(result, f"{phase}_ms")
                if value is not None:
                    duration.add_metric([name, phase], value / 1000)
            at.add_metric([name], result.at)
            if result.http_status is not None:
                http.add_metric([name], result.http_status)
            if result.tls_version:
                tls.add_metric([name, result.tls_version], 1)
            if result.cert_not_after is not None:
                expiry.add_metric([name], result.cert_not_after)
        return up, state, duration, http, at, tls, expiry, checks

    def _health(self, view: DaemonView) -> Iterable:
        scheduler = getattr(view, "scheduler", None)
        if scheduler is not None:
            stats = scheduler.stats
            # Over a window of recent checks, so gauges: a summary's count and sum must only grow.
            for q in (50, 99):
                value = stats.lag_p(q / 100)
                if value is not None:
                    yield GaugeMetricFamily(f"probe_lag_p{q}_seconds",
                                            f"How late recent checks started: {q}th percentile.", value=value)
            yield GaugeMetricFamily("probe_checks_in_flight", "Checks running now.", value=stats.in_flight)
            yield CounterMetricFamily("probe_checks_started", "Checks started since the start.", value=stats.started)
            yield CounterMetricFamily("probe_checks_missed", "Scheduled checks that could not start.",
                                      value=stats.missed)
            yield CounterMetricFamily("probe_check_retries", "Quick re-checks after a failure.", value=stats.retries)
        writer = getattr(view, "writer", None)
        if writer is not None:
            stats = writer.stats()
            yield GaugeMetricFamily("probe_queue_depth", "Checks waiting to be written to the database.",
                                    value=stats.queue_depth)
            yield CounterMetricFamily("probe_write_errors", "Failed writes to the database.", value=stats.write_errors)
            yield CounterMetricFamily("probe_checks_written", "Checks written to the database.", value=stats.written)
            yield CounterMetricFamily("probe_checks_dropped", "Checks dropped: the database could not take them.",
                                      value=stats.dropped)
        alerter = getattr(view, "alerter", None)
        if alerter is not None:
            stats = alerter.stats()
            sent = CounterMetricFamily("probe_alerts_sent", "Alert messages delivered.", labels=["channel"])
            failed = CounterMetricFamily("probe_alerts_failed", "Alert messages given up on.", labels=["channel"])
            for channel in alerter.settings.channels:
                sent.add_metric([channel], stats["sent"].get(channel, 0))
                failed.add_metric([channel], stats["failed"].get(channel, 0))
            yield sent
            yield failed
            yield GaugeMetricFamily("probe_alerts_pending", "Alert messages waiting in the outbox.",
                                    value=stats["pending"])


# ---------------------------------------------------------------- status


SETTLED = 2 * 3600.0  # a day's bar is kept once the day has been over this long


def status_model(store: Store, cfg: Config, now: float, days: int = STATUS_DAYS,
                 settled: dict | None = None) -> dict:
    """probe.report.status.collect, plus the availability of each of the last ``days`` local days
    and over all of them. ``settled`` keeps the bars of past days from one call to the next
    (pass the same dict with the same config)."""
    base = status.collect(store, cfg, now)
    zone = ZoneInfo(cfg.sla.timezone)
    first = datetime.fromtimestamp(now, zone).date() - timedelta(days=days - 1)
    period = (datetime(first.year, first.month, first.day, tzinfo=zone).timestamp(), now)
    windows = sla.occurrences(maintenance_records.declared(store, now), period, cfg.sla.timezone)
    calendar = local_days(period, zone)
    combined = status.period_runs(store, cfg, period)  # several sites: by the site rule
    for row in base["endpoints"]:
        name = row["endpoint"]
        confirm = cfg.confirm_for(name)
        runs = combined.get(name, [])
        maintenance = sla.excused_intervals(windows, name, cfg.sla.late_maintenance, now)
        row["since"] = _local(row["since"], zone)
        row["last_check"] = _local(row["last_check"], zone)
        row["availability_90d"] = _shown(sla.availability(runs, period, maintenance, confirm, cfg.sla.target))
        row["days"] = _days(runs, calendar, maintenance, confirm, cfg.sla.target, now,
                            {} if settled is None else settled.setdefault(name, {}))
    base["daemon"]["started"] = _local(base["daemon"].get("started"), zone)
    if "heartbeats" in base:
        base["heartbeats"] = heartbeat_status.localised(base["heartbeats"], zone)
    for row in base.get("sites", ()):
        row["last_push"], row["newest_check"] = _local(row["last_push"], zone), _local(row["newest_check"], zone)
    return {"generated": iso_local(now, zone), "timezone": cfg.sla.timezone, "target_percent": cfg.sla.target,
            "days": days, **base}


def _local(text: str | None, zone: ZoneInfo) -> str | None:
    return None if text is None else iso_local(parse_iso(text), zone)


def _shown(figures: sla.EndpointFigures) -> str | None:
    shown = figures.availability_shown(3)
    return None if shown is None else str(shown)


def _days(runs: list[sla.Run], calendar, maintenance, confirm: int, target: float, now: float,
          settled: dict) -> list[dict]:
    """One bar per day, each day's share of the days' figures (`sla.per_day`): an outage
    begun the day before counts from its start."""
    bounds = [start for _, start, _ in calendar] + [calendar[-1][2]] if calendar else []
    figures = sla.availability(runs, (bounds[0], bounds[-1]), maintenance, confirm, target) if bounds else None
    shares = sla.per_day(runs, figures, bounds) if figures else []
    days = []
    for (day, start, end), share in zip(calendar, shares):
        if day in settled:
            days.append(settled[day])
            continue
        shown = share.availability_shown(3)
        value = None if shown is None else str(shown)
        kind = "nodata" if value is None else ("met" if float(value) >= target else "breached")
        days.append({"date": day.isoformat(), "availability": value, "kind": kind})
        if now - end >= SETTLED:
            settled[day] = days[-1]
    return days


class _StatusCache:
    """The status model, computed in a thread at most every STATUS_TTL seconds."""

    def __init__(self, view: DaemonView, ttl: float = STATUS_TTL):
        self.view = view
        self.ttl = ttl
        self._model: dict | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()
        self._settled: tuple[Config, dict] | None = None  # past days' bars, for one config

    async def get(self) -> dict:
        async with self._lock:
            if self._model is None or time.monotonic() - self._at >= self.ttl:
                cfg = self.view.config
                if self._settled is None or self._settled[0] is not cfg:
                    self._settled = (cfg, {})
                self._model = await asyncio.to_thread(self._compute, cfg, self.view.store_path,
                                                      self._settled[1])
                self._at = time.monotonic()
            return self._model

    @staticmethod
    def _compute(cfg: Config, path, settled: dict) -> dict:
        with Store.open(path) as store:
            return status_model(store, cfg, time.time(), settled=settled)


# ---------------------------------------------------------------- the server

CSP = "default-src 'none'; style-src 'unsafe-inline'"


def make_app(view: DaemonView, token: str | None = None, template_dir=None) -> web.Application:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(view))
    cache = _StatusCache(view)
    public_cache = PublicCache(view, cache.get)

    async def status_json(request: web.Request) -> web.Response:
        return web.json_response(await cache.get())

    async def status_page(request: web.Request) -> web.Response:
        if view.config.web.public:  # the client's page: `[web] public = true`
            return await page(request, view, public_cache, template_dir)
        model = await cache.get()
        lang = view.config.report.language
        env = make_environment(lang, template_dir, view.config.sla.timezone)
        html = env.get_template("status.html").render(
            model=model, lang=lang, t={**MESSAGES[lang], **STATUS_MESSAGES[lang], **HUB_MESSAGES[lang]},
            title=view.config.report.title or STATUS_MESSAGES[lang]["status_title"],
        )
        return web.Response(text=html, content_type="text/html", headers={"Content-Security-Policy": CSP})

    app = web.Application(middlewares=[_security_headers] + ([_bearer(token, view)] if token else []))
    app.router.add_get("/metrics", metrics_handler(registry, view))  # with the heartbeats
    app.router.add_get("/status.json", status_json)
    app.router.add_get("/", status_page)
    add_ping_routes(app, view)  # /ping/NAME...: each heartbeat's own token
    attach_hub(app, view, registry)  # sites' pushes, when the config has [[site]] sections
    add_routes(app, view, public_cache)
    return app


@web.middleware
async def _security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _bearer(token: str, view: DaemonView):
    expected = token.encode()  # UTF-8, as clients send a non-ASCII token

    @web.middleware
    async def check(request: web.Request, handler):
        if is_ping(request) or request.path == PUSH_ROUTE or is_public(view.config, request.path):  # each carries its own token, or none
            return await handler(request)
        # The raw bytes: a header that is not UTF-8 is just a wrong token, never an error.
        given = b""
        for name, value in request.raw_headers:
            if name.lower() == b"authorization":
                given = value
                break
        scheme, _, credentials = given.strip().partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(credentials.strip(), expected):
            log.debug("--listen: a request without the bearer token from %s", request.remote)
            response = web.HTTPUnauthorized(text="a bearer token is required\n",
                                            headers={"WWW-Authenticate": 'Bearer realm="probe"'})
            response.force_close()  # its connection takes no slot of the listener's for long
            raise response
        return await handler(request)

    return check


def _guard(token: str | None, public: bool) -> str:
    if public:
        return " (public status page and /feed.atom" + ("; bearer token for the rest)" if token else ")")
    return " (bearer token required)" if token else ""


class _ClientMistakes(logging.Filter):
    """aiohttp logs a request it cannot parse with a traceback, the raw request line included
    (a ping's token in its path, say): anyone could fill the log with them. Those are the
    client's mistakes, answered with a 400; they are dropped here. Errors of probe's own
    handlers are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError)


_CLIENT_MISTAKES = _ClientMistakes()


async def start_web(view: DaemonView, host: str, port: int, token: str | None = None,
                    template_dir=None, max_connections: int | None = None,
                    head_timeout: float = HEAD_TIMEOUT, ssl_context=None) -> web.AppRunner:
    """Serve /metrics, /status.json and / on host:port until ``await runner.cleanup()``.
    Without a token, only a loopback address is accepted (ValueError otherwise). At most
    ``max_connections`` at once (default: see listener.connection_cap), the excess refused at
    once; a connection that sends no request head within ``head_timeout`` seconds is closed."""
    if not token and not is_loopback(host):
        raise ValueError(
            f"will not serve metrics and status on {host}: it is not a loopback address;"
            " set a bearer token ($PROBE_LISTEN_TOKEN) to listen there"
        )
    if _CLIENT_MISTAKES not in logging.getLogger("aiohttp.server").filters:
        logging.getLogger("aiohttp.server").addFilter(_CLIENT_MISTAKES)
    runner = web.AppRunner(make_app(view, token, template_dir), access_log=None,
                           keepalive_timeout=KEEPALIVE_TIMEOUT, shutdown_timeout=0.5)
    await runner.setup()
    cap = connection_cap() if max_connections is None else max_connections
    try:
        await GuardedSite(runner, host, port, cap=cap, head_timeout=head_timeout, ssl_context=ssl_context).start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    bound_host, bound_port = runner.addresses[0][:2]
    where = f"[{bound_host}]" if ":" in bound_host else bound_host
    log.info("serving /metrics and the status page on %s://%s:%d/%s (at most %d connections)",
             "https" if ssl_context else "http", where, bound_port, _guard(token, view.config.web.public), cap)
    return runner
