"""A job is expected from when it was declared (first seen by probe), on the terms declared:
hand-worked months (declared mid-month; schedule changed mid-month), the declarations in the
store (first sight, changed terms, export and import), the report (JSON, and HTML in Chromium),
and a real daemon started with a new job: no incident, no alert for the runs due before it."""

import io
import json
import re
import time
from datetime import datetime

import pytest

import browser
from test_daemon import no_daemon_left_behind, urls  # noqa: F401 (fixtures)
from test_heartbeats_report import report, setup  # noqa: F401 (fixture)
from test_heartbeats_sla import FEBRUARY, NIGHTLY, february_signals, paris

from probe.config import from_dict
from probe.sla import heartbeats as hb
from probe.store import Store, StoreError, export_jsonl, import_jsonl, job_declarations

# ---------------------------------------------------------------- by hand


def test_declared_mid_month():
    """The nightly backup of February (see test_heartbeats_sla) declared on Monday 9 Feb at
    12:00: its runs are due from 10 Feb 03:00, 19 of them (10..28); of the odd ones only day 10
    (too short) and day 12 (too long) are among them; the missed 5th and failed 8th were not
    expected yet. 19 - 2 = 17 on time."""
    declared = [hb.Declaration(paris(9, 12), NIGHTLY)]
    judged = hb.judge_declared(declared, NIGHTLY, february_signals(), FEBRUARY, FEBRUARY[1])
    assert [stretch.period for stretch, _ in judged] == [(paris(9, 12), FEBRUARY[1])]
    runs = judged[0][1]
    assert runs[0].due == paris(10, 3)
    assert hb.count_runs(runs) == hb.RunCounts(expected=19, on_time=17, late=0, missed=0, failed=0,
                                              too_short=1, too_long=1)
    assert hb.job_incidents(runs, 3600, february_signals(), FEBRUARY[1]) == []
    # the same job, never declared: expected over the whole month (28 runs, as before)
    (stretch, runs), = hb.judge_declared([], NIGHTLY, february_signals(), FEBRUARY, FEBRUARY[1])
    assert stretch.declared_at is None and stretch.period == FEBRUARY and len(runs) == 28
    # a report as of 9 Feb 11:00 does not know the declaration made at 12:00
    (stretch, _), = hb.judge_declared(declared, NIGHTLY, february_signals(), FEBRUARY, paris(9, 11))
    assert stretch.declared_at is None


def test_schedule_changed_mid_month():
    """Declared in January at 03:00 (grace 1 h); on Friday 20 Feb at 12:00 the schedule becomes
    04:00 with 30 min of grace, and from the 21st the job starts at 04:00 and succeeds at 04:10.
    Before the change: runs due 1..20 at 03:00 (20: 15 on time, and the 3rd late, the 5th
    missed, the 8th failed, the 10th too short, the 12th too long). After: runs due 21..28 at
    04:00, all 8 on time. Judged on the old schedule alone, those 8 would have been late."""
    early = hb.Expectation("0 4 * * *", None, grace=1800, timezone="Europe/Paris", min_duration=60,
                           max_duration=7200)
    signals = [s for s in february_signals() if s.at < paris(21, 0)]
    for day in range(21, 29):
        signals += [hb.Signal(paris(day, 4), hb.START), hb.Signal(paris(day, 4, 10), hb.SUCCESS)]
    declared = [hb.Declaration(paris(1, 0, month=1), NIGHTLY), hb.Declaration(paris(20, 12), early)]
    before, after = hb.judge_declared(declared, early, signals, FEBRUARY, FEBRUARY[1])
    assert before[0].period == (FEBRUARY[0], paris(20, 12)) and before[0].declared_at == paris(1, 0, month=1)
    assert after[0].period == (paris(20, 12), FEBRUARY[1]) and after[0].job is early
    assert [run.due for run in before[1]][-1] == paris(20, 3)
    assert [run.due for run in after[1]] == [paris(day, 4) for day in range(21, 29)]
    assert hb.count_runs(before[1] + after[1]) == hb.RunCounts(expected=28, on_time=23, late=1, missed=1,
                                                               failed=1, too_short=1, too_long=1)
    old_only = hb.judge_runs(NIGHTLY, signals, FEBRUARY, FEBRUARY[1])
    assert hb.count_runs(old_only).late == 9


