"""Checks folded into runs of one state; the coverage each check vouches for; outages, degradations
and blips."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from probe.result import DEGRADED, DOWN, PROBE_ERROR, UP

from .intervals import Interval, clip, merge, subtract

# How long one check vouches for its endpoint, as a multiple of the endpoint's interval.
COVERAGE_FACTOR = 1.5




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


def monitored(runs: Iterable[Run], period: Interval) -> list[Interval]:
    """The time of the period that some check vouches for: the union of [run.start, run.end)."""
    return clip(((run.start, run.end) for run in runs), period)


def unmonitored(runs: Iterable[Run], period: Interval) -> list[Interval]:
    """The time of the period that no check vouches for."""
    return subtract([period], monitored(runs, period))


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
