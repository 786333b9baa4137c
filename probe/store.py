"""SQLite storage: the schema and its migrations, the one writer thread, and the queries that
reports and the CLI read. Raw checks are pruned; runs and hourly rollups are kept forever.

Every time in the database is integer milliseconds since the epoch (UTC); timings are integer
tenths of a millisecond. The API speaks float epoch seconds and float milliseconds, like
``CheckResult`` and ``sla``. See docs/storage.md.
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import math
import os
import queue
import re
import sys
import sqlite3
import threading
import time
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Iterable, Iterator, Mapping, NamedTuple

import sqlite_utils

from .result import ERROR_CLASSES, JSON_KEYS, STATES, CheckResult, iso_utc, parse_iso
from .sla import Check, Run, fold_check
from .sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere
from .text import json_text, refuse_controls, refuse_controls_message

log = logging.getLogger("probe.store")

RETENTION_DAYS = 400
HOUR_MS = 3_600_000

# Fixed forever: these codes are on disk.
STATE_CODES = {"up": 0, "degraded": 1, "down": 2}
STATE_NAMES = {code: name for name, code in STATE_CODES.items()}
DOWN = STATE_CODES["down"]

# Latency histogram: bucket 0 holds [0, 1) ms, bucket b >= 1 holds
# [10^((b-1)/20), 10^(b/20)) ms, so an estimate is within 12 % of the true value.
BUCKETS_PER_DECADE = 20
LAST_BUCKET = 255

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE endpoints (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT,
        interval_s REAL NOT NULL,
        site TEXT,
        first_seen INTEGER NOT NULL,  -- at of the oldest check
        config_at INTEGER NOT NULL,   -- at of the check url, interval_s and site came from
        pruned_before INTEGER         -- raw checks older than this were deleted
    );
    -- What a check was made with: one row per distinct (endpoint, url, interval, site).
    CREATE TABLE settings (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER NOT NULL REFERENCES endpoints(id),
        url TEXT,
        interval_ms INTEGER NOT NULL,
        site TEXT,
        UNIQUE (endpoint_id, url, interval_ms, site)
    );
    -- Repeated strings, stored once: kind is error_class, error, tls_version or tls_cipher.
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (kind, value)
    );
    CREATE TABLE certs (
        id INTEGER PRIMARY KEY,
        issuer TEXT,
        subject TEXT,
        not_after INTEGER,
        UNIQUE (issuer, subject, not_after)
    );
    CREATE TABLE checks (
        endpoint_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        setting_id INTEGER NOT NULL,
        state INTEGER NOT NULL,       -- 0 up, 1 degraded, 2 down
        error_class INTEGER,          -- labels.id
        error INTEGER,                -- labels.id
        http_status INTEGER,
        dns INTEGER,                  -- timings in 0.1 ms
        connect INTEGER,
        tls INTEGER,
        ttfb INTEGER,
        total INTEGER,
        tls_version INTEGER,          -- labels.id
        tls_cipher INTEGER,           -- labels.id
        cert_id INTEGER,              -- certs.id
        cert_days_left INTEGER,
        PRIMARY KEY (endpoint_id, at)
    ) WITHOUT ROWID;
    -- sla.Run, one row per run; the newest run of an endpoint is its open run.
    CREATE TABLE runs (
        endpoint_id INTEGER NOT NULL,
        start INTEGER NOT NULL,
        last INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        state INTEGER NOT NULL,
        error_class INTEGER,          -- labels.id
        count INTEGER NOT NULL,
        interval_ms INTEGER NOT NULL,
        PRIMARY KEY (endpoint_id, start)
    ) WITHOUT ROWID;
    CREATE TABLE rollups (
        endpoint_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,        -- start of the UTC hour
        up INTEGER NOT NULL,
        degraded INTEGER NOT NULL,
        down INTEGER NOT NULL,
        latency_count INTEGER NOT NULL,  -- checks in the histogram: not down, with a total_ms
        latency_sum INTEGER NOT NULL,    -- sum of their total_ms, in 0.1 ms
        histogram BLOB NOT NULL,         -- (bucket, count) byte pairs
        PRIMARY KEY (endpoint_id, hour)
    ) WITHOUT ROWID;
    CREATE TABLE daemon_runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        stopped_at INTEGER,
        stop_reason TEXT CHECK (stop_reason IN ('stop', 'crash')),
        pid INTEGER,
        version TEXT,
        site TEXT,
        heartbeat_at INTEGER,
        status TEXT                   -- JSON: the daemon's figures at its last heartbeat
    );
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER NOT NULL REFERENCES endpoints(id),
        start INTEGER NOT NULL,
        "end" INTEGER,
        severity TEXT CHECK (severity IN ('blocking', 'major', 'minor')),
        summary TEXT,
        source TEXT NOT NULL CHECK (source IN ('manual', 'detected')),
        ack_at INTEGER,
        ack_by TEXT,
        closed_at INTEGER
    );
    CREATE UNIQUE INDEX incidents_detected ON incidents (endpoint_id, start)
        WHERE source = 'detected';
    """,
    # 2: the alert outbox (probe.alerts): one row per message and channel, written when the
    # event happens and kept once delivered, so a restart neither re-sends nor loses one.
    """
    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,            -- the event: endpoint, incident start, event, detail
        channel TEXT NOT NULL,        -- the [[alerts.webhook]] or [[alerts.email]] name
        endpoint TEXT NOT NULL,
        incident_start INTEGER NOT NULL,
        event TEXT NOT NULL,          -- opened | escalated | deadline | resolved
        created_at INTEGER NOT NULL,
        message TEXT NOT NULL,        -- JSON: text, subject, body, fields (never a secret)
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,     -- the next attempt, while pending
        sent_at INTEGER,
        last_error TEXT,
        UNIQUE (key, channel)
    );
    CREATE INDEX alert_outbox_due ON alert_outbox (next_at) WHERE status = 'pending';
    CREATE INDEX alert_outbox_incident ON alert_outbox (endpoint, incident_start);
    """,
    # 3: how long each check's data waited on the prober's host, left out of its timings
    # (CheckResult.wait_ms); unknown (NULL) for the checks stored before.
    """
    ALTER TABLE checks ADD COLUMN wait INTEGER;  -- 0.1 ms
    """,
    # 4: the paper trail (probe.maintenance, probe.provenance): declared maintenance windows,
    # where imported history came from, and when each record was made.
    """
    CREATE TABLE maintenance (
        id INTEGER PRIMARY KEY,
        start INTEGER,                -- one-off window; NULL for a recurring one
        "end" INTEGER,
        every TEXT,                   -- recurring: weekdays "0,6" (0 = Monday), local time at
        at TEXT,
        duration_ms INTEGER,
        endpoints TEXT,               -- JSON list of names; NULL: every endpoint
        reason TEXT NOT NULL DEFAULT '',
        declared_at INTEGER NOT NULL,
        declared_by TEXT,
        source TEXT NOT NULL CHECK (source IN ('command', 'config', 'import')),
        config_key TEXT UNIQUE,       -- a config window's identity: declared once, when first seen
        cancelled_at INTEGER,
        cancelled_by TEXT
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        file TEXT NOT NULL,
        imported_at INTEGER NOT NULL
    );
    -- Which endpoints' checks an import brought, and over which span.
    CREATE TABLE imported_spans (
        import_id INTEGER NOT NULL REFERENCES imports(id),
        endpoint_id INTEGER NOT NULL REFERENCES endpoints(id),
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        PRIMARY KEY (import_id, endpoint_id)
    ) WITHOUT ROWID;
    ALTER TABLE daemon_runs ADD COLUMN import_id INTEGER;  -- brought by an import, not run here
    ALTER TABLE incidents ADD COLUMN recorded_at INTEGER;  -- when the record was made
    """,
    # 5: the host each daemon run ran on (with its pid, version and site: which daemon it was)
    """
    ALTER TABLE daemon_runs ADD COLUMN host TEXT;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

_CHECK_COLUMNS = (
    "endpoint_id", "at", "setting_id", "state", "error_class", "error", "http_status",
    "dns", "connect", "tls", "ttfb", "total", "tls_version", "tls_cipher", "cert_id",
    "cert_days_left", "wait",
)  # fmt: skip
_ENDPOINT, _AT, _SETTING, _STATE, _ERROR_CLASS = range(5)
_TOTAL = _CHECK_COLUMNS.index("total")
_INSERT_CHECK = (
    f"INSERT OR IGNORE INTO checks ({', '.join(_CHECK_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_CHECK_COLUMNS))})"
)
_RUN_COLUMNS = 'start, last, "end", state, error_class, count, interval_ms'


class StoreError(Exception):
    """A storage failure worth one line to the user, without a traceback."""


# --- small conversions -------------------------------------------------------------------


def _tenths(ms: float | None) -> int | None:
    return None if ms is None else round(ms * 10)


def _from_tenths(value: int | None) -> float | None:
    return None if value is None else value / 10


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


# --- latency histograms --------------------------------------------------------------------


def latency_bucket(total_ms: float) -> int:
    """The histogram bucket of one latency."""
    if total_ms < 1:
        return 0
    return min(LAST_BUCKET, math.floor(BUCKETS_PER_DECADE * math.log10(total_ms)) + 1)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """The [low, high) latency range of a bucket, in ms."""
    if bucket == 0:
        return 0.0, 1.0
    return 10 ** ((bucket - 1) / BUCKETS_PER_DECADE), 10 ** (bucket / BUCKETS_PER_DECADE)


def merge_histograms(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Add histograms up, e.g. the 24 hourly ones of a local day."""
    total: Counter[int] = Counter()
    for histogram in histograms:
        total.update(histogram)
    return dict(total)


