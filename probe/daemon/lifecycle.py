"""The daemon's lifecycle: startup, main loop, shutdown. Signals (TERM/INT stop, HUP reloads),
heartbeats and retention."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sqlite3
import time
from pathlib import Path

from probe import __version__
from probe import config as config_module
from probe.alerts import Alerter
from probe.check import check
from probe.runtime import loop_factory
from probe.schedule import SEND_EVERY, Scheduler, WorkerPool, auto_workers
from probe.spec import is_loopback
from probe.store import COMMIT_INTERVAL, Store, StoreError, Writer, maintenance
from probe.text import printable

from .changes import FirstSuccess, describe_reload, startup_lines
from .hub import listen_problem
from .listener import raise_descriptor_limit, tls_context
from .lock import DaemonLock, DatabaseInUse
from .systemd import log, notify, watchdog_interval
from .tls_audits import run_audits
from .upstream import Shipping
from .web import LiveResults, start_web

from .exits import EXIT_CONFIG, EXIT_CANTCREAT, EXIT_LISTEN, EXIT_DATABASE_LOST, EXIT_RUNNING  # noqa: F401 (the daemon's face)

SHUTDOWN_GRACE = 2.5  # seconds for checks in flight at shutdown, at most


STOP_WITHIN = 4.2  # seconds from a stop signal to the exit, whatever holds the database (5 s promised)


WRITE_LOCK_WAIT = 1.0  # seconds a write waits for another process's lock before it is retried


HEARTBEAT_EVERY = 10.0


DATABASE_WATCH_EVERY = 1.0  # seconds between looks at the database's path


PRUNE_EVERY = 3600.0


def one_line(text: str, limit: int = 200) -> str:
    """A message fit for one log line: control characters escaped, bounded."""
    text = printable(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class StartupError(Exception):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class Daemon:
    def __init__(self, config_path: str | None, database: str | None, listen=None, listen_token=None, tls=None):
        self.config_path = config_path
        self.database_override = database
        self.listen, self.listen_token, self.tls = listen, listen_token, tls
        self.shipping: Shipping | None = None
        self.store_path: str | None = None
        self.live = LiveResults()
        self.alerter: Alerter | None = None
        self._alerts_task = None
        self._web = None
        self.config: config_module.Config | None = None
        self.store: Store | None = None
        self.writer: Writer | None = None
        self.scheduler: Scheduler | None = None
        self.run_id: int | None = None
        self.lock: DaemonLock | None = None
        self.exit_code = 0
        self._database_identity: tuple[int, int] | None = None
        self.stop_event: asyncio.Event | None = None
        self._stopping_signals = 0
        self._last_state: dict[str, tuple] = {}
        self._probe_errors_logged: set[str] = set()  # causes of checks not made, logged once each
        self._first_success = FirstSuccess(log)

    # ------------------------------------------------------------ startup

    def load_config(self) -> config_module.Config:
        if self.config_path is None:
            raise config_module.ConfigError("no config file given (use --config FILE)")
        return config_module.load(self.config_path)

    def startup(self) -> None:
        try:
            self.config = self.load_config()
        except config_module.ConfigError as exc:
            raise StartupError(str(exc), EXIT_CONFIG) from None
        if not self.config.endpoints and not self.config.sites:
            raise StartupError(f"{self.config.path}: no [[endpoint]] to check", EXIT_CONFIG)
        if problem := listen_problem(self.config, self.listen, self.tls is not None) or tls_context(self.tls)[1]:
            raise StartupError(problem, EXIT_CONFIG)
        path = self.database_override or self.config.probe.database
        self.store_path = str(path)
        if self.listen and not self.listen_token and not is_loopback(self.listen[0]):
            raise StartupError(
                f"--listen {self.listen[0]}: not a loopback address; set $PROBE_LISTEN_TOKEN to listen there",
                EXIT_CONFIG,
            )
        # Before the database is touched: a second daemon must not record the first as crashed.
        if not Path(path).parent.is_dir():
            raise StartupError(f"cannot open database {path}: directory {Path(path).parent} does not exist",
                               EXIT_CANTCREAT)
        self.lock = DaemonLock(path)
        try:
            self.lock.acquire()
        except DatabaseInUse as exc:
            raise StartupError(str(exc), EXIT_RUNNING) from None
        except OSError as exc:
            raise StartupError(f"{self.lock.path}: cannot lock the database: {exc.strerror or exc}",
                               EXIT_CANTCREAT) from None
        try:
            self.store = Store.open(path, retention_days=self.config.probe.retention_days)
            self.run_id = self.store.start_daemon_run(
                pid=os.getpid(), host=socket.gethostname(), site=self.config.probe.site, version=__version__)
            maintenance.declare_from_config(self.store, self.config, time.time())
        except StoreError as exc:
            raise StartupError(str(exc), EXIT_CANTCREAT) from None
        except sqlite3.Error as exc:  # a full disk, say: one line, not a traceback
            raise StartupError(f"cannot start on database {path}: {exc}", EXIT_CANTCREAT) from None
        self.writer = Writer(self.store, busy_timeout=WRITE_LOCK_WAIT)
        self.shipping = Shipping.attach(self)  # [upstream]: every check also to the outbox
        self._database_identity = _identity(path)
        raise_descriptor_limit()
        log.info(
            "probe %s started: %d endpoints, database %s, site %s",
            __version__, len(self.config.checked), path, self.config.probe.site,
        )

    # ------------------------------------------------------------ main loop

    async def main_loop(self) -> None:
        loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        settings = self.config.probe
        workers = settings.workers or auto_workers(self.config.checked)
        if workers > 1:
            # checks in worker processes; results come back here to be written and alerted on
            self.scheduler = WorkerPool(self.config.checked, settings, workers, self._record)
            # a result waits SEND_EVERY in its worker: commit that much sooner, so that a kill -9
            # loses no more than in one process
            self.writer.commit_interval = max(0.01, COMMIT_INTERVAL - SEND_EVERY)
        else:
            self.scheduler = Scheduler(
                self.config.checked,
                lambda endpoint: check(endpoint.spec),
                self._record,
                max_in_flight=settings.max_in_flight,
                rate=settings.rate,
                per_host=settings.per_host,
                retry_interval=settings.retry_interval,
            )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_stop_signal, sig)
        loop.add_signal_handler(signal.SIGHUP, self._on_reload_signal)
        if self.config.alerts:
            self.alerter = Alerter(self.config.alerts, self.config.sla, self.store_path)
            await self.alerter.start(self.config.endpoints)
            self.alerter.watch_heartbeats(self.config.heartbeats)
            self._alerts_task = asyncio.create_task(self.alerter.run(self.stop_event))
        if self.listen:
            try:
                self._web = await start_web(self, *self.listen, token=self.listen_token,
                                            ssl_context=tls_context(self.tls)[0])
            except OSError as exc:
                raise StartupError(f"--listen {self.listen[0]}:{self.listen[1]}: {exc.strerror or exc}",
                                   EXIT_LISTEN) from None
            log.info("serving /metrics and the status page on %s:%s", *self.listen)
        if self.shipping is not None:
            self.shipping.start()
        for level, line in startup_lines(self.config, bool(self.listen)):
            log.log(level, "%s", line)
        housekeeping = asyncio.create_task(self._housekeeping())
        watch = asyncio.create_task(self._watch_database())
        audits = asyncio.create_task(run_audits(self, self.stop_event))
        # What exists now (config, endpoints, schedule) lives as long as the daemon: keep it out
        # of the garbage collector's full passes, which would otherwise walk all of it and
        # pause the checks' timings.
        gc.freeze()
        notify(f"READY=1\nSTATUS=checking {len(self.config.checked)} endpoints")
        try:
            await self.scheduler.run(self.stop_event)
        finally:
            housekeeping.cancel()
            watch.cancel()
            audits.cancel()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    def _record(self, endpoint, result, lag) -> None:
        self.writer.submit(endpoint.name, result, endpoint.interval, self.config.probe.site)
        if result.error_class == "probe_error":
            # the prober's own trouble, not the endpoint's: no alert, no state; one line per cause
            if result.error not in self._probe_errors_logged and len(self._probe_errors_logged) < 100:
                self._probe_errors_logged.add(result.error)
                log.error("checks not made, the prober's own trouble: %s (first seen checking %s)",
                          result.error, endpoint.name)
            return
        self.live.record(endpoint.name, result)
        if self.alerter is not None:
            self.alerter.observe(endpoint, result, self.config.probe.site)
        # Log changes of state, not every check: a long outage is one line, not thousands.
        previous = self._last_state.get(endpoint.name)
        self._last_state[endpoint.name] = (result.state, result.error_class)
        if self._first_success(endpoint.name, result):
            return
        if previous == (result.state, result.error_class) or (previous is None and result.state == "up"):
            return
        if result.state == "up":
            log.info("%s: up again", endpoint.name)  # not the URL: it may carry user:password
        else:
            level = logging.WARNING if result.state == "down" else logging.INFO
            log.log(level, "%s: %s, %s: %s", endpoint.name, result.state, result.error_class, result.error)

    def _on_stop_signal(self, sig) -> None:
        self._stopping_signals += 1
        if self._stopping_signals > 1:
            log.warning("second %s: exiting now", signal.Signals(sig).name)
            os._exit(1)
        log.info("%s received: stopping", signal.Signals(sig).name)
        notify("STOPPING=1")
        self.stop_event.set()

    def _on_reload_signal(self) -> None:
        """Every refused reload says why in one line; the running config and schedule stay."""
        began = time.monotonic()
        try:
            new = self.load_config()
        except config_module.ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return
        except Exception as exc:  # noqa: BLE001 - RecursionError, OverflowError...: still one line
            log.error("reload refused, keeping the running config: %s: cannot be read (%s: %s)",
                      self.config_path, type(exc).__name__, one_line(str(exc)))
            return
        if not new.endpoints and not new.sites:
            log.error("reload refused, keeping the running config: %s: no [[endpoint]]", new.path)
            return
        old, self.config = self.config, new
        self._declare_maintenance()
        self.scheduler.update(new.checked)
        if self.alerter is not None:
            self.alerter.update(new.alerts, new.sla)
            self.alerter.watch_heartbeats(new.heartbeats)
        summary, *details = describe_reload(old, new)
        log.info("config reloaded: %s (%.0f ms)", summary, (time.monotonic() - began) * 1000)
        for line in details:
            log.info("%s", line)
        notify(f"STATUS=checking {len(new.checked)} endpoints")

    def _declare_maintenance(self) -> None:
        """The new config's maintenance windows and jobs are declared when the daemon first sees them."""
        try:
            added = maintenance.declare_from_config(self.store, self.config, time.time())
        except (StoreError, sqlite3.Error) as exc:
            log.error("maintenance windows and jobs of the new config not declared yet: %s", one_line(str(exc)))
            return
        if added:
            log.info("%d maintenance window(s) declared from the config", added)

    async def _housekeeping(self) -> None:
        """Heartbeats (so a crash can be dated), watchdog pings while the loop is healthy, and
        retention of raw checks."""
        watchdog = watchdog_interval()
        tick = min(HEARTBEAT_EVERY, watchdog) if watchdog else HEARTBEAT_EVERY
        last_heartbeat = last_prune = -PRUNE_EVERY  # monotonic: a wall clock step delays neither
        while True:
            now, elapsed = time.time(), time.monotonic()
            if watchdog and self.writer.healthy():
                notify("WATCHDOG=1")
            if elapsed - last_heartbeat >= HEARTBEAT_EVERY:
                last_heartbeat = elapsed
                stats = self.scheduler.stats
                self.writer.heartbeat(self.run_id, now, {
                    "lag_p50": stats.lag_p(0.5),
                    "lag_p99": stats.lag_p(0.99),
                    "in_flight": stats.in_flight,
                    "started": stats.started,
                    "missed": stats.missed,
                    "queue": self.writer.queue_depth(),
                    "write_errors": self.writer.write_errors,
                })
            if elapsed - last_prune >= PRUNE_EVERY:
                last_prune = elapsed
                self.writer.prune(now - self.config.probe.retention_days * 86400)
            await asyncio.sleep(tick)

    async def _watch_database(self) -> None:
        """Stop, loudly, when the database is deleted or replaced under the daemon: checks
        written to a file that no path leads to are lost to every report."""
        while True:
            await asyncio.sleep(DATABASE_WATCH_EVERY)
            identity = _identity(self.store_path)
            if identity in (self._database_identity, UNKNOWN):
                continue
            what = "deleted" if identity is None else "replaced by another file"
            log.critical("%s was %s while the daemon ran: stopping; the checks of the last %gs"
                         " went to the old file. Started again, probe records on a new one.",
                         self.store_path, what, DATABASE_WATCH_EVERY)
            self.exit_code = EXIT_DATABASE_LOST
            notify("STOPPING=1")
            self.stop_event.set()
            return

    # ------------------------------------------------------------ shutdown

    async def _stop_alerts(self) -> None:
        if self._alerts_task is not None:
            self.stop_event.set()
            await self._alerts_task
        await self.alerter.close(timeout=0.3)

    async def shutdown(self) -> None:
        """Within STOP_WITHIN seconds of the stop, whatever holds the database: checks in flight
        get what is left after the writes' share; what cannot be written is counted, in one line."""
        deadline = time.monotonic() + STOP_WITHIN

        def left(reserve: float = 0.0) -> float:
            return max(0.1, deadline - reserve - time.monotonic())

        if self._web is not None:
            await self._web.cleanup()
        if self.scheduler is not None:
            await self.scheduler.drain(min(SHUTDOWN_GRACE, left(2.0)))
        if self.alerter is not None:
            try:
                await asyncio.wait_for(self._stop_alerts(), min(1.0, left(1.0)))
            except asyncio.TimeoutError:
                log.error("alerts: stopped before the outbox could be written (the database is locked);"
                          " the next start announces what is still due")
        if self.writer is not None:
            self.writer.close(timeout=left(0.8), abandon_wait=min(WRITE_LOCK_WAIT, left(0.3)))
        if self.store is not None and self.run_id is not None:
            try:
                self.store.db.conn.execute(f"PRAGMA busy_timeout = {int(left(0.05) * 1000)}")
                self.store.stop_daemon_run(self.run_id, "stop")
            except (StoreError, sqlite3.Error) as exc:
                log.error("cannot record the stop (the next start dates it by the last heartbeat): %s", exc)
            if self.shipping is not None:
                await self.shipping.stop(self.store, self.run_id, min(2.0, left(0.05)))
            self.store.close()
        if self.lock is not None:
            self.lock.release()
        log.info("probe stopped")


UNKNOWN = (-1, -1)


def _identity(path) -> tuple[int, int] | None:
    """The file at path (device, inode); None if there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError:  # cannot look (permissions changed): not a reason to stop
        return UNKNOWN
    return (stat.st_dev, stat.st_ino)


async def _serve(daemon: Daemon) -> None:
    try:
        await daemon.main_loop()
    finally:
        await daemon.shutdown()


def run(config_path: str | None, database: str | None, listen=None, listen_token=None, tls=None) -> int:
    """Run until SIGTERM/SIGINT. Returns the process exit status."""
    daemon = Daemon(config_path, database, listen, listen_token, tls)
    try:
        daemon.startup()
        with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:  # uvloop when installed
            runner.run(_serve(daemon))
    except StartupError as exc:
        log.error("%s", exc)
        return exc.exit_code
    return daemon.exit_code
