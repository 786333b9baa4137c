"""probe.store against real SQLite files: schema, writer, runs, rollups, import/export,
backup, full disk, locked database, kill -9."""

from __future__ import annotations

import io
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from probe.result import CheckResult, iso_utc
from probe.sla import Check, runs_from_checks
from probe.store.schema import MIGRATIONS
from probe.store import schema
from probe.store import (
    SCHEMA_VERSION,
    Store,
    StoreError,
    Writer,
    backup,
    bucket_bounds,
    export_jsonl,
    import_jsonl,
    latency_bucket,
    merge_histograms,
    percentile_from_histogram,
)

BASE = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def make_result(at, state="up", error_class=None, total_ms=120.0, **facts) -> CheckResult:
    defaults = dict(
        url="https://a.example/health",
        error=None if state == "up" else f"{error_class} happened",
        http_status=503 if state == "down" else 200,
        dns_ms=1.2,
        connect_ms=10.5,
        tls_ms=20.3,
        ttfb_ms=80.0,
        wait_ms=0.4,
        tls_version="TLSv1.3",
        tls_cipher="TLS_AES_256_GCM_SHA384",
        cert_not_after=BASE + 90 * 86400,
        cert_days_left=90,
        cert_issuer="CN=R11,O=Let's Encrypt,C=US",
        cert_subject="CN=a.example",
    )
    defaults.update(facts)
    return CheckResult(at=at, state=state, error_class=error_class, total_ms=total_ms, **defaults)


def history(rng: random.Random, endpoints: int, per_endpoint: int, interval: float = 60.0):
    """Checks of several endpoints in time order, as (name, result, interval_s, site), with
    state changes, gaps in coverage, and millisecond jitter."""
    items = []
    for number in range(endpoints):
        at, state, error_class = BASE + number, "up", None
        for _ in range(per_endpoint):
            if rng.random() < 0.03:
                state, error_class = rng.choice(
                    [("up", None), ("down", "timeout"), ("down", "http_status"),
                     ("degraded", "too_slow")]
                )  # fmt: skip
            at += interval * (3 if rng.random() < 0.01 else 1) + rng.randint(0, 999) / 1000
            total = None if error_class == "timeout" else round(rng.lognormvariate(4.5, 0.5), 3)
            result = make_result(
                at,
                state,
                error_class,
                total_ms=total,
                dns_ms=round(rng.uniform(0.2, 30), 3),
                connect_ms=round(rng.uniform(1, 50), 3),
                url=f"https://e{number}.example/",
            )
            items.append((f"e{number}", result, interval, "paris-1"))
    items.sort(key=lambda item: item[1].at)
    return items


def as_ms(runs):
    """Runs with their times in ms, as the store keeps them."""
    return [
        (round(r.start * 1000), round(r.last * 1000), round(r.end * 1000), r.state,
         r.error_class, r.count, round(r.interval * 1000))
        for r in runs
    ]  # fmt: skip


def expected_runs(items, name):
    checks = [
        Check(round(result.at * 1000) / 1000, result.state, result.error_class, interval)
        for endpoint, result, interval, _ in sorted(items, key=lambda item: item[1].at)
        if endpoint == name
    ]
    return as_ms(runs_from_checks(checks))


def write_all(path, items, **options) -> None:
    with Writer(path, **options) as writer:
        for item in items:
            writer.submit(*item)


