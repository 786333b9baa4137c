"""Checks in worker processes, for more checks per second than one core can run. Each worker
schedules and checks a stable share of the endpoints (by name) and sends its results back; the
main process alone writes the database, sends alerts and serves metrics.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from probe.runtime import loop_factory, processes, usable_cpus

from .scheduler import Scheduler, WallClockWatch, phase_offsets

log = logging.getLogger("probe.workers")

# Seconds: results travel in small batches. With the writer's commit interval shortened by as
# much (see daemon.main_loop), a result is on disk at most 0.1 s after its check ended, as in one
# process; sending every 20 ms cost no latency against 100 ms (docs/performance.md).
SEND_EVERY = 0.02
STATS_EVERY = 5.0
RESPAWN_DELAY = 2.0


def deal(endpoints, workers: int, offsets: dict[str, float], previous: dict[str, int] | None = None) -> list[list]:
    """Each worker's share of the endpoints. Endpoints that share an interval are dealt in the
    order of their phase offsets (see scheduler.phase_offsets), one to each worker in turn, so
    that the workers take turns: checks never start in two workers at the same moment, where
    they would compete for the CPUs and delay each other's timings. At a reload (`previous`
    gives each known endpoint's worker) an endpoint stays with its worker, so it keeps its
    schedule and its state; only new endpoints are dealt."""
    previous = previous or {}
    shares: list[list[Any]] = [[] for _ in range(workers)]
    groups: dict[float, list] = {}
    for endpoint in endpoints:
        groups.setdefault(endpoint.interval, []).append(endpoint)
    for members in groups.values():
        members.sort(key=lambda e: offsets[e.name])
        for turn, endpoint in enumerate(members):
            worker = previous.get(endpoint.name)
            shares[turn % workers if worker is None else worker].append(endpoint)
    return shares




def auto_workers(endpoints) -> int:
    """One process while a core is enough (under ~100 checks per second), else one per CPU."""
    rate = sum(1 / e.interval for e in endpoints)
    cpus = usable_cpus()
    return 1 if rate < 100 or cpus < 2 else min(cpus, 8)


@dataclass
class WorkerStats:
    """The scheduler figures of all workers, as the daemon's heartbeat reports them."""

    by_worker: dict = field(default_factory=dict)

    def total(self, key: str) -> int:
        return sum(s.get(key) or 0 for s in self.by_worker.values())

    def lag_p(self, q: float) -> float | None:
        # the worst worker's percentile: an upper bound of the pool's
        values = [s.get("lag_p50" if q <= 0.5 else "lag_p99") for s in self.by_worker.values()]
        values = [v for v in values if v is not None]
        return max(values) if values else None

    @property
    def in_flight(self) -> int:
        return self.total("in_flight")

    @property
    def started(self) -> int:
        return self.total("started")

    @property
    def missed(self) -> int:
        return self.total("missed")

    @property
    def retries(self) -> int:
        return self.total("retries")


