"""Incidents in daily use: the incident id in every alert, who acknowledged and when in
`probe incident list`, a timeline of notes (`probe incident note`, `probe incident show`)
carried by export and import, every time in the SLA's time zone and labelled with it."""

import json
import re
import time

import pytest

from probe.alerts import AlertSettings
from probe.store import Store, Writer
from test_alerts import Hook, deliver_events, incident, outbox
from test_report import Timeline, import_history, paris, probe, write_config, write_jsonl
from probe.alerts.messages import compose, with_incident_id
from test_alerts import PARIS, T0


@pytest.fixture
def history(tmp_path):
    """A week of checks of "api" (Mon 5 - Sun 11 Oct 2026) with one blocking outage, Mon 5 Oct
    10:00-10:10 (Paris, CEST)."""
    timeline = (Timeline("api", paris(2026, 10, 5), paris(2026, 10, 12))
                .episode(paris(2026, 10, 5, 10), paris(2026, 10, 5, 10, 10), "http_status"))
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", timeline))
    return {"db": db, "config": write_config(tmp_path / "probe.toml", ["api"]), "tmp": tmp_path}


def ok(done):
    assert done.returncode == 0, done.stderr
    return done


def the_id(history):
    done = ok(probe("incident", "list", "--config", history["config"], "--db", history["db"], "--days", "3650",
                    "--json"))
    row, = map(json.loads, done.stdout.splitlines())
    return row["id"]


def test_every_message_can_carry_its_incident_id():
    message = with_incident_id(compose("opened", incident(), PARIS, now=T0 + 60), 12)
    assert message["text"].startswith("[BLOCKING] #12 api down since 2026-10-07 10:00 CEST")
    assert message["subject"] == "[BLOCKING] #12 api down: HTTP 503"
    assert "Incident:       #12 (probe incident ack 12)" in message["body"]
    assert message["body"].endswith("\n\n-- \nprobe\n")
    assert message["fields"]["incident_id"] == 12
    resolved = with_incident_id(compose("resolved", incident(), PARIS, now=T0, end=T0 + 600), 12)
    assert resolved["text"].startswith("[RESOLVED] #12 api down from")


def test_a_delivered_alert_names_the_id_that_incident_list_shows(servers, certs, tmp_path):
    db = tmp_path / "p.db"
    with Writer(db) as writer:  # the endpoint is known to the database, as under the daemon
        from test_alerts import result

        writer.submit("api", result(time.time() - 60, "up"), 60.0, "test")
        writer.flush(10)
    hook = Hook(servers, certs)
    deliver_events(db, AlertSettings(webhooks=(hook.channel(certs),)), until=lambda: hook.accepted)
    _, body = hook.accepted[0]
    with Store.open(db) as store:
        record, = [r for r in store.list_incidents() if r.source == "detected"]
    assert body["incident_id"] == record.id
    assert body["text"].startswith(f"[BLOCKING] #{record.id} api down since ")
    assert outbox(db)[0]["message"]["fields"]["incident_id"] == record.id


def test_list_shows_who_acknowledged_and_when_in_the_sla_zone(history):
    number = the_id(history)
    ok(probe("incident", "ack", number, "--config", history["config"], "--db", history["db"],
             "--at", "2026-10-05T10:20", "--by", "alice"))
    done = ok(probe("incident", "list", "--config", history["config"], "--db", history["db"], "--days", "3650"))
    header, row = done.stdout.splitlines()
    assert header.split()[:6] == ["ID", "ENDPOINT", "CLASS", "START", "END", "ACK"]
    assert "ACKNOWLEDGED" in header and "NOTES" in header
    assert "2026-10-05 10:00 CEST" in row and "2026-10-05 10:10 CEST" in row
    assert "2026-10-05 10:20 CEST by alice" in row


