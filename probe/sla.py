"""The SLA accounting rules as pure functions: checks -> runs -> coverage, outages, availability,
incidents. No database, clock or network here; times are float seconds since the epoch (UTC).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction
from zoneinfo import ZoneInfo

from probe.result import DOWN_CLASSES, PROBE_ERROR
from probe.workdays import Deadline, WorkCalendar, parse_deadline

# How long one check vouches for its endpoint, as a multiple of the endpoint's interval.
COVERAGE_FACTOR = 1.5

UP, DEGRADED, DOWN = "up", "degraded", "down"


@dataclass(frozen=True, slots=True)
class Check:
    """One check of one endpoint, reduced to what the accounting needs."""

    at: float  # epoch seconds, UTC
    state: str  # up | degraded | down
    error_class: str | None
    interval: float  # the endpoint's interval when the check ran, in seconds


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive checks of one endpoint with the same state, error class and interval, and
    no coverage gap between them. Runs are what the store keeps forever, so that reports never
    rescan raw checks; every rule below can be computed from runs alone.

    ``end`` is where the coverage of the run's last check ends: the ``at`` of the next check,
    or ``last + 1.5 x interval`` when the next check came later than that (or not yet).
    """

    start: float  # at of the first check
    last: float  # at of the last check
    end: float  # end of the last check's coverage
    state: str
    error_class: str | None
    count: int  # number of checks in the run
    interval: float


def coverage_end(at: float, interval: float) -> float:
    """Where one check's vouching stops when no later check comes sooner."""
    return at + COVERAGE_FACTOR * interval


def fold_check(open_run: Run | None, check: Check) -> tuple[Run | None, Run | None]:
    """Add ``check`` (the endpoint's newest) to the endpoint's open run.

    Returns ``(closed, open)``: ``closed`` is the previous run when the check starts a new one
    (its ``end`` is then final), else None; ``open`` is the run the check belongs to, whose
    ``end`` stays provisional until the next check.

    A check of class ``probe_error`` was not made (the prober's own trouble): it vouches for
    nothing, so it changes nothing: the open run goes on as if it were not there, neither
    ended nor extended (its coverage still ends 1.5 intervals after its last check).
    """
    if check.error_class == PROBE_ERROR:
        return None, open_run
    if open_run is not None and check.at < open_run.last:
        raise ValueError("checks must be folded in time order")
    if (
        open_run is not None
        and open_run.state == check.state
        and open_run.error_class == check.error_class
        and open_run.interval == check.interval
        and check.at <= open_run.end
    ):
        # Built directly rather than with dataclasses.replace: this runs once per check.
        extended = Run(
            start=open_run.start,
            last=check.at,
            end=coverage_end(check.at, check.interval),
            state=open_run.state,
            error_class=open_run.error_class,
            count=open_run.count + 1,
            interval=open_run.interval,
        )
        return None, extended
    closed = None
    if open_run is not None:
        closed = replace(open_run, end=min(open_run.end, check.at))
    new = Run(
        start=check.at,
        last=check.at,
        end=coverage_end(check.at, check.interval),
        state=check.state,
        error_class=check.error_class,
        count=1,
        interval=check.interval,
    )
    return closed, new


def runs_from_checks(checks: list[Check]) -> list[Run]:
    """Compress one endpoint's checks (in time order) into runs."""
    runs: list[Run] = []
    current: Run | None = None
    for check in checks:
        closed, current = fold_check(current, check)
        if closed is not None:
            runs.append(closed)
    if current is not None:
        runs.append(current)
    return runs


# ---------------------------------------------------------------------------------------------
# Intervals: half-open [start, end) pairs of epoch seconds.
#
# The operations below only compare and pick existing boundaries, never compute new ones, so
# they are exact on floats; durations are summed in whole milliseconds (`total_ms`) so that
# the figures add up exactly (period = eligible + maintenance + unmonitored, to the ms).

