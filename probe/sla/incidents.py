"""Incident classes and deadlines: the severity of an outage or degradation, when it must be
acknowledged and fixed, and whether it was."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from probe.contract import DEFAULT_DEADLINES
from probe.result import DEGRADED, DOWN, DOWN_CLASSES
from probe.sla.workdays import Deadline, WorkCalendar, parse_deadline

from .runs import Episode


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




def deadline_pairs(table: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[str, str]]:
    """The config's ``[sla.deadlines]`` table ({class: {acknowledge, fix}}) as
    `incident_deadlines` takes it ({class: (acknowledge, fix)})."""
    return {severity: (pair["acknowledge"], pair["fix"]) for severity, pair in table.items()}


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
