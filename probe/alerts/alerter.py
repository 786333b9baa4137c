"""The alerter: follows each endpoint's incident, queues its events in the outbox, delivers them
with retries."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # annotations only: the client is imported when a message is sent
    import aiohttp
from probe import sla
from probe.config import DEADLINE, ESCALATED, OPENED, RESOLVED, AlertSettings
from probe.labels import ERROR_LABELS, format_duration
from probe.result import CheckResult
from probe.sla import WorkCalendar
from probe.sla import to_ms as _ms
from probe.store import StoreError

from .delivery import DeliveryError, _describe, deliver, header_text, log
from .messages import Incident, compose
from .outbox import OUTBOX_BUSY_TIMEOUT, _Outbox, _Row
from .sites import SiteVotes

REMIND_BEFORE = 3600.0  # a deadline event this long before an acknowledge or fix deadline


# Seconds to wait after each failed attempt: 10 attempts over about an hour, then failed.
RETRY_DELAYS = (15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 900.0, 900.0, 900.0)

TICK_EVERY = 30.0  # how often deadlines are looked at


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
        self.heartbeat_watch = None  # HeartbeatWatch: missed and failed runs of [[heartbeat]] jobs

    def watch_heartbeats(self, heartbeats) -> None:
        """Alert on these heartbeats' missed and failed runs too (at start and reload)."""
        from .heartbeats import HeartbeatWatch

        keys = self.heartbeat_watch.keys if self.heartbeat_watch is not None else None
        self.heartbeat_watch = HeartbeatWatch(tuple(heartbeats)) if heartbeats else None
        if self.heartbeat_watch is not None:
            self.heartbeat_watch.keys = keys

    def _configure(self, sla_settings) -> None:
        self.zone = ZoneInfo(sla_settings.timezone)
        self.calendar = WorkCalendar(sla_settings.holidays, sla_settings.timezone, sla_settings.closed_days,
                                     sla_settings.support_hours)
        self.deadlines = sla.deadline_pairs(sla_settings.deadlines)
        rule = sla.SiteRule(getattr(sla_settings, "sites", "majority"), getattr(sla_settings, "min_sites", 1))
        if getattr(self, "votes", None) is None:
            self.votes = SiteVotes(rule)
        self.votes.rule = rule

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
        await self._call(self.votes.load, self._outbox.store, {e.name: e.confirm for e in endpoints})
        for endpoint in endpoints:  # several sites: the rule's incident, as announced
            several = self.votes.sites(endpoint.name) > 1 and not endpoint.control
            found = await self._call(self._outbox.announced_open if several else self._outbox.ongoing, endpoint, now)
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

    def observe(self, endpoint, result: CheckResult, site: str | None = None, *, interval: float | None = None,
                fresh: bool = True) -> None:
        """Fold one check result of ``endpoint`` (a config Endpoint; ``interval``: the one the
        check was made with, when not the endpoint's) into its incident. With the ``site`` that
        made it: once checks of the endpoint come from several sites, its incident follows the
        site rule's verdict (docs/accounting.md, "Several sites"); a control endpoint has no
        incident of its own, it only makes its site abstain. A check not ``fresh`` (history a
        site pushes late) follows the incident and may end it, but opens or escalates nothing."""
        if endpoint.control:
            self.votes.controls.add(endpoint.name)
        if site is not None:
            self.votes.note(endpoint.name, site, result, interval or endpoint.interval, endpoint.confirm)
        if endpoint.control:
            return
        if site is not None and self.votes.sites(endpoint.name) > 1:
            combined = self.votes.verdict(endpoint.name, result.at, endpoint.spec.url)
            if combined is not None:  # None: too few sites vote, nothing is known
                self._fold(endpoint.name, endpoint.spec.url, 1, endpoint.severity_cap, combined, fresh)
            return
        self._fold(endpoint.name, endpoint.spec.url, endpoint.confirm, endpoint.severity_cap, result, fresh)

    def _fold(self, name: str, url: str | None, confirm: int, cap, result: CheckResult, fresh: bool = True) -> None:
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
            track = self._tracks[name] = _Track(result.state, result.at, result.at, url)
        track.note(result)
        if track.checks < confirm or not fresh:
            return
        severity = sla.incident_severity(track.episode(), cap)
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
        cause = track.cause or ERROR_LABELS["en"].get(track.cause_class, track.cause_class or track.state)
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
        if self.heartbeat_watch is not None:
            await self.heartbeat_watch.tick(self, now)

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

    def announce(self, subject: str, start: float, event: str, severity: str, message: dict) -> None:
        """An event that is no endpoint's incident (a silent site): to the channels its routes
        give for ``subject``, once per (subject, start, event)."""
        key = _key(subject, start, event, None)
        text = json.dumps(message, ensure_ascii=False)
        log.info("alert: %s", message["text"])
        for channel in self.settings.channels_for(subject, severity, event):
            self._new.append((key, channel, subject, _ms(start), event, _ms(self.clock()), text))
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