def percentile_from_histogram(histogram: Mapping[int, int], q: float) -> float | None:
    """Estimate the q-quantile (0 <= q <= 1; 0.95 for p95) in ms, interpolating
    geometrically inside the bucket where it falls. None for an empty histogram."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile must be between 0 and 1, not {q}")
    count = sum(histogram.values())
    if count == 0:
        return None
    rank = q * count
    seen = 0
    for bucket in sorted(histogram):
        in_bucket = histogram[bucket]
        if in_bucket <= 0:
            continue
        if seen + in_bucket >= rank:
            low, high = bucket_bounds(bucket)
            fraction = (rank - seen) / in_bucket
            if low == 0:
                return high * fraction
            return low * (high / low) ** fraction
        seen += in_bucket
    return bucket_bounds(max(histogram))[1]  # only reached through float rounding


def _encode_histogram(histogram: Mapping[int, int]) -> bytes:
    # (bucket, count) byte pairs; a count above 255 takes several pairs of the same bucket.
    out = bytearray()
    for bucket in sorted(histogram):
        count = histogram[bucket]
        while count > 0:
            out += bytes((bucket, min(count, 255)))
            count -= 255
    return bytes(out)


def _decode_histogram(blob: bytes) -> dict[int, int]:
    histogram = dict(zip(blob[0::2], blob[1::2]))
    if len(histogram) * 2 == len(blob):  # no bucket over 255: the usual case
        return histogram
    histogram = {}
    for bucket, count in zip(blob[0::2], blob[1::2]):
        histogram[bucket] = histogram.get(bucket, 0) + count
    return histogram


# --- records returned by queries -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
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
    status: dict | None  # the daemon's figures at its last heartbeat
    host: str | None = None


@dataclass(frozen=True, slots=True)
class Incident:
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


# --- connection, schema --------------------------------------------------------------------


def _connect(path: Path, busy_timeout: float) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database; StoreError names the path."""
    parent = path.parent
    try:
        path.exists()
    except OSError as error:  # a name too long, say
        raise StoreError(f"cannot open database {path}: {error.strerror}") from None
    if not parent.is_dir():
        raise StoreError(f"cannot open database {path}: directory {parent} does not exist")
    if path.is_dir():
        raise StoreError(f"cannot open database {path}: it is a directory")
    # WAL needs to create the -wal and -shm files next to the database.
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot open database {path}: cannot write in {parent}")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"cannot open database {path}: cannot write to it")
    conn = None
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, path)
    except sqlite3.Error as error:
        if conn is not None:
            conn.close()
        raise StoreError(f"cannot open database {path}: {error}") from None
    except StoreError:
        conn.close()
        raise
    return db


# The raw checks and the hourly rollups are nearly all of the file: their pages are checked
# by `probe backup` (integrity_check of the copy), not each time a database is opened.
_BULK_TABLES = frozenset({"checks", "rollups"})


def check_pages(conn: sqlite3.Connection) -> list[str]:
    """SQLite's quick_check of the schema and of every table but the bulk ones (timed on a
    year of history in docs/performance.md): the problems found, [] when the pages are sound."""
    problems: list[str] = []
    try:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table not in _BULK_TABLES:
                quoted = table.replace('"', '""')
                problems += [row[0] for row in conn.execute(f'PRAGMA quick_check("{quoted}")') if row[0] != "ok"]
    except sqlite3.DatabaseError as error:  # a page too damaged to be read at all
        problems.append(str(error))
    return problems


def _is_probe_database(conn: sqlite3.Connection, version: int) -> bool:
    """Empty (new), or holding probe's tables: anything else is another program's database."""
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return not tables if version == 0 else {"endpoints", "checks", "runs"} <= tables


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    def version() -> int:
        return conn.execute("PRAGMA user_version").fetchone()[0]

    if not _is_probe_database(conn, version()):
        raise StoreError(f"{path} is not a probe database (another program's SQLite database?)")
    problems = check_pages(conn)
    if problems:
        raise StoreError(f"database {path} is damaged: {problems[0]} (restore a backup)")

    if version() > SCHEMA_VERSION:
        raise StoreError(
            f"database {path} has schema version {version()}, newer than this probe's "
            f"({SCHEMA_VERSION}): upgrade probe"
        )
    if version() == SCHEMA_VERSION:
        return
    with _write_transaction(conn):
        current = version()  # another process may have migrated meanwhile
        if current > SCHEMA_VERSION:  # pragma: no cover - a race with a newer probe
            raise StoreError(f"database {path} has schema version {current}, newer than this")
        for number in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        if current < SCHEMA_VERSION:
            log.info("migrated %s from schema version %d to %d", path, current, SCHEMA_VERSION)


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (conn.executescript would commit)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return statements


