"""Heartbeats in daily use: a real daemon with --listen receives pings, then `probe status`
(text within 80 columns, and --json), /status.json, the status page (in Chromium) and /metrics
(promtool) show each job's state, last signal and next due. And the pure job_status by hand."""

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import browser
from servers import refused_port
from test_daemon import Daemon, config_text, no_daemon_left_behind, urls  # noqa: F401 (fixtures)
from test_heartbeats_daemon import LISTEN_TOKEN, TOKEN, curl
from test_heartbeats_store import declare_jobs

from probe.sla import heartbeats as hb

HEARTBEATS = (
    # followed from its first signal: a success now, the next run due a day later
    '[[heartbeat]]\nname = "nightly-database-backup"\nevery = "1d"\ntoken = "${BACKUP_TOKEN}"\n'
    # the run due at the last full hour fails
    '[[heartbeat]]\nname = "hourly"\nschedule = "0 * * * *"\ngrace = "30m"\ntoken = "${BACKUP_TOKEN}"\n'
    '[[heartbeat]]\nname = "silent"\nschedule = "0 3 * * *"\ngrace = "1s"\ntoken = "${BACKUP_TOKEN}"\n')


def fetch(url, out):
    done = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {LISTEN_TOKEN}", "-o", str(out), url],
                          timeout=30)
    assert done.returncode == 0
    return out.read_text()


