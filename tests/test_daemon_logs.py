"""What `probe run` logs of itself: the first successful check of each endpoint, -q and -v, and
what a reload changed. Real daemons, real signals, real local TLS endpoints."""

import signal
import time
import subprocess
import sys

import pytest

from servers import refused_port, respond
from test_daemon import Daemon, config_text, no_daemon_left_behind  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def ok_url(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"


def options(certs, interval="1s"):
    return f'interval = "{interval}"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'


def test_first_successful_check_is_logged_once_per_endpoint(tmp_path, ok_url, certs):
    down = f"https://127.0.0.1:{refused_port()}/"
    daemon = Daemon(tmp_path, config_text(tmp_path / "probe.db", [("api", ok_url, options(certs)),
                                                                  ("gone", down, options(certs))]))
    daemon.wait_log("api: first successful check (HTTP 200 in ")
    daemon.wait_log("gone: down")

    time.sleep(2.5)  # two more checks of each
    assert daemon.stop() == 0
    logs = daemon.logs()
    assert logs.count("first successful check") == 1, logs
    assert "gone: first successful" not in logs
    assert ok_url not in logs  # names, never URLs


def test_quiet_logs_warnings_only(tmp_path, certs):
    down = f"https://127.0.0.1:{refused_port()}/"
    daemon = Daemon(tmp_path, config_text(tmp_path / "probe.db", [("gone", down, options(certs))]), args=["-q"])
    daemon.wait_log("gone: down")
    assert daemon.stop() == 0
    logs = daemon.logs()
    assert "WARNING" in logs
    assert "INFO" not in logs and "started" not in logs, logs


def test_verbose_logs_every_check(tmp_path, ok_url, certs):
    daemon = Daemon(tmp_path, config_text(tmp_path / "probe.db", [("api", ok_url, options(certs))]),
                    args=["--verbose"])
    daemon.wait_log("DEBUG probe.daemon: api: checked: HTTP 200 in ")
    daemon.wait_log("api: first successful check")
    assert daemon.stop() == 0


def test_quiet_and_verbose_together_are_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "probe", "run", "-q", "-v", "--config", "x.toml"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 3
    assert "give one of --log-level, -q/--quiet and -v/--verbose" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_reload_logs_what_changed(tmp_path, ok_url, certs):
    db = tmp_path / "probe.db"
    daemon = Daemon(tmp_path, config_text(db, [("api", ok_url, options(certs)), ("old", ok_url, options(certs)),
                                              ("same", ok_url, options(certs))]))
    daemon.wait_log("checks are spread")
    daemon.config.write_text(config_text(db, [("api", ok_url, options(certs, "2s") + "\nconfirm = 3"),
                                              ("same", ok_url, options(certs)),
                                              ("new", ok_url, options(certs))],
                                         extra="[sla]\ntarget = 99.5\n"))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_log("endpoint changed: api")
    assert daemon.stop() == 0
    logs = daemon.logs()
    assert "config reloaded: 3 endpoints: 1 added, 1 removed, 1 changed; [sla] changed (" in logs
    assert "endpoint added: new\n" in logs
    assert "endpoint removed: old\n" in logs
    assert "endpoint changed: api (interval, confirm)\n" in logs
    assert "endpoint changed: same" not in logs
