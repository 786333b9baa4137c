"""The contract's words, shared by the config that states them and the rules that apply them:
the incident classes, their default deadlines, the days of the week, the support hours."""

from __future__ import annotations

import re
from dataclasses import dataclass

SEVERITIES = ("minor", "major", "blocking")  # lowest first, as sla.Severity orders them

# The contract's (acknowledge, fix) deadlines per class, counted from the incident's start.
DEFAULT_DEADLINES: dict[str, tuple[str, str]] = {
    "blocking": ("5h", "24wh"),
    "major": ("24wh", "48wh"),
    "minor": ("48wh", "5wd"),
}

# The contract's support: Monday to Friday, 9:00 to 17:00 local time (the `sh` deadline unit).
DEFAULT_SUPPORT_HOURS = "Mon-Fri 09:00-17:00"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# Support hours, the `sh` deadline unit's clock: "Mon-Fri 09:00-17:00" is the days (a range, or
# a comma list of days and ranges) and one daily opening, in the SLA's local time. Public
# holidays and closed days stay closed whatever the hours say.
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_FORM = re.compile(r"\s*(\S+)\s+(\S+)-(\S+)\s*")
_CLOCK = re.compile(r"([01]\d|2[0-4]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class SupportHours:
    """Open on ``days`` (0 = Monday) from ``start`` to ``end`` minutes after local midnight."""

    days: frozenset[int]
    start: int
    end: int

    @property
    def hours_per_day(self) -> float:
        return (self.end - self.start) / 60

    def __str__(self) -> str:
        return describe_support_hours(self)


def _day(text: str, whole: str) -> int:
    name = text.strip().lower()
    for index, short in enumerate(DAY_NAMES):
        if name == short or name == WEEKDAYS[index]:
            return index
    raise ValueError(f"{whole!r}: {text.strip()!r} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")


def _days(text: str, whole: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            first_text, last_text = part.split("-", 1)
            first, last = _day(first_text, whole), _day(last_text, whole)
            if last < first:
                raise ValueError(f"{whole!r}: the day range {part.strip()!r} runs backwards (like Mon-Fri)")
            days.update(range(first, last + 1))
        else:
            days.add(_day(part, whole))
    return frozenset(days)


def _minutes(text: str, whole: str) -> int:
    match = _CLOCK.fullmatch(text)
    if match is None or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"{whole!r}: {text!r} is not a time of day (like 09:00; 24:00 for midnight at the end)")
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_support_hours(text: object) -> SupportHours:
    """``"Mon-Fri 09:00-17:00"`` -> ``SupportHours({0..4}, 540, 1020)``. Raises ValueError
    with one line saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not support hours (like \"Mon-Fri 09:00-17:00\")")
    match = _FORM.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not support hours (like \"Mon-Fri 09:00-17:00\")")
    days = _days(match.group(1), text)
    start, end = _minutes(match.group(2), text), _minutes(match.group(3), text)
    if end <= start:
        raise ValueError(f"{text!r}: the end ({match.group(3)}) must be after the start ({match.group(2)})")
    return SupportHours(days, start, end)


def describe_support_hours(hours: SupportHours) -> str:
    """The canonical text: days as ranges, e.g. ``Mon-Fri 09:00-17:00``."""
    ordered = sorted(hours.days)
    groups: list[list[int]] = []
    for day in ordered:
        if groups and groups[-1][-1] == day - 1:
            groups[-1].append(day)
        else:
            groups.append([day])
    names = [DAY_NAMES[g[0]].title() if len(g) == 1 else f"{DAY_NAMES[g[0]].title()}-{DAY_NAMES[g[-1]].title()}"
             for g in groups]
    return f"{','.join(names)} {_clock(hours.start)}-{_clock(hours.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
