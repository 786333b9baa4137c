"""The database deleted or replaced under a running daemon: it says so loudly within seconds
and exits 74, and started again it records on the new file (real processes, real files)."""

import os
import sqlite3
import time

import pytest

from probe.store import Store
from servers import respond
from test_daemon import Daemon, config_text, no_daemon_left_behind  # noqa: F401 - the fixture


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_database_deleted_or_replaced_under_the_daemon(tmp_path, servers, certs, how):
    ok = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    text = config_text(db, [("a", ok, opts)])
    daemon = Daemon(tmp_path, text)
    daemon.wait_log("checks are spread")
    time.sleep(1.5)
    if how == "deleted":
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"probe.db{suffix}").unlink(missing_ok=True)
    else:
        other = tmp_path / "other.db"
        sqlite3.connect(other).close()
        os.replace(other, db)
    started = time.monotonic()
    assert daemon.process.wait(10) == 74
    assert time.monotonic() - started < 5
    logs = daemon.logs()
    lines = [line for line in logs.splitlines() if f"was {how}" in line]
    assert len(lines) == 1 and "CRITICAL" in lines[0] and str(db) in lines[0], logs
    assert "Traceback" not in logs
    if how == "replaced":
        db.unlink()
        for suffix in ("-wal", "-shm"):
            (tmp_path / f"probe.db{suffix}").unlink(missing_ok=True)
    again = Daemon(tmp_path, text)
    again.wait_log("checks are spread")
    time.sleep(1.5)
    assert again.stop() == 0
    with Store.open(db) as store:
        (run,) = store.daemon_runs()
        assert run.stop_reason == "stop"
        assert list(store.checks("a"))
