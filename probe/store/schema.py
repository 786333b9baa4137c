"""The schema, its migrations, opening a connection, and the write transaction."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import cast

import sqlite_utils

from .records import StoreError, log

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
    # 4: the paper trail (store.maintenance, store.paper_trail): declared maintenance windows,
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
    # 6: the signals of [[heartbeat]] jobs (store.pings): start, success, fail, as received
    """
    CREATE TABLE pings (
        id INTEGER PRIMARY KEY,
        heartbeat TEXT NOT NULL,      -- the [[heartbeat]] name
        at INTEGER NOT NULL,          -- when probe received it (ms)
        kind TEXT NOT NULL CHECK (kind IN ('start', 'success', 'fail')),
        exit_status INTEGER,          -- as the job said (probe ping -- COMMAND)
        duration_ms INTEGER,          -- as the job measured it
        source TEXT NOT NULL DEFAULT 'listen' CHECK (source IN ('listen', 'import')),
        UNIQUE (heartbeat, at, kind)
    );
    """,
    # 7: several probe sites: an endpoints row is one site's series of checks of the endpoint
    # (name, site), with its own checks, runs and rollups; incidents and the paper trail name
    # the endpoint's first series. The rows keep their ids.
    """
    CREATE TABLE endpoints_by_site (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        url TEXT,
        interval_s REAL NOT NULL,
        site TEXT,
        first_seen INTEGER NOT NULL,
        config_at INTEGER NOT NULL,
        pruned_before INTEGER
    );
    INSERT INTO endpoints_by_site (id, name, url, interval_s, site, first_seen, config_at, pruned_before)
        SELECT id, name, url, interval_s, site, first_seen, config_at, pruned_before FROM endpoints;
    DROP TABLE endpoints;
    ALTER TABLE endpoints_by_site RENAME TO endpoints;
    CREATE UNIQUE INDEX endpoints_site ON endpoints (name, coalesce(site, ''));
    """,
    # 8: the dated TLS audits of each endpoint (store.tls_audits): what the server accepted and
    # the verdict against a profile, or why it could not be audited.
    """
    CREATE TABLE tls_audits (
        id INTEGER PRIMARY KEY,
        endpoint TEXT NOT NULL,       -- the endpoint's name (audited before its first check is stored, too)
        at INTEGER NOT NULL,          -- when the audit began, ms
        profile TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('compliant', 'warning', 'not_compliant', 'failed')),
        report TEXT NOT NULL,         -- JSON: the audit as `probe tls-audit --json` writes it
        UNIQUE (endpoint, at)
    );
    """,
    # an incident's timeline of notes: who wrote what, when
    """
    CREATE TABLE incident_notes (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        at INTEGER NOT NULL,
        author TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX incident_notes_by_incident ON incident_notes (incident_id, at);
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
        if conn is not None:
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
        return cast(int, conn.execute("PRAGMA user_version").fetchone()[0])

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
    with write_transaction(conn):
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


class write_transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error. IMMEDIATE takes the write lock
    up front, so the busy timeout applies (a deferred transaction upgrading fails at once)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
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
