"""Alerts of heartbeats: a run overdue or failed opens an incident of the heartbeat's class, the
next success resolves it, and a restart announces nothing twice."""

import asyncio
from datetime import datetime

from test_alerts import PARIS, Clock, endpoint, outbox

from probe.alerts import Alerter
from probe.config import AlertSettings, Heartbeat, SLASettings, Webhook
from probe.store import Store, job_incidents, pings

BACKUP = Heartbeat("backup", schedule="0 3 * * *", grace=3600, token="x" * 16, severity="major")


def paris(day, hour, minute=0):
    return datetime(2026, 2, day, hour, minute, tzinfo=PARIS).timestamp()


def signal(db, at, kind):
    with Store.open(db) as store:
        pings.add(store, "backup", at, kind)


def run_ticks(db, steps):
    settings = AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),))
    clock = Clock(steps[0][1] if steps[0][0] == "tick" else 0)

    async def main():
        alerter = Alerter(settings, SLASettings(), db, clock=clock)
        await alerter.start([endpoint()])
        alerter.watch_heartbeats((BACKUP,))
        for step in steps:
            if step[0] == "tick":
                clock.now = step[1]
                await alerter.tick()
                await alerter._persist()
            else:
                signal(db, step[1], step[2])
        await alerter.close()

    asyncio.run(main())
    return [(row["event"], row["message"]["fields"]["severity"], row["message"]["fields"]["state"])
            for row in outbox(db)]


def test_overdue_then_success_then_failure(tmp_path):
    db = tmp_path / "p.db"
    run_ticks(db, [("signal", paris(7, 3, 10), "success"),
                   ("tick", paris(8, 3, 30)),  # day 8's run is due, within its grace: nothing
                   ("tick", paris(8, 4)),  # 04:00: overdue -> opened
                   ("tick", paris(8, 5)),  # once only
                   ("signal", paris(8, 5, 30), "success"),
                   ("tick", paris(8, 5, 31)),  # resolved
                   ("signal", paris(9, 3, 5), "fail"),
                   ("tick", paris(9, 3, 6))])  # failed -> opened
    events = run_ticks(db, [("tick", paris(9, 3, 10))])  # a restart: nothing twice
    assert events == [("opened", "major", "missed"), ("resolved", "major", "missed"), ("opened", "major", "failed")]
    first, resolved, failed = (row["message"] for row in outbox(db))
    assert first["fields"]["endpoint"] == "heartbeat backup"
    assert first["fields"]["started"] == "2026-02-08T03:00:00Z"  # 04:00 Paris: due + grace
    assert "the run due 2026-02-08 03:00 CET sent no success signal" in first["text"]
    assert resolved["fields"]["ended"] == "2026-02-08T04:30:00Z"
    assert "signalled failure" in failed["text"]


def test_fix_deadline_reminder(tmp_path):
    """A missed run of a major job, overdue Sunday 8 Feb 04:00: its fix deadline (48 working
    hours) is Wednesday 11 Feb 00:00; a reminder an hour before, once. The runs of 9 and 10 Feb
    are overdue too by then: incidents of their own."""
    db = tmp_path / "p.db"
    events = run_ticks(db, [("signal", paris(7, 3, 10), "success"),
                            ("tick", paris(8, 4)),
                            ("tick", paris(10, 22, 59)),  # too early
                            ("tick", paris(10, 23)),  # the reminder
                            ("tick", paris(10, 23, 30))])  # once only
    assert [event for event, *_ in events] == ["opened", "opened", "opened", "deadline"]
    reminder = outbox(db)[3]["message"]
    assert reminder["fields"]["started"] == "2026-02-08T03:00:00Z"
    assert reminder["fields"]["deadline"] == "fix"
    assert reminder["fields"]["fix_deadline"] == "2026-02-10T23:00:00Z"


def test_incident_id_and_acknowledge_reminder(tmp_path):
    """The job's incident gets an id in its alert (`probe incident ack ID`); the missed run of
    Sunday 8 Feb (overdue 04:00), major: acknowledge within 24 working hours, by Tuesday 10 Feb
    00:00; a reminder an hour before while nobody has acknowledged it."""
    db = tmp_path / "p.db"
    events = run_ticks(db, [("signal", paris(7, 3, 10), "success"), ("tick", paris(8, 4))])
    opened = outbox(db)[0]["message"]
    number = opened["fields"]["incident_id"]
    with Store.open(db) as store:
        record = job_incidents.find(store.db.conn, "backup", paris(8, 4))
    assert record is not None and record.id == number
    assert opened["text"].startswith(f"[MAJOR] #{number} ")
    events = run_ticks(db, [("tick", paris(9, 23))])
    assert [event for event, *_ in events] == ["opened", "deadline", "opened"]
    assert outbox(db)[1]["message"]["fields"]["deadline"] == "acknowledge"


def test_no_acknowledge_reminder_once_acknowledged(tmp_path):
    db = tmp_path / "p.db"
    run_ticks(db, [("signal", paris(7, 3, 10), "success"), ("tick", paris(8, 4))])
    with Store.open(db) as store:
        store.ack_incident(outbox(db)[0]["message"]["fields"]["incident_id"], by="alice", at=paris(8, 9))
    events = run_ticks(db, [("tick", paris(9, 23))])
    assert [event for event, *_ in events] == ["opened", "opened"]