class _write_transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error. IMMEDIATE takes the write lock
    up front, so the busy timeout applies (a deferred transaction upgrading fails at once)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


# --- rows <-> records ----------------------------------------------------------------------


class _Codec:
    """Turns checks into rows and back for one connection, caching the ids of endpoints,
    settings, labels and certificates (rows of those tables never change id)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.reset()

    def reset(self) -> None:
        """Forget everything: after a rollback, ids handed out may not exist."""
        self._endpoints: dict[str, list] = {}  # name -> [id, url, interval_s, site, first, cfg]
        self._endpoint_names: dict[int, str] = {}
        self._labels: dict[tuple[str, str], int] = {}
        self._label_values: dict[int, str] = {}
        self._settings: dict[tuple, int] = {}
        self._setting_values: dict[int, tuple] = {}
        self._certs: dict[tuple, int] = {}
        self._cert_values: dict[int, tuple] = {}

    # writing (inside a write transaction)

    def row(self, name: str, result: CheckResult, interval_s: float, site: str | None) -> tuple:
        at = _ms(result.at)
        if result.state not in STATE_CODES:
            raise ValueError(f"unknown state {result.state!r}")
        if not interval_s or interval_s <= 0:
            raise ValueError(f"interval must be positive, not {interval_s!r}")
        endpoint_id = self._endpoint_id(name, result.url, interval_s, site, at)
        cert_id = None
        if (result.cert_issuer, result.cert_subject, result.cert_not_after) != (None,) * 3:
            not_after = None if result.cert_not_after is None else _ms(result.cert_not_after)
            cert_id = self._cert_id((result.cert_issuer, result.cert_subject, not_after))
        return (
            endpoint_id,
            at,
            self._setting_id((endpoint_id, result.url, _ms(interval_s), site)),
            STATE_CODES[result.state],
            self.label_id("error_class", result.error_class),
            self.label_id("error", result.error),
            result.http_status,
            _tenths(result.dns_ms),
            _tenths(result.connect_ms),
            _tenths(result.tls_ms),
            _tenths(result.ttfb_ms),
            _tenths(result.total_ms),
            self.label_id("tls_version", result.tls_version),
            self.label_id("tls_cipher", result.tls_cipher),
            cert_id,
            result.cert_days_left,
            _tenths(result.wait_ms),
        )

    def _endpoint_id(self, name, url, interval_s, site, at) -> int:
        # The endpoint row describes its newest check: older (imported) checks only move
        # first_seen. known = [id, url, interval_s, site, first_seen, newest check's at].
        known = self._endpoints.get(name)
        if known is None:
            found = self.conn.execute(
                "SELECT id, url, interval_s, site, first_seen, max(config_at, coalesce("
                "(SELECT max(at) FROM checks WHERE endpoint_id = endpoints.id), 0))"
                " FROM endpoints WHERE name = ?",
                (name,),
            ).fetchone()
            if found is None:
                cursor = self.conn.execute(
                    "INSERT INTO endpoints (name, url, interval_s, site, first_seen, config_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (name, url, interval_s, site, at, at),
                )
                found = (cursor.lastrowid, url, interval_s, site, at, at)
            known = self._endpoints[name] = list(found)
            self._endpoint_names[known[0]] = name
        endpoint_id = known[0]
        if at >= known[5]:
            known[5] = at
            if known[1:4] != [url, interval_s, site]:
                known[1:4] = [url, interval_s, site]
                self.conn.execute(
                    "UPDATE endpoints SET url = ?, interval_s = ?, site = ?, config_at = ?"
                    " WHERE id = ?",
                    (url, interval_s, site, at, endpoint_id),
                )
        if at < known[4]:
            known[4] = at
            self.conn.execute(
                "UPDATE endpoints SET first_seen = ? WHERE id = ?", (at, endpoint_id)
            )
        return endpoint_id

    def label_id(self, kind: str, value: str | None) -> int | None:
        if value is None:
            return None
        key = (kind, value)
        label_id = self._labels.get(key)
        if label_id is None:
            label_id = self._lookup_or_insert("labels", ("kind", "value"), key)
            self._labels[key] = label_id
            self._label_values[label_id] = value
        return label_id

    def _setting_id(self, key: tuple) -> int:
        setting_id = self._settings.get(key)
        if setting_id is None:
            columns = ("endpoint_id", "url", "interval_ms", "site")
            setting_id = self._settings[key] = self._lookup_or_insert("settings", columns, key)
            self._setting_values[setting_id] = key[1:]
        return setting_id

    def _cert_id(self, key: tuple) -> int:
        cert_id = self._certs.get(key)
        if cert_id is None:
            columns = ("issuer", "subject", "not_after")
            cert_id = self._certs[key] = self._lookup_or_insert("certs", columns, key)
            self._cert_values[cert_id] = key
        return cert_id

    def _lookup_or_insert(self, table: str, columns: tuple[str, ...], values: tuple) -> int:
        # IS, not =, so that NULL matches NULL (UNIQUE lets NULLs repeat).
        where = " AND ".join(f"{column} IS ?" for column in columns)
        found = self.conn.execute(f"SELECT id FROM {table} WHERE {where}", values).fetchone()
        if found is not None:
            return found[0]
        marks = ", ".join("?" * len(columns))
        return self.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
        ).lastrowid

    # reading

    def _reload(self) -> None:
        conn = self.conn
        self._label_values = dict(conn.execute("SELECT id, value FROM labels"))
        self._setting_values = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, url, interval_ms, site FROM settings")
        }
        self._cert_values = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, issuer, subject, not_after FROM certs")
        }
        self._endpoint_names = dict(conn.execute("SELECT id, name FROM endpoints"))

    def label_value(self, label_id: int | None) -> str | None:
        if label_id is None:
            return None
        if label_id not in self._label_values:
            self._reload()
        return self._label_values[label_id]

    def setting(self, setting_id: int) -> tuple:
        """(url, interval_ms, site)"""
        if setting_id not in self._setting_values:
            self._reload()
        return self._setting_values[setting_id]

    def cert(self, cert_id: int | None) -> tuple:
        """(issuer, subject, not_after_ms)"""
        if cert_id is None:
            return (None, None, None)
        if cert_id not in self._cert_values:
            self._reload()
        return self._cert_values[cert_id]

    def endpoint_name(self, endpoint_id: int) -> str:
        if endpoint_id not in self._endpoint_names:
            self._reload()
        return self._endpoint_names[endpoint_id]

    def check(self, row: tuple) -> Check:
        """The accounting's view of a checks row."""
        return Check(
            at=row[_AT] / 1000,
            state=STATE_NAMES[row[_STATE]],
            error_class=self.label_value(row[_ERROR_CLASS]),
            interval=self.setting(row[_SETTING])[1] / 1000,
        )

    def result(self, row: tuple) -> tuple[str, float, str | None, CheckResult]:
        """(endpoint name, interval_s, site, CheckResult) of a checks row."""
        (endpoint_id, at, setting_id, state, error_class, error, http_status, dns, connect,
         tls, ttfb, total, tls_version, tls_cipher, cert_id, cert_days_left, wait) = row  # fmt: skip
        url, interval_ms, site = self.setting(setting_id)
        issuer, subject, not_after = self.cert(cert_id)
        result = CheckResult(
            url=url,
            at=at / 1000,
            state=STATE_NAMES[state],
            error_class=self.label_value(error_class),
            error=self.label_value(error),
            http_status=http_status,
            dns_ms=_from_tenths(dns),
            connect_ms=_from_tenths(connect),
            tls_ms=_from_tenths(tls),
            ttfb_ms=_from_tenths(ttfb),
            total_ms=_from_tenths(total),
            wait_ms=_from_tenths(wait),
            tls_version=self.label_value(tls_version),
            tls_cipher=self.label_value(tls_cipher),
            cert_not_after=_seconds(not_after),
            cert_days_left=cert_days_left,
            cert_issuer=issuer,
            cert_subject=subject,
        )
        return self.endpoint_name(endpoint_id), interval_ms / 1000, site, result

    def run(self, row: tuple) -> Run:
        start, last, end, state, error_class, count, interval_ms = row
        return Run(
            start=start / 1000,
            last=last / 1000,
            end=end / 1000,
            state=STATE_NAMES[state],
            error_class=self.label_value(error_class),
            count=count,
            interval=interval_ms / 1000,
        )

    def run_row(self, endpoint_id: int, run: Run) -> tuple:
        return (
            endpoint_id,
            _ms(run.start),
            _ms(run.last),
            _ms(run.end),
            STATE_CODES[run.state],
            self.label_id("error_class", run.error_class),
            run.count,
            _ms(run.interval),
        )