def count_checks(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM checks").fetchone()[0]


def integrity(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


# --- schema -----------------------------------------------------------------------------


def test_new_database_is_wal_at_current_schema_version(tmp_path):
    with Store.open(tmp_path / "probe.db") as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert store.db.journal_mode == "wal"
        assert store.db.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert {"checks", "runs", "rollups", "endpoints", "daemon_runs", "incidents"} <= set(
            store.db.table_names()
        )
    with Store.open(tmp_path / "probe.db") as store:  # reopening migrates nothing
        assert store.schema_version == SCHEMA_VERSION


def test_a_database_of_schema_version_2_gains_the_wait_of_each_check(tmp_path, caplog):
    path = tmp_path / "probe.db"
    write_all(path, [("a", make_result(BASE), 60.0, None)])
    with sqlite3.connect(path) as conn:  # as the probe before version 3 left it
        conn.execute("ALTER TABLE checks DROP COLUMN wait")
        for later in ("ALTER TABLE daemon_runs DROP COLUMN host", "DROP TABLE maintenance", "DROP TABLE imported_spans", "DROP TABLE imports",
                      "ALTER TABLE daemon_runs DROP COLUMN import_id", "ALTER TABLE incidents DROP COLUMN recorded_at", "DROP TABLE tls_audits"):
            conn.execute(later)  # what versions 4 and 5 added
        conn.execute("DROP TABLE pings")  # what a later version added
        for later in ("DROP TABLE upstream_outbox", "DROP TABLE upstream_state", "DROP TABLE hub_sites",
                      "ALTER TABLE daemon_runs DROP COLUMN pushed_at"):
            conn.execute(later)  # what several sites added
        conn.execute("DROP TABLE incident_notes")  # and another
        conn.execute("DROP TABLE job_declarations")  # and another
        conn.execute("PRAGMA user_version = 2")
    caplog.set_level(logging.INFO)
    write_all(path, [("a", make_result(BASE + 60, wait_ms=2.5), 60.0, None)])
    assert f"migrated {path} from schema version 2 to {SCHEMA_VERSION}" in caplog.text
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [result.wait_ms for *_, result in store.checks("a")] == [None, 2.5]  # unknown before


def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "probe.db"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as raised:
        Store.open(path)
    assert str(raised.value) == (
        f"database {path} has schema version {SCHEMA_VERSION + 1}, newer than this probe's "
        f"({SCHEMA_VERSION}): upgrade probe"
    )


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda tmp: tmp / "missing" / "probe.db", "directory {parent} does not exist"),
        (lambda tmp: tmp, "it is a directory"),
        (lambda tmp: (tmp / "junk.db").write_bytes(b"x" * 4096) and tmp / "junk.db",
         "file is not a database"),
    ],
)  # fmt: skip
def test_unusable_path_is_a_one_line_error_naming_it(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(StoreError) as raised:
        Store.open(path)
    message = str(raised.value)
    assert message == f"cannot open database {path}: " + reason.format(parent=path.parent)
    assert "\n" not in message


# --- small real file systems ---------------------------------------------------------------


def mount_tmpfs(directory: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    directory.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.fixture
def tiny_fs(tmp_path):
    directory = tmp_path / "tiny"
    mount_tmpfs(directory, "size=400k")
    yield directory
    subprocess.run(["umount", "-l", str(directory)], check=False)


def test_read_only_file_system_is_a_one_line_error(tmp_path):
    directory = tmp_path / "ro"
    mount_tmpfs(directory, "ro,size=64k")
    try:
        with pytest.raises(StoreError) as raised:
            Store.open(directory / "probe.db")
        assert str(raised.value) == (
            f"cannot open database {directory / 'probe.db'}: cannot write in {directory}"
        )
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def test_full_disk_keeps_checks_in_memory_and_writes_them_when_space_returns(tiny_fs, caplog):
    path = tiny_fs / "probe.db"
    writer = Writer(path, commit_interval=0.05, retry_max=0.1)
    items = history(random.Random(1), endpoints=2, per_endpoint=1000)
    for item in items[:100]:
        writer.submit(*item)
    assert writer.flush(5)
    filler = tiny_fs / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:  # no space left on device
            pass
    with caplog.at_level(logging.ERROR, logger="probe.store"):
        for item in items[100:]:
            writer.submit(*item)
        wait_for(lambda: writer.write_errors >= 3)
        assert writer.queue_depth() == len(items) - 100
        assert writer.dropped == 0
        assert "disk is full" in writer.last_error
        errors = [r for r in caplog.records if r.name == "probe.store"]
        assert len(errors) == 1  # once, not once per attempt
        assert "database or disk is full" in errors[0].getMessage()
    filler.unlink()
    assert writer.flush(10)
    assert writer.close()
    assert count_checks(path) == len(items)
    assert integrity(path) == "ok"
    with Store.open(path) as store:
        for name in ("e0", "e1"):
            assert as_ms(store.runs(name)) == expected_runs(items, name)


# --- the writer ----------------------------------------------------------------------------


def test_writer_batches_and_commits_on_close(tmp_path):
    path = tmp_path / "probe.db"
    writer = Writer(path, commit_interval=60)
    items = history(random.Random(2), endpoints=3, per_endpoint=10)
    for item in items:
        writer.submit(*item)
    time.sleep(0.2)
    assert count_checks(path) == 0  # waiting for its batch to fill or commit_interval
    assert writer.queue_depth() == len(items)
    assert writer.close()
    assert count_checks(path) == len(items)
    assert writer.stats().written == len(items) and writer.queue_depth() == 0


def test_writer_commits_within_commit_interval_and_on_flush(tmp_path):
    path = tmp_path / "probe.db"
    with Writer(path, commit_interval=0.1) as writer:
        writer.submit(*history(random.Random(3), 1, 1)[0])
        wait_for(lambda: count_checks(path) == 1, timeout=2)
    with Writer(path, commit_interval=60) as writer:
        writer.submit("e9", make_result(BASE), 60.0, "paris-1")
        assert writer.flush(5)
        assert count_checks(path) == 2


def test_locked_database_holds_checks_until_the_lock_goes(tmp_path, caplog):
    path = tmp_path / "probe.db"
    Store.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    writer = Writer(path, commit_interval=0.01, busy_timeout=0.02, retry_max=0.05)
    items = history(random.Random(4), endpoints=2, per_endpoint=25)
    with caplog.at_level(logging.ERROR, logger="probe.store"):
        for item in items:
            writer.submit(*item)
        wait_for(lambda: writer.write_errors >= 3)
        assert [r.getMessage() for r in caplog.records if r.name == "probe.store"] == [
            f"cannot write to {path}: database is locked; keeping {len(items)} checks in "
            "memory and retrying"
        ]
    assert writer.queue_depth() == len(items)
    other.execute("COMMIT")
    other.close()
    assert writer.close(5)
    assert count_checks(path) == len(items)


def test_buffer_limit_drops_the_oldest_and_counts_them(tmp_path):
    path = tmp_path / "probe.db"
    Store.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    writer = Writer(path, commit_interval=0.01, busy_timeout=0.01, retry_max=0.05, buffer_limit=10)
    items = history(random.Random(5), endpoints=1, per_endpoint=25)
    for item in items:
        writer.submit(*item)
    wait_for(lambda: writer.write_errors >= 1 and writer.dropped == 15)
    other.execute("COMMIT")
    other.close()
    assert writer.close(5)
    with Store.open(path) as store:
        kept = [result.at for *_, result in ((n, i, s, r) for n, i, s, r in store.checks())]
    assert kept == [round(item[1].at * 1000) / 1000 for item in items[15:]]


def test_runs_folded_by_the_writer_equal_runs_from_checks(tmp_path):
    path = tmp_path / "probe.db"
    rng = random.Random(6)
    items = history(rng, endpoints=4, per_endpoint=600)
    # the interval of one endpoint changes halfway: a new run
    items = [
        (name, result, 30.0 if name == "e3" and index > 1200 else interval, site)
        for index, (name, result, interval, site) in enumerate(items)
    ]
    with Writer(path, commit_interval=0.01, batch_size=97) as writer:
        for start in range(0, len(items), 250):
            for item in items[start : start + 250]:
                writer.submit(*item)
            writer.flush(5)
    with Store.open(path) as store:
        for number in range(4):
            runs = store.runs(f"e{number}")
            assert as_ms(runs) == expected_runs(items, f"e{number}")
            assert len(runs) > 5


def test_reopened_writer_continues_the_open_run(tmp_path):
    path = tmp_path / "probe.db"
    write_all(path, [("web", make_result(BASE + 60 * i), 60.0, "s") for i in range(5)])
    write_all(path, [("web", make_result(BASE + 60 * i), 60.0, "s") for i in range(5, 9)])
    with Store.open(path) as store:
        [run] = store.runs("web")
    assert (run.start, run.last, run.count, run.end) == (BASE, BASE + 480, 9, BASE + 570)


def test_a_check_older_than_the_open_run_rebuilds_the_runs(tmp_path):
    path = tmp_path / "probe.db"
    items = [("web", make_result(BASE + 60 * i), 60.0, "s") for i in range(10)]
    items.append(("web", make_result(BASE + 150, "down", "connect"), 60.0, "s"))
    items.append(("web", make_result(BASE + 120), 60.0, "s"))  # a duplicate: ignored
    write_all(path, items[:10])
    write_all(path, items[10:])
    with Store.open(path) as store:
        assert as_ms(store.runs("web")) == expected_runs(items[:11], "web")
        assert sum(r.checks for r in store.rollups("web")) == 11


def test_runs_query_includes_the_run_covering_since(tmp_path):
    path = tmp_path / "probe.db"
    items = [("web", make_result(BASE + 60 * i), 60.0, "s") for i in range(10)]
    items += [("web", make_result(BASE + 600 + 60 * i, "down", "dns"), 60.0, "s") for i in range(5)]
    write_all(path, items)
    with Store.open(path) as store:
        up, down = store.runs("web")
        assert store.runs("web", since=BASE + 300, until=BASE + 700) == [up, down]
        assert store.runs("web", since=BASE + 600) == [down]  # up ended at 600
        assert store.runs("web", until=BASE + 600) == [up]
        assert store.runs("nobody") == []


# --- rollups --------------------------------------------------------------------------------


def test_hourly_rollups_count_states_and_latencies(tmp_path):
    path = tmp_path / "probe.db"
    rng = random.Random(7)
    latencies = [rng.lognormvariate(5, 0.6) for _ in range(120)]
    items = [
        ("web", make_result(BASE + 30 * i, total_ms=latency), 30.0, "s")
        for i, latency in enumerate(latencies)
    ]
    items += [
        ("web", make_result(BASE + 3600 + 30 * i + 15, "down", "timeout", total_ms=10_000), 30.0,
         "s")
        for i in range(7)
    ]  # fmt: skip
    write_all(path, items)
    with Store.open(path) as store:
        first, second = store.rollups("web")
        assert store.rollups("web", since=BASE + 3599) == [first, second]
        assert store.rollups("web", since=BASE + 3600) == [second]
    assert (first.hour, first.up, first.degraded, first.down) == (BASE, 120, 0, 0)
    assert (second.hour, second.up, second.down, second.latency_count) == (BASE + 3600, 0, 7, 0)
    assert first.latency_count == 120
    assert first.latency_sum_ms == pytest.approx(sum(latencies), abs=0.05 * 120)
    for q in (0.5, 0.95):
        exact = sorted(latencies)[round(q * 120) - 1]
        estimate = percentile_from_histogram(merge_histograms([first.histogram]), q)
        assert estimate == pytest.approx(exact, rel=0.13)


def test_percentile_from_histogram():
    assert percentile_from_histogram({}, 0.5) is None
    bucket = latency_bucket(100.0)
    low, high = bucket_bounds(bucket)
    assert low <= 100.0 < high and high / low == pytest.approx(10 ** (1 / 20))
    assert percentile_from_histogram({bucket: 10}, 0.0) == pytest.approx(low)
    assert percentile_from_histogram({bucket: 10}, 1.0) == pytest.approx(high)
    histogram = merge_histograms([{latency_bucket(10): 90}, {latency_bucket(1000): 10}])
    assert 8.9 < percentile_from_histogram(histogram, 0.5) < 11.3
    assert 890 < percentile_from_histogram(histogram, 0.99) < 1130
    assert latency_bucket(0.3) == 0 and latency_bucket(1e30) == 255
    with pytest.raises(ValueError):
        percentile_from_histogram(histogram, 95)


# --- export and import ---------------------------------------------------------------------


def export_text(path, **filters) -> str:
    """The checks of an export (its paper-trail records, tested in test_provenance, left out)."""
    out = io.StringIO()
    with Store.open(path) as store:
        export_jsonl(store, out, **filters)
    return "".join(line for line in out.getvalue().splitlines(keepends=True) if '"record"' not in line)


def import_text(path, text: str, **options):
    with Store.open(path) as store:
        return import_jsonl(store, io.StringIO(text), **options)


def test_export_import_round_trip_is_identical(tmp_path):
    items = history(random.Random(8), endpoints=3, per_endpoint=300)
    bare = CheckResult(url="https://b/", at=BASE + 5, state="down", error_class="dns", error="NX")
    items.append(("bare", bare, 60.0, None))
    write_all(tmp_path / "a.db", items)
    exported = export_text(tmp_path / "a.db")
    lines = exported.splitlines()
    assert len(lines) == len(items)
    first = json.loads(lines[0])
    assert list(first) == ["endpoint", *make_result(0).to_json(), "interval_s", "site"]
    stats = import_text(tmp_path / "b.db", exported)
    assert (stats.added, stats.skipped_duplicates, stats.errors) == (len(items), 0, [])
    assert export_text(tmp_path / "b.db") == exported
    with Store.open(tmp_path / "a.db") as a, Store.open(tmp_path / "b.db") as b:
        for name in ("e0", "e1", "e2", "bare"):
            assert a.runs(name) == b.runs(name)
            assert a.rollups(name) == b.rollups(name)
            assert a.last_check(name) == b.last_check(name)
    one = export_text(tmp_path / "a.db", endpoint="e1", since=BASE + 3600, until=BASE + 7200)
    assert {json.loads(line)["endpoint"] for line in one.splitlines()} == {"e1"}
    assert len(one.splitlines()) == sum(
        1 for name, result, *_ in items if name == "e1" and BASE + 3600 <= result.at < BASE + 7200
    )


def test_importing_twice_adds_nothing(tmp_path):
    items = history(random.Random(9), endpoints=2, per_endpoint=100)
    write_all(tmp_path / "a.db", items)
    exported = export_text(tmp_path / "a.db")
    assert import_text(tmp_path / "a.db", exported).added == 0
    stats = import_text(tmp_path / "b.db", exported + exported)  # duplicates within a file
    assert (stats.added, stats.skipped_duplicates) == (200, 200)
    stats = import_text(tmp_path / "b.db", exported)
    assert (stats.added, stats.skipped_duplicates) == (0, 200)
    assert export_text(tmp_path / "b.db") == exported


def test_import_of_older_checks_updates_runs_and_rollups(tmp_path):
    path = tmp_path / "probe.db"
    items = history(random.Random(10), endpoints=2, per_endpoint=400)
    recent, older = items[len(items) // 2 :], items[: len(items) // 2]
    older_only_some = older[::2] + recent[::7]  # interleaves with stored checks too
    write_all(path, recent)
    write_all(tmp_path / "old.db", older_only_some)
    stats = import_text(path, export_text(tmp_path / "old.db"))
    assert stats.added == len(older[::2]) and stats.skipped_duplicates == len(recent[::7])
    everything = recent + older[::2]
    with Store.open(path) as store:
        for name in ("e0", "e1"):
            assert as_ms(store.runs(name)) == expected_runs(everything, name)
            assert sum(r.checks for r in store.rollups(name)) == sum(
                1 for item in everything if item[0] == name
            )
        # the writer picks up where the import left the runs
    last = max(item[1].at for item in items)
    write_all(path, [("e0", make_result(last + 60), 60.0, "paris-1")])
    with Store.open(path) as store:
        extra = everything + [("e0", make_result(last + 60), 60.0, "paris-1")]
        assert as_ms(store.runs("e0")) == expected_runs(extra, "e0")


def test_a_bad_line_stops_the_import_and_writes_nothing(tmp_path):
    items = history(random.Random(11), endpoints=1, per_endpoint=5)
    write_all(tmp_path / "a.db", items)
    lines = export_text(tmp_path / "a.db").splitlines()
    broken = json.loads(lines[2])
    broken["state"] = "sideways"
    lines[2] = json.dumps(broken)
    lines.insert(4, "{not json")
    text = "\n".join(lines) + "\n"
    with pytest.raises(StoreError) as raised:
        import_text(tmp_path / "b.db", text)
    assert str(raised.value) == "line 3: state must be one of up, degraded, down, not 'sideways'"
    assert count_checks(tmp_path / "b.db") == 0
    stats = import_text(tmp_path / "b.db", text, skip_errors=True)
    assert stats.added == 4
    assert stats.errors == [
        "line 3: state must be one of up, degraded, down, not 'sideways'",
        "line 5: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
    ]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"at": None}, "missing at"),
        ({"at": "yesterday"}, "at must be an ISO 8601 time, not 'yesterday'"),
        ({"interval_s": 0}, "interval_s must be between 0.001 and 86400 \\(a day\\), not 0"),
        ({"total_ms": "fast"}, "total_ms must be a number or null, not 'fast'"),
        ({"error_class": "gremlins"}, "unknown error_class 'gremlins'"),
        # numbers that would overflow the store or every later export
        ({"at": 1_790_000_000_000}, "at 1790000000000 is more than a day ahead of now \\(milliseconds where seconds"
                                    " are meant\\?\\)"),
        ({"at": float("inf")}, "at inf is not a time between 1970 and 9999"),
        ({"at": float("nan")}, "at nan is not a time between 1970 and 9999"),
        ({"at": 1e20}, "at 1e\\+20 is not a time between 1970 and 9999"),
        ({"at": 2**64}, "at 18446744073709551616 is not a time between 1970 and 9999"),
        ({"at": -1}, "at -1 is before 1970"),
        ({"at": "1969-12-31T23:59:59Z"}, "at '1969-12-31T23:59:59Z' is before 1970"),
        ({"at": "0001-01-02T00:00:00Z"}, "at '0001-01-02T00:00:00Z' is before 1970"),
        ({"total_ms": float("inf")}, "total_ms must be between 0 and 86400000 \\(a day\\), not inf"),
        ({"total_ms": 1e20}, "total_ms must be between 0 and 86400000 \\(a day\\), not 1e\\+20"),
        ({"dns_ms": -5}, "dns_ms must be between 0 and 86400000 \\(a day\\), not -5"),
        ({"http_status": 2**64}, "http_status must be between 0 and 999, not 18446744073709551616"),
        ({"cert_days_left": 2**64}, "cert_days_left must be between -3000000 and 3000000, not 18446744073709551616"),
        ({"interval_s": 1e400}, "interval_s must be between 0.001 and 86400 \\(a day\\), not inf"),
        ({"cert_not_after": 1e20}, "cert_not_after must be between 1970 and 9999, not 1e\\+20"),
        # names shown on terminals and in logs
        ({"endpoint": "web\n"}, "endpoint holds a control character \\(\\\\n\\)"),
        ({"endpoint": "web\x1b[2J"}, "endpoint holds a control character \\(\\\\x1b\\)"),
        ({"endpoint": "\u202eweb"}, "endpoint holds a control character \\(\\\\u202e\\)"),
        ({"site": "paris\x00"}, "site holds a control character \\(\\\\x00\\)"),
    ],
)
def test_import_line_errors(tmp_path, change, message):
    record = {"endpoint": "web", "at": "2026-01-01T00:00:00Z", "state": "up", "interval_s": 60}
    minimal = json.dumps(record)  # url, timings, tls and certificate facts may be absent
    assert import_text(tmp_path / "ok.db", minimal).added == 1
    with pytest.raises(StoreError, match=f"^line 2: {message}$"):
        import_text(tmp_path / "b.db", "\n".join([minimal, json.dumps({**record, **change})]))
    assert count_checks(tmp_path / "b.db") == 0


