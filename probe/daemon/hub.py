"""The hub: `probe run --listen` with ``[[site]]`` sections takes the checks and daemon runs that
sites push to ``POST /api/v1/checks`` and stores them through the daemon's writer, as its own
checks. A push names its site, its stream (the site's outbox) and the sequence of its first
line; it is refused without the site's token (401), under another site's name (403), over
``[hub] max_body`` (413), or with a line that is not a check or daemon run (400: nothing of it
is stored). Lines already stored (same site, stream and sequence) are left out, so a push sent
twice stores nothing twice. The checks stored go to the alerter with their site, so that alerts
follow the site rule's verdict (late ones open nothing: ``probe.alerts.observe_pushed``). A site
silent for longer than its ``silent_after`` is an alert.

Off loopback, pushes carry tokens and evidence: the listener must serve TLS
(``--listen-tls-cert``/``--listen-tls-key``) or stand behind a TLS proxy that says so
(``[hub] behind_tls_proxy = true``); otherwise the daemon does not start."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from probe.alerts import observe_pushed
from probe.config import Config, Site
from probe.result import iso_utc
from probe.spec import is_loopback
from probe.store import Store, shipping
from probe.text import printable

log = logging.getLogger("probe.hub")

PUSH_ROUTE = "/api/v1/checks"
FLUSH_TIMEOUT = 30.0  # seconds a push waits for its checks to be committed
SILENT_TICK = 1.0  # seconds between looks at the sites' last pushes
_STREAM = re.compile(r"[0-9a-f]{8,64}")


CLOCK_SKEW = 10.0  # seconds a pushed check may be dated after the hub received it (site clocks drift)

HUB_MESSAGES = {
    "en": {"sites": "Sites", "site": "Site", "last_push": "Last push", "data_lag": "Data lag",
           "site_silent": "silent", "site_ok": "pushing", "never": "never"},
    "fr": {"sites": "Sites", "site": "Site", "last_push": "Dernier envoi", "data_lag": "Retard des données",
           "site_silent": "muet", "site_ok": "envoie", "never": "jamais"},
}


def listen_problem(config: Config, listen: tuple[str, int] | None, tls: bool) -> str | None:
    """Why this hub must not take pushes on its listener, or None."""
    if not config.sites:
        return None
    if listen is None:
        return f"{config.path}: [[site]] sections need --listen (the address sites push to)"
    if not tls and not is_loopback(listen[0]) and not config.hub.behind_tls_proxy:
        return (f"--listen {listen[0]}: sites' pushes carry tokens and evidence: serve TLS"
                " (--listen-tls-cert and --listen-tls-key) or, behind a TLS proxy, set [hub] behind_tls_proxy = true")
    return None


class Hub:
    """The pushes of the sites: the route, what each site pushed, the silent-site alerts."""

    def __init__(self, view: Any):
        self.view = view
        self.started = time.time()
        self.states: dict[str, shipping.SiteState] = {}
        self.silent: dict[str, float] = {}  # site -> the start of its silence, announced
        self.refused = {"401": 0, "403": 0, "413": 0, "400": 0}
        self._locks: dict[str, asyncio.Lock] = {}
        self._db = ThreadPoolExecutor(1, thread_name_prefix="probe-hub")
        self._store: Store | None = None
        self._watch: asyncio.Task[None] | None = None
        self._by_name: tuple[Any, dict[str, Any]] = (None, {})

    # the database, in the hub's one thread

    def _conn(self) -> Any:
        if self._store is None:
            self._store = Store.open(self.view.store_path, busy_timeout=5.0)
        return self._store.db.conn

    async def _call(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, function, *args)

    async def on_startup(self, app: web.Application) -> None:
        self.states = await self._call(lambda: shipping.site_states(self._conn()))
        self._watch = asyncio.create_task(self._watch_silence())

    async def on_cleanup(self, app: web.Application) -> None:
        if self._watch is not None:
            self._watch.cancel()
        await self._call(lambda: self._store.close() if self._store else None)
        self._db.shutdown(wait=False)

    # the route

    def _site(self, request: web.Request) -> Site:
        """The site whose token the request carries, compared with every site's in constant
        time; 401 without one, 403 when it is not the site the push names."""
        given = b""
        for name, value in request.raw_headers:
            if name.lower() == b"authorization":
                given = value
        scheme, _, credentials = given.strip().partition(b" ")
        credentials = credentials.strip() if scheme.lower() == b"bearer" else b""
        found = None
        for site in self.view.config.sites:
            if hmac.compare_digest(credentials, site.token.encode()) and found is None:
                found = site
        if found is None:
            raise self._refuse(web.HTTPUnauthorized, "401", "a site's bearer token is required",
                               {"WWW-Authenticate": 'Bearer realm="probe hub"'})
        if "site" not in request.query:
            raise self._refuse(web.HTTPBadRequest, "400", "a push names its site (?site=NAME&stream=…&first=…)")
        if request.query.get("site") != found.name:
            raise self._refuse(web.HTTPForbidden, "403", f"this token is site {found.name!r}'s:"
                               " it cannot push under another name")
        return found

    def _refuse(self, kind: type[web.HTTPException], code: str, text: str,
                headers: dict[str, str] | None = None) -> web.HTTPException:
        self.refused[code] += 1
        # without a token, anyone: not worth a line each; with one, a site's mistake
        log.log(logging.DEBUG if code == "401" else logging.WARNING, "hub: push refused (%s): %s", code,
                printable(text)[:300])
        response = kind(text=text + "\n", headers=headers)
        response.force_close()
        return response

    async def _body(self, request: web.Request) -> bytes:
        limit = self.view.config.hub.max_body
        if request.content_length is not None and request.content_length > limit:
            raise self._too_large(limit)
        body = bytearray()
        async for chunk in request.content.iter_chunked(65536):
            body += chunk
            if len(body) > limit:
                raise self._too_large(limit)
        return bytes(body)

    def _too_large(self, limit: int) -> web.HTTPException:
        self.refused["413"] += 1
        log.warning("hub: push refused (413): over %d bytes", limit)
        response = web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=limit + 1,
                                                 text=f"a push is {limit} bytes at most\n")
        response.force_close()
        return response

    async def push(self, request: web.Request) -> web.Response:
        site = self._site(request)
        stream, first = request.query.get("stream", ""), request.query.get("first", "")
        if not _STREAM.fullmatch(stream) or not re.fullmatch(r"[0-9]{1,19}", first) or not 0 < int(first) < 2**62:
            raise self._refuse(web.HTTPBadRequest, "400", "a push names its stream (hex) and first sequence (from 1)")
        body = await self._body(request)
        lines = [line for line in body.split(b"\n") if line.strip()]
        lock = self._locks.setdefault(site.name, asyncio.Lock())
        async with lock:
            through = await self._call(lambda: shipping.stored_through(self._conn(), site.name, stream))
            try:
                read = await asyncio.to_thread(shipping.read_push, lines, site.name, stream, int(first),
                                               through, time.time() + CLOCK_SKEW)
            except shipping.WrongSite as exc:
                raise self._refuse(web.HTTPForbidden, "403", f"site {site.name!r} cannot push {exc}") from None
            except ValueError as exc:
                raise self._refuse(web.HTTPBadRequest, "400", f"nothing stored: {exc}") from None
            read.checks[:] = self._known(read.checks)
            writer = self.view.writer
            for item in read.checks:
                writer.submit(*item)
            if read.checks and not await asyncio.to_thread(writer.flush, FLUSH_TIMEOUT):
                raise web.HTTPServiceUnavailable(text="the hub's database cannot take the checks now\n")
            alerter = getattr(self.view, "alerter", None)
            if alerter is not None and read.checks:  # stored: now on to the combined verdict
                observe_pushed(alerter, self._endpoints(), read.checks, time.time(), site.silent_after)
            now = time.time()
            await self._call(lambda: shipping.record_push(self._conn(), read, now))
            self.states = await self._call(lambda: shipping.site_states(self._conn()))
        self._heard(site.name, now)
        stored_through = max(through, read.through)
        return web.json_response({"site": site.name, "stream": stream, "stored_through": stored_through,
                                  "stored": len(read.checks) + len(read.runs)})

    def _known(self, checks: list) -> list:
        """The pushed checks, those of an endpoint the hub's config names vouching for no longer
        than the hub's own interval allows: a site cannot stretch two checks into hours of
        downtime. (Checks of endpoints the config does not name are kept as evidence; no report
        of the hub's counts them.)"""
        known = self._endpoints()
        return [(name, result, min(interval_s, known[name].interval) if name in known else interval_s, line_site)
                for name, result, interval_s, line_site in checks]

    def _endpoints(self) -> dict[str, Any]:
        """The config's endpoints by name, made again after a reload."""
        config = self.view.config
        if self._by_name[0] is not config:
            self._by_name = (config, {endpoint.name: endpoint for endpoint in config.endpoints})
        return self._by_name[1]

    # silent sites

    def _heard(self, name: str, now: float) -> None:
        start = self.silent.pop(name, None)
        if start is not None:
            log.warning("hub: site %s pushes again (silent since %s)", name, iso_utc(start))
            self._announce(name, start, "resolved", now)

    async def _watch_silence(self) -> None:
        while True:
            now = time.time()
            for site in self.view.config.sites:
                state = self.states.get(site.name)
                since = state.last_push if state is not None and state.last_push is not None else self.started
                if site.name not in self.silent and now - since > site.silent_after:
                    self.silent[site.name] = since
                    log.warning("hub: site %s silent since %s (more than %gs)", site.name, iso_utc(since),
                                site.silent_after)
                    self._announce(site.name, since, "opened", now)
            await asyncio.sleep(SILENT_TICK)

    def _announce(self, name: str, since: float, event: str, now: float) -> None:
        alerter = getattr(self.view, "alerter", None)
        if alerter is None:
            return
        subject = f"site {name}"
        if event == "opened":
            text = f"[SITE] {name} silent since {iso_utc(since)}: no push for {round(now - since)}s"
        else:
            text = f"[RESOLVED] site {name} pushes again (silent from {iso_utc(since)} to {iso_utc(now)})"
        fields = {"site": name, "event": event, "silent_since": iso_utc(since), "at": iso_utc(now)}
        body = text + "\n\n-- \nprobe\n"
        alerter.announce(subject, since, event, "major", {"text": text, "subject": text, "body": body,
                                                          "fields": fields})

    # metrics

    def collect(self) -> Iterable[Any]:
        now = time.time()
        last = GaugeMetricFamily("probe_site_last_push_timestamp_seconds", "When the site's last push was stored.",
                                 labels=["site"])
        lag = GaugeMetricFamily("probe_site_data_lag_seconds", "Age of the newest check the site pushed.",
                                labels=["site"])
        silent = GaugeMetricFamily("probe_site_silent", "1 while the site has not pushed for longer than"
                                   " its silent_after.", labels=["site"])
        checks = CounterMetricFamily("probe_site_checks_received", "Checks the site pushed, stored.",
                                     labels=["site"])
        refused = CounterMetricFamily("probe_hub_pushes_refused", "Pushes refused since the start, by status.",
                                      labels=["status"])
        for site in self.view.config.sites:
            state = self.states.get(site.name)
            silent.add_metric([site.name], 1 if site.name in self.silent else 0)
            if state is None:
                continue
            if state.last_push is not None:
                last.add_metric([site.name], state.last_push)
            if state.newest_check is not None:
                lag.add_metric([site.name], max(0.0, now - state.newest_check))
            checks.add_metric([site.name], state.checks)
        for code, count in self.refused.items():
            refused.add_metric([code], count)
        return [last, lag, silent, checks, refused]


class _ShippingCollector:
    """A site's side: what waits in its outbox, what its hub has stored."""

    def __init__(self, view: Any):
        self.view = view

    def collect(self) -> Iterable[Any]:
        shipping_ = getattr(self.view, "shipping", None)
        if shipping_ is None:
            return []
        stats = shipping_.stats()
        metrics = [
            GaugeMetricFamily("probe_upstream_outbox_lines", "Checks and daemon runs waiting to be pushed to"
                              " the hub.", value=stats["outbox"]),
            CounterMetricFamily("probe_upstream_pushed_lines", "Lines the hub has stored, since the start.",
                                value=stats["pushed"]),
            CounterMetricFamily("probe_upstream_push_failures", "Pushes that failed, since the start.",
                                value=stats["failures"]),
        ]
        if stats["last_push"] is not None:
            metrics.append(GaugeMetricFamily("probe_upstream_last_push_timestamp_seconds",
                                             "When the hub last stored a push.", value=stats["last_push"]))
        return metrics


def attach_hub(app: web.Application, view: Any, registry: Any) -> None:
    """The push route, its metrics and the silent-site watch, when the config has sites; the
    outbox's metrics on a site that ships to a hub."""
    if getattr(view, "shipping", None) is not None:
        registry.register(_ShippingCollector(view))
    if not view.config.sites:
        return
    hub = Hub(view)
    app.router.add_post(PUSH_ROUTE, hub.push)
    app.on_startup.append(hub.on_startup)
    app.on_cleanup.append(hub.on_cleanup)
    registry.register(hub)
