"""Hourly rollups: folding checks into them, and refolding an hour when older checks arrive."""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from probe.sla import Check, Run, fold_check
from probe.sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere

from .codec import _Codec
from .histograms import _decode_histogram, _encode_histogram, latency_bucket
from .records import DOWN_CODE, HOUR_MS, STATE_NAMES
from .schema import _AT, _ENDPOINT, _RUN_COLUMNS, _STATE, _TOTAL


def _latest_run(conn: sqlite3.Connection, codec: _Codec, endpoint_id: int, before_ms: int | None = None) -> Run | None:
    """The endpoint's newest run (its open run), or its newest run starting before before_ms."""
    sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE endpoint_id = ?"
    params: tuple[Any, ...] = (endpoint_id,)
    if before_ms is not None:
        sql += " AND start < ?"
        params += (before_ms,)
    row = conn.execute(sql + " ORDER BY start DESC LIMIT 1", params).fetchone()
    return None if row is None else codec.run(row)


@dataclass(slots=True)
class _Refold:
    """Where to rebuild one endpoint's runs from, decided before new checks are inserted."""

    endpoint_id: int
    seed: Run | None  # the open run to fold onto
    after_ms: int  # refold the raw checks with at >= after_ms
    delete_from_ms: int  # runs starting at or after this are rebuilt


def _plan_refold(conn: sqlite3.Connection, codec: _Codec, endpoint_id: int, from_ms: int) -> _Refold:
    """Plan rebuilding the runs of an endpoint that gets checks at from_ms and later which
    are not all newer than its open run (an import, or a clock that went back).

    Runs before from_ms stay. The run R that from_ms falls in (or follows) is redone: if it
    ends before from_ms, by folding onto R itself; if from_ms falls inside R, from R's first
    check. Raw checks older than the endpoint's prune horizon are gone, so that part of R
    survives as a seed run holding its pruned checks, and new checks older than the horizon
    change no run (docs/storage.md).
    """
    horizon = conn.execute(
        "SELECT coalesce(pruned_before, 0) FROM endpoints WHERE id = ?", (endpoint_id,)
    ).fetchone()[0]
    from_ms = max(from_ms, horizon)
    run = _latest_run(conn, codec, endpoint_id, before_ms=from_ms)
    if run is None:
        return _Refold(endpoint_id, None, horizon, -(2**62))
    start_ms = _ms(run.start)
    if _ms(run.last) < from_ms:
        return _Refold(endpoint_id, run, max(_ms(run.last) + 1, horizon), start_ms)
    kept = conn.execute(
        "SELECT count(*) FROM checks WHERE endpoint_id = ? AND at BETWEEN ? AND ?",
        (endpoint_id, start_ms, _ms(run.last)),
    ).fetchone()[0]
    pruned = run.count - kept
    seed = replace(run, last=run.start, end=math.inf, count=pruned) if pruned > 0 else None
    return _Refold(endpoint_id, seed, max(start_ms, horizon), start_ms)


def _refold(conn: sqlite3.Connection, codec: _Codec, plan: _Refold) -> Run | None:
    """Carry out a plan once the new checks are in; returns the endpoint's open run."""
    conn.execute(
        "DELETE FROM runs WHERE endpoint_id = ? AND start >= ?",
        (plan.endpoint_id, plan.delete_from_ms),
    )
    rows = conn.execute(
        "SELECT c.at, c.state, c.error_class, s.interval_ms FROM checks c"
        " JOIN settings s ON s.id = c.setting_id"
        " WHERE c.endpoint_id = ? AND c.at >= ? ORDER BY c.at",
        (plan.endpoint_id, plan.after_ms),
    )
    runs, current = [], plan.seed
    label = codec.label_value
    for at, state, error_class, interval_ms in rows:
        check = Check(at / 1000, STATE_NAMES[state], label(error_class), interval_ms / 1000)
        closed, current = fold_check(current, check)
        if closed is not None:
            runs.append(codec.run_row(plan.endpoint_id, closed))
    if current is not None:
        runs.append(codec.run_row(plan.endpoint_id, current))
    conn.executemany(f"INSERT OR REPLACE INTO runs VALUES ({', '.join('?' * 8)})", runs)
    return current


class _RollupDeltas:
    """Hourly counts of new checks, added to the rollups table in one go."""

    def __init__(self) -> None:
        self._hours: dict[tuple[int, int], list[Any]] = {}

    def add(self, row: tuple[Any, ...]) -> None:
        at, state, total = row[_AT], row[_STATE], row[_TOTAL]
        key = (row[_ENDPOINT], at - at % HOUR_MS)
        hour = self._hours.get(key)
        if hour is None:
            hour = self._hours[key] = [0, 0, 0, 0, 0, Counter()]
        hour[state] += 1
        if total is not None and state != DOWN_CODE:
            hour[3] += 1
            hour[4] += total
            hour[5][latency_bucket(total / 10)] += 1

    def apply(self, conn: sqlite3.Connection) -> None:
        merged = []
        for (endpoint_id, hour_ms), (up, degraded, down, count, total, histogram) in (
            self._hours.items()
        ):
            old = conn.execute(
                "SELECT up, degraded, down, latency_count, latency_sum, histogram FROM rollups"
                " WHERE endpoint_id = ? AND hour = ?",
                (endpoint_id, hour_ms),
            ).fetchone()
            if old is not None:
                up, degraded, down = up + old[0], degraded + old[1], down + old[2]
                count, total = count + old[3], total + old[4]
                histogram = histogram + Counter(_decode_histogram(old[5]))
            merged.append(
                (endpoint_id, hour_ms, up, degraded, down, count, total,
                 _encode_histogram(histogram))
            )  # fmt: skip
        conn.executemany(f"INSERT OR REPLACE INTO rollups VALUES ({', '.join('?' * 8)})", merged)
        self._hours.clear()