def test_a_line_that_is_not_utf8_is_a_line_error(tmp_path):
    good = b'{"endpoint": "web", "at": "2026-01-01T00:00:00Z", "state": "up", "interval_s": 60}\n'
    bad = b'{"endpoint": "w\xffb", "at": "2026-01-01T00:01:00Z", "state": "up", "interval_s": 60}\n'
    with Store.open(tmp_path / "a.db") as store:
        with pytest.raises(StoreError, match=r"^line 2: not UTF-8 text \(byte 0xff at column 16\)$"):
            import_jsonl(store, [good, bad])
        stats = import_jsonl(store, [good, bad], skip_errors=True)
    assert stats.added == 1 and stats.errors == ["line 2: not UTF-8 text (byte 0xff at column 16)"]


def test_checks_ahead_of_now_are_imported_when_asked(tmp_path):
    line = json.dumps({"endpoint": "web", "at": time.time() + 30 * 86400, "state": "up", "interval_s": 60})
    with pytest.raises(StoreError, match="more than a day ahead of now"):
        import_text(tmp_path / "a.db", line)
    assert import_text(tmp_path / "a.db", line, future=True).added == 1
    near = json.dumps({"endpoint": "web", "at": time.time() + 3600, "state": "up", "interval_s": 60})
    assert import_text(tmp_path / "a.db", near).added == 1  # clocks differ: an hour ahead is fine


