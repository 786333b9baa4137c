#!/usr/bin/env python3
"""Benchmark: the monthly report at scale.

Claim: "a month of 1 000 endpoints checked every 60 s (43 million checks) reports in under
10 s; database under 60 bytes per check".

    python bench/report_scale.py                       # 1 000 endpoints x 60 s, and x 300 s
    python bench/report_scale.py --endpoints 100       # smaller, same shape
    python bench/report_scale.py --db /tmp/big.db      # keep / reuse the database there

What it does:
  1. builds (or reuses, when it already holds the same history) a database of one month
     (October 2026, Europe/Paris: 745 h) of checks of N endpoints, every --interval seconds,
     with the store's own schema (Store.open), its codec (ids of endpoints, settings, labels,
     certificates: _Codec.row), its runs builder (_refold: sla.fold_check over every raw
     check, exactly as an import does), its latency buckets and histogram encoding.
     Raw checks are generated inside SQLite (INSERT ... SELECT) in the order the daemon
     writes them: time first, then endpoint, so the B-tree pages fill as they would in
     production. The history is realistic: every check has its five timings, TLS facts and
     certificate; each endpoint has a few outages (with the daemon's 5 s re-check), blips,
     slow spells, some certificate-expiry warnings, and the probe itself stopped once for
     20 min (a daemon_runs gap); about half the outages are acknowledged;
  2. builds the same history with checks every --compare-interval seconds (5x fewer checks,
     the same endpoints, days, outages and runs);
  3. times the real CLI, a cold process each time: `probe report --format json` and
     `--format html` for the month, on both databases (best and median of --repeat runs);
  4. prints the times, the database size and bytes per check (with each table's share,
     from SQLite's dbstat).

The report reads runs and hourly rollups, never raw checks: its time should follow
endpoints x days, and barely move between the two databases.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _lab  # noqa: E402,F401  (this checkout's probe, here and in `python -m probe` below)
from probe import sla  # noqa: E402
from probe.result import CheckResult  # noqa: E402
# The store's insides: the bench fills a database at the speed of bulk SQL, as the writer would.
from probe.store.codec import _Codec  # noqa: E402
from probe.store.histograms import _encode_histogram  # noqa: E402
from probe.store.rollups import _RollupDeltas  # noqa: E402
from probe.store.schema import _CHECK_COLUMNS  # noqa: E402
from probe.store import (  # noqa: E402
    HOUR_MS,
    Store,
    write_transaction,
    latency_bucket,
)

TZ = "Europe/Paris"
YEAR, MONTH = 2026, 10
SEED = 20261001
LATENCY_POOL = 512  # timings drawn from a pool per speed class (8 classes)
SPEED_CLASSES = 8
GAP_LOCAL = datetime(2026, 10, 15, 3, 0, tzinfo=ZoneInfo(TZ))  # the probe stopped for 20 min
GAP_SECONDS = 20 * 60
RETRY_MS = 5000  # the daemon re-checks 5 s after a down check (retry_interval)

DOWN_CAUSES = [  # (error_class, error, http_status, has timings) -- weights below
    ("http_status", "HTTP 503 (expected 200-299)", 503, True),
    ("http_status", "HTTP 502 (expected 200-299)", 502, True),
    ("timeout", "no answer within 10 s", None, False),
    ("connect", "connection refused", None, False),
    ("tls_handshake", "TLS handshake failed: unexpected EOF", None, False),
    ("body_mismatch", "body does not contain 'ok'", 200, True),
]
DOWN_WEIGHTS = [40, 15, 20, 15, 5, 5]


def month_bounds() -> tuple[int, int]:
    start, end = sla.month_period(YEAR, MONTH, TZ)
    return round(start * 1000), round(end * 1000)


# ------------------------------------------------------------------ the history's shape


def plan_events(endpoints: int, slots: int, interval_s: float, rng: random.Random) -> list[list]:
    """Per endpoint, non-overlapping episodes, in the slot indices of a 60 s schedule scaled
    to the interval, so that both databases get the same outages at the same times:
    [endpoint_index, first_slot, last_slot, state, error_class, error, http_status, timed]."""
    per_minute = 60.0 / interval_s  # slots per minute
    events = []
    minutes = int(slots / per_minute)
    for index in range(endpoints):
        taken: list[tuple[int, int]] = []

        def place(length_min: int) -> tuple[int, int] | None:
            for _ in range(50):
                first = rng.randrange(60, minutes - length_min - 60)
                span = (first - 30, first + length_min + 30)
                if all(span[1] < a or span[0] > b for a, b in taken):
                    taken.append((first, first + length_min))
                    return first, first + length_min
            return None

        def slot(minute: int) -> int:
            return int(minute * per_minute)

        for _ in range(rng.choice((1, 2, 2, 3))):  # outages, 2 to 45 minutes
            found = place(rng.choice((2, 3, 5, 8, 12, 20, 45)))
            if found:
                cls, error, status, timed = rng.choices(DOWN_CAUSES, DOWN_WEIGHTS)[0]
                first, last = slot(found[0]), max(slot(found[0]) + 1, slot(found[1]))
                events.append([index, first, last, 2, cls, error, status, timed])
        for _ in range(rng.choice((0, 1, 3, 5))):  # blips: one down check, the re-check up
            found = place(1)
            if found:
                cls, error, status, timed = rng.choices(DOWN_CAUSES, DOWN_WEIGHTS)[0]
                events.append([index, slot(found[0]), slot(found[0]), 2, cls, error, status, timed])
        for _ in range(rng.choice((0, 1, 2))):  # slow spells, 5 minutes to 3 hours
            found = place(rng.choice((5, 15, 40, 180)))
            if found:
                first, last = slot(found[0]), max(slot(found[0]) + 1, slot(found[1]))
                events.append([index, first, last, 1, "too_slow", "slower than 2 s", 200, True])
        if index % 97 == 0:  # a certificate left to expire for a few days
            found = place(3 * 1440)
            if found:
                first, last = slot(found[0]), slot(found[1])
                events.append([index, first, last, 1, "cert_expiring", "certificate expires in 9 days",
                               200, True])
    return events


def latency_pool(rng: random.Random) -> list[tuple]:
    """(class, i, dns, connect, tls, ttfb, total, wait) in tenths of ms: a lognormal spread
    around each class's typical latency (40 ms to 600 ms); the wait for a prober that is seldom
    busy, lognormal around 0.3 ms (the daemon at 17 checks/s: mostly under 1 ms)."""
    rows = []
    for cls in range(SPEED_CLASSES):
        typical = 40 * (1.47 ** cls)
        for i in range(LATENCY_POOL):
            total = typical * rng.lognormvariate(0, 0.35)
            dns, connect, tls = total * 0.04, total * 0.12, total * 0.3
            ttfb = total * 0.95
            wait = 0.3 * rng.lognormvariate(0, 1.0)
            rows.append((cls, i, *(round(v * 10) for v in (dns, connect, tls, ttfb, total, wait))))
    return rows


# ------------------------------------------------------------------ building a database


def build(path: Path, endpoints: int, interval_s: float, say) -> dict:
    rng = random.Random(SEED)  # the same history for every interval
    start_ms, end_ms = month_bounds()
    interval_ms = round(interval_s * 1000)
    slots = (end_ms - start_ms) // interval_ms
    gap_first = (round(GAP_LOCAL.timestamp() * 1000) - start_ms) // interval_ms
    gap_slots = range(gap_first, gap_first + GAP_SECONDS * 1000 // interval_ms)
    events = plan_events(endpoints, slots, interval_s, rng)
    pool = latency_pool(rng)

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store.open(path)  # the store's schema and migrations
    conn = store.db.conn
    conn.execute("PRAGMA journal_mode = OFF")  # a throw-away build: no journal
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB
    conn.execute("PRAGMA temp_store = MEMORY")
    codec = _Codec(conn)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    with write_transaction(conn):
        # Endpoints, settings, labels and certificates through the store's codec, from one
        # real-looking check of each endpoint.
        ep_rows = []
        for index in range(endpoints):
            name = f"service-{index:04d}"
            not_after = (start_ms + (40 + index % 300) * 86_400_000) / 1000
            offset = index * interval_ms // endpoints  # the scheduler spreads endpoints
            template = CheckResult(
                url=f"https://{name}.example.com/health", at=(start_ms + offset) / 1000, state="up",
                error_class=None, error=None, http_status=200, dns_ms=1.0, connect_ms=1.0,
                tls_ms=1.0, ttfb_ms=1.0, total_ms=1.0, tls_version="TLSv1.3",
                tls_cipher="TLS_AES_256_GCM_SHA384" if index % 3 else "TLS_CHACHA20_POLY1305_SHA256",
                cert_not_after=not_after, cert_days_left=None,
                cert_issuer="CN=R11,O=Let's Encrypt,C=US", cert_subject=f"CN={name}.example.com",
            )
            row = codec.row(name, template, interval_s, "paris-1")
            endpoint_id, setting_id = row[0], row[2]
            ep_rows.append((index, endpoint_id, setting_id, offset, row[12], row[13], row[14],
                            round(not_after * 1000), index % SPEED_CLASSES))
        ev_rows = []
        for index, first, last, state, cls, error, status, timed in events:
            ev_rows.append((ep_rows[index][1], first, last, state, codec.label_id("error_class", cls),
                            codec.label_id("error", error), status, int(timed)))

        conn.execute("CREATE TEMP TABLE bench_ep (endpoint_id INTEGER PRIMARY KEY, setting_id INTEGER,"
                     " offset_ms INTEGER, tls_version INTEGER, tls_cipher INTEGER, cert_id INTEGER,"
                     " not_after INTEGER, cls INTEGER)")
        conn.executemany("INSERT INTO bench_ep VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [r[1:] for r in ep_rows])
        conn.execute("CREATE TEMP TABLE bench_slot (k INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO bench_slot VALUES (?)",
                         ((k,) for k in range(slots) if k not in gap_slots))
        conn.execute("CREATE TEMP TABLE bench_ev (endpoint_id INTEGER, k0 INTEGER, k1 INTEGER, state INTEGER,"
                     " error_class INTEGER, error INTEGER, http_status INTEGER, timed INTEGER,"
                     " PRIMARY KEY (endpoint_id, k0)) WITHOUT ROWID")
        conn.executemany("INSERT INTO bench_ev VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ev_rows)
        # The same, one row per slot, for a plain key lookup while generating.
        conn.execute("CREATE TEMP TABLE bench_evslot (endpoint_id INTEGER, k INTEGER, state INTEGER,"
                     " error_class INTEGER, error INTEGER, http_status INTEGER, timed INTEGER,"
                     " PRIMARY KEY (endpoint_id, k)) WITHOUT ROWID")
        conn.executemany("INSERT INTO bench_evslot VALUES (?, ?, ?, ?, ?, ?, ?)",
                         ((r[0], k, *r[3:]) for r in ev_rows for k in range(r[1], r[2] + 1)))
        conn.execute("CREATE TEMP TABLE bench_lat (cls INTEGER, i INTEGER, dns INTEGER, connect INTEGER,"
                     " tls INTEGER, ttfb INTEGER, total INTEGER, wait INTEGER, PRIMARY KEY (cls, i))"
                     " WITHOUT ROWID")
        conn.executemany("INSERT INTO bench_lat VALUES (?, ?, ?, ?, ?, ?, ?, ?)", pool)

        # Raw checks, time first then endpoint (the daemon's order), a few ms of jitter.
        # A too_slow check takes 8x longer; a down check without an answer has no timings.
        slow = "(SELECT id FROM labels WHERE kind = 'error_class' AND value = 'too_slow')"
        timed = "(ev.state IS NULL OR ev.timed)"
        factor = f"(CASE WHEN ev.error_class = {slow} THEN 8 ELSE 1 END)"
        conn.execute(f"""
            INSERT INTO checks
            SELECT e.endpoint_id,
                   :start + s.k * :iv + e.offset_ms + ((s.k * 7919 + e.endpoint_id * 104729) % 97),
                   e.setting_id,
                   coalesce(ev.state, 0), ev.error_class, ev.error,
                   CASE WHEN ev.state IS NULL THEN 200 ELSE ev.http_status END,
                   CASE WHEN {timed} THEN l.dns END,
                   CASE WHEN {timed} THEN l.connect END,
                   CASE WHEN {timed} THEN l.tls END,
                   CASE WHEN {timed} THEN l.ttfb * {factor} END,
                   CASE WHEN {timed} THEN l.total * {factor} END,
                   CASE WHEN {timed} THEN e.tls_version END,
                   CASE WHEN {timed} THEN e.tls_cipher END,
                   CASE WHEN {timed} THEN e.cert_id END,
                   CASE WHEN {timed} THEN (e.not_after - :start - s.k * :iv) / 86400000 END,
                   CASE WHEN {timed} THEN l.wait END
            FROM bench_slot s CROSS JOIN bench_ep e
            LEFT JOIN bench_evslot ev ON ev.endpoint_id = e.endpoint_id AND ev.k = s.k
            CROSS JOIN bench_lat l ON l.cls = e.cls
                AND l.i = ((s.k * 2654435761 + e.endpoint_id * 40503) % {LATENCY_POOL})
        """, {"start": start_ms, "iv": interval_ms})
        # The daemon's re-check 5 s after the first down check: down again in an outage, up
        # after a blip.
        conn.execute(f"""
            INSERT INTO checks
            SELECT c.endpoint_id, c.at + {RETRY_MS}, c.setting_id,
                   CASE WHEN ev.k1 > ev.k0 THEN 2 ELSE 0 END,
                   CASE WHEN ev.k1 > ev.k0 THEN c.error_class END,
                   CASE WHEN ev.k1 > ev.k0 THEN c.error END,
                   CASE WHEN ev.k1 > ev.k0 THEN c.http_status ELSE 200 END,
                   coalesce(c.dns, l.dns), coalesce(c.connect, l.connect), coalesce(c.tls, l.tls),
                   coalesce(c.ttfb, l.ttfb), coalesce(c.total, l.total),
                   e.tls_version, e.tls_cipher, e.cert_id, (e.not_after - c.at) / 86400000,
                   coalesce(c.wait, l.wait)
            FROM bench_ev ev JOIN bench_ep e USING (endpoint_id)
            JOIN bench_lat l ON l.cls = e.cls AND l.i = 0
            JOIN checks c ON c.endpoint_id = ev.endpoint_id
                AND c.at >= :start + ev.k0 * :iv AND c.at < :start + (ev.k0 + 1) * :iv
            WHERE ev.state = 2
        """, {"start": start_ms, "iv": interval_ms})
        checks = conn.execute("SELECT count(*) FROM checks").fetchone()[0]
        timings["checks"] = time.perf_counter() - started
        say(f"  {checks:,} checks written in {timings['checks']:.0f}s")

        # Runs and hourly rollups, in one pass over each endpoint's checks in time order.
        # Runs are what sla.fold_check makes of the checks (a new run at any change of state,
        # error class or interval, or after a gap longer than the coverage factor x interval;
        # a closed run ends at the next check, the open one at its coverage end), checked
        # against sla.runs_from_checks on a sample of endpoints below. Rollups use the
        # store's own latency_bucket and histogram encoding.
        started = time.perf_counter()
        totals = [row[0] for row in conn.execute(
            "SELECT DISTINCT total * m FROM bench_lat, (SELECT 1 AS m UNION SELECT 8)")]
        bucket_of = {t: latency_bucket(t / 10) for t in totals}
        ids = [row[0] for row in conn.execute("SELECT endpoint_id FROM bench_ep")]
        runs = rollups = 0
        for endpoint_id in ids:
            run_rows, hour_rows = runs_and_rollups(conn, endpoint_id, bucket_of)
            conn.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", run_rows)
            conn.executemany("INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?)", hour_rows)
            runs, rollups = runs + len(run_rows), rollups + len(hour_rows)
        timings["runs"] = time.perf_counter() - started
        say(f"  {runs:,} runs and {rollups:,} hourly rollups in {timings['runs']:.0f}s")
        started = time.perf_counter()
        busiest = [row[0] for row in conn.execute(
            "SELECT endpoint_id FROM bench_ev GROUP BY endpoint_id ORDER BY count(*) DESC LIMIT 3")]
        sample = sorted(set(busiest + rng.sample(ids, min(3, len(ids)))))
        for endpoint_id in sample:
            verify_runs(conn, codec, endpoint_id)
        say(f"  runs of endpoints {sample} identical to sla.runs_from_checks, rollups to the writer's"
            f" ({time.perf_counter() - started:.0f}s)")

        # The endpoints' bookkeeping, daemon runs around the probe's stop, acknowledgements.
        conn.execute("UPDATE endpoints SET config_at = (SELECT max(at) FROM checks c"
                     " WHERE c.endpoint_id = endpoints.id), first_seen = (SELECT min(at) FROM checks c"
                     " WHERE c.endpoint_id = endpoints.id)")
        gap_start = start_ms + gap_first * interval_ms
        conn.execute("INSERT INTO daemon_runs (started_at, stopped_at, stop_reason, pid, version, site,"
                     " heartbeat_at) VALUES (?, ?, 'stop', 1234, '0.1.0', 'paris-1', ?)",
                     (start_ms - 3 * 86_400_000, gap_start, gap_start))
        conn.execute("INSERT INTO daemon_runs (started_at, pid, version, site, heartbeat_at)"
                     " VALUES (?, 4321, '0.1.0', 'paris-1', ?)",
                     (gap_start + GAP_SECONDS * 1000, end_ms + 3600_000))
        conn.execute("""
            INSERT INTO incidents (endpoint_id, start, source, ack_at, ack_by)
            SELECT ev.endpoint_id, c.at, 'detected', c.at + 1800000, 'oncall'
            FROM bench_ev ev JOIN checks c ON c.endpoint_id = ev.endpoint_id
                AND c.at >= :start + ev.k0 * :iv AND c.at < :start + (ev.k0 + 1) * :iv
            WHERE ev.state = 2 AND ev.k1 > ev.k0 AND ev.endpoint_id % 2 = 0
        """, {"start": start_ms, "iv": interval_ms})
        for table in ("bench_ep", "bench_slot", "bench_ev", "bench_evslot", "bench_lat"):
            conn.execute(f"DROP TABLE temp.{table}")
    conn.execute("PRAGMA journal_mode = WAL")  # as the daemon leaves it
    conn.execute("ANALYZE")
    store.close()
    return {"checks": checks, "runs": runs, "rollups": rollups, "timings": timings}


def runs_and_rollups(conn, endpoint_id: int, bucket_of: dict[int, int]) -> tuple[list, list]:
    """The rows of runs and rollups of one endpoint, from its checks."""
    factor = sla.COVERAGE_FACTOR
    run_rows: list[tuple] = []
    hours: dict[int, list] = {}
    run = None  # [start, last, end, state, error_class, count, interval_ms]
    for at, state, error_class, interval_ms, total in conn.execute(
            "SELECT c.at, c.state, c.error_class, s.interval_ms, c.total FROM checks c"
            " JOIN settings s ON s.id = c.setting_id WHERE c.endpoint_id = ? ORDER BY c.at",
            (endpoint_id,)):
        if (run is not None and state == run[3] and error_class == run[4] and interval_ms == run[6]
                and at <= run[2]):
            run[1], run[2], run[5] = at, at + round(factor * interval_ms), run[5] + 1
        else:
            if run is not None:
                run[2] = min(run[2], at)
                run_rows.append((endpoint_id, *run))
            run = [at, at, at + round(factor * interval_ms), state, error_class, 1, interval_ms]
        hour = hours.get(at - at % HOUR_MS)
        if hour is None:
            hour = hours[at - at % HOUR_MS] = [0, 0, 0, 0, 0, {}]
        hour[state] += 1
        if total is not None and state != 2:
            hour[3] += 1
            hour[4] += total
            bucket = bucket_of[total]
            hour[5][bucket] = hour[5].get(bucket, 0) + 1
    if run is not None:
        run_rows.append((endpoint_id, *run))
    hour_rows = [(endpoint_id, hour, up, degraded, down, n, total, _encode_histogram(histogram))
                 for hour, (up, degraded, down, n, total, histogram) in hours.items()]
    return run_rows, hour_rows


def verify_runs(conn, codec: _Codec, endpoint_id: int) -> None:
    """The stored runs of one endpoint must be exactly sla.runs_from_checks of its checks, and
    its rollups exactly what the writer's _RollupDeltas makes of them."""
    rows = conn.execute(
        f"SELECT {', '.join(_CHECK_COLUMNS)} FROM checks WHERE endpoint_id = ? ORDER BY at", (endpoint_id,)
    ).fetchall()
    deltas = _RollupDeltas()
    for row in rows:
        deltas.add(row)
    conn.execute("SAVEPOINT verify")
    conn.execute("DELETE FROM rollups WHERE endpoint_id = ?", (endpoint_id,))
    deltas.apply(conn)
    rebuilt = conn.execute("SELECT * FROM rollups WHERE endpoint_id = ? ORDER BY hour", (endpoint_id,)).fetchall()
    conn.execute("ROLLBACK TO verify")
    conn.execute("RELEASE verify")
    stored = conn.execute("SELECT * FROM rollups WHERE endpoint_id = ? ORDER BY hour", (endpoint_id,)).fetchall()
    if stored != rebuilt:
        sys.exit(f"bench bug: rollups of endpoint {endpoint_id} differ from the writer's")
    expected = [codec.run_row(endpoint_id, run) for run in sla.runs_from_checks(map(codec.check, rows))]
    stored = conn.execute("SELECT * FROM runs WHERE endpoint_id = ? ORDER BY start", (endpoint_id,)).fetchall()
    if stored != expected:
        diff = next(i for i, (a, b) in enumerate(zip(stored + [None] * len(expected), expected + [None] * len(stored)))
                    if a != b)
        sys.exit(f"bench bug: runs of endpoint {endpoint_id} differ from sla.runs_from_checks at run {diff}:"
                 f" {stored[diff:diff + 1]} != {expected[diff:diff + 1]}")


