"""The report's Backups section: JSON counts of the hand-worked February (see
test_heartbeats_sla), the runs not on time, the incidents, and the HTML in Chromium."""

import json
import os
import re
import subprocess
import sys

import pytest

import browser
from test_heartbeats_sla import february_signals

from probe.store import Store, pings

TOKEN = "hb-token-0123456789abcdef"


@pytest.fixture
def setup(tmp_path):
    db = tmp_path / "probe.db"
    config = tmp_path / "probe.toml"
    config.write_text(
        f'[probe]\ndatabase = "{db}"\n[report]\nlanguage = "fr"\n'
        '[[endpoint]]\nname = "api"\nurl = "https://127.0.0.1:9/"\n'
        '[[heartbeat]]\nname = "backup-incremental"\nschedule = "0 3 * * *"\ngrace = "1h"\n'
        'min_duration = "1m"\nmax_duration = "2h"\ntoken = "${BACKUP_PING_TOKEN}"\n'
        '[[heartbeat]]\nname = "backup-full"\nschedule = "0 4 * * 0"\ntoken = "${FULL_PING_TOKEN}"\n')
    with Store.open(db) as store:
        for signal in february_signals():
            pings.add(store, "backup-incremental", signal.at, signal.kind, signal.exit_status)
    return {"db": db, "config": config, "tmp": tmp_path}


def report(setup, *args):
    # the tokens' variables are not set: a report needs no secret
    env = {k: v for k, v in os.environ.items() if not k.endswith("PING_TOKEN")}
    return subprocess.run([sys.executable, "-m", "probe", "report", "--config", str(setup["config"]),
                           "--month", "2026-02", *args], capture_output=True, text=True, timeout=120, env=env)


def test_report_json(setup):
    done = report(setup, "--format", "json", "--as-of", "2026-03-02T00:00")
    assert done.returncode == 0, done.stderr
    incremental, full = json.loads(done.stdout)["heartbeats"]
    assert {k: incremental[k] for k in ("name", "expected", "on_time", "late", "missed", "failed", "too_short",
                                        "too_long")} == {
        "name": "backup-incremental", "expected": 28, "on_time": 23, "late": 1, "missed": 1, "failed": 1,
        "too_short": 1, "too_long": 1}
    assert incremental["runs"] == [
        {"due": "2026-02-03T03:00:00+01:00", "state": "late", "started": "2026-02-03T04:20:00+01:00",
         "finished": "2026-02-03T04:30:00+01:00", "duration_seconds": 600.0, "exit_status": None},
        {"due": "2026-02-05T03:00:00+01:00", "state": "missed", "started": None, "finished": None,
         "duration_seconds": None, "exit_status": None},
        {"due": "2026-02-08T03:00:00+01:00", "state": "failed", "started": "2026-02-08T03:00:00+01:00",
         "finished": "2026-02-08T03:05:00+01:00", "duration_seconds": 300.0, "exit_status": 2},
        {"due": "2026-02-10T03:00:00+01:00", "state": "too_short", "started": "2026-02-10T03:00:00+01:00",
         "finished": "2026-02-10T03:00:20+01:00", "duration_seconds": 20.0, "exit_status": None},
        {"due": "2026-02-12T03:00:00+01:00", "state": "too_long", "started": "2026-02-12T03:00:00+01:00",
         "finished": "2026-02-12T05:30:00+01:00", "duration_seconds": 9000.0, "exit_status": None},
    ]
    missed, failed = incremental["incidents"]
    # minor by default: acknowledge within 48 working hours, fix within 5 working days;
    # Thursday 5 Feb 04:00 -> fixed Friday 6 Feb 03:10, well within
    assert missed == {"due": "2026-02-05T03:00:00+01:00", "state": "missed", "severity": "minor",
                      "start": "2026-02-05T04:00:00+01:00", "end": "2026-02-06T03:10:00+01:00",
                      "duration_seconds": 83400.0, "acknowledge_deadline": "2026-02-09T04:00:00+01:00",
                      "fix_deadline": "2026-02-12T04:00:00+01:00", "fix": "met", "id": None,
                      "acknowledged": None, "acknowledged_by": None, "acknowledge": "missed"}
    assert (failed["start"], failed["end"], failed["fix"]) == ("2026-02-08T03:05:00+01:00",
                                                             "2026-02-09T03:10:00+01:00", "met")
    # the weekly full backup never signalled: its 4 Sunday runs are missed, 4 incidents
    assert (full["expected"], full["missed"], len(full["incidents"])) == (4, 4, 4)
    assert TOKEN not in done.stdout


