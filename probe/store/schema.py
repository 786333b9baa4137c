"""The schema, its migrations, opening a connection, and the write transaction."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import cast

import sqlite_utils

from .migrations import MIGRATIONS
from .records import StoreError, log



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
_BULK_TABLES = frozenset({"checks", "rollups", "upstream_outbox"})


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
