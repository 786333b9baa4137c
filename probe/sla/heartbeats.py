"""Heartbeats as pure functions: the runs a job was expected to make over a period (from its
cron schedule in the SLA's time zone, or every so long), and how each went, judged from the
signals it sent (start, success, fail). No database, clock or network here."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

START, SUCCESS, FAIL = "start", "success", "fail"
SIGNALS = (START, SUCCESS, FAIL)

# the states of a run; the first that applies, in this order
FAILED, MISSED, TOO_SHORT, TOO_LONG, LATE, ON_TIME = "failed", "missed", "too_short", "too_long", "late", "on_time"
RUN_STATES = (ON_TIME, LATE, MISSED, FAILED, TOO_SHORT, TOO_LONG)
# not judged yet (left out of the counts): within its grace, or overdue before its window ends
PENDING, OVERDUE = "pending", "overdue"

MAX_RUNS = 50_000  # runs looked at in one period, at most (every = 1m over a month: 44 640)


@dataclass(frozen=True)
class Signal:
    at: float  # epoch seconds
    kind: str  # start | success | fail
    exit_status: int | None = None  # as the job said


@dataclass(frozen=True)
class Expectation:
    """When a job's runs are due: ``schedule`` (cron, in ``timezone``) or ``every`` seconds."""

    schedule: str | None
    every: float | None
    grace: float
    timezone: str
    min_duration: float | None = None
    max_duration: float | None = None


@dataclass(frozen=True)
class JobRun:
    due: float
    state: str
    started: float | None = None
    finished: float | None = None  # the success or fail signal that decided the run
    exit_status: int | None = None  # as that signal said

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    @property
    def judged(self) -> bool:
        return self.state in RUN_STATES

    def incident_start(self, grace: float) -> float | None:
        """A missed run is an incident from when it was overdue (due + grace), a failed one
        from its fail signal, or from when it was overdue if it failed later (as its alert
        said); an overdue one (not judged yet) from when it was overdue; the other runs are
        none."""
        if self.state in (MISSED, OVERDUE):
            return self.due + grace
        if self.state == FAILED and self.finished is not None:
            return min(self.finished, self.due + grace)
        return None


def cron_times(expression: str, timezone: str, after: float, until: float) -> Iterator[float]:
    """The times of a cron schedule strictly after ``after`` and before ``until``, as cronsim
    gives them (a local time skipped by a DST change runs at the first instant after it; a
    repeated one runs once, at its first occurrence)."""
    from cronsim import CronSim

    zone = ZoneInfo(timezone)
    for count, moment in enumerate(CronSim(expression, datetime.fromtimestamp(after, zone))):
        at = moment.timestamp()
        if at >= until or count >= MAX_RUNS:
            return
        yield at


def judge_runs(job: Expectation, signals: Sequence[Signal], period: tuple[float, float],
               as_of: float, next_due: float | None = None) -> list[JobRun]:
    """Every run due in ``period`` (and by ``as_of``), with its state. ``signals`` are all the
    job's signals up to ``as_of`` (those before the period too: they set the first due of an
    ``every`` job and the start of a run begun before the period). ``next_due``: when the first
    run of the terms that follow is due (a run not done by then is missed, whatever the old
    schedule would have allowed)."""
    ordered = sorted((s for s in signals if s.at <= as_of), key=lambda s: s.at)
    if job.schedule is not None:
        runs = _cron_runs(job, _Index(ordered), period, as_of, next_due)
    else:
        runs = _every_runs(job, _Index(ordered), ordered[0].at if ordered else None, period, as_of, next_due)
    return runs


def first_due(job: Expectation, begins: float) -> float:
    """When the first run of ``job`` is due from ``begins`` on (an ``every`` job: ``every``
    after it, as for a job with no signal yet)."""
    if job.schedule is not None:
        return next(cron_times(job.schedule, job.timezone, begins - 1e-3, float("inf")), float("inf"))
    assert job.every is not None
    return begins + job.every


def _cron_runs(job: Expectation, signals: _Index, period: tuple[float, float], as_of: float,
               next_due: float | None = None) -> list[JobRun]:
    """A run is due at each time of the schedule; the signals from then until the next time
    are its own."""
    start, end = period
    assert job.schedule is not None
    dues = list(cron_times(job.schedule, job.timezone, start - 1e-3, min(end, as_of + 1e-3)))
    if not dues:
        return []
    following = [*dues[1:], next(cron_times(job.schedule, job.timezone, dues[-1], float("inf")))]
    if next_due is not None:
        following = [min(closes, max(next_due, due)) for due, closes in zip(dues, following)]
    return [_judge(job, signals, due, due, closes, as_of) for due, closes in zip(dues, following)]


