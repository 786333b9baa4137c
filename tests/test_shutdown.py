"""SIGTERM in the worst moments: a real daemon, another process holding the database's write
lock; the daemon stops within 5 s and says in one line what it could not write."""

import re
import sqlite3
import time

import pytest

from probe.store import Store
from servers import respond
from test_daemon import Daemon, config_text, no_daemon_left_behind  # noqa: F401 - the fixture


@pytest.mark.parametrize("alerts, workers", [(False, 1), (True, 1), (True, 2)])
def test_sigterm_while_another_process_holds_the_write_lock(tmp_path, servers, certs, alerts, workers):
    ok = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    extra = '[[alerts.webhook]]\nname = "chat"\nurl = "https://127.0.0.1:1/hook"\n' if alerts else ""
    daemon = Daemon(tmp_path, config_text(db, [(f"e{i}", ok, opts) for i in range(10)], f"workers = {workers}") + extra)
    daemon.wait_log("checks are spread")
    time.sleep(2)
    holder = sqlite3.connect(db, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long backup or a stuck tool would
    try:
        time.sleep(2)  # checks wait in the daemon's memory
        started = time.monotonic()
        code = daemon.stop(timeout=15)
        took = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    logs = daemon.logs()
    print(f"stopped in {took:.2f}s")
    assert took < 5, f"stopped in {took:.1f}s"
    assert code == 0, logs
    assert "Traceback" not in logs, logs
    lost = [line for line in logs.splitlines() if "could not be written" in line]
    assert len(lost) == 1, logs
    assert int(re.search(r"(\d+) check", lost[0]).group(1)) > 0
    with Store.open(db) as store:
        assert store.daemon_runs()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_with_checks_that_cannot_finish_and_a_held_write_lock(tmp_path, servers, certs, workers):
    """The worst moment at once: checks in flight that would take 10 s more, alerts configured,
    and another process holding the write lock."""
    from servers import hang

    ok = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    stuck = f"https://127.0.0.1:{servers.serve(hang)}/"
    db = tmp_path / "probe.db"
    fast = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    slow = 'interval = "10s"\ntimeout = "10s"'
    endpoints = [(f"ok{i}", ok, fast) for i in range(5)] + [(f"stuck{i}", stuck, slow) for i in range(5)]
    extra = '[[alerts.webhook]]\nname = "chat"\nurl = "https://127.0.0.1:1/hook"\n'
    daemon = Daemon(tmp_path, config_text(db, endpoints, f"workers = {workers}") + extra)
    daemon.wait_log("checks are spread")
    time.sleep(10.5)  # every stuck endpoint has a check in flight
    holder = sqlite3.connect(db, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        time.sleep(1)
        started = time.monotonic()
        code = daemon.stop(timeout=15)
        took = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    print(f"stopped in {took:.2f}s")
    assert took < 5, f"stopped in {took:.1f}s"
    assert code == 0 and "Traceback" not in daemon.logs(), daemon.logs()
