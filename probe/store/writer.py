"""The writer thread: checks batched and committed together, off the event loop."""

from __future__ import annotations

import itertools
import os
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probe.result import CheckResult
from probe.sla import Run, fold_check
from probe.sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere

from .codec import _Codec
from .records import log
from .rollups import _latest_run, _plan_refold, _refold, _RollupDeltas
from .schema import _AT, _ENDPOINT, _INSERT_CHECK, write_transaction
from .shipping import enqueue_checks
from .store import Store


class _Batcher:
    """Writes batches of checks with their runs and rollups, in the writer's thread."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.codec = _Codec(conn)
        self.open_runs: dict[int, Run | None] = {}
        self.data_version: int | None = None
        self.rejected = 0
        self.ship: str | None = None  # this site's checks written are also put in the upstream outbox
        self._shipped: list[tuple[int, int]] = []  # (endpoint_id, at) of the batch's checks to ship

    def forget(self) -> None:
        self.codec.reset()
        self.open_runs.clear()

    def write(self, items: list[tuple[Any, ...]]) -> None:
        conn = self.conn
        try:
            with write_transaction(conn):
                # Another connection (import, prune) committed: our cached runs may be stale.
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != self.data_version:
                    self.open_runs.clear()
                    self.data_version = version
                self._shipped = []
                opened = self._write(items)
                if self._shipped:
                    enqueue_checks(conn, self._shipped)
        except BaseException:
            self.forget()
            raise
        self.open_runs.update(opened)

    def _write(self, items: list[tuple[Any, ...]]) -> dict[int, Run | None]:
        conn, codec = self.conn, self.codec
        by_endpoint: dict[int, list[tuple[Any, ...]]] = {}
        for name, result, interval_s, site in items:
            try:
                row = codec.row(name, result, interval_s, site)
            except (TypeError, ValueError, AttributeError) as error:
                self.rejected += 1
                log.error("dropping a check of %s that cannot be stored: %s", name, error)
                continue
            by_endpoint.setdefault(row[_ENDPOINT], []).append(row)
            if site == self.ship and site is not None:  # a hub's own checks, not its sites'
                self._shipped.append((row[_ENDPOINT], row[_AT]))

        new_rows, run_rows, plans, opened = [], [], [], {}
        rollups = _RollupDeltas()
        for endpoint_id, rows in by_endpoint.items():
            rows.sort(key=lambda row: row[_AT])
            if endpoint_id not in self.open_runs:
                self.open_runs[endpoint_id] = _latest_run(conn, codec, endpoint_id)
            current = self.open_runs[endpoint_id]
            last_ms = -1 if current is None else _ms(current.last)
            fresh: list[Any] = []
            late: list[Any] = []
            previous_at = None
            for row in rows:
                if row[_AT] == previous_at:
                    continue  # same endpoint, same millisecond: keep the first
                previous_at = row[_AT]
                (fresh if row[_AT] > last_ms else late).append(row)
            late = [row for row in late if not self._stored(row)]
            if late:
                # A clock that went back: rebuild the runs from raw checks.
                plans.append(_plan_refold(conn, codec, endpoint_id, late[0][_AT]))
            else:
                for row in fresh:
                    closed, current = fold_check(current, codec.check(row))
                    if closed is not None:
                        run_rows.append(codec.run_row(endpoint_id, closed))
                if current is not None and fresh:
                    run_rows.append(codec.run_row(endpoint_id, current))
                opened[endpoint_id] = current
            for row in fresh + late:
                new_rows.append(row)
                rollups.add(row)

        conn.executemany(_INSERT_CHECK, new_rows)
        conn.executemany(f"INSERT OR REPLACE INTO runs VALUES ({', '.join('?' * 8)})", run_rows)
        rollups.apply(conn)
        for plan in plans:
            opened[plan.endpoint_id] = _refold(conn, codec, plan)
        return opened

    def _stored(self, row: tuple[Any, ...]) -> bool:
        return (
            self.conn.execute(
                "SELECT 1 FROM checks WHERE endpoint_id = ? AND at = ?",
                (row[_ENDPOINT], row[_AT]),
            ).fetchone()
            is not None
        )


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


@dataclass(slots=True)
class _Call:
    """Other work for the writer's thread: function(store)."""

    function: Callable[[Store], object]
    name: str


