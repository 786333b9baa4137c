#!/usr/bin/env python3
"""How long the checks of a database's pages take on a year of history: SQLite's
`PRAGMA quick_check` and `integrity_check` over the whole file, and the check probe makes
when it opens a database (`probe.store.check_pages`: the schema and every table but the raw
checks and the hourly rollups).

    python bench/integrity_check.py [--endpoints 100] [--days 365] [--interval 60] [--keep DIR]

The database is built with SQL (no checks are made): one check per endpoint per interval,
1 % of them down, with the hourly rollups of a real store. Each check is timed with the file's
pages in the page cache (warm) and evicted from it first (cold: posix_fadvise DONTNEED on this
file only, nothing else of the machine's cache).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lab  # noqa: E402,F401  (this checkout's probe)

from probe.store import Store, check_pages  # noqa: E402

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def build(path: Path, endpoints: int, days: int, interval: int) -> int:
    with Store.open(path):
        pass  # the schema, at the current version
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    for e in range(1, endpoints + 1):
        conn.execute(
            "INSERT INTO endpoints VALUES (?, ?, ?, ?, 'bench', ?, ?, NULL)",
            (e, f"endpoint-{e:04d}", f"https://e{e}.example/health", interval, START_MS, START_MS),
        )
        conn.execute("INSERT INTO settings VALUES (?, ?, ?, ?, 'bench')", (e, e, f"https://e{e}.example/health",
                                                                        interval * 1000))
    conn.execute("INSERT INTO labels VALUES (1, 'error_class', 'http_status'), (2, 'error', 'HTTP 503'),"
                 " (3, 'tls_version', 'TLSv1.3'), (4, 'tls_cipher', 'TLS_AES_256_GCM_SHA384')")
    conn.execute("INSERT INTO certs VALUES (1, 'CN=Example CA', 'CN=example', 1803859200000)")
    per_endpoint = days * 86400 // interval
    for e in range(1, endpoints + 1):
        # one endpoint at a time, in primary-key order, as the writer appends them
        conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
            INSERT INTO checks
            SELECT ?, ? + i * ? + (i * 7919 + ?) % 997, ?,
                   CASE WHEN (i * 31 + ?) % 100 = 0 THEN 2 ELSE 0 END,
                   CASE WHEN (i * 31 + ?) % 100 = 0 THEN 1 END,
                   CASE WHEN (i * 31 + ?) % 100 = 0 THEN 2 END,
                   CASE WHEN (i * 31 + ?) % 100 = 0 THEN 503 ELSE 200 END,
                   8, 3, 20 + (i * 13) % 70, 50 + (i * 17) % 750, 100 + (i * 19) % 1100,
                   3, 4, 1, 90, (i * 3) % 20
            FROM n
            """,
            (per_endpoint, e, START_MS, interval * 1000, e, e, e, e, e, e),
        )
        conn.execute(
            """
            WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i + 1 < ?)
            INSERT INTO rollups SELECT ?, ? + i * 3600000, ?, 0, 0, ?, ? * 600, x'1a0b1b0c1c0d'
            FROM h
            """,
            (days * 24, e, START_MS, 3600 // interval, 3600 // interval, 3600 // interval),
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return endpoints * per_endpoint


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(path: Path, what: str, run, cold: bool) -> float:
    if cold:
        evict(path)
    conn = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        verdict = run(conn)
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    assert verdict in ([], ["ok"]), verdict
    print(f"{what:<42} {'cold' if cold else 'warm'}  {seconds:8.3f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--keep", help="build (or reuse) the database in this directory")
    args = parser.parse_args()
    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="probe-integrity-"))
    path = directory / f"year-{args.endpoints}x{args.interval}s-{args.days}d.db"
    try:
        if not path.exists():
            started = time.perf_counter()
            rows = build(path, args.endpoints, args.days, args.interval)
            print(f"built {rows:,} checks in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"{path.name}: {path.stat().st_size / 2**20:,.0f} MiB; {_lab.machine_line()}"
              if hasattr(_lab, "machine_line") else f"{path.name}: {path.stat().st_size / 2**20:,.0f} MiB")
        checks = {
            "probe's check at open (check_pages)": lambda conn: check_pages(conn),
            "PRAGMA quick_check": lambda conn: [r[0] for r in conn.execute("PRAGMA quick_check")],
            "PRAGMA integrity_check": lambda conn: [r[0] for r in conn.execute("PRAGMA integrity_check")],
        }
        for what, run in checks.items():
            for cold in (True, False):
                timed(path, what, run, cold)
    finally:
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            directory.rmdir()


if __name__ == "__main__":
    main()
