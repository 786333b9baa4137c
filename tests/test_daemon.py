"""`probe run` as systemd runs it: a real process against real local servers, real signals,
a real notify socket, kill -9 and a restart."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from probe.store import Store
from servers import drip, hang, respond


def config_text(db, endpoints, extra=""):
    text = f'[probe]\ndatabase = "{db}"\nsite = "test-site"\nretry_interval = "300ms"\n{extra}\n'
    for name, url, options in endpoints:
        text += f'[[endpoint]]\nname = "{name}"\nurl = "{url}"\n{options}\n'
    return text


RUNNING = []


@pytest.fixture(autouse=True)
def no_daemon_left_behind():
    """A failed assertion must not leave a daemon running after its test."""
    yield
    while RUNNING:
        process = RUNNING.pop()
        if process.poll() is None:
            process.kill()
            process.wait(10)


class Daemon:
    def __init__(self, tmp_path, config, env=None, args=()):
        self.config = tmp_path / "probe.toml"
        self.config.write_text(config)
        self.log = tmp_path / "daemon.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "probe", "run", "--config", str(self.config), *args],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "w"),
            env={**os.environ, **(env or {})},
        )
        RUNNING.append(self.process)

    def logs(self):
        return self.log.read_text()

    def wait_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.logs():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged; log:\n{self.logs()}")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        self.process.send_signal(sig)
        return self.process.wait(timeout)


def checks_of(db):
    with Store.open(db) as store:
        counts = {}
        for name, _, site, result in store.checks():
            counts.setdefault(name, []).append(result)
        return counts


@pytest.fixture(scope="module")
def urls(servers, certs):
    return {
        "ok": f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/",
        "hang": f"https://127.0.0.1:{servers.serve(hang)}/",
        "drip": f"https://127.0.0.1:{servers.serve(drip, certs.context())}/",
    }


def test_sigterm_flushes_and_exits_0_quickly_with_hostile_endpoints(tmp_path, urls, certs):
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    daemon = Daemon(tmp_path, config_text(db, [
        ("ok", urls["ok"], opts), ("hang", urls["hang"], opts), ("drip", urls["drip"], opts),
    ]))
    daemon.wait_log("started: 3 endpoints")
    time.sleep(3.5)
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 5
    logs = daemon.logs()
    assert "SIGTERM received: stopping" in logs and "probe stopped" in logs
    assert "Traceback" not in logs
    checks = checks_of(db)
    assert len(checks["ok"]) >= 3, "the hostile endpoints stalled the healthy one"
    assert all(r.state == "up" for r in checks["ok"])
    assert {r.error_class for r in checks["hang"]} == {"timeout"}
    assert {r.error_class for r in checks["drip"]} == {"timeout"}
    with Store.open(db) as store:
        (run,) = store.daemon_runs()
        assert run.stop_reason == "stop" and run.site == "test-site"


def test_sighup_reloads_a_good_config_and_keeps_the_old_on_a_broken_one(tmp_path, urls, certs):
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    daemon = Daemon(tmp_path, config_text(db, [("first", urls["ok"], opts)]))
    daemon.wait_log("checks are spread")  # logged once the signal handlers are in place
    daemon.config.write_text(config_text(db, [("first", urls["ok"], opts), ("second", urls["ok"], opts)]))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_log("config reloaded: 2 endpoints")
    time.sleep(2.5)
    daemon.config.write_text(config_text(db, [("first", urls["ok"], 'interval = "30x"')]))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_log("reload refused, keeping the running config")
    assert "interval: '30x' is not a duration" in daemon.logs()
    before = len(checks_of(db)["second"])
    time.sleep(2.5)
    assert daemon.process.poll() is None, "a broken reload must not stop the daemon"
    assert daemon.stop() == 0
    assert len(checks_of(db)["second"]) > before


def test_kill_9_then_restart_keeps_the_database_sound(tmp_path, urls, certs):
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    text = config_text(db, [(f"e{i}", urls["ok"], opts) for i in range(20)])
    daemon = Daemon(tmp_path, text)
    daemon.wait_log("started: 20 endpoints")
    time.sleep(3)
    daemon.process.kill()
    daemon.process.wait(5)
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    recorded = sum(len(v) for v in checks_of(db).values())
    assert recorded >= 20  # at most the last second is lost: checks of the first 2 s are there
    again = Daemon(tmp_path, text)
    again.wait_log("started: 20 endpoints")
    time.sleep(2)
    assert again.stop() == 0
    assert sum(len(v) for v in checks_of(db).values()) > recorded
    with Store.open(db) as store:
        first, second = store.daemon_runs()
        assert first.stop_reason == "crash" and first.stopped_at is not None
        assert second.stop_reason == "stop"


def test_systemd_notify_ready_watchdog_stopping(tmp_path, urls, certs):
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(10)
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    daemon = Daemon(tmp_path, config_text(tmp_path / "probe.db", [("ok", urls["ok"], opts)]),
                    env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"})
    messages = []
    try:
        while not any("WATCHDOG=1" in m for m in messages):
            messages.append(listener.recv(4096).decode())
        assert messages[0].startswith("READY=1")
        assert "STATUS=checking 1 endpoints" in messages[0]
        daemon.process.send_signal(signal.SIGTERM)
        while not any("STOPPING=1" in m for m in messages):
            messages.append(listener.recv(4096).decode())
    finally:
        daemon.process.wait(10)
        listener.close()
    assert daemon.process.returncode == 0


@pytest.mark.parametrize(
    "config, code, message",
    [
        ('[[endpoint]]\nname = "a"\nurl = "https://a.example/"\ninterval = "30x"\n', 78,
         "endpoint 'a': interval: '30x' is not a duration"),
        ('[probe]\ndatabase = "/nonexistent-dir/sub/probe.db"\n[[endpoint]]\nname = "a"\nurl = "https://a.example/"\n',
         73, "/nonexistent-dir/sub/probe.db"),
        ("[probe]\n", 78, "no [[endpoint]] to check"),
    ],
)
def test_startup_failures_are_one_line_with_their_own_status(tmp_path, config, code, message):
    path = tmp_path / "probe.toml"
    path.write_text(config)
    done = subprocess.run([sys.executable, "-m", "probe", "run", "--config", str(path)],
                          capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert done.returncode == code
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_missing_config_file(tmp_path):
    done = subprocess.run([sys.executable, "-m", "probe", "run", "--config", str(tmp_path / "nope.toml")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 78
    assert "nope.toml: no such file" in done.stderr


def test_full_disk_does_not_stop_probing(tmp_path, urls, certs):
    """The database on a tiny filesystem that fills up: the daemon keeps checking, logs the
    error once, and exits cleanly; what was written before stays readable."""
    mount = tmp_path / "small"
    mount.mkdir()
    # room for the schema and the first writes (each table takes pages of its own), not for long
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=224k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        db = mount / "probe.db"
        opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
        daemon = Daemon(tmp_path, config_text(db, [(f"endpoint-{i:03d}", urls["ok"], opts) for i in range(150)]))
        daemon.wait_log("started: 150 endpoints")
        daemon.wait_log("disk is full", timeout=30)
        time.sleep(2)
        assert daemon.process.poll() is None, "a full disk must not stop the daemon"
        assert daemon.stop() == 0
        logs = daemon.logs()
        # the writer says it once, not once per batch (the stop may fail to be recorded too)
        assert logs.count("cannot write to") <= 2, "the error is logged once, not once per batch"
        assert "Traceback" not in logs
        connection = sqlite3.connect(db)
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        connection.close()
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def test_journal_gets_levels_without_timestamps(tmp_path):
    """Under systemd (JOURNAL_STREAM set) each line carries its syslog level as <N>."""
    path = tmp_path / "probe.toml"
    path.write_text("[probe]\n")
    done = subprocess.run([sys.executable, "-m", "probe", "run", "--config", str(path)],
                          capture_output=True, text=True, timeout=30,
                          env={**os.environ, "JOURNAL_STREAM": "8:12345"})
    assert done.stderr.startswith("<3>probe.daemon: ")
    assert done.returncode == 78


def test_listen_serves_metrics_and_status(tmp_path, urls, certs):
    import json
    import urllib.request

    from servers import refused_port

    port = refused_port()
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    daemon = Daemon(tmp_path, config_text(tmp_path / "probe.db", [("web-ok", urls["ok"], opts)]),
                    args=("--listen", f"127.0.0.1:{port}"))
    try:
        daemon.wait_log("serving /metrics")
        time.sleep(2)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        assert 'endpoint="web-ok"' in metrics and "probe_queue_depth" in metrics
        status = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=10).read())
        assert "web-ok" in json.dumps(status)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "web-ok" in page and "<script" not in page
    finally:
        assert daemon.stop() == 0


def test_listen_off_loopback_needs_a_token(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text('[[endpoint]]\nname = "a"\nurl = "https://a.example/"\n')
    done = subprocess.run([sys.executable, "-m", "probe", "run", "--config", str(path), "--listen", "0.0.0.0:9464",
                           "--db", str(tmp_path / "probe.db")],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "PROBE_LISTEN_TOKEN": ""})
    assert done.returncode == 78
    assert "not a loopback address" in done.stderr


def test_worker_processes_share_the_checks_and_a_dead_one_is_restarted(tmp_path, urls, certs):
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    daemon = Daemon(tmp_path, config_text(db, [(f"w{i}", urls["ok"], opts) for i in range(8)], "workers = 2"))
    daemon.wait_log("worker 1 started")
    time.sleep(2)
    import re

    workers = [int(pid) for pid in re.findall(r"worker \d started \(pid (\d+)", daemon.logs())]
    assert len(workers) == 2
    assert all(_parent(pid) == daemon.process.pid for pid in workers)
    os.kill(workers[0], signal.SIGKILL)
    daemon.wait_log("died (EOFError, exit status -9)")
    daemon.wait_log("started (pid", timeout=10)
    before = {name: len(results) for name, results in checks_of(db).items()}
    time.sleep(4)
    assert daemon.stop() == 0
    after = checks_of(db)
    assert set(after) == {f"w{i}" for i in range(8)}
    assert all(len(after[name]) > before.get(name, 0) for name in after), "every endpoint is checked again"
    assert "Traceback" not in daemon.logs()


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None
