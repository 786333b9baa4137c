"""The accounting rules, against known answers worked out by hand in the comments."""

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from probe.sla import (
    COVERAGE_FACTOR,
    DEFAULT_DEADLINES,
    Check,
    Run,
    Severity,
    Window,
    availability,
    classify,
    clip,
    deadline_status,
    episodes,
    expand_weekly,
    fix_time,
    fold_check,
    incident_deadlines,
    incident_severity,
    intersect,
    maintenance_for,
    merge,
    month_period,
    monitored,
    runs_from_checks,
    subtract,
    total_ms,
    truncate_percent,
    unmonitored,
)
from probe.sla import WorkCalendar

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600
MINUTE = 60


def local(*fields):
    return datetime(*fields, tzinfo=PARIS).timestamp()


def as_local(epoch):
    return datetime.fromtimestamp(epoch, PARIS).replace(tzinfo=None)


def checks_every(start, end, interval=60, special=None, skip=()):
    """Up checks from start (included) to end (excluded) every interval, except the instants
    in ``special`` ({at: (state, error_class)}) and in the ``skip`` ranges [a, b)."""
    special = special or {}
    instants = (start + i * interval for i in range(int((end - start - 1e-9) // interval) + 1))
    return [
        Check(at, *special.get(at, ("up", None)), interval)
        for at in instants
        if not any(a <= at < b for a, b in skip)
    ]


def down_at(*instants, error_class="connect"):
    return {at: ("down", error_class) for at in instants}


def minutes(start, count, step=60):
    return [start + i * step for i in range(count)]


OCTOBER = month_period(2026, 10)


# --- the period -------------------------------------------------------------------------------


def test_october_2026_in_paris_lasts_745_hours():
    start, end = OCTOBER
    assert as_local(start) == datetime(2026, 10, 1) and as_local(end) == datetime(2026, 11, 1)
    assert end - start == 745 * HOUR  # 31 x 24 + the hour given back on 25 October


def test_march_2026_in_paris_lasts_743_hours():
    start, end = month_period(2026, 3)
    assert end - start == 743 * HOUR  # 31 x 24 - the hour lost on 29 March


def test_ordinary_months():
    start, end = month_period(2026, 6)
    assert end - start == 30 * 24 * HOUR
    assert as_local(start) == datetime(2026, 6, 1)
    start, end = month_period(2026, 12)
    assert (end - start, as_local(end)) == (31 * 24 * HOUR, datetime(2027, 1, 1))
    start, end = month_period(2026, 2, "UTC")
    assert start == datetime(2026, 2, 1, tzinfo=ZoneInfo("UTC")).timestamp()
    assert end - start == 28 * 24 * HOUR


# --- intervals --------------------------------------------------------------------------------


def test_interval_helpers():
    assert merge([(5, 7), (0, 2), (2, 3), (6, 9), (4, 4)]) == [(0, 3), (5, 9)]
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert subtract([(0, 10), (20, 30)], [(2, 3), (8, 22)]) == [(0, 2), (3, 8), (22, 30)]
    assert subtract([(0, 10)], [(0, 10)]) == []
    assert clip([(-5, 5), (8, 20)], (0, 10)) == [(0, 5), (8, 10)]
    # Overlapping time counts once; durations are summed in whole milliseconds.
    assert total_ms([(0, 1.5), (1, 2)]) == 2000


# --- checks -> runs ---------------------------------------------------------------------------


def test_runs_group_checks_and_end_where_the_next_check_starts():
    t = 1_790_000_000.0
    checks = [
        Check(t, "up", None, 60),
        Check(t + 60, "up", None, 60),
        Check(t + 120, "down", "timeout", 60),  # state change
        Check(t + 130, "down", "connect", 60),  # class change
        Check(t + 190, "down", "connect", 60),
    ]
    runs = runs_from_checks(checks)
    assert [(r.state, r.error_class, r.count) for r in runs] == [
        ("up", None, 2),
        ("down", "timeout", 1),
        ("down", "connect", 2),
    ]
    # A closed run ends at the next check (sooner than last + 1.5 x interval) ...
    assert (runs[0].start, runs[0].last, runs[0].end) == (t, t + 60, t + 120)
    assert runs[1].end == t + 130
    # ... the open run at its last check + 1.5 x interval (provisional).
    assert runs[2].end == t + 190 + COVERAGE_FACTOR * 60 == t + 280


def test_a_coverage_gap_splits_a_run_and_caps_its_end():
    t = 1_790_000_000.0
    # Checks every 60 s vouch 90 s each; the next check 200 s later leaves a 110 s hole.
    runs = runs_from_checks([Check(t, "up", None, 60), Check(t + 200, "up", None, 60)])
    assert [(r.start, r.end, r.count) for r in runs] == [(t, t + 90, 1), (t + 200, t + 290, 1)]
    # Exactly 1.5 x interval later is still covered: one run.
    runs = runs_from_checks([Check(t, "up", None, 60), Check(t + 90, "up", None, 60)])
    assert [(r.start, r.last, r.count) for r in runs] == [(t, t + 90, 2)]


def test_an_interval_change_starts_a_new_run():
    t = 1_790_000_000.0
    runs = runs_from_checks([Check(t, "up", None, 60), Check(t + 60, "up", None, 30)])
    assert [(r.interval, r.end) for r in runs] == [(60, t + 60), (30, t + 105)]


def test_fold_check_returns_the_closed_run_once():
    t = 1_790_000_000.0
    closed, open_run = fold_check(None, Check(t, "up", None, 60))
    assert closed is None and open_run == Run(t, t, t + 90, "up", None, 1, 60)
    closed, open_run = fold_check(open_run, Check(t + 60, "up", None, 60))
    assert closed is None and (open_run.count, open_run.end) == (2, t + 150)
    closed, open_run = fold_check(open_run, Check(t + 120, "down", "dns", 60))
    assert closed == Run(t, t + 60, t + 120, "up", None, 2, 60)
    assert open_run.start == t + 120
    with pytest.raises(ValueError, match="time order"):
        fold_check(open_run, Check(t + 100, "up", None, 60))


# --- coverage ---------------------------------------------------------------------------------


def test_monitored_and_unmonitored_are_clipped_to_the_period():
    t = 1_790_000_000.0
    runs = [
        Run(t - 50, t + 10, t + 40, "up", None, 2, 60),
        Run(t + 60, t + 60, t + 150, "up", None, 1, 60),
    ]
    assert monitored(runs, (t, t + 100)) == [(t, t + 40), (t + 60, t + 100)]
    assert unmonitored(runs, (t, t + 100)) == [(t + 40, t + 60)]


# --- availability -----------------------------------------------------------------------------


def test_a_month_all_up():
    figures = availability(runs_from_checks(checks_every(*OCTOBER)), OCTOBER)
    assert figures.period_seconds == figures.eligible_seconds == 745 * HOUR
    assert figures.downtime_seconds == 0 and figures.unmonitored_seconds == 0
    assert figures.availability_exact == 100 and figures.met
    assert figures.availability_shown() == Decimal("100.000")
    assert figures.coverage_exact == 100


def test_a_single_down_check_is_a_blip_not_downtime():
    ten = local(2026, 10, 5, 10)
    runs = runs_from_checks(checks_every(*OCTOBER, special=down_at(ten)))
    figures = availability(runs, OCTOBER, confirm=2)
    assert figures.downtime_seconds == 0 and figures.outages == ()
    assert figures.blip_count == 1
    (blip,) = figures.blips
    # The blip lasts until the next (up) check, one minute later.
    assert (blip.kind, blip.state, blip.start, blip.end, blip.checks) == (
        "blip", "down", ten, ten + 60, 1,
    )
    # With confirm=1 the same check is an outage of 60 s.
    assert availability(runs, OCTOBER, confirm=1).downtime_seconds == 60


def test_an_outage_of_five_minutes():
    # Down checks at 10:00 .. 10:04, the first up check at 10:05 -> 300 s of downtime.
    ten = local(2026, 10, 5, 10)
    runs = runs_from_checks(checks_every(*OCTOBER, special=down_at(*minutes(ten, 5))))
    figures = availability(runs, OCTOBER, target=99.8)
    (outage,) = figures.outages
    assert (outage.start, outage.end, outage.checks, outage.ongoing) == (ten, ten + 300, 5, False)
    assert figures.downtime_seconds == 300
    assert figures.outage_downtime_seconds == (300,)
    # 745 h = 2 682 000 s eligible; 100 x (1 - 300 / 2 682 000) = 100 x 8939 / 8940 = 44695 / 447
    # = 99.98881...; shown truncated as 99.988.
    assert figures.availability_exact == Fraction(44695, 447)
    assert figures.availability_shown() == Decimal("99.988")
    # Error budget: 0.2 % of 2 682 000 s = 5 364 s (89 min 24 s).
    assert figures.allowed_downtime_seconds == 5364
    assert figures.met


def test_a_hole_inside_an_outage_is_unmonitored_not_downtime():
    # Down at 10:00, 10:01, 10:02; no check for 10 minutes; down at 10:12, 10:13; up at 10:14.
    # The 10:02 check vouches until 10:02 + 1.5 x 60 s = 10:03:30.
    #   downtime    = [10:00, 10:03:30) 210 s + [10:12, 10:14) 120 s = 330 s
    #   unmonitored = [10:03:30, 10:12) = 510 s
    ten = local(2026, 10, 5, 10)
    checks = checks_every(
        *OCTOBER,
        special=down_at(ten, ten + 60, ten + 120, ten + 720, ten + 780),
        skip=[(ten + 180, ten + 720)],
    )
    figures = availability(runs_from_checks(checks), OCTOBER)
    (outage,) = figures.outages
    assert (outage.start, outage.end, outage.checks) == (ten, ten + 840, 5)
    assert outage.covered == ((ten, ten + 210), (ten + 720, ten + 840))
    assert figures.downtime_seconds == 330
    assert figures.unmonitored_seconds == 510
    assert figures.unmonitored == ((ten + 210, ten + 720),)
    assert figures.eligible_seconds == 2_682_000 - 510
    assert figures.availability_exact == 100 * (1 - Fraction(330, 2_681_490))


def test_down_checks_across_a_hole_are_one_sequence():
    # One down check, the probe stops for an hour, one more down check, then up: the two are
    # consecutive in check order, so with confirm=2 this is an outage, not two blips.
    ten = local(2026, 10, 5, 10)
    checks = checks_every(
        *OCTOBER, special=down_at(ten, ten + HOUR), skip=[(ten + 60, ten + HOUR)]
    )
    figures = availability(runs_from_checks(checks), OCTOBER)
    (outage,) = figures.outages
    assert (outage.start, outage.end, outage.checks) == (ten, ten + HOUR + 60, 2)
    # Each check vouches for 90 s at most: 90 s + 60 s (the next check came first).
    assert figures.downtime_seconds == 150
    assert figures.blip_count == 0


def test_maintenance_overlapping_an_outage_counts_only_outside_it():
    # Outage 10:00-10:05; maintenance 09:58-10:02 -> downtime 10:02-10:05 = 180 s;
    # eligible = 2 682 000 - 240.
    ten = local(2026, 10, 5, 10)
    runs = runs_from_checks(checks_every(*OCTOBER, special=down_at(*minutes(ten, 5))))
    figures = availability(runs, OCTOBER, [(ten - 120, ten + 120)])
    assert figures.downtime_seconds == 180
    assert figures.outage_downtime_seconds == (180,)
    assert figures.maintenance_seconds == 240
    assert figures.eligible_seconds == 2_682_000 - 240
    # An outage wholly inside maintenance stays listed, with nothing counted.
    figures = availability(runs, OCTOBER, [(ten - 120, ten + 600)])
    assert len(figures.outages) == 1 and figures.downtime_seconds == 0


def test_unmonitored_time_inside_maintenance_is_counted_once_as_maintenance():
    # Checks stop after 02:00 (it vouches until 02:01:30) and restart at 03:00; maintenance
    # 01:30-02:30. Unmonitored outside maintenance = 02:30-03:00 = 1 800 s (the 1 710 s from
    # 02:01:30 to 02:30 are maintenance). Every second is counted once:
    # 2 682 000 = eligible 2 676 600 + maintenance 3 600 + unmonitored 1 800.
    two = local(2026, 10, 6, 2)
    checks = checks_every(*OCTOBER, skip=[(two + 60, two + HOUR)])
    figures = availability(runs_from_checks(checks), OCTOBER, [(two - 1800, two + 1800)])
    assert figures.maintenance_seconds == 3600
    assert figures.unmonitored_seconds == 1800
    assert figures.unmonitored == ((two + 1800, two + HOUR),)
    assert figures.eligible_seconds == 2_676_600
    assert (
        figures.eligible_seconds + figures.maintenance_seconds + figures.unmonitored_seconds
        == figures.period_seconds
    )
    # Coverage is monitored / period, maintenance or not: 3 510 s were not vouched for.
    assert figures.monitored_seconds == 2_682_000 - 3510
    assert figures.coverage_exact == 100 * Fraction(2_682_000 - 3510, 2_682_000)


def test_an_outage_across_the_month_edge_is_cut_at_local_midnight():
    # Down from Sat 31 Oct 23:50 to Sun 1 Nov 00:10 local (CET): 600 s in each month.
    # Data from 30 Oct 00:00 to 2 Nov 00:00 (last check, vouching until 00:01:30).
    start = local(2026, 10, 31, 23, 50)
    checks = checks_every(
        local(2026, 10, 30), local(2026, 11, 2) + 1, special=down_at(*minutes(start, 20))
    )
    runs = runs_from_checks(checks)
    october = availability(runs, OCTOBER)
    november = availability(runs, month_period(2026, 11))
    assert october.downtime_seconds == november.downtime_seconds == 600
    # The incident is listed in both months, whole (start, end) for its deadlines.
    assert october.outages == november.outages
    assert (as_local(october.outages[0].start), as_local(october.outages[0].end)) == (
        datetime(2026, 10, 31, 23, 50),
        datetime(2026, 11, 1, 0, 10),
    )
    # October: monitored 30 Oct 00:00 - 1 Nov 00:00 = 48 h; the other 697 h unmonitored.
    assert october.eligible_seconds == 48 * HOUR
    assert october.unmonitored_seconds == 697 * HOUR
    # November: monitored 1 Nov 00:00 - 2 Nov 00:01:30 = 86 490 s.
    assert november.eligible_seconds == 86_490


def test_a_blip_at_the_month_edge_counts_in_the_month_it_starts():
    last_minute = local(2026, 10, 31, 23, 59)
    checks = checks_every(local(2026, 10, 31), local(2026, 11, 1, 1), special=down_at(last_minute))
    runs = runs_from_checks(checks)
    assert availability(runs, OCTOBER).blip_count == 1
    assert availability(runs, month_period(2026, 11)).blip_count == 0


def test_the_repeated_hour_of_the_dst_month_is_counted():
    # Sun 25 Oct 2026: clocks go from 03:00 CEST back to 02:00 CET. Down from 02:30 CEST
    # (00:30 UTC) to 02:30 CET (01:30 UTC): the local clock reads the same, but it is 1 h.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=ZoneInfo("UTC")).timestamp()
    runs = runs_from_checks(checks_every(*OCTOBER, special=down_at(*minutes(first, 60))))
    figures = availability(runs, OCTOBER)
    assert figures.downtime_seconds == HOUR
    assert figures.eligible_seconds == 745 * HOUR
    # 100 x (1 - 3 600 / 2 682 000) = 100 x 744 / 745 = 99.86577... -> 99.865
    assert figures.availability_exact == Fraction(74400, 745)
    assert figures.availability_shown() == Decimal("99.865")


def test_a_period_without_data_has_no_availability_and_is_not_met():
    figures = availability([], OCTOBER)
    assert figures.availability_exact is None and figures.availability_percent is None
    assert figures.availability_shown() is None
    assert not figures.met
    assert figures.unmonitored_seconds == 745 * HOUR
    assert figures.unmonitored == (OCTOBER,)
    # All of it in maintenance: still nothing eligible, still not met.
    figures = availability([], OCTOBER, [OCTOBER])
    assert (figures.eligible_seconds, figures.unmonitored_seconds, figures.met) == (0, 0, False)


def test_exactly_the_target_shows_99_800_and_is_met():
    # Period 150 s, fully monitored, down [t+0.1, t+0.4): 0.3 s = 0.2 % of 150 s.
    # In floats (t+0.4) - (t+0.1) = 0.30000019..., so 100 x (1 - d / 150) = 99.79999987:
    # a naive computation would show 99.799 and "not met". The exact answer is 99.8.
    t = 1_790_000_000.0
    runs = [
        Run(t, t, t + 0.1, "up", None, 1, 60),
        Run(t + 0.1, t + 0.2, t + 0.4, "down", "timeout", 2, 60),
        Run(t + 0.4, t + 100, t + 150, "up", None, 2, 60),
    ]
    assert 100 * (1 - ((t + 0.4) - (t + 0.1)) / 150) < 99.8
    figures = availability(runs, (t, t + 150), target=99.8)
    assert figures.availability_exact == Fraction("99.8")
    assert figures.availability_shown() == Decimal("99.800")
    assert figures.met
    assert figures.allowed_downtime_seconds == 0.3


def test_met_is_decided_on_the_exact_value():
    # 2 000 s eligible with target 99.8: 4 s of downtime is exactly 99.8 (met); 4.001 s is
    # 99.79995 -> shown 99.799, not met. Shown and verdict agree because truncation never
    # rounds up.
    t = 1_790_000_000.0
    for down_seconds, shown, met in ((4, "99.800", True), (4.001, "99.799", False)):
        runs = [
            Run(t, t, t + 10, "up", None, 1, 60),
            Run(t + 10, t + 10, t + 10 + down_seconds, "down", "dns", 2, 60),
            Run(t + 10 + down_seconds, t + 1000, t + 2000, "up", None, 2, 60),
        ]
        figures = availability(runs, (t, t + 2000))
        assert (str(figures.availability_shown()), figures.met) == (shown, met)


@pytest.mark.parametrize(
    "value, shown",
    [
        (99.7996, "99.799"),
        (Fraction(997996, 10000), "99.799"),
        (99.8, "99.800"),
        (99.7, "99.700"),  # the float 99.7 is 99.69999...; read as the decimal it means
        (100, "100.000"),
        (Fraction(2, 3) * 100, "66.666"),
        (Decimal("99.99999"), "99.999"),
    ],
)
def test_truncate_percent_never_rounds_up(value, shown):
    assert str(truncate_percent(value)) == shown


def test_truncate_percent_digits_and_none():
    assert str(truncate_percent(99.7996, digits=2)) == "99.79"
    assert truncate_percent(None) is None


# --- episodes and incidents -------------------------------------------------------------------


def test_class_change_within_an_incident_takes_the_highest():
    # body_mismatch (major) then timeout (blocking): one outage, blocking.
    ten = local(2026, 10, 5, 10)
    wrong_body = down_at(ten, ten + 60, error_class="body_mismatch")
    special = {**wrong_body, **down_at(ten + 120, error_class="timeout")}
    runs = runs_from_checks(checks_every(ten - 300, ten + 600, special=special))
    (outage,) = [e for e in episodes(runs) if e.kind == "outage"]
    assert outage.error_classes == ("body_mismatch", "timeout")
    assert (outage.start, outage.end, outage.checks) == (ten, ten + 180, 3)
    assert incident_severity(outage) is Severity.BLOCKING
    # The endpoint caps its outages at major (or minor).
    assert incident_severity(outage, max_severity="major") is Severity.MAJOR
    assert incident_severity(outage, max_severity=Severity.MINOR) is Severity.MINOR
    # A cap above the class changes nothing.
    body_only = episodes(runs_from_checks(checks_every(ten - 300, ten + 600, special=wrong_body)))
    assert incident_severity(body_only[0], max_severity="blocking") is Severity.MAJOR


def test_any_other_state_ends_an_episode():
    # down, down, degraded, down, down: two outages around a degraded blip.
    t = local(2026, 10, 5, 10)
    special = {**down_at(t, t + 60, t + 180, t + 240), t + 120: ("degraded", "too_slow")}
    found = episodes(runs_from_checks(checks_every(t, t + 360, special=special)))
    assert [(e.kind, e.state, e.start, e.end) for e in found] == [
        ("outage", "down", t, t + 120),
        ("blip", "degraded", t + 120, t + 180),
        ("outage", "down", t + 180, t + 300),
    ]


def test_degradations_and_their_classes():
    t = local(2026, 10, 5, 10)
    slow = {at: ("degraded", "too_slow") for at in minutes(t, 3)}
    expiring = {at: ("degraded", "cert_expiring") for at in minutes(t + 180, 2)}
    runs = runs_from_checks(checks_every(*OCTOBER, special={**slow, **expiring}))
    figures = availability(runs, OCTOBER)
    (degradation,) = figures.degradations
    # One degradation (classes change, state does not) of 5 checks; not downtime.
    assert (degradation.start, degradation.end, degradation.checks) == (t, t + 300, 5)
    assert degradation.error_classes == ("too_slow", "cert_expiring")
    assert figures.downtime_seconds == 0 and figures.availability_exact == 100
    assert incident_severity(degradation) is Severity.MAJOR
    # The cap is for outages only, as the contract says.
    assert incident_severity(degradation, max_severity="minor") is Severity.MAJOR
    expiring_only = {at: ("degraded", "cert_expiring") for at in minutes(t, 2)}
    only_expiring = episodes(runs_from_checks(checks_every(t, t + 600, special=expiring_only)))
    assert incident_severity(only_expiring[0]) is Severity.MINOR


@pytest.mark.parametrize(
    "error_class, state, severity",
    [
        *(
            (error_class, "down", Severity.BLOCKING)
            for error_class in (
                "dns", "connect", "timeout", "tls_handshake", "tls_version", "tls_cert",
                "protocol", "redirects", "http_status",
            )
        ),
        ("body_mismatch", "down", Severity.MAJOR),
        ("too_slow", "degraded", Severity.MAJOR),
        ("cert_expiring", "degraded", Severity.MINOR),
        (None, "down", Severity.BLOCKING),
        (None, "degraded", Severity.MAJOR),
    ],
)
def test_classify(error_class, state, severity):
    assert classify(error_class, state) is severity


def test_severity_order_and_names():
    assert Severity.MINOR < Severity.MAJOR < Severity.BLOCKING
    assert str(Severity.BLOCKING) == "blocking" and Severity.parse("Major") is Severity.MAJOR
    with pytest.raises(ValueError, match="invalid incident class 'critical'"):
        Severity.parse("critical")


def test_an_outage_still_down_at_the_end_of_data_is_ongoing():
    # Down at 10:00, 10:01, 10:02 and nothing since: it ends (for now) where the last check's
    # coverage ends, 10:03:30, and is not fixed.
    ten = local(2026, 10, 5, 10)
    runs = runs_from_checks(checks_every(ten - 600, ten + 180, special=down_at(*minutes(ten, 3))))
    (outage,) = [e for e in episodes(runs) if e.kind == "outage"]
    assert (outage.end, outage.ongoing) == (ten + 210, True)
    assert fix_time(outage) is None
    figures = availability(runs, (ten - 600, ten + 600))
    assert figures.downtime_seconds == 210
    assert figures.unmonitored == ((ten + 210, ten + 600),)


def test_incident_deadlines_of_a_blocking_outage_on_friday_afternoon():
    # Starts Fri 9 Jan 2026 16:00: acknowledge in 5 clock hours (21:00), fix in 24wh
    # (Friday 8 h + Monday 16 h -> Mon 12 Jan 16:00).
    calendar = WorkCalendar()
    start = local(2026, 1, 9, 16)
    acknowledge, fix = incident_deadlines(start, Severity.BLOCKING, calendar)
    assert as_local(acknowledge) == datetime(2026, 1, 9, 21)
    assert as_local(fix) == datetime(2026, 1, 12, 16)
    # minor: 48wh (Fri 8 + Mon 24 + Tue 16 -> Tue 16:00), 5wd (120 wh -> Fri 16 Jan 16:00).
    acknowledge, fix = incident_deadlines(start, "minor", calendar)
    assert as_local(acknowledge) == datetime(2026, 1, 13, 16)
    assert as_local(fix) == datetime(2026, 1, 16, 16)
    # Deadlines can be the endpoint's own.
    acknowledge, fix = incident_deadlines(start, "major", calendar, {"major": ("1h", "2h")})
    assert (acknowledge - start, fix - start) == (HOUR, 2 * HOUR)
    assert set(DEFAULT_DEADLINES) == {"blocking", "major", "minor"}


def test_deadline_status():
    deadline = 1000.0
    assert deadline_status(deadline, 900.0, now=5000.0) == "met"
    assert deadline_status(deadline, 1000.0, now=5000.0) == "met"
    assert deadline_status(deadline, 1000.5, now=5000.0) == "missed"
    assert deadline_status(deadline, None, now=1000.0) == "open"
    assert deadline_status(deadline, None, now=1000.5) == "missed"


# --- maintenance ------------------------------------------------------------------------------


def test_windows_for_one_endpoint():
    windows = [
        Window(0, 10, None, "all"),
        Window(20, 30, ("api",), "api only"),
        Window(5, 15, ("www",), "www only"),
    ]
    assert maintenance_for(windows, "api") == [(0, 10), (20, 30)]
    assert maintenance_for(windows, "www") == [(0, 15)]


def test_weekly_window_follows_the_local_clock_across_dst():
    # Sundays at 02:00 for 2 h in October 2026: 4, 11, 18 and 25 October. On the 25th,
    # 02:00 happens twice; the first one (CEST, 00:00 UTC) is taken.
    windows = expand_weekly(["sun"], "02:00", 2 * HOUR, OCTOBER, reason="backup")
    assert [as_local(w.start) for w in windows] == [
        datetime(2026, 10, day, 2) for day in (4, 11, 18, 25)
    ]
    assert windows[-1].start == datetime(2026, 10, 25, tzinfo=ZoneInfo("UTC")).timestamp()
    assert all(w.end - w.start == 2 * HOUR and w.reason == "backup" for w in windows)
    # Two elapsed hours from 02:00 CEST end at 03:00 CET, the hour having been repeated.
    assert as_local(windows[-1].end) == datetime(2026, 10, 25, 3)
    # In winter the same local 02:00 is 01:00 UTC.
    (november,) = expand_weekly([6], "02:00", 2 * HOUR, (local(2026, 11, 1), local(2026, 11, 2)))
    assert november.start == datetime(2026, 11, 1, 1, tzinfo=ZoneInfo("UTC")).timestamp()


def test_weekly_window_at_a_time_that_does_not_exist():
    # Sun 29 Mar 2026: 02:30 does not exist; read with the winter offset -> 03:30 CEST.
    (window,) = expand_weekly([6], "02:30", 600, (local(2026, 3, 29), local(2026, 3, 30)))
    assert as_local(window.start) == datetime(2026, 3, 29, 3, 30)


def test_weekly_window_started_before_the_period_is_included():
    # Wednesday 30 Sep 22:00 for 4 h runs into October until 02:00 on the 1st (Thursday).
    windows = expand_weekly(["wednesday"], "22:00", 4 * HOUR, OCTOBER, endpoints=("api",))
    assert as_local(windows[0].start) == datetime(2026, 9, 30, 22)
    assert windows[0].endpoints == ("api",)
    figures = availability([], OCTOBER, [(w.start, w.end) for w in windows])
    # 4 full Wednesdays in October (7, 14, 21, 28) x 4 h + the 2 h of the 1st.
    assert figures.maintenance_seconds == 4 * 4 * HOUR + 2 * HOUR


@pytest.mark.parametrize(
    "args, message",
    [
        ((["sun"], "2:00pm", 60), "invalid start time '2:00pm'"),
        ((["sun"], "24:00", 60), "invalid start time '24:00'"),
        ((["dimanche"], "02:00", 60), "invalid weekday 'dimanche'"),
        ((["monkey"], "02:00", 60), "invalid weekday 'monkey'"),
        (([7], "02:00", 60), "invalid weekday 7"),
        ((["sun"], "02:00", 0), "invalid duration 0"),
    ],
)
def test_weekly_window_errors(args, message):
    with pytest.raises(ValueError, match=message):
        expand_weekly(*args, OCTOBER)



def test_the_budget_is_cut_down_to_the_millisecond():
    # 1.001 s eligible, target 99.8: the budget is 0.2 % x 1 001 ms = 2.002 ms, shown 0.002 s
    # (never 0.002002, nor rounded up)
    t = 1_790_000_000.0
    runs = [Run(t, t, t + 1.001, "up", None, 1, 60)]
    assert availability(runs, (t, t + 1.001), target=99.8).allowed_downtime_seconds == 0.002
    # 2 678 401 ms eligible: 0.2 % is 5 356.802 ms, cut to 5 356 ms = 5.356 s
    runs = [Run(t, t, t + 2678.401, "up", None, 1, 3600)]
    assert availability(runs, (t, t + 2678.401), target=99.8).allowed_downtime_seconds == 5.356
