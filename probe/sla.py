"""The SLA accounting rules as pure functions: checks -> runs -> coverage, outages, availability,
incidents. No database, clock or network here; times are float seconds since the epoch (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    """Consecutive checks of one endpoint with the same state and error class and no
    coverage gap between them. Runs are what the store keeps forever, so that reports never
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
    return at + COVERAGE_FACTOR * interval


def fold_check(open_run: Run | None, check: Check) -> tuple[Run | None, Run]:
    """Add ``check`` (the endpoint's newest) to the endpoint's open run.

    Returns ``(closed, open)``: ``closed`` is the previous run when the check starts a new one
    (its ``end`` is then final), else None; ``open`` is the run the check belongs to, whose
    ``end`` stays provisional until the next check.
    """
    if open_run is not None and check.at < open_run.last:
        raise ValueError("checks must be folded in time order")
    if (
        open_run is not None
        and open_run.state == check.state
        and open_run.error_class == check.error_class
        and open_run.interval == check.interval
        and check.at <= open_run.end
    ):
        extended = replace(
            open_run,
            last=check.at,
            end=coverage_end(check.at, check.interval),
            count=open_run.count + 1,
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
