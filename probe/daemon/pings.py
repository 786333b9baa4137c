"""The heartbeat signals on `probe run --listen`, as healthchecks.io's: ``/ping/NAME`` (success),
``/ping/NAME/start``, ``/ping/NAME/fail``, POST or GET, each heartbeat with its own token in
``Authorization: Bearer TOKEN`` or as the last path segment (``/ping/NAME/start/TOKEN``).

An unknown name is 404, a missing or wrong token 401, and nothing is stored. Query
``exit_status`` (0-255) and ``duration`` (seconds, as the job measured it) are kept with the
signal. The body (a job's log tail) is read, at most MAX_BODY bytes, and dropped: probe keeps when
a job ran and how it ended, never what it printed, which may hold secrets.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from probe.store import Store, pings

log = logging.getLogger("probe.web")

MAX_BODY = 10 * 1024  # bytes of a ping's body read (and dropped); more is 413
KINDS = {"start": "start", "fail": "fail"}  # the path segment after the name; none: success
PREFIX = "/ping/"


class _Recorder:
    """Writes signals to the database from one thread of its own, on one connection opened
    at the first signal."""

    def __init__(self, view: Any):
        self.view = view
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="probe-pings")
        self.store: Store | None = None

    def _add(self, name: str, at: float, kind: str, exit_status: int | None, duration: float | None) -> bool:
        if self.store is None:
            self.store = Store.open(self.view.store_path)
        return pings.add(self.store, name, at, kind, exit_status, duration)

    async def add(self, *args: Any) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self.thread, self._add, *args)

    def _close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    async def close(self, app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(self.thread, self._close)
        self.thread.shutdown(wait=False)


def add_ping_routes(app: web.Application, view: Any) -> None:
    """Register the ping routes (the listener's own bearer token does not guard them: each
    heartbeat has its token)."""
    recorder = _Recorder(view)
    app.on_cleanup.append(recorder.close)

    async def ping(request: web.Request) -> web.Response:
        at = time.time()
        name = request.match_info["name"]
        rest = [part for part in request.match_info.get("rest", "").split("/") if part]
        kind = "success"
        if rest and rest[0] in KINDS:
            kind = KINDS[rest.pop(0)]
        if len(rest) > 1:
            raise web.HTTPNotFound(text="no such ping URL\n")
        heartbeat = view.config.heartbeat(name)
        if heartbeat is None:
            raise web.HTTPNotFound(text="no such heartbeat\n")
        if not _authorized(request, rest[0] if rest else None, heartbeat.token):
            # anyone may knock: not worth a line each at the default level (as the hub's 401s)
            log.debug("ping %s: refused, a missing or wrong token (from %s)", name, request.remote)
            raise web.HTTPUnauthorized(text="a missing or wrong token\n",
                                       headers={"WWW-Authenticate": 'Bearer realm="probe ping"'})
        exit_status, duration = _query(request)
        await _drain(request)
        try:
            await recorder.add(name, at, kind, exit_status, duration)
        except Exception as exc:  # noqa: BLE001 - said, and the job can retry
            log.error("ping %s %s: not recorded: %s", name, kind, exc)
            raise web.HTTPServiceUnavailable(text="the signal could not be recorded; try again\n") from None
        log.info("ping %s: %s%s", name, kind, "" if exit_status is None else f" (exit status {exit_status})")
        return web.Response(text="OK\n")

    for method in ("POST", "GET"):
        app.router.add_route(method, PREFIX + "{name}", ping)
        app.router.add_route(method, PREFIX + "{name}/{rest:.+}", ping)


def is_ping(request: web.Request) -> bool:
    return request.path.startswith(PREFIX)


def _authorized(request: web.Request, in_path: str | None, token: str) -> bool:
    expected = token.encode()
    given = b""
    if in_path is not None:
        given = in_path.encode("utf-8", "surrogateescape")
    else:
        for header, value in request.raw_headers:
            if header.lower() == b"authorization":
                scheme, _, credentials = value.strip().partition(b" ")
                if scheme.lower() == b"bearer":
                    given = credentials.strip()
                break
    # compared whole, in constant time; an empty token never matches
    return bool(given) and hmac.compare_digest(given, expected)


def _query(request: web.Request) -> tuple[int | None, float | None]:
    exit_status: int | None = None
    duration: float | None = None
    text = request.query.get("exit_status")
    if text is not None:
        if not re.fullmatch(r"[0-9]{1,3}", text) or int(text) > 255:
            raise web.HTTPBadRequest(text="exit_status must be a number from 0 to 255\n")
        exit_status = int(text)
    text = request.query.get("duration")
    if text is not None:
        try:
            duration = float(text)
        except ValueError:
            duration = -1.0
        if not math.isfinite(duration) or not 0 <= duration <= 366 * 86400:
            raise web.HTTPBadRequest(text="duration must be seconds, from 0 to 366 days\n")
    return exit_status, duration


async def _drain(request: web.Request) -> None:
    """Read the body, at most MAX_BODY bytes, and drop it."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    read = 0
    while chunk := await request.content.read(4096):
        read += len(chunk)
        if read > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=read)
