"""When each endpoint is due, and the caps that keep probe gentle: checks in flight, checks
started per second, checks in flight per host. After a down check, quick re-checks confirm an
outage (or clear a blip) before the next regular check.

The schedule runs on the monotonic clock: a step of the wall clock (NTP, an operator) neither
stops the checks nor bursts them; it is logged once. The grid of slots is placed on the wall
clock when an endpoint is scheduled, so slots stay where a restart would put them.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

from asyncio_throttle import Throttler
from yarl import URL

from probe.config import Endpoint

log = logging.getLogger("probe.scheduler")

REGULAR, RETRY = 0, 1
# A check may start this early (seconds): uvloop's timers count whole milliseconds and fire up
# to one early; without this slack the scheduler spun on zero-length timers until the clock
# reached the due time (about 14 wake-ups per check at 400 checks/s).
EARLY = 0.001
# The wall clock moved against the monotonic one by more than this (seconds): a step, logged.
STEP = 1.0


@lru_cache(maxsize=65536)
def _host(url: str) -> str:
    return URL(url).host or ""


def phase_offsets(endpoints) -> dict[str, float]:
    """Each endpoint's offset in [0, interval), so that checks start at a steady pace.

    Endpoints that share an interval are spread evenly over it, in the order of their names'
    hashes, from the first one's hash position: n endpoints every T seconds start one every T/n
    seconds, where offsets drawn at random would bunch up (a burst of handshakes delays the
    timings of the checks around it). An endpoint alone in its interval sits at its hash
    position. The offsets depend on the names and intervals only: a restart keeps them, and
    adding or removing one of n endpoints moves the others by at most T/n.
    """
    groups: dict[float, list[tuple[int, str]]] = {}
    for endpoint in endpoints:
        groups.setdefault(endpoint.interval, []).append((zlib.crc32(endpoint.name.encode()), endpoint.name))
    offsets = {}
    for interval, members in groups.items():
        members.sort()
        base = members[0][0] / 2**32
        for rank, (_, name) in enumerate(members):
            offsets[name] = ((base + rank / len(members)) % 1.0) * interval
    return offsets


def next_due(now: float, interval: float, offset: float) -> float:
    """The first slot at or after `now` on the grid offset + k * interval (epoch-aligned)."""
    slots = -((offset - now) // interval)  # ceil((now - offset) / interval)
    return offset + slots * interval


def percentile(samples, q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class WallClockWatch:
    """Logs, once per step, when the wall clock moves against the monotonic one by more than
    STEP seconds."""

    def __init__(self, clock=time.monotonic, wall=time.time):
        self._clock, self._wall = clock, wall
        self._skew = wall() - clock()

    def look(self, now: float | None = None) -> None:
        skew = self._wall() - (self._clock() if now is None else now)
        if abs(skew - self._skew) > STEP:
            log.warning("the wall clock stepped by %+.1fs: checks keep their pace, their times"
                        " follow the new clock", skew - self._skew)
        self._skew = skew

    async def run(self, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            self.look()
            try:
                await asyncio.wait_for(stop.wait(), every)
            except asyncio.TimeoutError:
                pass


@dataclass
class Stats:
    """What the scheduler knows of its own health; read by status and metrics."""

    started: int = 0
    completed: int = 0
    missed: int = 0  # regular slots that passed without a check
    retries: int = 0
    lags: deque = field(default_factory=lambda: deque(maxlen=20000))  # seconds, recent checks
    in_flight: int = 0

    def lag_p(self, q: float) -> float | None:
        return percentile(self.lags, q)


@dataclass
class _State:
    """One endpoint's schedule. The same object lives across reloads that keep the endpoint, so
    that a check in flight during a reload clears its own in_flight when it ends."""

    endpoint: Endpoint
    generation: int  # heap entries of another generation are stale
    offset: float = 0.0
    in_flight: bool = False
    downs_in_a_row: int = 0
    retry_pending: bool = False
    retry_due: float = 0.0
    due: float | None = None  # the next regular check (monotonic clock)


class Scheduler:
    """Runs `run_check(endpoint)` for every endpoint on its fixed-rate schedule and hands each
    result to `on_result(endpoint, result, lag)`."""

    def __init__(self, endpoints, run_check, on_result, *, max_in_flight=256, rate=500.0, per_host=8,
                 retry_interval=5.0, clock=time.monotonic, wall=time.time, offsets=None,
                 watch_clock=True):
        self._run_check = run_check
        self._on_result = on_result
        self._clock = clock  # schedules
        self._wall = wall  # places the grid, and says when a check is due
        # a worker process leaves the logging of steps to the main process's watch
        self._clock_watch = WallClockWatch(clock, wall) if watch_clock else None
        self._slots = asyncio.Semaphore(max_in_flight)
        self._throttler = Throttler(rate_limit=rate, period=1.0)
        self._per_host_limit = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._retry_interval = retry_interval
        self._heap: list = []
        self._seq = 0
        self._states: dict[str, _State] = {}
        self._generation = 0
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self.stats = Stats()
        self.update(endpoints, offsets)

    # ------------------------------------------------------------ schedule

    def update(self, endpoints, offsets: dict[str, float] | None = None) -> None:
        """Take a new set of endpoints (a reload). Unchanged endpoints keep their schedule, their
        check in flight and their pending re-check; others move by a step at most.
        `offsets`: each endpoint's phase offset, when computed over more endpoints than these
        (a worker process's share); by default phase_offsets(endpoints)."""
        now, wall = self._clock(), self._wall()
        old = self._states
        self._states = {}
        if offsets is None:
            offsets = phase_offsets(endpoints)
        for endpoint in endpoints:
            offset = offsets[endpoint.name]
            state = old.get(endpoint.name)
            if state is not None and state.endpoint == endpoint and state.offset == offset:
                self._states[endpoint.name] = state  # nothing changed: its heap entries stand
                continue
            due = now + next_due(wall, endpoint.interval, offset) - wall
            self._generation += 1
            if state is None:
                state = _State(endpoint, self._generation, offset)
            else:
                if state.endpoint.interval == endpoint.interval and state.due is not None:
                    # Its slot moved by a step at most (see phase_offsets), but may have
                    # crossed the present: keep about one interval between its checks.
                    if due > state.due + endpoint.interval / 2:
                        due = now  # moved a little earlier, just past: check now, not an interval later
                    elif due < state.due - endpoint.interval / 2:
                        due += endpoint.interval  # moved a little later, just after its last check
                state.endpoint, state.generation, state.offset = endpoint, self._generation, offset
                if state.retry_pending:
                    self._push(state.retry_due, state, RETRY)
            state.due = due
            self._states[endpoint.name] = state
            self._push(due, state, REGULAR)
        self._wakeup.set()

    def _push(self, due: float, state: _State, kind: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, state.endpoint.name, kind, state.generation))

    def next_check(self, name: str) -> float | None:
        """When the endpoint's next regular check is due (epoch seconds), None if unknown."""
        state = self._states.get(name)
        return None if state is None else state.due + self._wall() - self._clock()

    def _watch_wall_clock(self, now: float) -> None:
        if self._clock_watch is not None:
            self._clock_watch.look(now)

    # ------------------------------------------------------------ loop

    async def run(self, stop: asyncio.Event) -> None:
        relay = asyncio.create_task(self._wake_on(stop))
        try:
            await self._run(stop)
        finally:
            relay.cancel()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wakeup.set()

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not self._heap:
                await self._sleep(stop, None)
                continue
            due, _, name, kind, generation = self._heap[0]
            now = self._clock()
            self._watch_wall_clock(now)
            if due > now + EARLY:
                await self._sleep(stop, due - now)
                continue
            heapq.heappop(self._heap)
            state = self._states.get(name)
            if state is None or generation != state.generation:
                continue  # removed or rescheduled by a reload
            endpoint = state.endpoint
            if kind == REGULAR:
                following = due + endpoint.interval
                if following <= now:  # far behind (suspended, overloaded): skip, and count it
                    skipped = int((now - following) // endpoint.interval) + 1
                    self.stats.missed += skipped
                    following += skipped * endpoint.interval
                state.due = following
                self._push(following, state, REGULAR)
            else:
                state.retry_pending = False
            if state.in_flight:
                if kind == REGULAR:
                    self.stats.missed += 1
                continue
            await self._slots.acquire()
            async with self._throttler:
                pass
            if stop.is_set():
                self._slots.release()
                break
            state.in_flight = True
            lag = max(0.0, self._clock() - due)
            task = asyncio.create_task(self._one(state, lag, kind))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _sleep(self, stop: asyncio.Event, seconds: float | None) -> None:
        """Until `seconds` have passed, the schedule changed, or stop was set (which also sets
        the wake-up event): one timer and one future, no task and no cancellation, as this runs
        before every check."""
        self._wakeup.clear()
        if stop.is_set():
            return
        if seconds is None:
            await self._wakeup.wait()
            return
        timer = asyncio.get_running_loop().call_later(seconds, self._wakeup.set)
        try:
            await self._wakeup.wait()
        finally:
            timer.cancel()

    async def _one(self, state: _State, lag: float, kind: int) -> None:
        endpoint = state.endpoint
        self.stats.started += 1
        self.stats.in_flight += 1
        if kind == RETRY:
            self.stats.retries += 1
        host = _host(endpoint.spec.url)
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = asyncio.Semaphore(self._per_host_limit)
        try:
            async with gate:
                result = await self._run_check(endpoint)
        except Exception:  # a bug must not stop the other checks
            log.exception("check of %s failed unexpectedly", endpoint.name)
            return
        finally:
            state.in_flight = False
            self.stats.in_flight -= 1
            self._slots.release()
        self.stats.completed += 1
        self.stats.lags.append(lag)
        try:
            self._on_result(endpoint, result, lag)
        except Exception:
            log.exception("recording the check of %s failed", endpoint.name)
        self._confirm(state, result)

    def _confirm(self, state: _State, result) -> None:
        """After a down check, re-check soon, until `confirm` downs in a row or an answer."""
        if getattr(result, "error_class", None) == "probe_error":  # not made: confirms, ends nothing
            return
        if result.state != "down":
            state.downs_in_a_row = 0
            return
        state.downs_in_a_row += 1
        current = self._states.get(state.endpoint.name)
        if current is not state or state.retry_pending:
            return
        if state.downs_in_a_row < state.endpoint.confirm and self._retry_interval < state.endpoint.interval:
            state.retry_pending = True
            state.retry_due = self._clock() + self._retry_interval
            self._push(state.retry_due, state, RETRY)
            self._wakeup.set()

    async def drain(self, grace: float) -> None:
        """Let checks in flight finish for `grace` seconds, then cancel the rest."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