# --- runs and rollups, maintained with the checks ------------------------------------------


def _latest_run(conn, codec: _Codec, endpoint_id: int, before_ms: int | None = None) -> Run | None:
    """The endpoint's newest run (its open run), or its newest run starting before before_ms."""
    sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE endpoint_id = ?"
    params: tuple = (endpoint_id,)
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


def _plan_refold(conn, codec: _Codec, endpoint_id: int, from_ms: int) -> _Refold:
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


def _refold(conn, codec: _Codec, plan: _Refold) -> Run | None:
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
        self._hours: dict[tuple[int, int], list] = {}

    def add(self, row: tuple) -> None:
        at, state, total = row[_AT], row[_STATE], row[_TOTAL]
        key = (row[_ENDPOINT], at - at % HOUR_MS)
        hour = self._hours.get(key)
        if hour is None:
            hour = self._hours[key] = [0, 0, 0, 0, 0, Counter()]
        hour[state] += 1
        if total is not None and state != DOWN:
            hour[3] += 1
            hour[4] += total
            hour[5][latency_bucket(total / 10)] += 1

    def apply(self, conn) -> None:
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


# --- the store: queries and small writes ---------------------------------------------------


def _range(column: str, since: float | None, until: float | None) -> tuple[str, tuple]:
    sql, params = "", ()
    if since is not None:
        sql, params = sql + f" AND {column} >= ?", params + (_ms(since),)
    if until is not None:
        sql, params = sql + f" AND {column} < ?", params + (_ms(until),)
    return sql, params