def test_a_run_of_the_old_terms_is_missed_once_the_new_terms_run_is_due():
    """03:00 with 1 h of grace until Friday 20 Feb 12:00, then 02:00 with 2 h. No signal on the
    20th; one success on Saturday 21 Feb at 02:40. The 20th's run (old terms) is missed: no
    success arrived before the next run was due (21 Feb 02:00, under the new terms), even though
    the old schedule's next time (21 Feb 03:00) was later. The 02:40 success is the 21st's, on
    time (within 2 h of 02:00); it is not the 20th's, late."""
    earlier = hb.Expectation("0 2 * * *", None, grace=7200, timezone="Europe/Paris")
    signals = [s for s in february_signals() if s.at < paris(20, 0)] + [hb.Signal(paris(21, 2, 40), hb.SUCCESS)]
    declared = [hb.Declaration(paris(1, 0, month=1), NIGHTLY), hb.Declaration(paris(20, 12), earlier)]
    (_, before), (_, after) = hb.judge_declared(declared, earlier, signals, FEBRUARY, paris(21, 5))
    assert (before[-1].due, before[-1].state) == (paris(20, 3), hb.MISSED)
    assert (after[0].due, after[0].state) == (paris(21, 2), hb.ON_TIME)


def test_every_job_declared_mid_month():
    """Every 6 h, declared 10 Feb 12:00, no signal ever: the first run is due at 18:00, and each
    run after it 6 h later; as of 11 Feb 12:20 (30 min of grace): 18:00, 00:00 and 06:00 are
    missed, 12:00 is pending."""
    job = hb.Expectation(None, 6 * 3600, grace=1800, timezone="Europe/Paris")
    (stretch, runs), = hb.judge_declared([hb.Declaration(paris(10, 12), job)], job, [], FEBRUARY, paris(11, 12, 20))
    assert [(run.due, run.state) for run in runs] == [
        (paris(10, 18), hb.MISSED), (paris(11, 0), hb.MISSED), (paris(11, 6), hb.MISSED), (paris(11, 12), hb.PENDING)]


def test_declared_after_the_period():
    assert hb.stretches([hb.Declaration(FEBRUARY[1] + 1, NIGHTLY)], FEBRUARY, NIGHTLY) == []


# ---------------------------------------------------------------- in the store


def config(grace="1h", schedule="0 3 * * *"):
    return from_dict({"heartbeat": [
        {"name": "backup", "schedule": schedule, "grace": grace, "token": "${T}"},
        {"name": "full", "every": "7d", "token": "${T}"}]}, "probe.toml", environ={"T": "t" * 16})