def history_of(path: Path) -> dict | None:
    """The size of an existing bench database, or None if it is not one."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {
                "checks": conn.execute("SELECT count(*) FROM checks").fetchone()[0],
                "runs": conn.execute("SELECT count(*) FROM runs").fetchone()[0],
                "rollups": conn.execute("SELECT count(*) FROM rollups").fetchone()[0],
                "endpoints": conn.execute("SELECT count(*) FROM endpoints").fetchone()[0],
                "interval": conn.execute("SELECT max(interval_s) FROM endpoints").fetchone()[0],
            }
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def sizes(path: Path) -> tuple[int, dict[str, int]]:
    """The database's size on disk (with any WAL) and each table's pages, from dbstat."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        by_table = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    finally:
        conn.close()
    total = sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal") if os.path.exists(f"{path}{s}"))
    return total, by_table


# ------------------------------------------------------------------ timing the CLI


def write_config(path: Path, endpoints: int) -> None:
    lines = [
        '[probe]', 'site = "paris-1"', '',
        '[sla]', 'target = 99.8', 'timezone = "Europe/Paris"', '',
        '[report]', 'provider = "Example SaaS"', 'client = "Example Client"', '',
        '[[maintenance]]', 'every = "sunday"', 'at = "02:00"', 'duration = "1h"',
        'reason = "weekly maintenance"', '',
    ]
    for index in range(endpoints):
        name = f"service-{index:04d}"
        lines += ['[[endpoint]]', f'name = "{name}"', f'url = "https://{name}.example.com/health"',
                  'max_latency = "2s"']
        if index % 10 == 9:
            lines.append('max_severity = "major"')
        lines.append('')
    path.write_text("\n".join(lines), encoding="utf-8")