class Store:
    """One connection to the probe's database, for queries and the low-volume writes
    (daemon runs, incidents, prune, import). Checks are written by a ``Writer``. Not to be
    used by two threads at once."""

    def __init__(self, path: Path, db: sqlite_utils.Database, retention_days: float):
        self.path = path
        self.db = db
        self.retention_days = retention_days
        self._codec = _Codec(db.conn)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        *,
        retention_days: float = RETENTION_DAYS,
        busy_timeout: float = 5.0,
    ) -> Store:
        """Open the database at path, creating and migrating it as needed. Raises StoreError
        (one line, naming the path) when the path cannot be used."""
        path = Path(path)
        return cls(path, _connect(path, busy_timeout), retention_days)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.db.conn.execute("PRAGMA user_version").fetchone()[0]

    def _endpoint_id(self, endpoint: int | str) -> int | None:
        if isinstance(endpoint, int):
            return endpoint
        row = self.db.conn.execute("SELECT id FROM endpoints WHERE name = ?", (endpoint,))
        found = row.fetchone()
        return None if found is None else found[0]

    # queries

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(
                id=row["id"],
                name=row["name"],
                url=row["url"],
                interval_s=row["interval_s"],
                site=row["site"],
                first_seen=row["first_seen"] / 1000,
            )
            for row in self.db.query(
                "SELECT id, name, url, interval_s, site, first_seen FROM endpoints ORDER BY name"
            )
        ]

    def runs(
        self, endpoint: int | str, since: float | None = None, until: float | None = None
    ) -> list[Run]:
        """The endpoint's runs overlapping [since, until), oldest first: the run that began
        before since and still covers it is included. Unknown endpoint: []."""
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            return []
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE endpoint_id = ?"
        params: tuple = (endpoint_id,)
        if since is not None:
            # from the newest run starting at or before since; it may still cover since
            sql += (
                " AND start >= coalesce((SELECT max(start) FROM runs"
                " WHERE endpoint_id = ? AND start <= ?), ?)"
            )
            params += (endpoint_id, _ms(since), _ms(since))
        if until is not None:
            sql += " AND start < ?"
            params += (_ms(until),)
        rows = self.db.conn.execute(sql + " ORDER BY start", params)
        runs = [self._codec.run(row) for row in rows]
        if runs and since is not None and runs[0].end <= since:
            runs.pop(0)
        return runs

    def rollups(
        self, endpoint: int | str, since: float | None = None, until: float | None = None
    ) -> list[Rollup]:
        """The endpoint's hourly rollups of the hours starting in [since, until), oldest
        first (since is rounded down to its hour)."""
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            return []
        if since is not None:
            since = since - since % 3600
        where, params = _range("hour", since, until)
        rows = self.db.conn.execute(
            "SELECT hour, up, degraded, down, latency_count, latency_sum, histogram"
            f" FROM rollups WHERE endpoint_id = ?{where} ORDER BY hour",
            (endpoint_id, *params),
        )
        return [
            Rollup(hour_ms / 1000, up, degraded, down, count, total / 10, _decode_histogram(blob))
            for hour_ms, up, degraded, down, count, total, blob in rows
        ]

    def last_check(self, endpoint: int | str) -> CheckResult | None:
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            return None
        row = self.db.conn.execute(
            f"SELECT {', '.join(_CHECK_COLUMNS)} FROM checks WHERE endpoint_id = ?"
            " ORDER BY at DESC LIMIT 1",
            (endpoint_id,),
        ).fetchone()
        return None if row is None else self._codec.result(row)[3]

    def checks(
        self,
        endpoint: int | str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[tuple[str, float, str | None, CheckResult]]:
        """Raw checks as (endpoint name, interval_s, site, CheckResult), in time order (then
        endpoint name), streamed from the database."""
        where, params = _range("c.at", since, until)
        columns = ", ".join(f"c.{column}" for column in _CHECK_COLUMNS)
        if endpoint is not None:
            endpoint_id = self._endpoint_id(endpoint)
            if endpoint_id is None:
                return
            sql = f"SELECT {columns} FROM checks c WHERE c.endpoint_id = ?{where} ORDER BY c.at"
            params = (endpoint_id, *params)
        else:
            sql = (
                f"SELECT {columns} FROM checks c JOIN endpoints e ON e.id = c.endpoint_id"
                f" WHERE 1{where} ORDER BY c.at, e.name"
            )
        for row in self.db.conn.execute(sql, params):
            yield self._codec.result(row)

    # retention

    def prune(self, older_than: float | None = None) -> int:
        """Delete raw checks older than older_than (epoch seconds; default: retention_days
        ago). Runs and rollups are kept. Returns the number of checks deleted."""
        if older_than is None:
            older_than = time.time() - self.retention_days * 86400
        cutoff = _ms(older_than)
        conn = self.db.conn
        deleted = 0
        for (endpoint_id,) in conn.execute("SELECT id FROM endpoints").fetchall():
            # one transaction per endpoint: the writer never waits long
            with _write_transaction(conn):
                deleted += conn.execute(
                    "DELETE FROM checks WHERE endpoint_id = ? AND at < ?", (endpoint_id, cutoff)
                ).rowcount
                conn.execute(
                    "UPDATE endpoints SET pruned_before = max(coalesce(pruned_before, 0), ?)"
                    " WHERE id = ?",
                    (cutoff, endpoint_id),
                )
        return deleted

    # daemon runs

    def start_daemon_run(
        self, pid: int | None = None, version: str | None = None, site: str | None = None,
        host: str | None = None,
    ) -> int:
        """Record a daemon start; a previous run left open is closed as a crash, ended at
        its last heartbeat or last check, whichever is later. Returns the run's id."""
        conn = self.db.conn
        now = _ms(time.time())
        with _write_transaction(conn):
            for run_id, started_at, heartbeat_at in conn.execute(
                "SELECT id, started_at, heartbeat_at FROM daemon_runs WHERE stopped_at IS NULL"
            ).fetchall():
                last_check = conn.execute(
                    "SELECT max((SELECT max(at) FROM checks c WHERE c.endpoint_id = e.id))"
                    " FROM endpoints e"
                ).fetchone()[0]
                ended = max(started_at, heartbeat_at or 0, last_check or 0)
                ended = min(ended, now)
                self.db.table("daemon_runs").update(
                    run_id, {"stopped_at": ended, "stop_reason": "crash"}
                )
                log.warning("daemon run %d did not stop cleanly: recorded as a crash", run_id)
            table = self.db.table("daemon_runs")
            table.insert(
                {"started_at": now, "pid": pid, "version": version, "site": site,
                 "host": host, "heartbeat_at": now}
            )  # fmt: skip
            return table.last_pk

    def heartbeat(self, run_id: int, at: float | None = None, status: dict | None = None) -> None:
        """Record that the daemon is alive, with its figures (queue, lag...) if given."""
        at_ms = _ms(time.time() if at is None else at)
        self.db.execute(
            "UPDATE daemon_runs SET heartbeat_at = ?, status = coalesce(?, status) WHERE id = ?",
            (at_ms, None if status is None else json.dumps(status), run_id),
        )

    def stop_daemon_run(self, run_id: int, reason: str = "stop", at: float | None = None) -> None:
        if reason not in ("stop", "crash"):
            raise ValueError(f"stop reason must be 'stop' or 'crash', not {reason!r}")
        at_ms = _ms(time.time() if at is None else at)
        self.db.execute(
            "UPDATE daemon_runs SET stopped_at = ?, stop_reason = ?, heartbeat_at = ?"
            " WHERE id = ?",
            (at_ms, reason, at_ms, run_id),
        )

    def daemon_runs(
        self, since: float | None = None, until: float | None = None
    ) -> list[DaemonRun]:
        """Daemon runs overlapping [since, until), oldest first."""
        sql, params = "SELECT * FROM daemon_runs WHERE 1", []
        if since is not None:
            sql += " AND coalesce(stopped_at, heartbeat_at, started_at) >= ?"
            params.append(_ms(since))
        if until is not None:
            sql += " AND started_at < ?"
            params.append(_ms(until))
        return [
            DaemonRun(
                id=row["id"],
                started_at=row["started_at"] / 1000,
                stopped_at=_seconds(row["stopped_at"]),
                stop_reason=row["stop_reason"],
                pid=row["pid"],
                version=row["version"],
                site=row["site"],
                heartbeat_at=_seconds(row["heartbeat_at"]),
                status=None if row["status"] is None else json.loads(row["status"]),
                host=row["host"],
            )
            for row in self.db.query(sql + " ORDER BY started_at", params)
        ]

    # incidents

    def _require_endpoint(self, endpoint: int | str) -> int:
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            raise StoreError(f"no endpoint {endpoint!r} in {self.path}")
        return endpoint_id

    def open_incident(
        self,
        endpoint: int | str,
        start: float,
        severity: str,
        summary: str,
        end: float | None = None,
    ) -> int:
        """Record an incident by hand (one the probe cannot see). Returns its id."""
        if severity not in ("blocking", "major", "minor"):
            raise StoreError(f"severity must be blocking, major or minor, not {severity!r}")
        table = self.db.table("incidents")
        table.insert(
            {
                "endpoint_id": self._require_endpoint(endpoint),
                "start": _ms(start),
                "end": None if end is None else _ms(end),
                "severity": severity,
                "summary": summary,
                "source": "manual",
                "recorded_at": _ms(time.time()),
            }
        )
        return table.last_pk

    def ack_incident(
        self,
        incident_id: int | None = None,
        *,
        endpoint: int | str | None = None,
        start: float | None = None,
        by: str,
        at: float | None = None,
    ) -> int:
        """Acknowledge an incident: a recorded one by id, or a detected one (derived by the
        report from runs) by endpoint and start, which records a "detected" row keyed by
        them. Returns the incident's id."""
        at_ms = _ms(time.time() if at is None else at)
        conn = self.db.conn
        if incident_id is None:
            if endpoint is None or start is None:
                raise StoreError("acknowledge an incident by id, or by endpoint and start")
            with _write_transaction(conn):
                return conn.execute(
                    "INSERT INTO incidents (endpoint_id, start, source, ack_at, ack_by, recorded_at)"
                    " VALUES (?, ?, 'detected', ?, ?, ?)"
                    " ON CONFLICT (endpoint_id, start) WHERE source = 'detected'"
                    " DO UPDATE SET ack_at = excluded.ack_at, ack_by = excluded.ack_by"
                    " RETURNING id",
                    (self._require_endpoint(endpoint), _ms(start), at_ms, by, _ms(time.time())),
                ).fetchone()[0]
        self._not_before_start(incident_id, at_ms, "acknowledged")
        changed = self.db.execute(
            "UPDATE incidents SET ack_at = ?, ack_by = ? WHERE id = ?", (at_ms, by, incident_id)
        ).rowcount
        if not changed:
            raise StoreError(f"no incident {incident_id} in {self.path}")
        return incident_id

    def detected_incident(self, endpoint: int | str, start: float) -> Incident | None:
        """The record (acknowledgement) of the detected incident of endpoint starting at
        start, if any."""
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            return None
        found = self._incidents(
            " AND i.source = 'detected' AND i.endpoint_id = ? AND i.start = ?",
            [endpoint_id, _ms(start)],
        )
        return found[0] if found else None

    def register_detected(self, endpoint: int | str, start: float, severity: str) -> Incident:
        """Give the detected incident of endpoint starting at start a stable id (so that it
        can be acknowledged by id), and return its record."""
        with _write_transaction(self.db.conn) as conn:
            conn.execute(
                "INSERT INTO incidents (endpoint_id, start, severity, source, recorded_at)"
                " VALUES (?, ?, ?, 'detected', ?)"
                " ON CONFLICT (endpoint_id, start) WHERE source = 'detected' DO NOTHING",
                (self._require_endpoint(endpoint), _ms(start), severity, _ms(time.time())),
            )
        return self.detected_incident(endpoint, start)

    def incident_recorded_at(self, incident_id: int) -> float | None:
        """When the incident's record was made (None for records older than that column)."""
        row = self.db.conn.execute("SELECT recorded_at FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else _seconds(row[0])

    def incident(self, incident_id: int) -> Incident | None:
        found = self._incidents(" AND i.id = ?", [incident_id])
        return found[0] if found else None

    def _not_before_start(self, incident_id: int, at_ms: int, done: str) -> None:
        """An incident is acknowledged or closed at its start or after: an end before the
        start would be a negative duration in the evidence."""
        row = self.db.execute("SELECT start FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise StoreError(f"no incident {incident_id} in {self.path}")
        if at_ms < row[0]:
            raise StoreError(f"incident {incident_id} started at {iso_utc(row[0] / 1000)}:"
                             f" it cannot be {done} before")

    def close_incident(self, incident_id: int, at: float | None = None) -> None:
        """Close an incident recorded by hand; its end defaults to the closing time."""
        at_ms = _ms(time.time() if at is None else at)
        self._not_before_start(incident_id, at_ms, "closed")
        changed = self.db.execute(
            'UPDATE incidents SET closed_at = ?, "end" = coalesce("end", ?) WHERE id = ?',
            (at_ms, at_ms, incident_id),
        ).rowcount
        if not changed:
            raise StoreError(f"no incident {incident_id} in {self.path}")

    def list_incidents(
        self,
        endpoint: int | str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Incident]:
        """Recorded incidents (manual ones, and acknowledgements of detected ones) that
        overlap [since, until), oldest first. An open one overlaps everything after its
        start."""
        sql, params = "", []
        if endpoint is not None:
            sql += " AND i.endpoint_id = ?"
            params.append(self._endpoint_id(endpoint))
        if since is not None:
            sql += ' AND coalesce(i."end", i.closed_at, ?) > ?'
            params += [2**62, _ms(since)]
        if until is not None:
            sql += " AND i.start < ?"
            params.append(_ms(until))
        return self._incidents(sql, params)

    def _incidents(self, where: str, params: list) -> list[Incident]:
        rows = self.db.conn.execute(
            'SELECT i.id, e.name, i.start, i."end", i.severity, i.summary, i.source, i.ack_at,'
            " i.ack_by, i.closed_at FROM incidents i JOIN endpoints e ON e.id = i.endpoint_id"
            f" WHERE 1{where} ORDER BY i.start, i.id",
            params,
        )
        return [
            Incident(
                id=row[0],
                endpoint=row[1],
                start=row[2] / 1000,
                end=_seconds(row[3]),
                severity=row[4],
                summary=row[5],
                source=row[6],
                ack_at=_seconds(row[7]),
                ack_by=row[8],
                closed_at=_seconds(row[9]),
            )
            for row in rows
        ]

    def latency_histograms(
        self, endpoint: int | str, bounds: list[float]
    ) -> list[dict[int, int]]:
        """The latency histograms of the endpoint's hourly rollups merged per period
        [bounds[i], bounds[i + 1]) (e.g. local days), by the hour's start, in one query:
        what ``rollups`` + ``merge_histograms`` give, fast enough for a report over
        thousands of endpoints."""
        merged: list[dict[int, int]] = [{} for _ in bounds[1:]]
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None or not merged:
            return merged
        edges = [_ms(bound) for bound in bounds]
        rows = self.db.conn.execute(
            "SELECT hour, histogram FROM rollups WHERE endpoint_id = ? AND hour >= ? AND hour < ?"
            " ORDER BY hour",
            (endpoint_id, edges[0], edges[-1]),
        ).fetchall()
        hours = [row[0] for row in rows]
        cuts = [bisect.bisect_left(hours, edge) for edge in edges]
        blobs = [[row[1] for row in rows[cuts[i]:cuts[i + 1]]] for i in range(len(merged))]
        for index, parts in enumerate(blobs):
            if parts:
                # (bucket, count) byte pairs, as _encode_histogram: read as 16-bit numbers
                # and counted in C, since a day's pairs repeat (few buckets, small counts)
                pairs = array("H")
                pairs.frombytes(b"".join(parts))
                if sys.byteorder != "little":
                    pairs.byteswap()
                counts: dict[int, int] = {}
                for pair, times in Counter(pairs).items():
                    bucket = pair & 0xFF
                    counts[bucket] = counts.get(bucket, 0) + (pair >> 8) * times
                merged[index] = {b: counts[b] for b in sorted(counts) if counts[b]}
        return merged


# --- the writer ----------------------------------------------------------------------------


class _Batcher:
    """Writes batches of checks with their runs and rollups, in the writer's thread."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.codec = _Codec(conn)
        self.open_runs: dict[int, Run | None] = {}
        self.data_version: int | None = None
        self.rejected = 0

    def forget(self) -> None:
        self.codec.reset()
        self.open_runs.clear()

    def write(self, items: list[tuple]) -> None:
        conn = self.conn
        try:
            with _write_transaction(conn):
                # Another connection (import, prune) committed: our cached runs may be stale.
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != self.data_version:
                    self.open_runs.clear()
                    self.data_version = version
                opened = self._write(items)
        except BaseException:
            self.forget()
            raise
        self.open_runs.update(opened)

    def _write(self, items: list[tuple]) -> dict[int, Run | None]:
        conn, codec = self.conn, self.codec
        by_endpoint: dict[int, list[tuple]] = {}
        for name, result, interval_s, site in items:
            try:
                row = codec.row(name, result, interval_s, site)
            except (TypeError, ValueError, AttributeError) as error:
                self.rejected += 1
                log.error("dropping a check of %s that cannot be stored: %s", name, error)
                continue
            by_endpoint.setdefault(row[_ENDPOINT], []).append(row)

        new_rows, run_rows, plans, opened = [], [], [], {}
        rollups = _RollupDeltas()
        for endpoint_id, rows in by_endpoint.items():
            rows.sort(key=lambda row: row[_AT])
            if endpoint_id not in self.open_runs:
                self.open_runs[endpoint_id] = _latest_run(conn, codec, endpoint_id)
            current = self.open_runs[endpoint_id]
            last_ms = -1 if current is None else _ms(current.last)
            fresh, late, previous_at = [], [], None
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

    def _stored(self, row: tuple) -> bool:
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

    function: object
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
        path: str | os.PathLike | Store,
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
        self._queue: queue.Queue = queue.Queue()
        self._pending: deque[tuple] = deque()
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

    def heartbeat(self, run_id: int, at: float | None = None, status: dict | None = None) -> None:
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

    def __exit__(self, *exc_info) -> None:
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

    def _accept(self, item) -> None:
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


# --- export, import, backup ----------------------------------------------------------------

_NUMBER, _INTEGER, _TEXT = (int, float), (int,), (str,)
# What each key of a line may hold (besides null), and what it must be called, for messages.
_LINE_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "endpoint": (_TEXT, "a string"),
    "url": (_TEXT, "a string"),
    "at": (_TEXT + _NUMBER, "an ISO 8601 time"),
    "state": (_TEXT, "a string"),
    "error_class": (_TEXT, "a string"),
    "error": (_TEXT, "a string"),
    "http_status": (_INTEGER, "an integer"),
    "dns_ms": (_NUMBER, "a number"),
    "connect_ms": (_NUMBER, "a number"),
    "tls_ms": (_NUMBER, "a number"),
    "ttfb_ms": (_NUMBER, "a number"),
    "total_ms": (_NUMBER, "a number"),
    "wait_ms": (_NUMBER, "a number"),
    "tls_version": (_TEXT, "a string"),
    "tls_cipher": (_TEXT, "a string"),
    "cert_not_after": (_TEXT + _NUMBER, "an ISO 8601 time"),
    "cert_days_left": (_INTEGER, "an integer"),
    "cert_issuer": (_TEXT, "a string"),
    "cert_subject": (_TEXT, "a string"),
    "interval_s": (_NUMBER, "a number"),
    "site": (_TEXT, "a string"),
}
assert set(_LINE_TYPES) == {*JSON_KEYS, "endpoint", "interval_s", "site"}
_ALLOWED_TYPES = {key: frozenset((*types, type(None))) for key, (types, _) in _LINE_TYPES.items()}
_REQUIRED_KEYS = ("endpoint", "at", "state", "interval_s")
_ERROR_CLASSES = frozenset((None, *ERROR_CLASSES))
_SURROGATE = re.compile("[\ud800-\udfff]")
# The bounds of each number a line may hold, with how a message says them: a value outside
# them is a mistake (milliseconds read as seconds, say) that would break every later export.
_DAY_MS = 86_400_000.0
_YEAR_10000 = 253_402_300_800  # 10000-01-01 UTC: ISO 8601 and Python's dates end before it
_LINE_BOUNDS: dict[str, tuple[float, float, str]] = {
    **{key: (0, _DAY_MS, "0 and 86400000 (a day)") for key in
       ("dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms", "wait_ms")},
    "http_status": (0, 999, "0 and 999"),
    "cert_days_left": (-3_000_000, 3_000_000, "-3000000 and 3000000"),
    "interval_s": (0.001, 86_400, "0.001 and 86400 (a day)"),
    "cert_not_after": (0, _YEAR_10000 - 1, "1970 and 9999"),
}


def export_jsonl(
    store: Store,
    fh: IO[str],
    endpoint: int | str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> int:
    """Write checks as JSON Lines: the keys of CheckResult.to_json() plus endpoint,
    interval_s and site; then the paper trail (probe.provenance: maintenance windows,
    incidents and acknowledgements, daemon runs, earlier imports), one record a line.
    Returns the number of checks."""
    lines = 0
    try:
        for name, interval_s, site, result in store.checks(endpoint, since, until):
            try:
                record = {"endpoint": name, **result.to_json(), "interval_s": interval_s, "site": site}
            except (ValueError, OverflowError):
                raise StoreError(f"cannot export from {store.path}: a check of {name!r} is dated"
                                 " outside the years 1970 to 9999") from None
            fh.write(json_text(record) + "\n")
            lines += 1
        _export_paper_trail(store, fh, endpoint)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read {store.path}: {error}") from None
    return lines


def _export_paper_trail(store: Store, fh: IO[str], endpoint: int | str | None) -> None:
    from .provenance import export_records  # it imports this module

    name = endpoint
    if isinstance(endpoint, int):
        name = store.db.conn.execute("SELECT name FROM endpoints WHERE id = ?", (endpoint,)).fetchone()[0]
    for record in export_records(store, name):
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def _parse_time(key: str, value: str | float | None) -> float | None:
    if not isinstance(value, str):
        return value
    try:
        return parse_iso(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{key} must be an ISO 8601 time, not {_shown(value)}") from None


def _decoded(line: str | bytes) -> str:
    """A line of an import file as text; ValueError names the first byte that is not UTF-8."""
    if isinstance(line, str):
        return line
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte 0x{line[error.start]:02x} at column {error.start + 1})") from None


def _parse_line(line: str | bytes, latest: float = math.inf) -> tuple[str, CheckResult, float, str | None]:
    """One JSON Lines record -> (endpoint, CheckResult, interval_s, site); ValueError says
    what is wrong. Checks at `latest` or after are refused (and any before 1970)."""
    line = _decoded(line)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    except ValueError:  # an integer of more than 4 300 digits
        raise ValueError("not valid JSON (a number too large)") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    unknown = record.keys() - _LINE_TYPES.keys()
    if unknown:
        raise ValueError(f"unknown key {_shown(min(unknown))}")
    # type(), not isinstance(): a bool is no integer here
    wrong = [key for key, value in record.items() if type(value) not in _ALLOWED_TYPES[key]]
    if wrong:
        key = wrong[0]
        raise ValueError(f"{key} must be {_LINE_TYPES[key][1]} or null, not {_shown(record[key])}")
    for key in _REQUIRED_KEYS:
        if record.get(key) is None or isinstance(record[key], str) and not record[key].strip():
            raise ValueError(f"missing {key}")
    for key, value in record.items():
        found = _SURROGATE.search(value) if isinstance(value, str) else None
        if found is not None:  # "\ud800" in JSON: no database or terminal can take it
            raise ValueError(f"{key} {refuse_controls_message(found.group())}")
    record_at = record["at"]
    if record["state"] not in STATE_CODES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, not {_shown(record['state'])}")
    if record.get("error_class") not in _ERROR_CLASSES:
        raise ValueError(f"unknown error_class {_shown(record['error_class'])}")
    for key in ("endpoint", "site"):
        if record.get(key) is not None:
            refuse_controls(record[key], key)
    record["at"] = _parse_time("at", record["at"])
    if record.get("cert_not_after") is not None:
        record["cert_not_after"] = _parse_time("cert_not_after", record["cert_not_after"])
    for key, (low, high, say) in _LINE_BOUNDS.items():
        value = record.get(key)
        if value is not None and not low <= value <= high:  # NaN fails this too
            raise ValueError(f"{key} must be between {say}, not {_shown(value)}")
    at = record["at"]
    if not 0 <= at < min(latest, _YEAR_10000):  # NaN fails this too
        if at < 0:
            raise ValueError(f"at {_shown(record_at)} is before 1970")
        hint = " (milliseconds where seconds are meant?)" if 1e11 < at < 1e14 else ""
        if at < 1e14 and latest < _YEAR_10000:
            raise ValueError(f"at {_shown(record_at)} is more than a day ahead of now{hint}")
        raise ValueError(f"at {_shown(record_at)} is not a time between 1970 and 9999{hint}")
    endpoint, interval_s = record.pop("endpoint"), record.pop("interval_s")
    site = record.pop("site", None)
    record.setdefault("url", None)
    return endpoint, CheckResult(**record), float(interval_s), site


def _shown(value) -> str:
    """A number or text as a message quotes it; a huge one cut short."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…"


def import_jsonl(
    store: Store, fh: Iterable[str | bytes], *, skip_errors: bool = False, future: bool = False
) -> ImportStats:
    """Add the checks of a JSON Lines export (text or UTF-8 lines); checks already stored
    (same endpoint and at) are skipped, so importing twice adds nothing. All or nothing: a bad
    line raises StoreError("line 17: ...") and nothing is written, unless skip_errors, which
    skips bad lines and lists them in the stats. A check dated before 1970, or more than a day
    ahead of now (unless future), is a bad line. Runs and rollups of the endpoints concerned
    are brought up to date in the same transaction."""
    stats = ImportStats()
    latest = math.inf if future else time.time() + 86_400
    conn = store.db.conn
    codec = _Codec(conn)
    columns = ", ".join(_CHECK_COLUMNS)
    try:
        with _write_transaction(conn):
            conn.execute(
                f"CREATE TEMP TABLE incoming ({columns}, PRIMARY KEY (endpoint_id, at))"
                " WITHOUT ROWID"
            )
            try:
                trail: list[tuple[int, dict]] = []
                lines = _import_lines(conn, codec, fh, stats, skip_errors, latest, trail)
                # Stored already, or in a period pruned since: its runs and rollups are
                # settled and must not count it twice.
                stats.skipped_pruned = conn.execute(
                    "DELETE FROM incoming WHERE at < (SELECT coalesce(pruned_before, 0)"
                    " FROM endpoints e WHERE e.id = incoming.endpoint_id)"
                ).rowcount
                conn.execute(
                    "DELETE FROM incoming WHERE EXISTS (SELECT 1 FROM main.checks c"
                    " WHERE c.endpoint_id = incoming.endpoint_id AND c.at = incoming.at)"
                )
                stats.added = conn.execute("SELECT count(*) FROM incoming").fetchone()[0]
                stats.skipped_duplicates = lines - stats.added - stats.skipped_pruned
                plans = [
                    _plan_refold(conn, codec, endpoint_id, first)
                    for endpoint_id, first in conn.execute(
                        "SELECT endpoint_id, min(at) FROM incoming GROUP BY endpoint_id"
                    ).fetchall()
                ]
                conn.execute(f"INSERT INTO main.checks ({columns}) SELECT {columns} FROM incoming")
                rollups = _RollupDeltas()
                for row in conn.execute(f"SELECT {columns} FROM incoming"):
                    rollups.add(row)
                rollups.apply(conn)
                for plan in plans:
                    _refold(conn, codec, plan)
                stats.records = _import_paper_trail(conn, fh, trail)
            finally:
                conn.execute("DROP TABLE temp.incoming")
    except sqlite3.Error as error:
        raise StoreError(f"cannot import into {store.path}: {error}") from None
    store._codec.reset()
    return stats


def _import_paper_trail(conn, fh, trail: list[tuple[int, dict]]) -> int:
    """Record where the staged checks came from, then add the file's paper-trail records."""
    from .provenance import import_records, record_import  # they import this module

    import_id = record_import(conn, str(getattr(fh, "name", None) or "<stdin>"))
    try:
        return import_records(conn, trail, import_id)
    except ValueError as error:
        raise StoreError(str(error)) from None


def _import_lines(conn, codec: _Codec, fh, stats: ImportStats, skip_errors: bool, latest: float,
                  trail: list | None = None) -> int:
    """Parse and stage the lines in the incoming table; returns how many were good."""
    insert = (
        f"INSERT OR IGNORE INTO incoming VALUES ({', '.join('?' * len(_CHECK_COLUMNS))})"
    )
    rows: list[tuple] = []
    good = 0
    for number, line in enumerate(fh, start=1):
        if number == 1:  # a byte order mark, as some tools write UTF-8, is no part of the JSON
            line = line.removeprefix(b"\xef\xbb\xbf" if isinstance(line, bytes) else "\ufeff")
        if not line.strip():
            continue
        try:
            line = _decoded(line)
            if trail is not None and '"record"' in line and (record := _paper_trail_record(line)):
                trail.append((number, record))
                continue
            rows.append(codec.row(*_parse_line(line, latest)))
        except ValueError as error:
            if not skip_errors:
                raise StoreError(f"line {number}: {error}") from None
            stats.errors.append(f"line {number}: {error}")
            continue
        good += 1
        if len(rows) >= 10_000:
            conn.executemany(insert, rows)
            rows.clear()
    conn.executemany(insert, rows)
    return good


def _paper_trail_record(line: str) -> dict | None:
    from .provenance import parse_record  # it imports this module

    return parse_record(line)


def backup(store_path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Copy the database to dest with SQLite's online backup API (a consistent snapshot,
    safe while the writer writes), as one self-contained file, and check the copy with
    PRAGMA integrity_check. dest appears only once complete and checked."""
    source_path, dest = Path(store_path), Path(dest)
    for path in (source_path, dest):
        try:
            path.exists()
        except OSError as error:  # a name too long, say
            raise StoreError(f"cannot back up {source_path} to {dest}: {error.strerror}") from None
    if not source_path.is_file():
        raise StoreError(f"cannot back up {source_path}: no such database")
    if not dest.parent.is_dir():
        raise StoreError(f"cannot back up to {dest}: directory {dest.parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(source_path, timeout=30)
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(copy)  # all pages in one step: one read transaction, one snapshot
            copy.execute("PRAGMA journal_mode = DELETE")
            verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        finally:
            copy.close()
            source.close()
        if verdict != ["ok"]:
            raise StoreError(f"backup of {source_path} failed its integrity check: {verdict[0]}")
        os.replace(partial, dest)
    except sqlite3.Error as error:
        raise StoreError(f"cannot back up {source_path} to {dest}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return dest