def test_declared_once_then_on_changed_terms(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        assert job_declarations.declare_from_config(store, config(), 1000.0) == 2
        assert job_declarations.declare_from_config(store, config(), 2000.0) == 0  # seen before
        assert job_declarations.declare_from_config(store, config(grace="2h"), 3000.0) == 1
        assert job_declarations.declare_from_config(store, config(), 4000.0) == 1  # back: declared again
        conn = store.db.conn
        found = job_declarations.declarations(conn, "backup")
        assert [(d.declared_at, d.grace, d.schedule, d.source) for d in found] == [
            (1000.0, 3600.0, "0 3 * * *", "config"), (3000.0, 7200.0, "0 3 * * *", "config"),
            (4000.0, 3600.0, "0 3 * * *", "config")]
        assert found[0].declared_by == "config probe.toml"
        assert [d.declared_at for d in job_declarations.declarations(conn, "backup", as_of=3500.0)] == [1000.0, 3000.0]
        full, = job_declarations.declarations(conn, "full")
        assert (full.every, full.schedule) == (7 * 86400, None)
        # the maintenance hook every command calls declares the jobs too
        assert job_declarations.declare_from_config(store, config(schedule="0 4 * * *"), 5000.0) == 1
        out = io.StringIO()
        export_jsonl(store, out)
    records = [json.loads(line) for line in out.getvalue().splitlines() if '"job_declaration"' in line]
    assert records[0] == {"record": "job_declaration", "heartbeat": "backup", "schedule": "0 3 * * *",
                          "every_ms": None, "grace_ms": 3600000, "min_duration_ms": None, "max_duration_ms": None,
                          "declared_at": 1000000, "declared_by": "config probe.toml", "source": "config"}
    assert len(records) == 5 and "t" * 16 not in out.getvalue()
    with Store.open(tmp_path / "b.db") as store:
        assert import_jsonl(store, io.StringIO(out.getvalue())).records == 5
        assert import_jsonl(store, io.StringIO(out.getvalue())).records == 0  # twice: nothing more
        found = job_declarations.declarations(store.db.conn, "backup")
        assert [(d.declared_at, d.schedule, d.source) for d in found][-1] == (5000.0, "0 4 * * *", "import")
        # the same terms seen again here: nothing new (the newest declaration holds them)
        assert job_declarations.declare_from_config(store, config(schedule="0 4 * * *"), 6000.0) == 0


def test_daemon_hook_declares_jobs_with_maintenance(tmp_path):
    from probe.store import maintenance

    with Store.open(tmp_path / "a.db") as store:
        maintenance.declare_from_config(store, config(), 1000.0)
        assert len(job_declarations.declarations(store.db.conn, "backup")) == 1


GOOD = {"heartbeat": "b", "schedule": "0 3 * * *", "grace_ms": 3600000, "declared_at": 1}


@pytest.mark.parametrize("change, message", [
    ({"declared_at": None}, "line 1: job_declaration: declared_at must be milliseconds (an integer), not None"),
    ({"grace_ms": "1h"}, "line 1: job_declaration: grace_ms must be milliseconds (an integer), not '1h'"),
    ({"schedule": None}, "line 1: job_declaration: needs either schedule or every_ms"),
    ({"every_ms": 60000}, "line 1: job_declaration: needs either schedule or every_ms"),
    ({"schedule": "0 3 * *"}, "line 1: job_declaration: schedule is not a cron expression: '0 3 * *'"),
    ({"heartbeat": ""}, "line 1: job_declaration: heartbeat must be a heartbeat's name, not ''"),
    ({"token": "x"}, "line 1: job_declaration: unknown key 'token'"),
])
def test_bad_declaration_records(tmp_path, change, message):
    with Store.open(tmp_path / "a.db") as store:
        with pytest.raises(StoreError) as caught:
            import_jsonl(store, io.StringIO(json.dumps({"record": "job_declaration", **GOOD, **change}) + "\n"))
        assert message in str(caught.value)
        assert store.db.conn.execute("SELECT count(*) FROM job_declarations").fetchone() == (0,)


# ---------------------------------------------------------------- the report


def declare_incremental(setup, at):  # noqa: F811
    """backup-incremental declared at ``at``, as a daemon that saw it then would have."""
    text = setup["config"].read_text()
    first_only = setup["tmp"] / "first.toml"
    first_only.write_text(text[:text.index("[[heartbeat]]\nname = \"backup-full\"")])
    from test_heartbeats_store import declare_jobs

    declare_jobs(first_only, setup["db"], at)


def test_report_json_declared_mid_month(setup):  # noqa: F811
    declare_incremental(setup, paris(9, 12))
    done = report(setup, "--format", "json", "--as-of", "2026-03-02T00:00")
    assert done.returncode == 0, done.stderr
    incremental, full = json.loads(done.stdout)["heartbeats"]
    assert {k: incremental[k] for k in ("declared_at", "expected_from", "expected", "on_time", "missed", "failed",
                                        "too_short", "too_long")} == {
        "declared_at": "2026-02-09T12:00:00+01:00", "expected_from": "2026-02-09T12:00:00+01:00",
        "expected": 19, "on_time": 17, "missed": 0, "failed": 0, "too_short": 1, "too_long": 1}
    assert incremental["declarations"] == [{
        "declared_at": "2026-02-09T12:00:00+01:00", "from": "2026-02-09T12:00:00+01:00",
        "until": "2026-03-01T00:00:00+01:00", "schedule": "0 3 * * *", "every_seconds": None,
        "grace_seconds": 3600.0, "min_duration_seconds": 60.0, "max_duration_seconds": 7200.0}]
    assert incremental["incidents"] == [] and [r["state"] for r in incremental["runs"]] == ["too_short", "too_long"]
    # the full backup: first seen by this report (now, long after 2 March): not declared as
    # of then, expected from the month's start
    assert (full["declared_at"], full["expected_from"], full["expected"]) == (
        None, "2026-02-01T00:00:00+01:00", 4)
    # January, before the declaration: nothing expected
    done = report(setup, "--format", "json", "--as-of", "2026-03-02T00:00", "--month", "2026-01")
    incremental = json.loads(done.stdout)["heartbeats"][0]
    assert (incremental["expected"], incremental["expected_from"], incremental["declarations"]) == (0, None, [])


def change_incremental(setup, at):  # noqa: F811
    """From ``at`` the nightly backup is due at 02:00 with 2 h of grace (it still runs at 03:00:
    on time under the new terms too)."""
    text = setup["config"].read_text()
    changed = setup["tmp"] / "changed.toml"
    changed.write_text(text[:text.index("[[heartbeat]]\nname = \"backup-full\"")]
                       .replace('schedule = "0 3 * * *"\ngrace = "1h"', 'schedule = "0 2 * * *"\ngrace = "2h"'))
    from test_heartbeats_store import declare_jobs

    declare_jobs(changed, setup["db"], at)


def test_report_json_schedule_changed(setup):  # noqa: F811
    """Declared 15 January; from Friday 20 Feb 12:00 due at 02:00 with 2 h of grace: runs due
    1..20 at 03:00 (as in test_heartbeats_report), then 21..28 at 02:00, all 8 on time (03:10 is
    within 02:00 + 2 h): 28 expected, 23 on time."""
    declare_incremental(setup, paris(15, 0, month=1))
    change_incremental(setup, paris(20, 12))
    done = report(setup, "--format", "json", "--as-of", "2026-03-02T00:00")
    assert done.returncode == 0, done.stderr
    incremental = json.loads(done.stdout)["heartbeats"][0]
    assert (incremental["declared_at"], incremental["expected_from"]) == (
        "2026-01-15T00:00:00+01:00", "2026-02-01T00:00:00+01:00")
    assert [(d["declared_at"], d["from"], d["until"], d["schedule"], d["grace_seconds"])
            for d in incremental["declarations"]] == [
        ("2026-01-15T00:00:00+01:00", "2026-02-01T00:00:00+01:00", "2026-02-20T12:00:00+01:00", "0 3 * * *", 3600.0),
        ("2026-02-20T12:00:00+01:00", "2026-02-20T12:00:00+01:00", "2026-03-01T00:00:00+01:00", "0 2 * * *", 7200.0)]
    assert (incremental["expected"], incremental["on_time"], incremental["missed"]) == (28, 23, 1)
    # as of 20 Feb 11:00 the change was not declared yet: the old terms over the whole month so far
    done = report(setup, "--format", "json", "--as-of", "2026-02-20T11:00")
    incremental = json.loads(done.stdout)["heartbeats"][0]
    assert [d["schedule"] for d in incremental["declarations"]] == ["0 3 * * *"]


@pytest.mark.browser
@pytest.mark.skipif(not browser.available(), reason="needs Debian's chromium")
def test_report_html_lists_changed_terms(setup):  # noqa: F811
    declare_incremental(setup, paris(15, 0, month=1))
    change_incremental(setup, paris(20, 12))
    out = setup["tmp"] / "report-en.html"
    done = report(setup, "--as-of", "2026-03-02T00:00", "--lang", "en", "-o", str(out))
    assert done.returncode == 0, done.stderr
    run = browser.dump_dom(out)
    assert run.returncode == 0 and run.console_messages() == []
    listed = run.stdout[run.stdout.index('class="sub declarations"'):].split("</ul>")[0]
    items = re.findall(r"<li>(.*?)</li>", listed, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items]
    assert text == [
        "From 1 February 2026, 00:00 to 20 February 2026, 12:00 (terms declared on 15 January 2026, 00:00):"
        " Schedule “0 3 * * *” (the contract’s time zone) · grace 1&nbsp;h · at least 1&nbsp;min"
        " · at most 2&nbsp;h",
        "From 20 February 2026, 12:00 to 1 March 2026, 00:00 (terms declared on 20 February 2026, 12:00):"
        " Schedule “0 2 * * *” (the contract’s time zone) · grace 2&nbsp;h · at least 1&nbsp;min"
        " · at most 2&nbsp;h"]


@pytest.mark.browser
@pytest.mark.skipif(not browser.available(), reason="needs Debian's chromium")
@pytest.mark.parametrize("lang, declared, undeclared", [
    ("fr", "Déclarée le 9 février 2026 à 12:00 : ses exécutions sont attendues à partir de cette date.",
     "Non déclarée (probe ne l’avait pas vue à la date d’arrêté) : exécutions attendues"
     " depuis le début du mois."),
    ("en", "Declared on 9 February 2026, 12:00: its runs are expected from then on.",
     "Not declared (probe had not seen it by the as-of time): runs expected from the start of the month."),
])
def test_report_html_declared(setup, lang, declared, undeclared):  # noqa: F811
    declare_incremental(setup, paris(9, 12))
    out = setup["tmp"] / f"report-{lang}.html"
    done = report(setup, "--as-of", "2026-03-02T00:00", "--lang", lang, "-o", str(out))
    assert done.returncode == 0, done.stderr
    run = browser.dump_dom(out)
    assert run.returncode == 0 and run.console_messages() == []
    dom = run.stdout
    blocks = re.findall(r'<p class="declared">([^<]*)</p>', dom[dom.index('id="heartbeats"'):])
    assert len(blocks) == 2
    assert blocks == [declared, undeclared]


# ---------------------------------------------------------------- a real daemon


def test_a_new_job_raises_nothing_for_runs_before_the_daemon_saw_it(tmp_path, urls, certs):
    """Two nightly jobs (03:00 UTC, 1 s of grace) whose last success was 3 days ago. The old one
    has been known to probe for 5 days: its runs since are missed, alerted, listed. The new one
    appears in the config the daemon starts with: nothing is due for it before then. A new
    schedule given on reload (SIGHUP) is a new declaration."""
    import os
    import signal
    import subprocess
    import sys

    from test_daemon import Daemon, config_text
    from test_heartbeats_store import declare_jobs

    from probe.store import pings

    db = tmp_path / "probe.db"
    now = time.time()
    jobs = ('[[heartbeat]]\nname = "{}"\nschedule = "0 3 * * *"\ngrace = "1s"\ntoken = "${{BACKUP_TOKEN}}"\n')
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    base = config_text(db, [("web-ok", urls["ok"], opts)],
                       '[sla]\ntimezone = "UTC"\n[[alerts.webhook]]\nname = "chat"\nurl = "https://127.0.0.1:1/"\n')
    (tmp_path / "before.toml").write_text(base + jobs.format("old-job"))
    declare_jobs(tmp_path / "before.toml", db, now - 5 * 86400)
    with Store.open(db) as store:
        for name in ("new-job", "old-job"):
            pings.add(store, name, now - 3 * 86400, hb.SUCCESS)
    daemon = Daemon(tmp_path, base + jobs.format("new-job") + jobs.format("old-job"), env={"BACKUP_TOKEN": "b" * 16})
    try:
        daemon.wait_log("heartbeat old-job", timeout=60)  # the old job's overdue run, alerted
        assert "heartbeat new-job" not in daemon.logs()
        assert "job(s) declared from the config: new-job\n" in daemon.logs()
        # a new schedule, on reload: a new declaration from then on
        daemon.config.write_text(daemon.config.read_text().replace('"0 3 * * *"', '"0 4 * * *"', 1))
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_log("config reloaded")  # logged once the new config's jobs are declared
        assert daemon.logs().count("job(s) declared from the config: new-job\n") == 2
    finally:
        assert daemon.stop() == 0
    env = {k: v for k, v in os.environ.items() if k != "BACKUP_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "probe", "incident", "list", "--days", "7", "--json",
                           "--config", str(daemon.config)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    jobs_listed = [row["heartbeat"] for row in map(json.loads, done.stdout.splitlines()) if row.get("heartbeat")]
    # the old job's runs due since its success 3 days ago: two at least; the new job's: none
    assert set(jobs_listed) == {"old-job"} and len(jobs_listed) >= 2
    with Store.open(db) as store:
        alerted = {row[0] for row in store.db.conn.execute("SELECT endpoint FROM alert_outbox")}
        terms = [(d.schedule, d.declared_at) for d in job_declarations.declarations(store.db.conn, "new-job")]
    assert alerted == {"heartbeat old-job"}
    (first, started), (second, changed) = terms
    assert now <= started < changed <= time.time()  # declared when the daemon first saw it, then on reload
    assert (first, second) == ("0 3 * * *", "0 4 * * *")
    done = subprocess.run([sys.executable, "-m", "probe", "status", "--json", "--config", str(daemon.config)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["heartbeat"]: row for row in map(json.loads, done.stdout.splitlines()) if "next_due" in row}
    assert {name: (row["state"], row["ok"]) for name, row in rows.items()} == {
        "new-job": ("waiting", True), "old-job": ("overdue", False)}
    assert datetime.fromisoformat(rows["new-job"]["declared_at"]).timestamp() == pytest.approx(started, abs=0.001)
    assert datetime.fromisoformat(rows["old-job"]["declared_at"]).timestamp() == pytest.approx(now - 5 * 86400,
                                                                                               abs=0.001)
