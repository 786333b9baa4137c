"""One daemon per database, with real processes: a second `probe run` is refused at once and
leaves the first untouched; a kill -9'd holder never blocks the next start."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from probe.store import maintenance
from probe.store import Store
from servers import respond
from test_daemon import Daemon, checks_of, config_text, no_daemon_left_behind  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def ok_url(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"


def probe(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "probe", *args], capture_output=True, text=True, timeout=timeout)


def test_a_second_daemon_on_the_database_exits_at_once_and_leaves_the_first_alone(tmp_path, ok_url, certs):
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    first = Daemon(tmp_path, config_text(db, [("a", ok_url, opts)]))
    first.wait_log("checks are spread")
    time.sleep(1.5)
    started = time.monotonic()
    second = probe("run", "--config", str(first.config))
    assert time.monotonic() - started < 10
    assert second.returncode == 75
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"pid {first.process.pid} on {socket.gethostname()}, since 20" in lines[0]
    assert "another probe daemon is running" in lines[0]
    assert first.process.poll() is None
    before = len(checks_of(db)["a"])
    time.sleep(2)
    assert len(checks_of(db)["a"]) > before, "the first daemon must go on checking"
    status = probe("status", "--config", str(first.config))
    assert f"running since" in status.stdout and f"pid {first.process.pid} on {socket.gethostname()}" in status.stdout
    assert "pid None" not in status.stdout
    with Store.open(db) as store:
        (run,) = store.daemon_runs()
        assert run.stopped_at is None and run.stop_reason is None, "never recorded as crashed"
        assert (run.pid, run.host, run.site) == (first.process.pid, socket.gethostname(), "test-site")
        assert run.version
    assert first.stop() == 0


def test_a_killed_daemon_never_blocks_the_next_start(tmp_path, ok_url, certs):
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    first = Daemon(tmp_path, config_text(db, [("a", ok_url, opts)]))
    first.wait_log("checks are spread")
    first.process.kill()
    first.process.wait(5)
    again = Daemon(tmp_path, config_text(db, [("a", ok_url, opts)]))
    again.wait_log("checks are spread")
    assert again.stop() == 0
    with Store.open(db) as store:
        crashed, stopped = store.daemon_runs()
    assert crashed.stop_reason == "crash" and crashed.pid == first.process.pid
    assert stopped.stop_reason == "stop" and stopped.pid == again.process.pid


def test_the_daemon_declares_the_configs_maintenance_windows_at_start_and_on_reload(tmp_path, ok_url, certs):
    """A window is declared when the daemon first sees it, not when a report is later made."""
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    window = '[[maintenance]]\nstart = "2027-01-05T22:00"\nend = "2027-01-05T23:00"\nreason = "{}"\n'
    text = config_text(db, [("a", ok_url, opts)]) + window.format("upgrade")
    started = time.time()
    daemon = Daemon(tmp_path, text)
    daemon.wait_log("checks are spread")
    with Store.open(db) as store:
        (first,) = maintenance.declared(store)
    assert started - 1 <= first.declared_at <= time.time() and first.source == "config"
    daemon.config.write_text(text.replace("2027-01-05", "2027-01-06") + window.format("upgrade"))
    reloaded = time.time()
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_log("config reloaded")
    with Store.open(db) as store:
        windows = sorted(maintenance.declared(store), key=lambda w: w.declared_at)
    assert len(windows) == 2 and windows[0].declared_at == first.declared_at
    assert reloaded - 1 <= windows[1].declared_at <= time.time()
    assert daemon.stop() == 0


def test_a_database_in_a_missing_directory_is_one_line_naming_it(tmp_path, ok_url):
    missing = tmp_path / "nowhere" / "probe.db"
    config = tmp_path / "probe.toml"
    config.write_text(config_text(missing, [("a", ok_url, 'interval = "1s"')]))
    done = probe("run", "--config", str(config))
    assert done.returncode == 73
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"cannot open database {missing}: directory {missing.parent} does not exist")