Interval = tuple[float, float]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-empty, non-overlapping intervals covering the same time as ``intervals``."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The time that is in both ``a`` and ``b``."""
    left, right = merge(a), merge(b)
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start, end = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The time of ``a`` that is not in ``b``."""
    result: list[Interval] = []
    holes = merge(b)
    for start, end in merge(a):
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                result.append((start, hole_start))
            start = max(start, hole_end)
        if start < end:
            result.append((start, end))
    return result


def clip(intervals: Iterable[Interval], period: Interval) -> list[Interval]:
    """``intervals`` cut to the period."""
    return intersect(intervals, [period])


def to_ms(epoch: float) -> int:
    """Epoch seconds to whole milliseconds: the resolution of every figure."""
    return round(epoch * 1000)


def total_ms(intervals: Iterable[Interval]) -> int:
    """Total length of ``intervals`` in whole milliseconds, each instant counted once."""
    return sum(to_ms(end) - to_ms(start) for start, end in merge(intervals))


# ---------------------------------------------------------------------------------------------
# The period and coverage


def month_period(year: int, month: int, tz: str = "Europe/Paris") -> Interval:
    """One calendar month in the SLA's time zone: local midnight on the 1st to local midnight
    on the 1st of the next month, so DST months last 743 h or 745 h."""
    zone = ZoneInfo(tz)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime(year, month, 1, tzinfo=zone).timestamp()
    end = datetime(next_year, next_month, 1, tzinfo=zone).timestamp()
    return start, end


def monitored(runs: Iterable[Run], period: Interval) -> list[Interval]:
    """The time of the period that some check vouches for: the union of [run.start, run.end)."""
    return clip(((run.start, run.end) for run in runs), period)


def unmonitored(runs: Iterable[Run], period: Interval) -> list[Interval]:
    """The time of the period that no check vouches for."""
    return subtract([period], monitored(runs, period))


# ---------------------------------------------------------------------------------------------
# Episodes: outages, degradations and blips

OUTAGE, DEGRADATION, BLIP = "outage", "degradation", "blip"


@dataclass(frozen=True, slots=True)
class Episode:
    """A sequence of consecutive ``down`` (or ``degraded``) checks, in check order, even across
    coverage holes. ``kind`` is outage/degradation when it holds at least ``confirm`` checks,
    else blip.

    ``end`` is the ``at`` of the first later check in another state; when there is none yet
    (``ongoing``), where the last check's coverage ends. ``covered`` is the time its checks
    vouch for: an outage's downtime can only come from there, never from its holes.
    """

    kind: str  # outage | degradation | blip
    state: str  # down | degraded
    start: float
    end: float
    checks: int
    error_classes: tuple[str | None, ...]  # distinct, in order of first appearance
    covered: tuple[Interval, ...]
    ongoing: bool

    def overlaps(self, period: Interval) -> bool:
        return self.start < period[1] and self.end > period[0]


def episodes(runs: Iterable[Run], confirm: int = 2) -> list[Episode]:
    """Group one endpoint's runs (time ordered) into episodes, in time order.

    Runs split on error class and on coverage holes, so one episode may span several runs;
    only a check in another state ends it. Pass runs from before the period too, back to the
    start of any episode in progress at the period's start, or its start and check count
    (hence outage vs blip) will be wrong.
    """
    found: list[Episode] = []
    group: list[Run] = []
    for run in runs:
        if group and run.state != group[0].state:
            found.append(_episode(group, run.start, False, confirm))
            group = []
        if run.state in (DOWN, DEGRADED):
            group.append(run)
    if group:
        found.append(_episode(group, group[-1].end, True, confirm))
    return found


def _episode(group: list[Run], end: float, ongoing: bool, confirm: int) -> Episode:
    state = group[0].state
    checks = sum(run.count for run in group)
    if checks < confirm:
        kind = BLIP
    else:
        kind = OUTAGE if state == DOWN else DEGRADATION
    classes = tuple(dict.fromkeys(run.error_class for run in group))
    return Episode(
        kind=kind,
        state=state,
        start=group[0].start,
        end=end,
        checks=checks,
        error_classes=classes,
        covered=tuple(merge((run.start, run.end) for run in group)),
        ongoing=ongoing,
    )


# ---------------------------------------------------------------------------------------------
# Maintenance windows

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class Window:
    """A declared maintenance window; ``endpoints`` None means every endpoint."""

    start: float
    end: float
    endpoints: tuple[str, ...] | None = None
    reason: str = ""

    def applies_to(self, endpoint: str) -> bool:
        return self.endpoints is None or endpoint in self.endpoints


def maintenance_for(windows: Iterable[Window], endpoint: str) -> list[Interval]:
    """The maintenance intervals of one endpoint, merged."""
    return merge((w.start, w.end) for w in windows if w.applies_to(endpoint))


def _weekday_number(day: int | str) -> int:
    """0 (Monday) to 6 from 0-6, "mon".."sun" or the full English name."""
    if isinstance(day, int) and 0 <= day <= 6:
        return day
    name = day.lower() if isinstance(day, str) else ""
    for number, full in enumerate(WEEKDAYS):
        if name in (full, full[:3]):
            return number
    raise ValueError(f"invalid weekday {day!r}: expected 0-6 (Monday = 0) or mon..sun")


def expand_weekly(
    weekdays: Iterable[int | str],
    local_start: str,
    duration: float,
    period: Interval,
    tz: str = "Europe/Paris",
    endpoints: tuple[str, ...] | None = None,
    reason: str = "",
) -> list[Window]:
    """One-off windows of a weekly window ("every Tuesday at 22:00 local, for 2 h") that
    overlap ``period``, in time order.

    The start follows the local wall clock across DST; ``duration`` is elapsed seconds. A
    start time that happens twice on a fall-back day is the first one; one that does not
    exist on a spring-forward day is read with the offset in force before the change (02:30
    becomes 03:30 summer time).
    """
    match = _HHMM.fullmatch(local_start.strip())
    if match is None:
        raise ValueError(f"invalid start time {local_start!r}: expected HH:MM (24 h)")
    if duration <= 0:
        raise ValueError(f"invalid duration {duration!r}: expected seconds > 0")
    days = {_weekday_number(day) for day in weekdays}
    zone = ZoneInfo(tz)
    at = time(int(match.group(1)), int(match.group(2)))
    # A window started on an earlier day may still run into the period.
    first_day = datetime.fromtimestamp(period[0], zone).date()
    day = first_day - timedelta(days=int(duration // 86400) + 1)
    last_day = datetime.fromtimestamp(period[1], zone).date()
    windows: list[Window] = []
    while day <= last_day:
        if day.weekday() in days:
            start = datetime.combine(day, at, tzinfo=zone).timestamp()
            if start < period[1] and start + duration > period[0]:
                windows.append(Window(start, start + duration, endpoints, reason))
        day += timedelta(days=1)
    return windows


# ---------------------------------------------------------------------------------------------
# Availability


def _exact(value: float | int | Decimal | Fraction) -> Fraction:
    """A decimal number as written (99.8 -> 499/5), not as the nearest binary float."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def truncate_percent(value: float | Fraction | Decimal | None, digits: int = 3) -> Decimal | None:
    """``value`` truncated, never rounded up, to ``digits`` decimals: 99.7996 -> 99.799.

    Pass the exact Fraction when there is one; a float is read as its shortest decimal form
    (99.8, not 99.7999999...), which is what it was meant to be. None (no data) stays None.
    """
    if value is None:
        return None
    scaled = _exact(value) * 10**digits
    return Decimal(int(scaled)).scaleb(-digits)