def test_month_not_over(setup):
    """As of 14 February 03:05: day 14's run is under way, not counted; 13 judged."""
    done = report(setup, "--format", "json", "--as-of", "2026-02-14T03:05")
    incremental = json.loads(done.stdout)["heartbeats"][0]
    assert (incremental["expected"], incremental["on_time"]) == (13, 8)
    assert [run["state"] for run in incremental["runs"]] == ["late", "missed", "failed", "too_short", "too_long"]


@pytest.mark.browser
@pytest.mark.skipif(not browser.available(), reason="needs Debian's chromium")
@pytest.mark.parametrize("lang, words", [
    ("fr", ["Sauvegardes", "backup-incremental", "Attendues", "manquée", "échouée", "trop courte", "en retard", "code de sortie 2"]),
    ("en", ["Backups", "backup-incremental", "Expected", "missed", "failed", "too short", "late", "exit status 2"]),
])
def test_report_html_in_chromium(setup, lang, words):
    out = setup["tmp"] / f"report-{lang}.html"
    done = report(setup, "--as-of", "2026-03-02T00:00", "--lang", lang, "-o", str(out))
    assert done.returncode == 0, done.stderr
    run = browser.dump_dom(out)
    assert run.returncode == 0 and run.console_messages() == []
    dom = run.stdout
    section = dom[dom.index('id="heartbeats"'):]
    text = re.sub(r"<[^>]+>", " ", section)
    for word in words:
        assert word in text, word
    counts = section[section.index('class="data heartbeat-counts"'):]
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', counts[:counts.index("</table>")])
    assert cells == ["28", "23", "1", "1", "1", "1", "1"]
    assert section.count('<tr class="run-') == 5 + 4  # 5 runs not on time, and the full backup's 4


def test_acknowledgements_by_hand(setup):
    """The missed run of Thursday 5 Feb: an incident from 04:00, minor, to acknowledge within 48
    working hours: by Monday 9 Feb 04:00; acknowledged Monday at 03:59, met. The failed run of
    Sunday 8 Feb: from its fail signal, 03:05; the clock stands still on Sunday, so 48 working
    hours end Wednesday 11 Feb 00:00; acknowledged Wednesday at 09:00, missed. A report as of
    Tuesday 10 Feb 12:00 does not see Wednesday's acknowledgement: still open then."""
    from test_heartbeats_sla import paris

    from probe.store import job_incidents

    with Store.open(setup["db"]) as store:
        missed = job_incidents.register(store, "backup-incremental", paris(5, 4), "minor")
        failed = job_incidents.register(store, "backup-incremental", paris(8, 3, 5), "minor")
        store.ack_incident(missed.id, by="alice", at=paris(9, 3, 59))
        store.ack_incident(failed.id, by="bob", at=paris(11, 9))
    done = report(setup, "--format", "json", "--as-of", "2026-03-02T00:00")
    first, second = json.loads(done.stdout)["heartbeats"][0]["incidents"]
    assert {k: first[k] for k in ("id", "acknowledge_deadline", "acknowledged", "acknowledged_by", "acknowledge")} == {
        "id": missed.id, "acknowledge_deadline": "2026-02-09T04:00:00+01:00",
        "acknowledged": "2026-02-09T03:59:00+01:00", "acknowledged_by": "alice", "acknowledge": "met"}
    assert {k: second[k] for k in ("id", "acknowledge_deadline", "acknowledged", "acknowledged_by", "acknowledge")} == {
        "id": failed.id, "acknowledge_deadline": "2026-02-11T00:00:00+01:00",
        "acknowledged": "2026-02-11T09:00:00+01:00", "acknowledged_by": "bob", "acknowledge": "missed"}
    done = report(setup, "--format", "json", "--as-of", "2026-02-10T12:00")
    first, second = json.loads(done.stdout)["heartbeats"][0]["incidents"]
    assert (first["acknowledge"], second["acknowledge"], second["acknowledged"]) == ("met", "open", None)
