"""The judging of a job's runs (probe.sla.heartbeats), on hand-worked months."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from probe.sla import heartbeats as hb

PARIS = ZoneInfo("Europe/Paris")


def paris(day, hour, minute=0, second=0, month=2):
    return datetime(2026, month, day, hour, minute, second, tzinfo=PARIS).timestamp()


def utc(day, hour, minute=0):
    return datetime(2026, 2, day, hour, minute, tzinfo=timezone.utc).timestamp()


FEBRUARY = (paris(1, 0), datetime(2026, 3, 1, tzinfo=PARIS).timestamp())
NIGHTLY = hb.Expectation("0 3 * * *", None, grace=3600, timezone="Europe/Paris", min_duration=60, max_duration=7200)


def february_signals():
    """A nightly backup due at 03:00 Paris, February 2026 (28 runs, no change of time):
    every night it starts at 03:00 and succeeds at 03:10 (600 s: on time), except
      day 3:  starts 04:20, succeeds 04:30 -> after 03:00 + 1 h of grace: late
      day 5:  sends nothing before day 6 03:00 -> missed
      day 8:  starts 03:00, fails 03:05 (exit status 2) -> failed
      day 10: starts 03:00, succeeds 03:00:20 -> 20 s < min 60 s: too short
      day 12: starts 03:00, succeeds 05:30 -> 2 h 30 > max 2 h: too long (late too: too long comes first)
    """
    signals = []
    for day in range(1, 29):
        if day == 3:
            signals += [hb.Signal(paris(3, 4, 20), hb.START), hb.Signal(paris(3, 4, 30), hb.SUCCESS)]
        elif day == 5:
            continue
        elif day == 8:
            signals += [hb.Signal(paris(8, 3), hb.START), hb.Signal(paris(8, 3, 5), hb.FAIL, 2)]
        elif day == 10:
            signals += [hb.Signal(paris(10, 3), hb.START), hb.Signal(paris(10, 3, 0, 20), hb.SUCCESS)]
        elif day == 12:
            signals += [hb.Signal(paris(12, 3), hb.START), hb.Signal(paris(12, 5, 30), hb.SUCCESS)]
        else:
            signals += [hb.Signal(paris(day, 3), hb.START), hb.Signal(paris(day, 3, 10), hb.SUCCESS)]
    return signals


def test_hand_worked_february():
    runs = hb.judge_runs(NIGHTLY, february_signals(), FEBRUARY, as_of=FEBRUARY[1])
    # 28 runs due: 28 - 5 odd ones = 23 on time
    assert hb.count_runs(runs) == hb.RunCounts(expected=28, on_time=23, late=1, missed=1, failed=1,
                                              too_short=1, too_long=1)
    odd = {datetime.fromtimestamp(r.due, PARIS).day: r for r in runs if r.state != hb.ON_TIME}
    assert {day: run.state for day, run in odd.items()} == {
        3: hb.LATE, 5: hb.MISSED, 8: hb.FAILED, 10: hb.TOO_SHORT, 12: hb.TOO_LONG}
    assert odd[3].due == paris(3, 3) and odd[3].started == paris(3, 4, 20) and odd[3].duration == 600
    assert odd[5].started is None and odd[5].finished is None
    assert odd[8].finished == paris(8, 3, 5) and odd[8].duration == 300 and odd[8].exit_status == 2
    assert odd[10].duration == 20 and odd[12].duration == 9000
    # the missed run is an incident from 04:00 (due + grace), fixed by the next success (day 6 03:10);
    # the failed one from its fail signal, fixed by day 9's success
    assert odd[5].incident_start(3600) == paris(5, 4)
    assert hb.fixed_at(odd[5], 3600, february_signals()) == paris(6, 3, 10)
    assert odd[8].incident_start(3600) == paris(8, 3, 5)
    assert hb.fixed_at(odd[8], 3600, february_signals()) == paris(9, 3, 10)
    assert odd[3].incident_start(3600) is None


def test_month_not_over():
    """As of 14 February 03:05: runs due on days 1..14; day 14's has started, with 55 min of
    grace left: pending, not counted. Days 1..13: 13 judged, 13 - 5 odd = 8 on time."""
    runs = hb.judge_runs(NIGHTLY, february_signals(), FEBRUARY, as_of=paris(14, 3, 5))
    assert len(runs) == 14
    assert runs[-1].state == hb.PENDING and runs[-1].started == paris(14, 3)
    assert hb.count_runs(runs) == hb.RunCounts(13, 8, 1, 1, 1, 1, 1)
    # 5 February 05:00: day 5's run is overdue (past its grace), not yet missed
    runs = hb.judge_runs(NIGHTLY, february_signals(), FEBRUARY, as_of=paris(5, 5))
    assert runs[-1].state == hb.OVERDUE and hb.count_runs(runs).expected == 4
    # 5 February 02:59: day 5's run is not due yet
    assert len(hb.judge_runs(NIGHTLY, february_signals(), FEBRUARY, as_of=paris(5, 2, 59))) == 4


def test_dst_as_cronsim_does():
    """02:30 does not exist on 29 March 2026 in Paris: that run is due at 03:00 CEST; the 31 days
    of March have 31 runs. On 25 October 02:30 happens twice: one run, at the first."""
    march = (paris(1, 0, month=3), datetime(2026, 4, 1, tzinfo=PARIS).timestamp())
    times = list(hb.cron_times("30 2 * * *", "Europe/Paris", march[0], march[1]))
    assert len(times) == 31
    assert times[28] == datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc).timestamp()  # 03:00 CEST
    october = (datetime(2026, 10, 1, tzinfo=PARIS).timestamp(), datetime(2026, 11, 1, tzinfo=PARIS).timestamp())
    times = list(hb.cron_times("30 2 * * *", "Europe/Paris", october[0], october[1]))
    assert len(times) == 31
    assert times[24] == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc).timestamp()  # 02:30 CEST


def test_every():
    """every = 1d, grace 1h, in UTC, period 1-5 February; the job last succeeded 31 Jan 22:00.
      due 1 Feb 22:00: success 1 Feb 21:00 (early is fine) -> on time; next due 2 Feb 21:00
      due 2 Feb 21:00: success 2 Feb 22:30 (> 22:00) -> late; next due 3 Feb 22:30
      due 3 Feb 22:30: nothing until 4 Feb 22:30 -> missed; next due 4 Feb 22:30
      due 4 Feb 22:30: success 4 Feb 23:00 (<= 23:30) -> on time"""
    job = hb.Expectation(None, 86400, grace=3600, timezone="UTC")
    signals = [hb.Signal(datetime(2026, 1, 31, 22, tzinfo=timezone.utc).timestamp(), hb.SUCCESS),
               hb.Signal(utc(1, 21), hb.SUCCESS), hb.Signal(utc(2, 22, 30), hb.SUCCESS),
               hb.Signal(utc(4, 23), hb.SUCCESS)]
    runs = hb.judge_runs(job, signals, (utc(1, 0), utc(5, 0)), as_of=utc(5, 0))
    assert [(r.due, r.state) for r in runs] == [
        (utc(1, 22), hb.ON_TIME), (utc(2, 21), hb.LATE), (utc(3, 22, 30), hb.MISSED), (utc(4, 22, 30), hb.ON_TIME)]


def test_never_signalled():
    """A job that never sent a signal: due every day from the period's start, all missed."""
    job = hb.Expectation(None, 86400, grace=3600, timezone="UTC")
    runs = hb.judge_runs(job, [], (utc(1, 0), utc(5, 0)), as_of=utc(5, 0))
    assert [r.state for r in runs] == [hb.MISSED] * 3  # due 2, 3 and 4 Feb