@dataclass(frozen=True, slots=True)
class EndpointFigures:
    """One endpoint's figures for one period. Seconds are floats to the millisecond;
    ``period = eligible + maintenance + unmonitored`` holds exactly (each second once)."""

    period: Interval
    period_seconds: float
    monitored_seconds: float  # vouched for by a check, maintenance included
    coverage_exact: Fraction  # 100 x monitored / period
    coverage_percent: float
    maintenance_seconds: float  # inside a maintenance window
    unmonitored_seconds: float  # vouched for by no check, outside maintenance
    eligible_seconds: float  # monitored and outside maintenance
    downtime_seconds: float
    allowed_downtime_seconds: float  # the error budget: (1 - target / 100) x eligible, cut to the ms
    target: float
    availability_exact: Fraction | None  # percent; None when nothing is eligible
    availability_percent: float | None
    met: bool  # availability_exact >= target; False with no data
    outages: tuple[Episode, ...]  # overlapping the period
    outage_downtime_seconds: tuple[float, ...]  # each outage's downtime counted in this period
    degradations: tuple[Episode, ...]  # overlapping the period
    blips: tuple[Episode, ...]  # starting in the period, down or degraded
    blip_count: int
    unmonitored: tuple[Interval, ...]  # outside maintenance, as counted
    maintenance: tuple[Interval, ...]  # merged, clipped to the period

    def availability_shown(self, digits: int = 3) -> Decimal | None:
        """Availability as the report prints it: truncated; None means "no data"."""
        return truncate_percent(self.availability_exact, digits)


