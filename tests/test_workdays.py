"""The working-day clock, against answers worked out by hand on a calendar."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from probe.sla import Deadline, WorkCalendar, parse_deadline

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600


def local(*fields, tz=PARIS):
    return datetime(*fields, tzinfo=tz).timestamp()


def as_local(epoch, tz=PARIS):
    return datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


@pytest.fixture
def france():
    return WorkCalendar()


# --- parse_deadline ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5h", Deadline(5.0, "h")),
        ("24wh", Deadline(24.0, "wh")),
        ("5wd", Deadline(5.0, "wd")),
        ("1.5h", Deadline(1.5, "h")),
        (" 48 wh ", Deadline(48.0, "wh")),
    ],
)
def test_parse_deadline(text, expected):
    assert parse_deadline(text) == expected


@pytest.mark.parametrize("text", ["5", "5d", "-5h", "h", "", "5 hours", "5H", "wh24"])
def test_parse_deadline_rejects(text):
    with pytest.raises(ValueError, match=r"invalid deadline .*h \(clock hours\), wh"):
        parse_deadline(text)


def test_parse_deadline_rejects_zero_and_non_text():
    with pytest.raises(ValueError, match="greater than zero"):
        parse_deadline("0wh")
    with pytest.raises(ValueError, match="invalid deadline 5"):
        parse_deadline(5)


def test_deadline_str_round_trips():
    assert str(parse_deadline("24wh")) == "24wh"
    assert str(parse_deadline("1.5h")) == "1.5h"


# --- working days -----------------------------------------------------------------------------


def test_working_days_of_france_2026(france):
    assert france.is_working_day(date(2026, 4, 30))  # Thursday
    assert not france.is_working_day(date(2026, 5, 1))  # Friday, Labour Day
    assert not france.is_working_day(date(2026, 5, 2))  # Saturday
    assert not france.is_working_day(date(2026, 5, 3))  # Sunday
    assert not france.is_working_day(date(2026, 11, 11))  # Wednesday, Armistice
    assert france.is_working_day(date(2026, 11, 12))


def test_holidays_are_computed_lazily_per_year(france):
    france.is_working_day(date(2026, 5, 1))
    france.is_working_day(date(2026, 6, 1))
    france.is_working_day(date(2030, 1, 1))
    assert sorted(france._holidays) == [2026, 2030]


# --- add --------------------------------------------------------------------------------------


def test_friday_afternoon_plus_24wh_is_monday_same_time(france):
    # Fri 9 Jan 2026 16:00: 8 h left on Friday, Sat + Sun stopped, 16 h on Monday -> Mon 16:00.
    due = france.add(local(2026, 1, 9, 16), parse_deadline("24wh"))
    assert as_local(due) == datetime(2026, 1, 12, 16)


def test_clock_hours_ignore_the_calendar(france):
    # 5h is 5 clock hours, even on a Friday evening: 16:00 -> 21:00.
    assert as_local(france.add(local(2026, 1, 9, 16), "5h")) == datetime(2026, 1, 9, 21)


def test_across_labour_day_friday_1_may_2026(france):
    start = local(2026, 4, 30, 10)  # Thursday
    # 24wh: Thu 14 h; Fri 1 May (holiday), Sat, Sun stopped; Mon 4 May 10 h -> Mon 10:00.
    assert as_local(france.add(start, "24wh")) == datetime(2026, 5, 4, 10)
    # 48wh: Thu 14 h + Mon 24 h = 38 h; Tue 5 May 10 h -> Tue 10:00.
    assert as_local(france.add(start, "48wh")) == datetime(2026, 5, 5, 10)


def test_across_armistice_wednesday_11_november_2026(france):
    # Tue 10 Nov 12:00: Tue 12 h; Wed 11 (holiday) stopped; Thu 12 h -> Thu 12 Nov 12:00.
    assert as_local(france.add(local(2026, 11, 10, 12), "24wh")) == datetime(2026, 11, 12, 12)


def test_working_hours_across_spring_forward(france):
    # Fri 27 Mar 2026 18:00 CET: Fri 6 h; the weekend (with the 23 h Sunday 29 March) is
    # stopped; Mon 18 h -> Mon 30 Mar 18:00 CEST. On the clock that is 71 h, not 72.
    start = local(2026, 3, 27, 18)
    due = france.add(start, "24wh")
    assert as_local(due) == datetime(2026, 3, 30, 18)
    assert due - start == 71 * HOUR


def test_clock_hours_across_dst(france):
    # 24h from Sat 28 Mar 12:00 CET is Sun 13:00 CEST (the night lost an hour) ...
    assert as_local(france.add(local(2026, 3, 28, 12), "24h")) == datetime(2026, 3, 29, 13)
    # ... and from Sat 24 Oct 12:00 CEST it is Sun 11:00 CET (the night gained one).
    assert as_local(france.add(local(2026, 10, 24, 12), "24h")) == datetime(2026, 10, 25, 11)


def test_working_day_across_fall_back(france):
    # 1wd = 24wh from Fri 23 Oct 2026 10:00 CEST: Fri 14 h, weekend (25 h Sunday) stopped,
    # Mon 10 h -> Mon 26 Oct 10:00 CET; on the clock 72 h + the extra hour = 73 h.
    start = local(2026, 10, 23, 10)
    due = france.add(start, "1wd")
    assert as_local(due) == datetime(2026, 10, 26, 10)
    assert due - start == 73 * HOUR


def test_a_short_or_long_working_day_counts_its_real_length():
    # Tehran moved its clocks on weekdays: Mon 22 Mar 2021 lasted 23 h, Tue 21 Sep 2021 25 h.
    # With the French holiday list both are working days.
    tehran = ZoneInfo("Asia/Tehran")
    calendar = WorkCalendar(timezone="Asia/Tehran")
    monday = local(2021, 3, 22, tz=tehran)
    assert as_local(calendar.add(monday, "23wh"), tehran) == datetime(2021, 3, 23, 0)
    assert as_local(calendar.add(monday, "24wh"), tehran) == datetime(2021, 3, 23, 1)
    tuesday = local(2021, 9, 21, tz=tehran)
    assert calendar.working_seconds_between(tuesday, local(2021, 9, 22, tz=tehran)) == 25 * HOUR


def test_start_on_saturday_waits_for_monday_midnight(france):
    saturday = local(2026, 1, 10, 15)
    assert as_local(france.add(saturday, "8wh")) == datetime(2026, 1, 12, 8)
    # 24wh is all of Monday: due at its end, Tuesday 00:00.
    assert as_local(france.add(saturday, "24wh")) == datetime(2026, 1, 13, 0)
    assert as_local(france.add(saturday, "5h")) == datetime(2026, 1, 10, 20)


def test_five_working_days(france):
    # 5wd = 120wh from Mon 2 Nov 2026 09:00: Mon 15, Tue 24 (39), Wed 24 (63), Thu 24 (87),
    # Fri 24 (111), weekend stopped, Mon 9 Nov 9 h (120) -> Mon 9 Nov 09:00.
    assert as_local(france.add(local(2026, 11, 2, 9), "5wd")) == datetime(2026, 11, 9, 9)
    # From Mon 9 Nov 09:00: Mon 15, Tue 24 (39), Wed 11 Nov stopped, Thu (63), Fri (87),
    # Mon 16 (111), Tue 17 Nov 9 h -> Tue 17 Nov 09:00.
    assert as_local(france.add(local(2026, 11, 9, 9), "5wd")) == datetime(2026, 11, 17, 9)


def test_extra_closed_days():
    # The Monday bridge is closed: Fri 16:00 + 24wh -> Tue 16:00.
    calendar = WorkCalendar(closed_days=(date(2026, 1, 12),))
    assert not calendar.is_working_day(date(2026, 1, 12))
    assert as_local(calendar.add(local(2026, 1, 9, 16), "24wh")) == datetime(2026, 1, 13, 16)


def test_country_parameter():
    # Fri 3 Oct 2025 is German Unity Day, a working day in France.
    berlin = ZoneInfo("Europe/Berlin")
    start = local(2025, 10, 2, 12, tz=berlin)  # Thursday
    germany = WorkCalendar(country="DE", timezone="Europe/Berlin")
    france = WorkCalendar(timezone="Europe/Berlin")
    assert as_local(germany.add(start, "24wh"), berlin) == datetime(2025, 10, 6, 12)
    assert as_local(france.add(start, "24wh"), berlin) == datetime(2025, 10, 3, 12)


def test_timezone_parameter_sets_where_days_begin():
    # Fri 16:00 in New York is Fri 22:00 in Paris: each calendar counts its own local days.
    new_york = ZoneInfo("America/New_York")
    start = local(2026, 1, 9, 16, tz=new_york)
    calendar = WorkCalendar(timezone="America/New_York")
    assert as_local(calendar.add(start, "24wh"), new_york) == datetime(2026, 1, 12, 16)
    # In Paris only 2 h are left on Friday; Monday gives the other 22 h.
    assert as_local(WorkCalendar().add(start, "24wh")) == datetime(2026, 1, 12, 22)


def test_long_deadlines_are_quick(france):
    # 1000 working days span about four years; the clock walks days, not seconds.
    due = france.add(local(2026, 1, 5), "1000wd")
    assert 2029 <= as_local(due).year <= 2030


def test_working_seconds_between(france):
    # Fri 9 Jan 2026 16:00 -> Mon 12 Jan 16:00: 8 h + 16 h.
    assert france.working_seconds_between(local(2026, 1, 9, 16), local(2026, 1, 12, 16)) == (
        24 * HOUR
    )
    assert france.working_seconds_between(local(2026, 1, 10), local(2026, 1, 12)) == 0
    assert france.working_seconds_between(local(2026, 1, 12), local(2026, 1, 9)) == 0