def time_report(db: Path, config: Path, fmt: str, out: Path, repeat: int) -> list[float]:
    command = [sys.executable, "-m", "probe", "report", "--config", str(config), "--db", str(db),
               "--month", f"{YEAR:04d}-{MONTH:02d}", "--format", fmt, "--output", str(out)]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            sys.exit(f"report failed ({done.returncode}): {done.stderr.strip()}")
    return times


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB RAM;"
            f" {platform.platform()}; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between checks (default 60)")
    parser.add_argument("--compare-interval", type=float, default=300.0,
                        help="the second database's interval, for the scaling comparison (0: skip)")
    parser.add_argument("--db", type=Path, help="the main database (kept; reused if it holds this history)")
    parser.add_argument("--rebuild", action="store_true", help="build the databases even if present")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each report (default 3)")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds a report may take")
    parser.add_argument("--max-bytes", type=float, default=60.0, help="bytes per check allowed")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="probe-report-scale-"))
    say = lambda text: print(text, flush=True)  # noqa: E731
    say(f"machine: {machine()}")
    say(f"date: {datetime.now().astimezone().isoformat(timespec='seconds')}")
    main_db = args.db or Path(tempfile.gettempdir()) / f"probe-bench-{args.endpoints}x{args.interval:g}s.db"
    databases = [(args.interval, main_db)]
    if args.compare_interval:
        databases.append((args.compare_interval,
                          main_db.with_name(f"{main_db.stem}-every{args.compare_interval:g}s{main_db.suffix}")))
    config = workdir / "probe.toml"
    write_config(config, args.endpoints)
    results = []
    failed = False
    try:
        for interval, db in databases:
            say(f"\n== {args.endpoints} endpoints, a check every {interval:g} s, {YEAR}-{MONTH:02d} ({db})")
            found = history_of(db)
            if (args.rebuild or found is None or found["endpoints"] != args.endpoints
                    or found["interval"] != interval):
                started = time.perf_counter()
                built = build(db, args.endpoints, interval, say)
                say(f"  built in {time.perf_counter() - started:.0f}s")
            else:
                built = found
                say(f"  reusing it ({found['checks']:,} checks, {found['runs']:,} runs)")
            total, by_table = sizes(db)
            per_check = total / built["checks"]
            say(f"  database: {total / 2**20:,.0f} MiB, {per_check:.1f} bytes per check"
                + ("" if per_check <= args.max_bytes else f"  ** over {args.max_bytes:g} **"))
            for name, size in sorted(by_table.items(), key=lambda item: -item[1])[:6]:
                say(f"    {name:<28} {size / 2**20:10,.1f} MiB  {size / built['checks']:6.1f} B/check")
            failed |= per_check > args.max_bytes and interval == args.interval
            row = {"interval": interval, "checks": built["checks"], "runs": built["runs"],
                   "rollups": built["rollups"], "bytes_per_check": per_check, "size": total}
            for fmt in ("json", "html"):
                times = time_report(db, config, fmt, workdir / f"report.{fmt}", args.repeat)
                row[fmt] = times
                verdict = "ok" if min(times) <= args.budget else f"** over {args.budget:g} s **"
                failed |= min(times) > args.budget
                say(f"  probe report --format {fmt}: best {min(times):.2f}s, median"
                    f" {statistics.median(times):.2f}s over {len(times)} cold runs  {verdict}"
                    f"  ({(workdir / f'report.{fmt}').stat().st_size / 2**20:.1f} MiB)")
            results.append(row)
        if len(results) == 2:
            a, b = results
            say(f"\nscaling: {a['checks'] / b['checks']:.1f}x the checks ->"
                f" json {min(a['json']) / min(b['json']):.2f}x, html {min(a['html']) / min(b['html']):.2f}x"
                f" the time (runs {a['runs']:,} vs {b['runs']:,}; rollups {a['rollups']:,} vs {b['rollups']:,})")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