def test_import_of_100k_lines(tmp_path):
    """100 000 lines in one import (its speed is measured by bench/import_speed.py)."""
    rng = random.Random(12)
    template = json.dumps(
        {"endpoint": "{endpoint}", **make_result(BASE).to_json(), "interval_s": 60.0, "site": "s"}
    )
    template = template.replace('"total_ms": 120.0', '"total_ms": {total}')
    template = template.replace('"2026-01-01T00:00:00Z"', '"{at}"', 1)
    lines = [
        template.replace("{endpoint}", f"e{i % 10}")
        .replace("{at}", iso_utc(BASE + 6 * i + rng.randint(0, 999) / 1000))
        .replace("{total}", str(round(rng.uniform(50, 500), 1)))
        + "\n"
        for i in range(100_000)
    ]
    started = time.perf_counter()
    with Store.open(tmp_path / "probe.db") as store:
        stats = import_jsonl(store, lines)
    print(f"\nimport of 100 000 lines: {time.perf_counter() - started:.2f} s")
    assert stats.added == 100_000
    with Store.open(tmp_path / "probe.db") as store:
        assert sum(r.count for r in store.runs("e0")) == 10_000


# --- size ----------------------------------------------------------------------------------


def test_a_check_takes_less_than_60_bytes_on_disk(tmp_path):
    path = tmp_path / "probe.db"
    items = history(random.Random(13), endpoints=10, per_endpoint=2000)
    write_all(path, items, batch_size=1000)
    with Store.open(path) as store:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size / len(items)
        store.db.execute("VACUUM")
    after = path.stat().st_size / len(items)
    print(f"\nbytes per check: {after:.1f} after VACUUM, {before:.1f} as written")
    assert after < 60