def test_notes_make_a_timeline(history):
    config, db = history["config"], history["db"]
    number = the_id(history)
    done = ok(probe("incident", "note", number, "failover to the standby database", "--by", "bob",
                    "--config", config, "--db", db))
    assert done.stdout.strip().startswith("note 1 added to incident")
    ok(probe("incident", "note", number, "root cause: a full disk", "--config", config, "--db", db))
    show = ok(probe("incident", "show", number, "--config", config, "--db", db)).stdout
    lines = show.splitlines()
    assert lines[0] == f"incident {number}: api (blocking, detected)"
    assert "  started      2026-10-05 10:00 CEST" in lines
    timeline = lines[lines.index("timeline:") + 1:]
    assert timeline[0].startswith("  2026-10-05 10:00 CEST  started")
    assert timeline[1] == "  2026-10-05 10:10 CEST  ended"
    assert timeline[2].endswith("  bob: failover to the standby database")
    assert timeline[3].endswith(": root cause: a full disk")
    assert all(line.split()[2] in ("CET", "CEST") for line in timeline)
    listed = json.loads(ok(probe("incident", "list", "--config", config, "--db", db, "--days", "3650",
                                 "--json")).stdout)
    assert [note["text"] for note in listed["notes"]] == ["failover to the standby database",
                                                          "root cause: a full disk"]
    assert listed["notes"][0]["author"] == "bob"
    table = ok(probe("incident", "list", "--config", config, "--db", db, "--days", "3650")).stdout
    header, row = table.splitlines()
    at = header.index("NOTES")
    assert row[at:at + 5].strip() == "2"


def test_notes_travel_with_export_and_import(history):
    config, db, tmp = history["config"], history["db"], history["tmp"]
    number = the_id(history)
    ok(probe("incident", "note", number, "customer informed", "--by", "carol", "--config", config, "--db", db))
    exported = tmp / "export.jsonl"
    ok(probe("export", "--db", db, "--output", exported))
    notes = [json.loads(line) for line in exported.read_text().splitlines() if '"incident_note"' in line]
    assert len(notes) == 1 and notes[0]["text"] == "customer informed" and notes[0]["author"] == "carol"
    other = tmp / "other.db"
    ok(probe("import", exported, "--db", other))
    ok(probe("import", exported, "--db", other))  # twice: nothing doubled
    listed = json.loads(ok(probe("incident", "list", "--config", config, "--db", other, "--days", "3650",
                                 "--json")).stdout)
    assert [(n["author"], n["text"]) for n in listed["notes"]] == [("carol", "customer informed")]


@pytest.mark.parametrize("args, message", [
    (["note", "999", "hello"], "no incident 999 in"),
    (["note", "1", "   "], "a note needs some text"),
    (["note", "1", "a\x1b[31mred"], "TEXT"),
    (["show", "999"], "no incident 999 in"),
])
def test_bad_notes_are_one_line(history, args, message):
    the_id(history)
    done = probe("incident", *args, "--config", history["config"], "--db", history["db"])
    assert done.returncode == 3, done
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_maintenance_list_times_are_labelled_with_the_zone(history):
    config, db = history["config"], history["db"]
    ok(probe("maintenance", "add", "--start", "2027-07-01T22:00", "--end", "2027-07-02T00:00", "--reason", "upgrade",
             "--config", config, "--db", db))
    header, row = ok(probe("maintenance", "list", "--config", config, "--db", db)).stdout.splitlines()
    assert "2027-07-01 22:00 CEST" in row and "2027-07-02 00:00 CEST" in row
    assert re.search(r" \d{4}-\d\d-\d\d \d\d:\d\d CES?T ", row.split("CEST", 2)[-1])  # declared: now


def test_show_neutralises_what_a_check_or_a_site_wrote():
    """A summary comes from a check's error text, which a server (or a site's push) chose: on
    the terminal it stays on its line, and escape sequences are shown, not obeyed."""
    from probe.report.incidents import format_show

    hostile = "\x1b]0;pwned\x07\x1b[2Jdown\u202e\r\nFAKE LOG LINE"
    row = {"id": 3, "endpoint": "web\x1b[31m", "severity": "blocking", "source": "detected",
           "start": "2026-12-05T11:03:00+01:00", "end": None, "summary": hostile,
           "acknowledge_deadline": None, "acknowledge": "open", "fix_deadline": None, "fix": "open",
           "acknowledged": None, "acknowledged_by": None, "notes": []}
    text = format_show(row, "Europe/Paris")
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert not any(line.startswith("FAKE") for line in text.splitlines())