class WorkerPool:
    """Starts `count` worker processes and feeds their results to `on_result(endpoint, result,
    lag)` in this process's event loop. A worker that dies is started again."""

    def __init__(self, endpoints, settings, count: int, on_result):
        self.count = count
        self.settings = settings
        self.on_result = on_result
        self.stats = WorkerStats()
        self._context = processes()  # no fork: the writer thread runs
        self._deal(endpoints, previous=None)
        self._workers: list = [None] * count
        self._stopping = False

    # ------------------------------------------------------------ lifecycle (as the Scheduler's)

    async def run(self, stop: asyncio.Event) -> None:
        self.start()
        await WallClockWatch().run(stop)  # here, not in each worker: a step is logged once

    async def drain(self, grace: float) -> None:
        await self.stop(grace)

    def start(self) -> None:
        for index in range(self.count):
            self._spawn(index)

    def _deal(self, endpoints, previous) -> None:
        # imported here: `probe report` imports this module too, and needs no scheduler
        self._offsets = phase_offsets(endpoints)  # over all the endpoints: the workers take turns
        self._shares = deal(endpoints, self.count, self._offsets, previous)
        self._by_name = {e.name: e for e in endpoints}

    def _work_for(self, index: int) -> tuple[list, dict[str, float]]:
        share = self._shares[index]
        return share, {e.name: self._offsets[e.name] for e in share}

    def _spawn(self, index: int) -> None:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=worker_main, args=(child, *self._work_for(index), self.settings, index),
            name=f"probe-worker-{index}", daemon=True,
        )
        process.start()
        child.close()
        # A thread per worker blocks on the pipe: an event loop's add_reader would make the
        # descriptor non-blocking, and a message read half-way would be lost.
        pump = threading.Thread(target=self._pump, args=(index, process, parent, asyncio.get_running_loop()),
                                name=f"probe-worker-{index}-results", daemon=True)
        self._workers[index] = (process, parent, pump)
        pump.start()
        log.info("worker %d started (pid %d, %d endpoints)", index, process.pid, len(self._shares[index]))

    def _pump(self, index: int, process, connection, loop) -> None:
        try:
            while True:
                kind, payload = connection.recv()
                loop.call_soon_threadsafe(self._received, index, kind, payload)
        except (EOFError, OSError) as exc:
            loop.call_soon_threadsafe(self._lost, index, process, type(exc).__name__)

    def _received(self, index: int, kind: str, payload) -> None:
        if kind == "results":
            for name, result, lag in payload:
                endpoint = self._by_name.get(name)
                if endpoint is not None:
                    self.on_result(endpoint, result, lag)
        elif kind == "stats":
            self.stats.by_worker[index] = payload

    def _lost(self, index: int, process, why: str) -> None:
        if self._stopping or self._workers[index][0] is not process:
            return
        process.join(1)
        log.error("worker %d (pid %d) died (%s, exit status %s); starting it again",
                  index, process.pid, why, process.exitcode)
        asyncio.get_running_loop().call_later(RESPAWN_DELAY, self._respawn, index)

    def _respawn(self, index: int) -> None:
        if not self._stopping:
            self._spawn(index)

    def update(self, endpoints) -> None:
        """A reload: every worker gets its new share (known endpoints stay where they are)."""
        previous = {e.name: index for index, share in enumerate(self._shares) for e in share}
        self._deal(endpoints, previous)
        for index, (_, connection, _) in enumerate(self._workers):
            try:
                connection.send(("update", self._work_for(index)))
            except OSError:
                pass  # a dead worker gets its new share when started again

    async def stop(self, grace: float) -> None:
        """Tell the workers to stop, and take every result they send until they exit."""
        self._stopping = True
        for _, connection, _ in self._workers:
            try:
                connection.send(("stop", grace))
            except OSError:
                pass
        deadline = time.monotonic() + grace + 0.5  # the workers cancel what is left at grace
        for process, _, pump in self._workers:
            while pump.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.is_alive():
                process.kill()
            process.join(1)
        await asyncio.sleep(0)  # the last results the pumps handed over


# ---------------------------------------------------------------- the worker process


def worker_main(connection, endpoints, offsets, settings, index: int) -> None:
    """A worker: its own event loop, scheduler and checks; results go to the main process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    logging.basicConfig(level=logging.INFO, format=f"%(levelname)s probe.worker-{index}: %(message)s")
    try:
        with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:
            runner.run(_work(connection, endpoints, offsets, settings))
    finally:
        connection.close()
    os._exit(0)


async def _work(connection, endpoints, offsets, settings) -> None:
    from probe.check import check

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    grace = [3.0]
    outgoing: list = []

    def control(kind, payload) -> None:
        if kind == "update":
            scheduler.update(*payload)
        elif kind == "stop":
            grace[0] = payload
            stop.set()

    def listen() -> None:  # a thread: the pipe stays blocking (see WorkerPool._spawn)
        try:
            while True:
                loop.call_soon_threadsafe(control, *connection.recv())
        except (EOFError, OSError):  # the main process is gone
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop has closed: this worker is ending anyway
                pass
        except RuntimeError:  # a message after the loop closed: this worker is ending
            pass

    loop.add_signal_handler(signal.SIGTERM, stop.set)
    scheduler = Scheduler(
        endpoints,
        lambda endpoint: check(endpoint.spec),
        lambda endpoint, result, lag: outgoing.append((endpoint.name, result, lag)),
        max_in_flight=settings.max_in_flight,
        rate=settings.rate,
        per_host=settings.per_host,
        retry_interval=settings.retry_interval,
        offsets=offsets,
        watch_clock=False,
    )
    threading.Thread(target=listen, name="probe-worker-control", daemon=True).start()
    gc.freeze()  # the endpoints and the schedule live as long as the worker (see daemon.main_loop)

    def send(kind, payload) -> None:
        try:
            connection.send((kind, payload))
        except OSError:
            stop.set()

    async def flush() -> None:
        last_stats = 0.0
        while True:
            await asyncio.sleep(SEND_EVERY)
            if outgoing:
                batch = outgoing[:]
                outgoing.clear()
                send("results", batch)
            if time.monotonic() - last_stats >= STATS_EVERY:
                last_stats = time.monotonic()
                stats = scheduler.stats
                send("stats", {"lag_p50": stats.lag_p(0.5), "lag_p99": stats.lag_p(0.99),
                               "in_flight": stats.in_flight, "started": stats.started,
                               "missed": stats.missed, "retries": stats.retries})

    flusher = asyncio.create_task(flush())
    await scheduler.run(stop)
    await scheduler.drain(grace[0])
    flusher.cancel()
    if outgoing:
        send("results", outgoing[:])
