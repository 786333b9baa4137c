"""A job's incident in daily use: `probe incident list` gives it an id, `probe incident ack ID`
acknowledges it, the report says whether that was by the deadline, and export/import carry the
acknowledgement. Real processes on a real database."""

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

import browser
from test_heartbeats_store import declare_jobs

from probe.sla import heartbeats as hb
from probe.store import Store, incident_notes, job_incidents, pings

NIGHTLY_DUE = 3  # 03:00 UTC


def at(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def setup(tmp_path):
    """A nightly backup (03:00 UTC, 1 h of grace) that succeeded at 03:05 each of the last 8 days but
    the one 4 days ago: that run is missed, an incident from 04:00 (due + grace) to the next
    success, 3 days ago at 03:05."""
    db, config = tmp_path / "probe.db", tmp_path / "probe.toml"
    config.write_text(
        f'[probe]\ndatabase = "{db}"\n[sla]\ntimezone = "UTC"\n'
        '[[endpoint]]\nname = "api"\nurl = "https://127.0.0.1:9/"\n'
        '[[heartbeat]]\nname = "backup"\nschedule = "0 3 * * *"\ngrace = "1h"\ntoken = "${BACKUP_PING_TOKEN}"\n')
    now = time.time()
    today = datetime.now(timezone.utc).date()
    missed = today - timedelta(days=4)
    with Store.open(db) as store:
        for back in range(0, 9):
            day = today - timedelta(days=back)
            if day != missed and at(day, NIGHTLY_DUE, 5) < now:
                pings.add(store, "backup", at(day, NIGHTLY_DUE, 5), hb.SUCCESS)
    declare_jobs(config, db, now - 10 * 86400)  # known to probe for ten days
    return {"db": db, "config": config, "tmp": tmp_path, "missed": missed}


def probe(setup, *args):
    env = {k: v for k, v in os.environ.items() if not k.endswith("PING_TOKEN")}
    done = subprocess.run([sys.executable, "-m", "probe", *args, "--config", str(setup["config"])],
                          capture_output=True, text=True, timeout=120, env=env)
    return done


def listed(setup):
    done = probe(setup, "incident", "list", "--days", "7", "--json")
    assert done.returncode == 0, done.stderr
    return [row for row in map(json.loads, done.stdout.splitlines()) if row.get("heartbeat") == "backup"]


def test_list_ack_report_export(setup):
    missed = setup["missed"]
    row, = listed(setup)
    start = datetime.fromtimestamp(at(missed, 4), timezone.utc).isoformat()
    assert (row["endpoint"], row["run_state"], row["severity"], row["start"]) == (
        "heartbeat backup", "missed", "minor", start)
    assert row["acknowledged"] is None and isinstance(row["id"], int)
    assert listed(setup)[0]["id"] == row["id"]  # a stable id: listed again, the same

    # acknowledged one hour after its start: well within the 48 working hours of a minor one
    ack_at = datetime.fromtimestamp(at(missed, 5), timezone.utc).strftime("%Y-%m-%dT%H:%M")
    done = probe(setup, "incident", "ack", str(row["id"]), "--by", "alice", "--at", ack_at)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"incident {row['id']} acknowledged\n"
    row, = listed(setup)
    assert (row["acknowledged_by"], row["acknowledge"]) == ("alice", "met")
    assert row["acknowledged"] == datetime.fromtimestamp(at(missed, 5), timezone.utc).isoformat()
    text = probe(setup, "incident", "list", "--days", "7")
    assert "heartbeat backup" in text.stdout and "alice" in text.stdout
    shown = probe(setup, "incident", "show", str(row["id"]))
    assert shown.returncode == 0, shown.stderr
    assert f"incident {row['id']}: heartbeat backup (minor, detected)" in shown.stdout

    # a job's incident is fixed by its next success, not by hand
    closed = probe(setup, "incident", "close", str(row["id"]))
    assert closed.returncode != 0
    assert "is a job's: it is fixed by the job's next success" in closed.stderr

    month = f"{missed.year}-{missed.month:02d}"
    report = probe(setup, "report", "--month", month, "--format", "json")
    assert report.returncode == 0, report.stderr
    section, = json.loads(report.stdout)["heartbeats"]
    incident = next(i for i in section["incidents"] if i["start"] == start)
    assert (incident["id"], incident["acknowledged_by"], incident["acknowledge"]) == (row["id"], "alice", "met")

    done = probe(setup, "incident", "note", str(row["id"]), "restarted the dump by hand", "--by", "bob")
    assert done.returncode == 0, done.stderr
    shown = probe(setup, "incident", "show", str(row["id"]))
    assert "bob: restarted the dump by hand" in shown.stdout

    # the HTML report, in Chromium: the verdict and who acknowledged, in the job's incidents
    if browser.available():
        out = setup["tmp"] / "report.html"
        done = probe(setup, "report", "--month", month, "--lang", "en", "-o", str(out))
        assert done.returncode == 0, done.stderr
        run = browser.dump_dom(out)
        assert run.returncode == 0 and run.console_messages() == []
        section = run.stdout[run.stdout.index('class="data incidents heartbeat-incidents"'):]
        section = section[:section.index("</table>")]
        assert '<span class="status status-met">' in section
        assert "by alice" in section

    # the acknowledgement and the note travel with an export into another database
    exported = probe(setup, "export", "-o", str(setup["tmp"] / "out.jsonl"))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in (setup["tmp"] / "out.jsonl").read_text().splitlines()]
    carried = [line for line in lines if line.get("record") == "job_incident"]
    assert [(c["heartbeat"], c["ack_by"]) for c in carried] == [("backup", "alice")]
    other = setup["tmp"] / "other.db"
    done = subprocess.run([sys.executable, "-m", "probe", "import", str(setup["tmp"] / "out.jsonl"),
                           "--db", str(other)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with Store.open(setup["db"]) as store:
        signals = pings.signals(store, "backup")
    with Store.open(other) as store:
        record = job_incidents.find(store.db.conn, "backup", at(missed, 4))
        assert record is not None and (record.ack_by, record.ack_at) == ("alice", at(missed, 5))
        assert pings.signals(store, "backup") == signals
        notes = incident_notes.notes(store, [record.id])[record.id]
        assert [(n.author, n.text) for n in notes] == [("bob", "restarted the dump by hand")]


def test_ack_before_start_refused(setup):
    row, = listed(setup)
    early = datetime.fromtimestamp(at(setup["missed"], 3), timezone.utc).strftime("%Y-%m-%dT%H:%M")
    done = probe(setup, "incident", "ack", str(row["id"]), "--at", early)
    assert done.returncode != 0
    assert "cannot be acknowledged before" in done.stderr


def test_import_refuses_a_bad_record(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"record": "job_incident", "heartbeat": "backup", "start": "yesterday"}) + "\n")
    done = subprocess.run([sys.executable, "-m", "probe", "import", str(bad), "--db", str(tmp_path / "x.db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "job_incident: start must be milliseconds since the epoch (an integer), not 'yesterday'" in done.stderr


def test_a_database_of_the_former_schema_keeps_its_incidents(tmp_path):
    """The incidents table is rebuilt (endpoint_id may be NULL for a job's): its rows keep their
    ids, acknowledgements and notes, and a detected endpoint incident is still acknowledged by
    endpoint and start."""
    import sqlite3

    from probe.store import incident_notes, schema

    mine = next(i for i, script in enumerate(schema.MIGRATIONS) if "incidents_with_jobs" in script)
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(schema.MIGRATIONS[:mine], start=1):
        for statement in schema._statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO endpoints (id, name, url, interval_s, first_seen, config_at)"
                 " VALUES (7, 'web', 'https://a.example/', 60, 1, 2)")
    conn.execute("INSERT INTO incidents (id, endpoint_id, start, severity, summary, source, ack_at, ack_by,"
                 " recorded_at) VALUES (12, 7, 5000, 'major', 'totals wrong', 'manual', 6000, 'alice', 5000)")
    conn.execute("INSERT INTO incidents (id, endpoint_id, start, severity, source, recorded_at)"
                 " VALUES (13, 7, 9000, 'blocking', 'detected', 9000)")
    conn.execute("INSERT INTO incident_notes (incident_id, at, author, text) VALUES (12, 7000, 'bob', 'fixed')")
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == len(schema.MIGRATIONS)
        manual, detected = store.list_incidents()
        assert (manual.id, manual.endpoint, manual.ack_by, manual.summary) == (12, "web", "alice", "totals wrong")
        assert detected.id == 13
        assert store.ack_incident(endpoint="web", start=9.0, by="carol", at=10.0) == 13
        assert [n.text for n in incident_notes.notes(store)[12]] == ["fixed"]
        job = job_incidents.register(store, "backup", 20.0, "minor")
        assert job.id == 14 and job_incidents.register(store, "backup", 20.0, "minor") == job
        with pytest.raises(sqlite3.IntegrityError):  # an incident is an endpoint's or a job's, never both
            store.db.conn.execute("INSERT INTO incidents (endpoint_id, heartbeat, start, source)"
                                  " VALUES (7, 'backup', 30, 'detected')")
