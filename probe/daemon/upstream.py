"""A site ships its evidence to its hub: the upstream outbox (store.shipping) pushed in batches,
in order, over HTTPS (the certificate verified), to ``POST /api/v1/checks``. The hub answers with
the highest sequence it has stored; those lines leave the outbox. While the hub cannot be
reached the site goes on probing, and sends what waited once it can again."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp

from probe import __version__
from probe.config import Upstream
from probe.store import Store, shipping

log = logging.getLogger("probe.upstream")

PUSH_PATH = "api/v1/checks"
RETRY_MAX = 60.0  # seconds between attempts, at most, while the hub cannot be reached


class Shipping:
    """The daemon's side of shipping: the runs put in the outbox, the pusher task."""

    def __init__(self, upstream: Upstream, store_path: str, site: str):
        self.upstream = upstream
        self.store_path = store_path
        self.site = site
        self.batch = upstream.batch
        self._db = ThreadPoolExecutor(1, thread_name_prefix="probe-upstream")
        self._store: Store | None = None
        self._task: asyncio.Task[None] | None = None
        self.stream = ""
        self.pushed = 0  # lines the hub has stored, since the start
        self.failures = 0  # failed pushes, since the start
        self.last_push: float | None = None  # when the hub last stored a push
        self.last_error: str | None = None
        self.depth = 0  # lines waiting in the outbox, at the last look

    @classmethod
    def attach(cls, daemon: Any) -> Shipping | None:
        """At startup, after the daemon run is recorded: the runs to tell the hub about (the one
        before, however it ended, and this one), and every check from now on in the outbox."""
        upstream = daemon.config.upstream
        if upstream is None:
            return None
        conn = daemon.store.db.conn
        for run in daemon.store.daemon_runs(local=True)[-2:]:
            shipping.enqueue_run(conn, run.id)
        daemon.writer.ship_upstream(daemon.config.probe.site)
        return cls(upstream, daemon.store_path, daemon.config.probe.site)

    def _conn(self) -> Any:
        if self._store is None:
            self._store = Store.open(self.store_path, busy_timeout=1.0)
            self.stream = shipping.outbox_stream(self._store.db.conn)
            self._reader = shipping.OutboxReader(self._store.db.conn)
        return self._store.db.conn

    async def _call(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, function, *args)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        context = ssl.create_default_context(cafile=self.upstream.ca_file)
        timeout = aiohttp.ClientTimeout(total=self.upstream.timeout)
        delay = 0.0
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(ssl=context)) as session:
            while True:
                await asyncio.sleep(delay)
                try:
                    full = await self.push(session)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
                    self._failed(_describe(exc))
                    delay = min(max(self.upstream.every, delay * 2), RETRY_MAX)
                    continue
                except Exception as exc:  # noqa: BLE001 - the daemon must outlive any error
                    self._failed(f"{type(exc).__name__}: {exc}")
                    delay = RETRY_MAX
                    continue
                delay = 0.0 if full else self.upstream.every

    async def push(self, session: aiohttp.ClientSession) -> bool:
        """Push the oldest waiting lines once; True when a full batch went (more may wait)."""
        first, lines = await self._call(self._pending)
        if not lines:
            self.depth = 0
            return False
        body = ("\n".join(lines) + "\n").encode()
        params = {"site": self.site, "stream": self.stream, "first": str(first)}
        headers = {"Authorization": f"Bearer {self.upstream.token}", "Content-Type": "application/x-ndjson",
                   "User-Agent": f"probe/{__version__}"}
        async with session.post(self.upstream.url + PUSH_PATH, params=params, data=body, headers=headers) as response:
            text = await response.text()
            if response.status == 413 and self.batch > 1:
                self.batch = max(1, self.batch // 2)
                raise ValueError(f"the hub refused {len(lines)} lines as too large: sending {self.batch} at a time")
            if response.status != 200:
                raise ValueError(f"the hub answered {response.status}: {text.strip()[:200]}")
            through = json.loads(text)["stored_through"]
        if type(through) is not int:
            raise ValueError("the hub's answer has no stored_through")
        await self._call(shipping.shipped, self._conn(), through)
        if self.last_error is not None:
            log.warning("upstream: pushing to %s again (%d failed attempts)", self.upstream.url, self.failures)
            self.last_error = None
        self.pushed += max(0, through - first + 1)
        self.last_push = time.time()
        self.depth = max(0, self.depth - len(lines))
        return len(lines) >= self.batch

    def _pending(self) -> tuple[int, list[str]]:
        conn = self._conn()
        self.depth = shipping.outbox_depth(conn)
        return self._reader.pending(self.batch)

    def _failed(self, error: str) -> None:
        self.failures += 1
        if self.last_error is None:
            log.error("upstream: cannot push to %s: %s; checks wait in the outbox", self.upstream.url, error)
        self.last_error = error

    async def stop(self, store: Store, run_id: int | None, timeout: float) -> None:
        """At shutdown, after the run's stop is recorded: the stop in the outbox, and one
        last push of what waits, for at most ``timeout`` seconds."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            if run_id is not None:
                shipping.enqueue_run(store.db.conn, run_id)
            context = ssl.create_default_context(cafile=self.upstream.ca_file)
            client_timeout = aiohttp.ClientTimeout(total=timeout)
            async with aiohttp.ClientSession(timeout=client_timeout,
                                             connector=aiohttp.TCPConnector(ssl=context)) as session:
                await asyncio.wait_for(self.push(session), timeout)
        except Exception as exc:  # noqa: BLE001 - what is not pushed now is at the next start
            log.info("upstream: %s; what waits is pushed at the next start", _describe(exc))
        finally:
            await self._call(self._close)
            self._db.shutdown(wait=False)

    def _close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def stats(self) -> dict[str, Any]:
        return {"pushed": self.pushed, "failures": self.failures, "outbox": self.depth,
                "last_push": self.last_push, "last_error": self.last_error}


def _describe(exc: BaseException) -> str:
    """Why a push failed, in words (never the HTTP client's own wording)."""
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        reason = getattr(error, "verify_message", None) or error
        return f"the hub's certificate is not trusted ({reason})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        reason = os.strerror(error.errno) if error.errno else error.strerror or type(error).__name__
        return f"cannot connect to {exc.host}:{exc.port}: {reason}"
    return str(exc) or type(exc).__name__