def _every_runs(job: Expectation, signals: _Index, first: float | None, period: tuple[float, float],
                as_of: float, next_due: float | None = None) -> list[JobRun]:
    """Each run is due ``every`` after the previous success (or after the previous due when
    that run brought none); the first, ``every`` after the job's first signal, or after the
    period's start when it sent none before. A success any time before its due + grace is on
    time (as healthchecks.io's simple checks)."""
    assert job.every is not None
    start, end = period
    anchor = first if first is not None and first < start else start
    runs: list[JobRun] = []
    due, opens = anchor + job.every, anchor
    for _ in range(MAX_RUNS * 4):  # runs before the period are followed too, up to a bound
        if due >= end or due > as_of:
            break
        closes = due + job.every if next_due is None else min(due + job.every, max(next_due, due))
        run = _judge(job, signals, due, opens, closes, as_of)
        if due >= start:
            runs.append(run)
        if not run.judged:
            break  # not decided yet: nothing after it is due
        if run.finished is not None:
            opens = run.finished
        due = run.finished + job.every if run.state not in (FAILED, MISSED) and run.finished else due + job.every
    return runs


@dataclass(frozen=True)
class Declaration:
    """A job's terms as declared at ``at`` (when probe first saw them): they apply from then on,
    until a later declaration changes them."""

    at: float
    job: Expectation


@dataclass(frozen=True)
class Stretch:
    """A part of a period over which one declaration's terms apply; ``declared_at`` None when
    the job was never declared (then expected over the whole period)."""

    job: Expectation
    period: tuple[float, float]
    declared_at: float | None


def stretches(declarations: Sequence[Declaration], period: tuple[float, float],
              undeclared: Expectation) -> list[Stretch]:
    """The parts of ``period`` each declaration governs, oldest first: a job is expected from its
    declaration on (nothing before it), under the terms declared then, until a new declaration
    changes them. A job with no declaration is expected over the whole period, on
    ``undeclared`` terms."""
    ordered = sorted(declarations, key=lambda d: d.at)
    if not ordered:
        return [Stretch(undeclared, period, None)]
    start, end = period
    found = []
    for declaration, following in zip(ordered, [*ordered[1:], None]):
        begins = max(start, declaration.at)
        ends = end if following is None else min(end, following.at)
        if begins < ends:
            found.append(Stretch(declaration.job, (begins, ends), declaration.at))
    return found


def judge_declared(declarations: Sequence[Declaration], undeclared: Expectation, signals: Sequence[Signal],
                   period: tuple[float, float], as_of: float) -> list[tuple[Stretch, list[JobRun]]]:
    """judge_runs over each stretch of ``period`` (the declarations made by ``as_of`` only: one
    made later is not known then). The runs of a stretch are those due in it."""
    known = [d for d in declarations if d.at <= as_of]
    found = stretches(known, period, undeclared)
    # a run of old terms is missed when not done by the first run due under the new ones
    cutoffs = [first_due(later.job, later.period[0]) for later in found[1:]] + [None]
    return [(stretch, judge_runs(stretch.job, signals, stretch.period, as_of, cutoff))
            for stretch, cutoff in zip(found, cutoffs)]


class _Index:
    """A job's signals sorted, for finding those of a run's window by bisection."""

    def __init__(self, signals: list[Signal]):
        self.deciders = [s for s in signals if s.kind != START]
        self.decider_times = [s.at for s in self.deciders]
        self.starts = [s.at for s in signals if s.kind == START]

    def first_decider(self, opens: float, closed_at_opens: bool, closes: float) -> Signal | None:
        """The first success or fail signal in [opens, closes) (or (opens, closes))."""
        find = bisect_left if closed_at_opens else bisect_right
        index = find(self.decider_times, opens)
        if index < len(self.deciders) and self.deciders[index].at < closes:
            return self.deciders[index]
        return None

    def last_decider_before(self, at: float) -> float:
        index = bisect_left(self.decider_times, at)
        return self.decider_times[index - 1] if index else float("-inf")

    def last_start(self, after: float, until: float) -> float | None:
        """The last start signal in (after, until]."""
        index = bisect_right(self.starts, until)
        if index and self.starts[index - 1] > after:
            return self.starts[index - 1]
        return None