# --- backup --------------------------------------------------------------------------------


def test_backup_while_the_writer_writes(tmp_path):
    path = tmp_path / "probe.db"
    items = history(random.Random(14), endpoints=5, per_endpoint=2000)
    writer = Writer(path, commit_interval=0.01, batch_size=200)
    done = threading.Event()

    def feed():
        for number, item in enumerate(items):
            writer.submit(*item)
            if number % 200 == 0:
                time.sleep(0.005)
        done.set()

    threading.Thread(target=feed).start()
    wait_for(lambda: count_checks(path) > 500)
    copies = []
    while not done.is_set() or not copies:
        copies.append(backup(path, tmp_path / f"copy{len(copies)}.db"))
    writer.close()
    for copy in copies:
        assert integrity(copy) == "ok"
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            checks = conn.execute("SELECT count(*) FROM checks").fetchone()[0]
            in_runs = conn.execute("SELECT sum(count) FROM runs").fetchone()[0]
        assert checks == in_runs > 0  # a snapshot between two transactions
    assert not list(tmp_path.glob("*.partial"))
    with pytest.raises(StoreError, match="directory .* does not exist"):
        backup(path, tmp_path / "nowhere" / "copy.db")


# --- a killed daemon -------------------------------------------------------------------------

CHILD = """
import sys, time
from probe.result import CheckResult, iso_utc
from probe.store import Writer
writer = Writer(sys.argv[1])
n = 0
while True:
    for _ in range(50):
        at = {base} + n
        writer.submit(f"e{{n % 5}}", CheckResult(url="https://x/", at=at, state="up",
                      total_ms=100.0), 60.0, "s")
        n += 1
    print(n, flush=True)
    time.sleep(0.025)
"""