_STOP = object()


_WAKE = object()


@dataclass(frozen=True, slots=True)
class WriterStats:
    written: int  # checks committed
    write_errors: int  # failed write attempts
    dropped: int  # checks lost because the buffer was full
    rejected: int  # checks that could not be stored (bad values)
    queue_depth: int  # checks waiting to be written
    last_error: str | None


# Seconds a check waits, at most, before its batch is committed. Short, so that a kill -9
# loses little and each commit is small: at 400 checks per second a commit costs about 4 ms
# of CPU, where one per second cost 40-60 ms, a burst long enough to delay the timings of the
# checks running on the other CPUs.
COMMIT_INTERVAL = 0.1


class Writer:
    """The one writer of checks: a thread fed by a queue, committing batches at least every
    commit_interval seconds. When the database cannot be written (disk full, locked),
    checks wait in memory (up to buffer_limit, then the oldest are dropped and counted),
    the error is logged once, and writing is retried with backoff."""

    def __init__(
        self,
        path: str | os.PathLike[str] | Store,
        *,
        commit_interval: float = COMMIT_INTERVAL,
        batch_size: int = 5000,
        buffer_limit: int = 100_000,
        busy_timeout: float = 5.0,
        retry_max: float = 30.0,
    ):
        # Its own connection, opened here in the caller's thread: a bad path fails at startup.
        if isinstance(path, Store):
            path = path.path
        self._store = Store.open(path, busy_timeout=busy_timeout)
        self.path = self._store.path
        self.commit_interval = commit_interval
        self.batch_size = batch_size
        self.buffer_limit = buffer_limit
        self.retry_max = retry_max
        self._batcher = _Batcher(self._store.db.conn)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._pending: deque[tuple[Any, ...]] = deque()
        self._first_pending = 0.0  # monotonic time the oldest pending check arrived
        self._flushes: list[_Flush] = []
        self._stopping = False
        self._abandon = False
        self._closed = False
        self._failing = False
        self._retry_at = 0.0
        self._backoff = 0.0
        self.written = 0
        self.write_errors = 0
        self.dropped = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="probe-store-writer", daemon=True)
        self._thread.start()

    # the caller's side

    def submit(
        self, endpoint_name: str, result: CheckResult, interval_s: float, site: str | None
    ) -> None:
        """Queue one check for writing; never blocks."""
        if self._closed:
            raise RuntimeError("the writer is closed")
        self._queue.put((endpoint_name, result, interval_s, site))

    def ship_upstream(self, site: str) -> None:
        """From now on, each check of ``site`` is also put in the upstream outbox
        (store.shipping), in the transaction that stores it."""
        self._batcher.ship = site

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything submitted so far; False if not done within timeout."""
        if not self._thread.is_alive():
            return not self._pending
        flush = _Flush()
        self._queue.put(flush)
        return flush.done.wait(timeout)

    def close(self, timeout: float = 10.0, abandon_wait: float = 1.0) -> bool:
        """Flush and stop the thread. Returns False (and logs, in one line, how many checks
        could not be written) if the checks could not all be written within timeout; then
        waits at most abandon_wait more for a write in progress to give up."""
        if self._closed:
            return not self._thread.is_alive() and not self._pending
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandon = True
            self._queue.put(_WAKE)
            self._thread.join(abandon_wait)
            why = f": {self.last_error}" if self.last_error else ""
            log.error("%d checks could not be written to %s%s", self.queue_depth(), self.path, why)
            return False
        return True

    def heartbeat(self, run_id: int, at: float | None = None, status: dict[str, Any] | None = None) -> None:
        """Store.heartbeat, done by the writer's thread; never blocks."""
        at = time.time() if at is None else at
        self._queue.put(_Call(lambda store: store.heartbeat(run_id, at, status), "heartbeat"))

    def prune(self, older_than: float | None = None) -> None:
        """Store.prune, done by the writer's thread between batches; never blocks."""
        self._queue.put(_Call(lambda store: store.prune(older_than), "prune"))

    def healthy(self) -> bool:
        """The thread runs and its last write succeeded (for a watchdog)."""
        return self._thread.is_alive() and not self._failing

    def queue_depth(self) -> int:
        """Checks waiting to be written."""
        return self._queue.qsize() + len(self._pending)

    @property
    def rejected(self) -> int:
        return self._batcher.rejected

    def stats(self) -> WriterStats:
        return WriterStats(
            written=self.written,
            write_errors=self.write_errors,
            dropped=self.dropped,
            rejected=self.rejected,
            queue_depth=self.queue_depth(),
            last_error=self.last_error,
        )

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # the thread's side

    def _run(self) -> None:
        try:
            while not self._abandon:
                due = self._next_write()
                if due is None and self._stopping:
                    break
                self._receive(None if due is None else max(0.0, due - time.monotonic()))
                due = self._next_write()
                if due is not None and time.monotonic() >= due:
                    self._write_pending()
                if not self._pending:
                    self._finish_flushes()
        finally:
            self._finish_flushes()
            self._store.close()

    def _next_write(self) -> float | None:
        """The monotonic time of the next write attempt; None with nothing to write."""
        if not self._pending:
            return None
        if self._flushes or self._stopping or len(self._pending) >= self.batch_size:
            return self._retry_at
        return max(self._first_pending + self.commit_interval, self._retry_at)

    def _receive(self, timeout: float | None) -> None:
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._accept(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return

    def _accept(self, item: Any) -> None:  # a row, a _Flush, a _Call, _STOP or _WAKE
        if isinstance(item, _Flush):
            self._flushes.append(item)
        elif isinstance(item, _Call):
            try:
                item.function(self._store)
            except Exception as error:  # noqa: BLE001 - the daemon must outlive any error
                if not self._failing:
                    log.error("%s of %s failed: %s", item.name, self.path, error)
        elif item is _STOP:
            self._stopping = True
        elif item is not _WAKE:
            if not self._pending:
                self._first_pending = time.monotonic()
            self._pending.append(item)
            if len(self._pending) > self.buffer_limit:
                self._pending.popleft()
                if not self.dropped:
                    log.error(
                        "more than %d checks waiting for %s: dropping the oldest",
                        self.buffer_limit,
                        self.path,
                    )
                self.dropped += 1

    def _write_pending(self) -> None:
        while self._pending:
            batch = list(itertools.islice(self._pending, self.batch_size))
            try:
                self._batcher.write(batch)
            except Exception as error:  # noqa: BLE001 - the daemon must outlive any error
                self._failed(error)
                return
            for _ in batch:
                self._pending.popleft()
            self.written += len(batch)
            self._recovered()

    def _failed(self, error: Exception) -> None:
        self.write_errors += 1
        self.last_error = str(error)
        if not self._failing:
            self._failing = True
            self._backoff = 0.25
            message = "cannot write to %s: %s; keeping %d checks in memory and retrying"
            args = (self.path, error, len(self._pending))
            if isinstance(error, sqlite3.OperationalError):
                log.error(message, *args)
            else:
                log.exception(message, *args)
        else:
            self._backoff = min(self._backoff * 2, self.retry_max)
        self._retry_at = time.monotonic() + self._backoff

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            self._retry_at = 0.0
            log.warning(
                "writing to %s again after %d failed attempts (%d checks dropped so far)",
                self.path,
                self.write_errors,
                self.dropped,
            )

    def _finish_flushes(self) -> None:
        for flush in self._flushes:
            flush.done.set()
        self._flushes.clear()
