"""What the store hands out: endpoints, daemon runs, incidents, import statistics, and its error."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from probe.result import DEGRADED, DOWN, UP
from probe.sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere

log = logging.getLogger("probe.store")


RETENTION_DAYS = 400


HOUR_MS = 3_600_000


# Fixed forever: these codes are on disk.
STATE_CODES = {UP: 0, DEGRADED: 1, DOWN: 2}


STATE_NAMES = {code: name for name, code in STATE_CODES.items()}


DOWN_CODE = STATE_CODES[DOWN]


class StoreError(Exception):
    """A storage failure worth one line to the user, without a traceback."""


def _tenths(ms: float | None) -> int | None:
    return None if ms is None else round(ms * 10)


def _from_tenths(value: int | None) -> float | None:
    return None if value is None else value / 10


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


@dataclass(frozen=True, slots=True)
class StoredEndpoint:
    id: int
    name: str
    url: str | None  # as of its newest check
    interval_s: float
    site: str | None
    first_seen: float  # epoch seconds of its oldest check


class Rollup(NamedTuple):
    """One endpoint's checks during one UTC hour. (A tuple: reports read many of them.)"""

    hour: float  # epoch seconds of the hour's start
    up: int
    degraded: int
    down: int
    latency_count: int  # checks in the histogram: not down, with a total_ms
    latency_sum_ms: float
    histogram: dict[int, int]  # latency_bucket -> checks

    @property
    def checks(self) -> int:
        return self.up + self.degraded + self.down


@dataclass(frozen=True, slots=True)
class DaemonRun:
    id: int
    started_at: float
    stopped_at: float | None
    stop_reason: str | None  # "stop", "crash", or None while running
    pid: int | None
    version: str | None
    site: str | None
    heartbeat_at: float | None
    status: dict[str, Any] | None  # the daemon's figures at its last heartbeat
    host: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    endpoint: str
    start: float
    end: float | None
    severity: str | None  # blocking | major | minor; None for an acknowledged detected one
    summary: str | None
    source: str  # manual | detected
    ack_at: float | None
    ack_by: str | None
    closed_at: float | None


@dataclass(slots=True)
class ImportStats:
    added: int = 0
    skipped_duplicates: int = 0
    skipped_pruned: int = 0  # older than the raw checks kept: their runs and rollups are settled
    errors: list[str] = field(default_factory=list)  # "line 17: ..." (with skip_errors)
    records: int = 0  # paper-trail records added (windows, incidents, daemon runs, imports)


def _range(column: str, since: float | None, until: float | None) -> tuple[str, tuple[Any, ...]]:
    sql = ""
    params: tuple[int, ...] = ()
    if since is not None:
        sql, params = sql + f" AND {column} >= ?", params + (_ms(since),)
    if until is not None:
        sql, params = sql + f" AND {column} < ?", params + (_ms(until),)
    return sql, params