def _judge(job: Expectation, signals: _Index, due: float, opens: float, closes: float,
           as_of: float) -> JobRun:
    """The run due at ``due``, decided by the first success or fail signal in its window: from
    its due to the next (cron), or after the signal that decided the previous run until one
    ``every`` past its due (every)."""
    cron = job.schedule is not None
    decided = signals.first_decider(opens, cron, closes)
    # its start: the last start signal after the previous run was decided
    after = signals.last_decider_before(due) if cron else opens
    until = min(as_of, math.nextafter(closes, -math.inf)) if decided is None else decided.at
    started = signals.last_start(after, until)
    if decided is None:
        if as_of >= closes:
            return JobRun(due, MISSED, started)
        return JobRun(due, OVERDUE if as_of >= due + job.grace else PENDING, started)
    if decided.kind == FAIL:
        return JobRun(due, FAILED, started, decided.at, decided.exit_status)
    duration = None if started is None else decided.at - started
    if duration is not None and job.min_duration is not None and duration < job.min_duration:
        state = TOO_SHORT
    elif duration is not None and job.max_duration is not None and duration > job.max_duration:
        state = TOO_LONG
    elif decided.at > due + job.grace:
        state = LATE
    else:
        state = ON_TIME
    return JobRun(due, state, started, decided.at, decided.exit_status)


@dataclass(frozen=True)
class RunCounts:
    expected: int
    on_time: int
    late: int
    missed: int
    failed: int
    too_short: int
    too_long: int


def count_runs(runs: Sequence[JobRun]) -> RunCounts:
    """The judged runs by state (a run not yet judged is not counted)."""
    judged = [run for run in runs if run.judged]

    def count(state: str) -> int:
        return sum(1 for run in judged if run.state == state)

    return RunCounts(len(judged), count(ON_TIME), count(LATE), count(MISSED), count(FAILED), count(TOO_SHORT),
                     count(TOO_LONG))


def fixed_at(run: JobRun, grace: float, signals: Sequence[Signal]) -> float | None:
    """A missed or failed run's incident is fixed by the job's next success signal."""
    start = run.incident_start(grace)
    if start is None:
        return None
    return min((s.at for s in signals if s.kind == SUCCESS and s.at > start), default=None)


def job_incidents(runs: Sequence[JobRun], grace: float, signals: Sequence[Signal], as_of: float,
                  ongoing: bool = False) -> list[JobIncident]:
    """The incidents of ``runs``: one per missed or failed run (and, with ``ongoing``, per run
    overdue now, not judged yet), from its incident start to the job's next success (None
    while none came by ``as_of``)."""
    found = []
    for run in runs:
        if run.state == OVERDUE and not ongoing:
            continue
        start = run.incident_start(grace)
        if start is None:
            continue
        fixed = fixed_at(run, grace, signals)
        found.append(JobIncident(run.due, run.state, start, fixed if fixed is not None and fixed <= as_of else None))
    return found


@dataclass(frozen=True)
class JobIncident:
    due: float  # the run's
    state: str  # missed | failed | overdue
    start: float
    end: float | None  # the next success; None while it goes on


WAITING, RUNNING = "waiting", "running"


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands at ``now``: the state of its newest run due (a run state; pending
    within its grace, running when it signalled start, overdue past its grace; waiting when no
    run is due yet), the state of the run before it, and when the next run is due."""

    state: str
    due: float | None
    previous: str | None
    next_due: float | None


def job_status(job: Expectation, signals: Sequence[Signal], since: float, now: float) -> JobStatus:
    """``signals``: the job's, from before ``since`` by one ``every`` at least (as for
    judge_runs over (since, now)). A job run every so long is followed from its first signal:
    before any, nothing is due yet."""
    if job.every is not None:
        first = min((s.at for s in signals if s.at <= now), default=None)
        if first is None:
            return JobStatus(WAITING, None, None, None)
        since = max(since, first)
    runs = judge_runs(job, signals, (since, now), now)
    current = runs[-1] if runs else None
    previous = runs[-2].state if len(runs) > 1 else None
    if current is None:
        state, due = WAITING, None
    else:
        state, due = current.state, current.due
        if state == PENDING and current.started is not None:
            state = RUNNING
    return JobStatus(state, due, previous, _next_due(job, current, signals, since, now))


def _next_due(job: Expectation, current: JobRun | None, signals: Sequence[Signal], since: float,
              now: float) -> float | None:
    if job.schedule is not None:
        return next(cron_times(job.schedule, job.timezone, now, float("inf")), None)
    assert job.every is not None
    success = max((s.at for s in signals if s.kind == SUCCESS and s.at <= now), default=None)
    if success is not None and success + job.every > now:
        return success + job.every  # as each success sets the next due (a success before a due decides it)
    if current is None:
        first = min((s.at for s in signals if s.at <= now), default=None)
        anchor = first if first is not None and first < since else since
        due = anchor + job.every
    elif current.judged and current.state not in (FAILED, MISSED) and current.finished is not None:
        due = current.finished + job.every
    else:
        due = current.due + job.every
    while due <= now:  # runs not followed (a bound reached): the next one after now
        due += job.every
    return due
