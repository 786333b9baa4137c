"""Heartbeat signals end to end: a real daemon with --listen receives pings from `probe ping`
(alone, and wrapping a command) and from curl; wrong tokens, unknown names and big bodies store
nothing; the token is never logged."""

import os
import subprocess
import sys

from servers import refused_port
from test_daemon import Daemon, config_text, no_daemon_left_behind, urls  # noqa: F401 (fixtures)

from probe.store import Store, pings

TOKEN = "hb-token-0123456789abcdef"
LISTEN_TOKEN = "listen-token-0123456789"


def stored(db):
    with Store.open(db) as store:
        return store.db.conn.execute("SELECT kind, exit_status FROM pings WHERE heartbeat = 'backup'"
                                     " ORDER BY at, id").fetchall()


def curl(*args):
    done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args],
                          capture_output=True, text=True, timeout=30)
    return int(done.stdout)


def probe_ping(*args, env=None):
    return subprocess.run([sys.executable, "-m", "probe", "ping", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_pings_from_probe_ping_and_curl(tmp_path, urls, certs):  # noqa: F811
    port = refused_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    heartbeat = '[[heartbeat]]\nname = "backup"\nschedule = "0 3 * * *"\ntoken = "${BACKUP_TOKEN}"\n'
    daemon = Daemon(tmp_path, config_text(db, [("web-ok", urls["ok"], opts)]) + heartbeat,
                    env={"BACKUP_TOKEN": TOKEN, "PROBE_LISTEN_TOKEN": LISTEN_TOKEN},
                    args=("--listen", f"127.0.0.1:{port}"))
    config = str(daemon.config)
    env = {"PROBE_PING_URL": base, "BACKUP_TOKEN": TOKEN, "PROBE_CONFIG": config}
    try:
        daemon.wait_log("serving /metrics")
        # the listener's own token guards the rest, not the pings
        assert curl(f"{base}/metrics") == 401
        done = probe_ping("backup", "--start", env=env)
        assert done.returncode == 0, done.stderr
        assert curl("-X", "POST", "-H", f"Authorization: Bearer {TOKEN}", f"{base}/ping/backup") == 200
        assert curl("-X", "POST", f"{base}/ping/backup/fail/{TOKEN}?exit_status=2") == 200
        assert curl(f"{base}/ping/backup/start/{TOKEN}") == 200  # GET, for tools that only fetch a URL
        assert stored(db) == [("start", None), ("success", None), ("fail", 2), ("start", None)]

        # refused: nothing stored
        assert curl("-X", "POST", "-H", "Authorization: Bearer wrong-token-0123456789", f"{base}/ping/backup") == 401
        assert curl("-X", "POST", f"{base}/ping/backup") == 401
        assert curl("-X", "POST", f"{base}/ping/backup/{TOKEN}x") == 401
        assert curl("-X", "POST", f"{base}/ping/backup/start/{TOKEN[:-1]}") == 401
        assert curl("-X", "POST", f"{base}/ping/nope/{TOKEN}") == 404
        assert curl("-X", "POST", f"{base}/ping/backup/start/{TOKEN}/more") == 404
        big = tmp_path / "big.log"
        big.write_bytes(b"x" * 20000)
        assert curl("-X", "POST", "--data-binary", f"@{big}", f"{base}/ping/backup/fail/{TOKEN}") == 413
        assert curl("-X", "POST", f"{base}/ping/backup?exit_status=999", "-H", f"Authorization: Bearer {TOKEN}") == 400
        # digits that are not ASCII digits: a 400, not a 500 with a traceback
        assert curl("-X", "POST", f"{base}/ping/backup/{TOKEN}?exit_status=%C2%B2") == 400
        # a request line too long to parse, the token in it: answered 400, and neither the
        # token nor a traceback reaches the log (anyone could fill it so)
        assert curl("-X", "POST", f"{base}/ping/backup/{TOKEN}?x={'a' * 9000}") == 400
        assert len(stored(db)) == 4
        assert probe_ping("nope", env=env).stderr == f"probe: {config}: no [[heartbeat]] named 'nope'\n"

        # a wrapped command: start, then fail with its status, and its status returned
        done = probe_ping("backup", "--", "sh", "-c", "echo dumping; exit 3", env=env)
        assert (done.returncode, done.stdout, done.stderr) == (3, "dumping\n", "")
        done = probe_ping("backup", "--", "true", env=env)
        assert done.returncode == 0
        assert stored(db)[4:] == [("start", None), ("fail", 3), ("start", None), ("success", 0)]
        with Store.open(db) as store:
            durations = store.db.conn.execute("SELECT duration_ms FROM pings WHERE exit_status = 3").fetchall()
            assert durations[0][0] is not None and durations[0][0] >= 0
            assert pings.last(store, "backup")[1:] == ("success", 0)
    finally:
        assert daemon.stop() == 0
    logs = daemon.logs()
    assert "ping backup: fail (exit status 3)" in logs
    assert TOKEN not in logs and "wrong-token" not in logs and "Traceback" not in logs
    with open(db, "rb") as fh:
        assert TOKEN.encode() not in fh.read()


def test_undelivered_ping_keeps_the_command_status(tmp_path):
    """No daemon listening: one line on stderr per signal, the wrapped command's status kept."""
    env = {"PROBE_PING_URL": f"http://127.0.0.1:{refused_port()}", "PROBE_PING_TOKEN": TOKEN}
    done = probe_ping("backup", "--", "sh", "-c", "exit 5", env=env)
    assert done.returncode == 5
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all("not delivered after 3 attempts" in line for line in lines)
    assert lines[0].startswith("probe: ping backup start:") and lines[1].startswith("probe: ping backup fail:")
    done = probe_ping("backup", "--fail", env=env)
    assert done.returncode == 3 and done.stderr.count("\n") == 1
    done = probe_ping("backup", env={"PROBE_PING_TOKEN": "", "PROBE_CONFIG": ""})
    assert done.stderr == "probe: no token: set $PROBE_PING_TOKEN, or give the config (--config or $PROBE_CONFIG)\n"


def test_a_stopped_job_is_signalled_failed(tmp_path):
    """SIGTERM to `probe ping -- COMMAND` goes to the command; the run is signalled failed with
    status 143, and that is probe's status too."""
    import signal
    import time

    env = {**os.environ, "PROBE_PING_URL": f"http://127.0.0.1:{refused_port()}", "PROBE_PING_TOKEN": TOKEN}
    ready = tmp_path / "ready"
    process = subprocess.Popen([sys.executable, "-m", "probe", "ping", "backup", "--", "sh", "-c",
                                f"touch {ready}; exec sleep 60"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(600):
            if ready.exists():
                break
            time.sleep(0.05)
        time.sleep(0.2)  # let sh exec sleep
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143
    assert "probe: ping backup fail: not delivered" in stderr