def test_kill_9_loses_at_most_the_last_tenth_of_a_second(tmp_path):
    path = tmp_path / "probe.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(base=BASE), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    readings = []  # (when, checks submitted by then)
    try:
        while not readings or readings[-1][1] < 4000:  # about 2 s at 2000 checks/s
            readings.append((time.monotonic(), int(child.stdout.readline())))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        child.wait()
    assert integrity(path) == "ok"
    stored = count_checks(path)
    submitted = readings[-1][1]
    # committed every 0.1 s: what was submitted 0.4 s before the kill is stored (the margin
    # covers the pipe and a busy machine)
    before = max((n for when, n in readings if when <= killed_at - 0.4), default=0)
    print(f"\nkill -9: {submitted} submitted, {stored} stored")
    assert before <= stored <= submitted + 500
    with sqlite3.connect(path) as conn:
        in_runs = conn.execute("SELECT sum(count) FROM runs").fetchone()[0]
        in_rollups = conn.execute("SELECT sum(up + degraded + down) FROM rollups").fetchone()[0]
    assert in_runs == in_rollups == stored


# --- retention, daemon runs, incidents --------------------------------------------------------


def test_prune_deletes_raw_checks_only(tmp_path):
    path = tmp_path / "probe.db"
    items = [("web", make_result(BASE + 600 * i), 600.0, "s") for i in range(20)]
    write_all(path, items)
    with Store.open(path) as store:
        runs, rollups = store.runs("web"), store.rollups("web")
        assert store.prune(BASE + 6000) == 10
        assert store.runs("web") == runs and store.rollups("web") == rollups
        assert [c[3].at for c in store.checks()] == [BASE + 600 * i for i in range(10, 20)]
        # re-importing the pruned period adds nothing: its runs and rollups are settled
        back = "".join(
            json.dumps({"endpoint": "web", **r.to_json(), "interval_s": 600.0}) + "\n"
            for _, r, _, _ in items[:12]
        )
        stats = import_jsonl(store, io.StringIO(back))
        # told apart: 2 are stored already, 10 are older than the raw checks kept
        assert (stats.added, stats.skipped_duplicates, stats.skipped_pruned) == (0, 2, 10)
        assert store.runs("web") == runs and store.rollups("web") == rollups
        assert store.retention_days == 400
    with Store.open(path, retention_days=(time.time() - BASE - 8000) / 86400) as store:
        assert store.prune() == 4  # the default: older than retention_days
        assert store.runs("web") == runs


