"""The daemon's TLS audits: each endpoint with `tls_audit` set is audited every that often, in a
thread (an audit blocks on dozens of handshakes; the checks' event loop never waits for it),
one audit at a time. The first audits are spread evenly over the first hour (or the interval,
if shorter), in the config's order; after a restart an endpoint audited recently waits for its
turn. Each audit is stored with its date; one that could not be made is stored as `failed`."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

from probe.check import AuditFailed, audit
from probe.spec import public_url
from probe.store import StoreError, tls_audits

from .systemd import log

FIRST_AUDITS_WITHIN = 3600.0  # seconds over which the first audits of a start are spread
PROFILE = "tls12+"  # the contract's "TLS 1.2"


def _audit_one(store_path: str, endpoint) -> str:
    """Audit one endpoint and record it; returns the outcome."""
    began = time.time()
    try:
        report = audit(endpoint.spec.url, ca_file=endpoint.spec.ca_file, profile=PROFILE,
                       timeout=endpoint.spec.timeout)
    except AuditFailed as exc:
        report = {"url": public_url(endpoint.spec.url), "profile": PROFILE, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - the prober's trouble: recorded, never a crash of the daemon
        report = {"url": public_url(endpoint.spec.url), "profile": PROFILE, "error": f"{type(exc).__name__}: {exc}"}
    tls_audits.record_tls_audit(store_path, endpoint.name, began, report)
    return tls_audits.outcome_of(report)


def _first_due(endpoints, last: dict[str, float], now: float) -> dict[str, float]:
    audited = [e for e in endpoints if e.tls_audit is not None]
    due = {}
    for index, endpoint in enumerate(audited):
        if endpoint.name in last:
            due[endpoint.name] = max(now, last[endpoint.name] + endpoint.tls_audit)
        else:
            due[endpoint.name] = now + index / len(audited) * min(FIRST_AUDITS_WITHIN, endpoint.tls_audit)
    return due


def _in_thread(function, *args) -> asyncio.Future:
    """function(*args) in a daemon thread of its own: unlike the loop's default executor, a
    stop never waits for an audit still shaking hands with a slow server."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(exc: BaseException | None, result) -> None:
        if not future.done():
            future.set_exception(exc) if exc is not None else future.set_result(result)

    def target() -> None:
        outcome: tuple[BaseException | None, object]
        try:
            outcome = (None, function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            outcome = (exc, None)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop is closed: the daemon has stopped
            pass

    threading.Thread(target=target, name="tls-audit", daemon=True).start()
    return future


async def run_audits(daemon, stop_event: asyncio.Event) -> None:
    """Audit the daemon's endpoints as they fall due until stop_event; follows config reloads."""
    conn = sqlite3.connect(daemon.store_path, timeout=5.0)
    try:
        last = tls_audits.last_audited(conn)
    finally:
        conn.close()
    due = _first_due(daemon.config.checked, last, time.time())
    while not stop_event.is_set():
        endpoints = {e.name: e for e in daemon.config.checked if e.tls_audit is not None}
        for name in set(endpoints) - set(due):  # added by a reload
            due[name] = time.time()
        for name in set(due) - set(endpoints):
            del due[name]
        now = time.time()
        ready = sorted((at, name) for name, at in due.items() if at <= now)
        if not ready:
            wait = min(due.values(), default=now + 60) - now
            try:
                await asyncio.wait_for(stop_event.wait(), timeout=min(max(wait, 0.05), 60))
            except asyncio.TimeoutError:
                pass
            continue
        endpoint = endpoints[ready[0][1]]
        due[endpoint.name] = time.time() + endpoint.tls_audit
        try:
            outcome = await _in_thread(_audit_one, daemon.store_path, endpoint)
        except (StoreError, sqlite3.Error) as exc:
            log.error("%s: TLS audit not recorded: %s", endpoint.name, exc)
            continue
        log.info("%s: TLS audit %s", endpoint.name, outcome.replace("_", " "))