def availability(
    runs: Sequence[Run],
    period: Interval,
    maintenance: Iterable[Interval] = (),
    confirm: int = 2,
    target: float = 99.8,
) -> EndpointFigures:
    """Apply the accounting rules to one endpoint's runs over ``period``.

    Maintenance takes precedence over unmonitored: an unmonitored second inside a window is
    counted as maintenance only. Downtime is the outages' covered time inside the period and
    outside maintenance (covered time is monitored by definition). Figures are computed in
    whole milliseconds and exact fractions, so 99.8 % is 99.8, never 99.79999.
    """
    windows = clip(maintenance, period)
    covered = monitored(runs, period)
    eligible = subtract(covered, windows)
    holes = subtract(subtract([period], covered), windows)
    found = episodes(runs, confirm)
    outages = [e for e in found if e.kind == OUTAGE and e.overlaps(period)]
    downtime_by_outage = [total_ms(intersect(e.covered, eligible)) for e in outages]

    period_ms, eligible_ms = total_ms([period]), total_ms(eligible)
    downtime_ms = sum(downtime_by_outage)
    exact_target = _exact(target)
    if eligible_ms:
        ratio: Fraction | None = 100 * (1 - Fraction(downtime_ms, eligible_ms))
    else:
        ratio = None
    coverage = Fraction(100 * total_ms(covered), period_ms) if period_ms else Fraction(0)
    blips = [e for e in found if e.kind == BLIP and period[0] <= e.start < period[1]]
    return EndpointFigures(
        period=period,
        period_seconds=period_ms / 1000,
        monitored_seconds=total_ms(covered) / 1000,
        coverage_exact=coverage,
        coverage_percent=float(coverage),
        maintenance_seconds=total_ms(windows) / 1000,
        unmonitored_seconds=total_ms(holes) / 1000,
        eligible_seconds=eligible_ms / 1000,
        downtime_seconds=downtime_ms / 1000,
        # cut down to the millisecond: the budget is never shown larger than it is
        allowed_downtime_seconds=math.floor((1 - exact_target / 100) * eligible_ms) / 1000,
        target=target,
        availability_exact=ratio,
        availability_percent=None if ratio is None else float(ratio),
        met=ratio is not None and ratio >= exact_target,
        outages=tuple(outages),
        outage_downtime_seconds=tuple(ms / 1000 for ms in downtime_by_outage),
        degradations=tuple(e for e in found if e.kind == DEGRADATION and e.overlaps(period)),
        blips=tuple(blips),
        blip_count=len(blips),
        unmonitored=tuple(holes),
        maintenance=tuple(windows),
    )


# ---------------------------------------------------------------------------------------------
# Incidents


class Severity(IntEnum):
    """Incident classes of the contract, ordered so that max() gives the highest."""

    MINOR = 1
    MAJOR = 2
    BLOCKING = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: Severity | str) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls[value.upper()]
        except (KeyError, AttributeError):
            raise ValueError(
                f"invalid incident class {value!r}: expected minor, major or blocking"
            ) from None


# The contract's table: every hard failure is blocking except a wrong body, which is major.
SEVERITY_OF_CLASS: dict[str, Severity] = {
    **dict.fromkeys(DOWN_CLASSES, Severity.BLOCKING),
    "body_mismatch": Severity.MAJOR,
    "too_slow": Severity.MAJOR,
    "cert_expiring": Severity.MINOR,
}
# A class the table does not know (or a missing one) is read as the contract's general case
# for the state: any unavailability is blocking; a degraded function is major.
_SEVERITY_OF_STATE = {DOWN: Severity.BLOCKING, DEGRADED: Severity.MAJOR}

DEFAULT_DEADLINES: dict[str, tuple[str, str]] = {
    "blocking": ("5h", "24wh"),
    "major": ("24wh", "48wh"),
    "minor": ("48wh", "5wd"),
}


def classify(error_class: str | None, state: str = DOWN) -> Severity:
    """The contract's class for checks of ``error_class``."""
    if error_class in SEVERITY_OF_CLASS:
        return SEVERITY_OF_CLASS[error_class]
    return _SEVERITY_OF_STATE[state]


def incident_severity(
    episode: Episode, max_severity: Severity | str | None = None
) -> Severity:
    """The highest class seen during the incident; an endpoint's ``max_severity`` lowers the
    class of its outages (the contract lets a non-essential page be less than blocking)."""
    severity = max(classify(c, episode.state) for c in episode.error_classes)
    if max_severity is not None and episode.state == DOWN:
        severity = min(severity, Severity.parse(max_severity))
    return severity


def incident_deadlines(
    start: float,
    severity: Severity | str,
    calendar: WorkCalendar,
    deadlines: Mapping[str, tuple[str | Deadline, str | Deadline]] = DEFAULT_DEADLINES,
) -> tuple[float, float]:
    """(acknowledge by, fix by) as epochs, both counted from the incident's start."""
    acknowledge, fix = deadlines[str(Severity.parse(severity))]
    return calendar.add(start, _deadline(acknowledge)), calendar.add(start, _deadline(fix))


def _deadline(value: str | Deadline) -> Deadline:
    return value if isinstance(value, Deadline) else parse_deadline(value)


MET, MISSED, OPEN = "met", "missed", "open"


def deadline_status(deadline: float, done_at: float | None, now: float) -> str:
    """met when done by the deadline; missed when done later, or not done and past it;
    open when not done and the deadline is still ahead."""
    if done_at is not None:
        return MET if done_at <= deadline else MISSED
    return MISSED if now > deadline else OPEN


def fix_time(episode: Episode) -> float | None:
    """An incident is fixed when its outage or degradation ends; None while it goes on."""
    return None if episode.ongoing else episode.end