def test_daemon_runs_record_crashes(tmp_path):
    path = tmp_path / "probe.db"
    with Store.open(path) as store:
        first = store.start_daemon_run(pid=10, version="0.1.0", site="paris-1")
        store.heartbeat(first, at=BASE + 100)
        second = store.start_daemon_run(pid=11, version="0.1.0", site="paris-1")
        with Writer(store) as writer:  # heartbeats through the writer's thread
            writer.heartbeat(second, BASE + 200, {"queue": writer.queue_depth()})
            assert writer.healthy()
        store.stop_daemon_run(second, "stop")
        crashed, stopped = store.daemon_runs()
    assert stopped.status == {"queue": 0}
    assert (crashed.id, crashed.stop_reason, crashed.pid) == (first, "crash", 10)
    assert crashed.stopped_at >= BASE + 100  # its last heartbeat, or later
    assert (stopped.id, stopped.stop_reason, stopped.stopped_at is not None) == (
        second, "stop", True
    )


def test_incidents_manual_and_acknowledged_detected(tmp_path):
    path = tmp_path / "probe.db"
    write_all(path, [("web", make_result(BASE), 60.0, "s")])
    with Store.open(path) as store:
        manual = store.open_incident("web", BASE + 10, "major", "wrong totals on invoices")
        store.ack_incident(manual, by="alice", at=BASE + 20)
        store.close_incident(manual, at=BASE + 30)
        detected = store.ack_incident(endpoint="web", start=BASE + 40.5, by="bob", at=BASE + 50)
        again = store.ack_incident(endpoint="web", start=BASE + 40.5, by="carol", at=BASE + 60)
        assert again == detected
        one, two = store.list_incidents("web", since=BASE, until=BASE + 100)
        assert (one.source, one.ack_by, one.end, one.closed_at) == (
            "manual", "alice", BASE + 30, BASE + 30
        )
        assert (two.source, two.start, two.ack_by, two.ack_at) == (
            "detected", BASE + 40.5, "carol", BASE + 60
        )
        assert store.list_incidents(since=BASE + 31) == [two]
        assert store.detected_incident("web", BASE + 40.5) == two
        assert store.detected_incident("web", BASE + 40) is None
        with pytest.raises(StoreError, match="no endpoint 'nobody'"):
            store.open_incident("nobody", BASE, "minor", "x")
        with pytest.raises(StoreError, match="severity must be"):
            store.open_incident("web", BASE, "urgent", "x")


def test_endpoints_and_last_check(tmp_path):
    path = tmp_path / "probe.db"
    write_all(
        path,
        [
            ("web", make_result(BASE), 60.0, "s"),
            ("web", make_result(BASE + 60, url="https://new/"), 30.0, "s"),
        ],
    )
    with Store.open(path) as store:
        [web] = store.endpoints()
        assert (web.name, web.url, web.interval_s, web.site, web.first_seen) == (
            "web", "https://new/", 30.0, "s", BASE
        )
        assert store.last_check("web") == make_result(BASE + 60, url="https://new/")
        assert store.last_check("nobody") is None
        # an older check, imported, moves first_seen but leaves the newest settings
        older = {"endpoint": "web", **make_result(BASE - 600, url="https://old/").to_json(),
                 "interval_s": 120.0, "site": "s"}  # fmt: skip
        import_jsonl(store, [json.dumps(older)])
        [web] = store.endpoints()
        assert (web.url, web.interval_s, web.site, web.first_seen) == (
            "https://new/", 30.0, "s", BASE - 600
        )
