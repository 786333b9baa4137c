"""The SLA accounting rules as pure functions: checks -> runs -> coverage, outages, availability,
incidents. No database, clock or network here; times are float seconds since the epoch (UTC)."""
from .workdays import Deadline, WorkCalendar, parse_deadline
from .intervals import Interval, clip, intersect, merge, month_period, subtract, to_ms, total_ms
from probe.result import DEGRADED, DOWN, UP

from .runs import BLIP, COVERAGE_FACTOR, Check, DEGRADATION, Episode, OUTAGE, Run, coverage_end, episodes, fold_check, monitored, runs_from_checks, unmonitored
from .maintenance import Declared, LATE_POLICIES, Occurrence, WEEKDAYS, Window, excused_intervals, expand_weekly, maintenance_for, occurrences
from .daily import DayFigures, per_day, per_period_ms
from .figures import EndpointFigures, availability, truncate_percent
from .incidents import DEFAULT_DEADLINES, deadline_pairs, MET, MISSED, OPEN, SEVERITY_OF_CLASS, Severity, classify, deadline_status, fix_time, incident_deadlines, incident_severity

__all__ = [
    "DayFigures",
    "per_day",
    "per_period_ms",
    "Deadline",
    "WorkCalendar",
    "parse_deadline",
    "availability",
    "BLIP",
    "Check",
    "classify",
    "clip",
    "coverage_end",
    "COVERAGE_FACTOR",
    "deadline_status",
    "Declared",
    "deadline_pairs",
    "DEFAULT_DEADLINES",
    "DEGRADATION",
    "DEGRADED",
    "DOWN",
    "EndpointFigures",
    "Episode",
    "episodes",
    "excused_intervals",
    "expand_weekly",
    "fix_time",
    "fold_check",
    "incident_deadlines",
    "incident_severity",
    "intersect",
    "Interval",
    "LATE_POLICIES",
    "maintenance_for",
    "merge",
    "MET",
    "MISSED",
    "monitored",
    "month_period",
    "Occurrence",
    "occurrences",
    "OPEN",
    "OUTAGE",
    "Run",
    "runs_from_checks",
    "Severity",
    "SEVERITY_OF_CLASS",
    "subtract",
    "to_ms",
    "total_ms",
    "truncate_percent",
    "unmonitored",
    "UP",
    "WEEKDAYS",
    "Window",
]
