"""Alerts on the sites' combined verdict: with checks of an endpoint from several sites, its
incident opens when the site rule says down, and a site whose control endpoints are all in an
outage does not vote."""

import asyncio
from dataclasses import replace

from probe.alerts import AlertSettings, Alerter, Webhook
from probe.config import SLASettings
from test_alerts import T0, Clock, endpoint, events_of, outbox, result, run_events

API, RESOLVER = endpoint(), replace(endpoint("resolver"), control=True)


def up(at):
    return result(at, "up")


def test_one_site_down_of_three_opens_nothing_under_majority(tmp_path):
    db = tmp_path / "p.db"
    steps = []
    for minute in range(4):
        at = T0 + 60 * minute
        steps += [(API, result(at), "paris-1"), (API, up(at + 1), "lyon-1"), (API, up(at + 2), "lille-1")]
    assert run_events(db, steps) == []


def test_the_incident_opens_when_the_second_site_confirms_and_ends_below_the_majority(tmp_path):
    db = tmp_path / "p.db"
    steps = [(API, result(T0), "paris-1"), (API, up(T0 + 1), "lyon-1"), (API, up(T0 + 2), "lille-1"),
             (API, result(T0 + 60), "paris-1"),  # A confirmed: 1 of 3
             (API, result(T0 + 61, "down", "connect", "refused"), "lyon-1"), (API, up(T0 + 62), "lille-1"),
             (API, result(T0 + 120), "paris-1"),
             (API, result(T0 + 121, "down", "connect", "refused"), "lyon-1"),  # B confirmed: 2 of 3
             (API, up(T0 + 122), "lille-1"),
             (API, up(T0 + 180), "paris-1"),  # 1 of 3: over
             ]
    assert run_events(db, steps) == [("chat", "opened", "blocking"), ("chat", "resolved", "blocking")]
    opened, resolved = (row["message"]["fields"] for row in outbox(db))
    assert opened["started"] == "2026-10-07T08:02:01Z"  # the instant the rule said down


def test_an_abstaining_site_does_not_vote(tmp_path):
    db = tmp_path / "p.db"
    steps = []
    for minute in range(3):  # C's network fails: its control endpoint and the service down from it
        at = T0 + 60 * minute
        steps += [(RESOLVER, result(at, "down", "timeout", "timed out"), "lille-1"),
                  (API, result(at + 1, "down", "timeout", "timed out"), "lille-1"),
                  (RESOLVER, up(at + 2), "paris-1"), (API, up(at + 3), "paris-1")]
    clock = Clock(T0)

    async def main():
        alerter = Alerter(AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),)),
                          SLASettings(sites="any"), db, clock=clock)
        await alerter.start([API, RESOLVER])
        for step in steps:
            alerter.observe(*step)
        assert alerter.votes.abstains("lille-1", T0 + 121) and not alerter.votes.abstains("paris-1", T0 + 121)
        # then paris-1 sees the service down too: under "any", one voting site is enough
        alerter.observe(API, result(T0 + 180), "paris-1")
        alerter.observe(API, result(T0 + 240), "paris-1")
        await alerter.close()

    asyncio.run(main())
    events = events_of(db)
    assert events == [("chat", "opened", "blocking")]  # no incident from the abstaining site, nor for the control endpoint
    [opened] = [row["message"]["fields"] for row in outbox(db)]
    assert opened["started"] == "2026-10-07T08:04:00Z"


def test_one_site_named_alerts_as_without_sites(tmp_path):
    steps = [(API, result(T0)), (API, result(T0 + 60)), (API, up(T0 + 120))]
    named = [(*step, "paris-1") for step in steps]
    assert run_events(tmp_path / "a.db", steps) == run_events(tmp_path / "b.db", named) == [
        ("chat", "opened", "blocking"), ("chat", "resolved", "blocking")]


def test_after_a_restart_the_vote_goes_on_from_the_stored_runs(tmp_path):
    """paris-1's outage confirmed and lyon-1's first down check are in the database; after a
    restart, lyon-1's next down check makes 2 of 2: the incident opens at once."""
    from probe.store import Writer

    db = tmp_path / "p.db"
    with Writer(db) as writer:
        for at in (T0, T0 + 60):
            writer.submit("api", result(at), 60.0, "paris-1")
        writer.submit("api", result(T0 + 61), 60.0, "lyon-1")
    clock = Clock(T0 + 120)

    async def main():
        alerter = Alerter(AlertSettings(webhooks=(Webhook("chat", "https://127.0.0.1:1/"),)), SLASettings(), db,
                          clock=clock)
        await alerter.start([API])
        assert alerter.votes.sites("api") == 2
        alerter.observe(API, result(T0 + 121), "lyon-1")
        await alerter.close()

    asyncio.run(main())
    assert events_of(db) == [("chat", "opened", "blocking")]
