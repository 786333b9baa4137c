"""The working-day clock for incident deadlines: `5h`, `24wh`, `5wd`, `8sh` from an incident's start.

Times are epoch seconds (UTC); the calendar's time zone only decides where local days begin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from probe.contract import DEFAULT_SUPPORT_HOURS, SupportHours, parse_support_hours

UNITS = ("h", "wh", "wd", "sh")
HOUR = 3600.0
# The contract defines a working day as 24 working hours, whatever the day's clock length.
WORKING_DAY_HOURS = 24

_DEADLINE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(h|wh|wd|sh)\s*")


@dataclass(frozen=True, slots=True)
class Deadline:
    """A delay as the contract writes it: an amount and a unit (h, wh, wd or sh)."""

    amount: float
    unit: str

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"


def parse_deadline(text: str) -> Deadline:
    """``"5h"`` -> ``Deadline(5.0, "h")``; units are h (clock hours), wh (working hours),
    wd (working days) and sh (support hours). Raises ValueError naming the accepted forms."""
    match = _DEADLINE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"invalid deadline {text!r}: expected a positive number followed by "
            f"h (clock hours), wh (working hours), wd (working days) or sh (support hours),"
            f" e.g. '5h', '24wh', '5wd', '8sh'"
        )
    amount = float(match.group(1))
    if amount <= 0:
        raise ValueError(f"invalid deadline {text!r}: the amount must be greater than zero")
    return Deadline(amount, match.group(2))


@dataclass(eq=False)
class WorkCalendar:
    """Which local days are working days: Monday to Friday, minus the public holidays of
    ``country`` and ``closed_days``; support hours (the `sh` unit) are the opening hours of
    ``support_hours`` on those days."""

    country: str = "FR"
    timezone: str = "Europe/Paris"
    closed_days: tuple[date, ...] = ()
    support_hours: SupportHours | str = DEFAULT_SUPPORT_HOURS
    _holidays: dict[int, frozenset[date]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.zone = ZoneInfo(self.timezone)
        self.closed_days = tuple(self.closed_days)
        self._closed = frozenset(self.closed_days)
        if isinstance(self.support_hours, str):
            self.support_hours = parse_support_hours(self.support_hours)

    def public_holidays(self, year: int) -> frozenset[date]:
        """The country's public holidays of one year, computed once per year."""
        if year not in self._holidays:
            import holidays  # imported here: loading it costs ~40 ms, and most commands never count working days

            days = holidays.country_holidays(self.country, years=year)
            self._holidays[year] = frozenset(days.keys())
        return self._holidays[year]

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in self._closed
            and day not in self.public_holidays(day.year)
        )

    def local_date(self, epoch: float) -> date:
        return datetime.fromtimestamp(epoch, self.zone).date()

    def midnight(self, day: date) -> float:
        """Epoch of local midnight starting ``day`` (a 23 h or 25 h day follows from it)."""
        return datetime.combine(day, time(0), tzinfo=self.zone).timestamp()

    def add(self, start: float, deadline: Deadline | str) -> float:
        """The instant ``deadline`` after ``start``. Working time only runs on working days,
        a whole local day at a time, so the clock stops from a closed day's midnight to the
        next working day's midnight."""
        if isinstance(deadline, str):
            deadline = parse_deadline(deadline)
        if deadline.unit == "h":
            return start + deadline.amount * HOUR
        if deadline.unit == "sh":
            return self._add_support_seconds(start, deadline.amount * HOUR)
        hours = deadline.amount * (WORKING_DAY_HOURS if deadline.unit == "wd" else 1)
        return self._add_working_seconds(start, hours * HOUR)

    def _add_working_seconds(self, start: float, remaining: float) -> float:
        # Day by day: a deadline of weeks is a few dozen iterations.
        moment, day = start, self.local_date(start)
        while True:
            day_end = self.midnight(day + timedelta(days=1))
            if self.is_working_day(day):
                available = day_end - moment
                if remaining <= available:
                    return moment + remaining
                remaining -= available
            moment, day = day_end, day + timedelta(days=1)

    def support_period(self, day: date) -> tuple[float, float] | None:
        """The epochs of ``day``'s support opening, or None when support is closed that day."""
        hours = self.support_hours
        assert isinstance(hours, SupportHours)
        if day.weekday() not in hours.days or day in self._closed or day in self.public_holidays(day.year):
            return None
        opening = datetime.combine(day, time(hours.start // 60, hours.start % 60), tzinfo=self.zone)
        closing = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone) if hours.end == 24 * 60
                   else datetime.combine(day, time(hours.end // 60, hours.end % 60), tzinfo=self.zone))
        return opening.timestamp(), closing.timestamp()

    def _add_support_seconds(self, start: float, remaining: float) -> float:
        # Day by day, as working hours: the clock runs only inside each day's opening, and a
        # count that reaches exactly the end of an opening is that instant.
        day = self.local_date(start)
        while True:
            period = self.support_period(day)
            if period is not None and period[1] > start:
                moment = max(start, period[0])
                available = period[1] - moment
                if remaining <= available:
                    return moment + remaining
                remaining -= available
            day += timedelta(days=1)

    def working_seconds_between(self, start: float, end: float) -> float:
        """Working time (seconds) elapsed from ``start`` to ``end``; 0 when end <= start."""
        total = 0.0
        moment, day = start, self.local_date(start)
        while moment < end:
            day_end = self.midnight(day + timedelta(days=1))
            if self.is_working_day(day):
                total += min(day_end, end) - moment
            moment, day = day_end, day + timedelta(days=1)
        return total


def uses_support_hours(deadlines: Mapping[str, Mapping[str, str]]) -> bool:
    """Whether any of the contract's deadlines ({class: {acknowledge, fix}}) counts support hours."""
    return any(parse_deadline(text).unit == "sh" for pair in deadlines.values() for text in pair.values())