def test_daemon_status_json_page_metrics(tmp_path, urls, certs):  # noqa: F811
    port = refused_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    text = config_text(db, [("web-ok", urls["ok"], opts)], '[sla]\ntimezone = "UTC"\n') + HEARTBEATS
    # jobs the daemon has known for two days: their runs since then are expected
    (tmp_path / "before.toml").write_text(text)
    declare_jobs(tmp_path / "before.toml", db, time.time() - 2 * 86400)
    daemon = Daemon(tmp_path, text,
                    env={"BACKUP_TOKEN": TOKEN, "PROBE_LISTEN_TOKEN": LISTEN_TOKEN},
                    args=("--listen", f"127.0.0.1:{port}"))
    try:
        daemon.wait_log("serving /metrics")
        before = time.time()
        assert curl("-X", "POST", f"{base}/ping/nightly-database-backup/{TOKEN}") == 200
        assert curl("-X", "POST", f"{base}/ping/hourly/start/{TOKEN}") == 200
        assert curl("-X", "POST", f"{base}/ping/hourly/fail/{TOKEN}?exit_status=4") == 200

        model = json.loads(fetch(f"{base}/status.json", tmp_path / "status.json"))
        nightly, hourly, silent = model["heartbeats"]
        assert (nightly["heartbeat"], nightly["state"], nightly["ok"], nightly["last_signal_kind"]) == (
            "nightly-database-backup", "waiting", True, "success")
        last = datetime.fromisoformat(nightly["last_success"]).timestamp()
        assert before - 1 <= last <= time.time()
        assert datetime.fromisoformat(nightly["next_due"]).timestamp() == pytest.approx(last + 86400, abs=0.002)
        assert nightly["last_signal"].endswith("+00:00")  # in the SLA's time zone
        # the fail decides the run due at the hour (or, past the next hour, the run before it)
        assert "failed" in (hourly["state"], hourly["previous_state"]) and hourly["last_signal_kind"] == "fail"
        assert (silent["state"], silent["last_signal"], silent["last_success"]) == ("overdue", None, None)
        assert silent["ok"] is False

        # /metrics, linted by promtool
        text = fetch(f"{base}/metrics", tmp_path / "metrics.txt")
        values = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
        assert float(values['probe_heartbeat_last_success_timestamp_seconds{heartbeat="nightly-database-backup"}']) \
            == pytest.approx(last, abs=0.002)
        assert 'probe_heartbeat_state{heartbeat="silent",state="overdue"} 1.0' in text
        assert 'probe_heartbeat_state{heartbeat="silent",state="on_time"} 0.0' in text
        assert 'probe_heartbeat_ok{heartbeat="silent"} 0.0' in text
        assert 'probe_heartbeat_ok{heartbeat="nightly-database-backup"} 1.0' in text
        assert 'probe_heartbeat_last_signal_timestamp_seconds{heartbeat="hourly",kind="fail"}' in text
        assert 'probe_heartbeat_next_due_timestamp_seconds{heartbeat="hourly"}' in text
        assert 'probe_heartbeat_last_success_timestamp_seconds{heartbeat="silent"}' not in text
        assert TOKEN not in text
        promtool = shutil.which("promtool")
        if promtool is None:
            pytest.skip("promtool is not installed (Debian package prometheus): the lint was not run")
        lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        assert lint.returncode == 0, lint.stdout + lint.stderr

        # the private status page, as Chromium shows it
        page = tmp_path / "status.html"
        fetch(f"{base}/", page)
        if browser.available():
            run = browser.dump_dom(page)
            dom = run.stdout
            assert "Tâches planifiées" in dom and "nightly-database-backup" in dom  # [report] language: fr
            assert "en attente (délai de grâce dépassé)" in dom and "aucune exécution attendue encore" in dom
            assert run.console_messages() == []

        # `probe status`, text and JSON, from the same database
        env = {k: v for k, v in os.environ.items() if k not in ("BACKUP_TOKEN",)}
        done = subprocess.run([sys.executable, "-m", "probe", "status", "--config", str(daemon.config)],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert all(len(line) <= 80 for line in lines), done.stdout
        header = next(i for i, line in enumerate(lines) if line.startswith("JOB "))
        assert lines[header].split() == ["JOB", "STATE", "LAST", "SIGNAL", "NEXT", "DUE"]
        jobs = {line.split()[0]: line for line in lines[header + 1:]}
        assert "WAITING" in jobs["nightly-database-backup"] and "success" in jobs["nightly-database-backup"]
        assert "OVERDUE" in jobs["silent"] and "never" in jobs["silent"]
        done = subprocess.run([sys.executable, "-m", "probe", "status", "--json", "--config", str(daemon.config)],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        rows = [row for row in map(json.loads, done.stdout.splitlines()) if "heartbeat" in row and "state" in row]
        assert [row["heartbeat"] for row in rows] == ["nightly-database-backup", "hourly", "silent"]
        assert rows[0]["last_success"].endswith("Z")  # UTC, as the rest of --json
    finally:
        daemon.stop()


def utc(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc).timestamp()


NIGHTLY = hb.Expectation("0 3 * * *", None, 3600, "UTC")
DAILY = hb.Expectation(None, 86400, 3600, "UTC")


def test_job_status_by_hand():
    """A nightly job at 03:00 UTC, 1 h of grace, that succeeded on 9 March at 03:10 and sent
    nothing on the 10th."""
    signals = [hb.Signal(utc(9, 3), hb.START), hb.Signal(utc(9, 3, 10), hb.SUCCESS)]
    since = utc(2, 0)
    # 9 March 12:00: the newest run due (9th 03:00) was on time; the next is due the 10th 03:00
    assert hb.job_status(NIGHTLY, signals, since, utc(9, 12)) == hb.JobStatus(
        "on_time", utc(9, 3), "missed", utc(10, 3))
    # 10 March 03:30: within the grace of the 10th's run, the one before on time
    assert hb.job_status(NIGHTLY, signals, since, utc(10, 3, 30)) == hb.JobStatus(
        "pending", utc(10, 3), "on_time", utc(11, 3))
    # 04:00 on: overdue (an incident from then, as the alerts and `probe incident list` say)
    assert hb.job_status(NIGHTLY, signals, since, utc(10, 4)).state == "overdue"
    started = [*signals, hb.Signal(utc(10, 3, 1), hb.START)]
    assert hb.job_status(NIGHTLY, started, since, utc(10, 3, 30)).state == "running"
    # every 1 d: followed from its first signal (9 March 03:00); the run due a day later is
    # decided by the success of 03:10 already (a success before its due counts for it), and each
    # success sets the next due a day after it
    assert hb.job_status(DAILY, [], since, utc(9, 12)) == hb.JobStatus("waiting", None, None, None)
    assert hb.job_status(DAILY, signals, since, utc(9, 12)) == hb.JobStatus("waiting", None, None, utc(10, 3, 10))
    # 10 March 06:00, a success at 05:00: the run due 10 March 03:00 was on time (the 9th's
    # success), the one due 03:10 is late (05:00 > 03:10 + 1 h); the next is due 11 March 05:00
    late = [*signals, hb.Signal(utc(10, 5), hb.SUCCESS)]
    assert hb.job_status(DAILY, late, since, utc(10, 6)) == hb.JobStatus("late", utc(10, 3, 10), "on_time",
                                                                          utc(11, 5))


def test_job_incidents_by_hand():
    """The nightly job succeeded on 9 March; the 10th's run is missed (an incident from 04:00,
    due + grace); the 11th's fails at 05:00, after its grace: its incident is dated from 04:00
    too, when it was overdue (as its alert said). A run overdue now is an ongoing incident."""
    signals = [hb.Signal(utc(9, 3, 10), hb.SUCCESS), hb.Signal(utc(11, 5), hb.FAIL, 1)]
    runs = hb.judge_runs(NIGHTLY, signals, (utc(9, 0), utc(11, 6)), utc(11, 6))
    assert [run.state for run in runs] == ["on_time", "missed", "failed"]
    assert hb.job_incidents(runs, 3600, signals, utc(11, 6)) == [
        hb.JobIncident(utc(10, 3), "missed", utc(10, 4), None),
        hb.JobIncident(utc(11, 3), "failed", utc(11, 4), None),
    ]
    ongoing = hb.judge_runs(NIGHTLY, signals[:1], (utc(9, 0), utc(10, 4, 30)), utc(10, 4, 30))
    assert hb.job_incidents(ongoing, 3600, signals[:1], utc(10, 4, 30)) == []
    assert hb.job_incidents(ongoing, 3600, signals[:1], utc(10, 4, 30), ongoing=True) == [
        hb.JobIncident(utc(10, 3), "overdue", utc(10, 4), None)]


def test_public_page_and_feed_never_show_jobs(tmp_path):
    """The client's page shows the service as the client uses it: a job (its name, schedule,
    state or incident) is the provider's own affair, evidenced in the monthly report."""
    from test_public_page import View, serve
    from test_web import check

    from probe import config as config_module
    from probe.store import Store, Writer, pings

    db = tmp_path / "probe.db"
    now = time.time()
    with Writer(db) as writer:
        for back in range(12):
            writer.submit("api", check(now - back * 600, "up"), 600.0, "test")
        writer.flush(10)
    with Store.open(db) as store:  # a nightly job whose last success was 3 days ago: missed runs since
        pings.add(store, "secret-db-dump", now - 3 * 86400, hb.SUCCESS)
    view = View(db)
    view.config = config_module.from_dict({
        "probe": {"database": str(db)},
        "endpoint": [{"name": "api", "url": "https://internal-api.example.com/", "title": "API"}],
        "heartbeat": [{"name": "secret-db-dump", "schedule": "0 3 * * *", "token": "${T}"}],
        "web": {"public": True},
    }, "probe.toml", environ={"T": TOKEN})
    (page_status, _, html), (feed_status, _, feed) = serve(view, [("/", None), ("/feed.atom", None)])
    assert (page_status, feed_status) == (200, 200)
    assert "API" in html
    assert "secret-db-dump" not in html and "secret-db-dump" not in feed
    assert "heartbeat" not in html.lower() and "heartbeat" not in feed.lower()
    with Store.open(db) as store:  # not even given ids there
        assert store.db.conn.execute("SELECT count(*) FROM incidents WHERE heartbeat IS NOT NULL").fetchone() == (0,)


def test_ok_while_an_incident_is_open():
    from probe.report.heartbeat_status import _ok

    assert _ok(hb.JobStatus("pending", 1.0, "on_time", 2.0))
    assert not _ok(hb.JobStatus("pending", 1.0, "missed", 2.0))  # yesterday's incident: no success since
    assert not _ok(hb.JobStatus("running", 1.0, "failed", 2.0))
    assert _ok(hb.JobStatus("pending", 1.0, "too_short", 2.0))  # no incident
    assert not _ok(hb.JobStatus("too_long", 1.0, "on_time", 2.0))
    assert _ok(hb.JobStatus("late", 1.0, "missed", 2.0))  # the success closed it
