"""The monthly report's model: figures from the store's runs and rollups through the SLA rules,
incidents with their deadlines, maintenance and probe gaps. Figures only: the words are
`probe.render`'s."""
from probe.store import runs_around

from . import incidents, provenance, status
from .calendar import check_month_begun, iso_local, last_complete_month, local_days, parse_month
from .month import DEFAULT_TITLES, PARALLEL_MIN, ReportContext, build, maintenance_windows, runs_as_of
from .incident_rows import IncidentRules, NO_DEADLINE, detected_row, manual_row

__all__ = [
    "incidents",
    "provenance",
    "status",
    "build",
    "check_month_begun",
    "DEFAULT_TITLES",
    "detected_row",
    "IncidentRules",
    "iso_local",
    "last_complete_month",
    "local_days",
    "maintenance_windows",
    "manual_row",
    "NO_DEADLINE",
    "PARALLEL_MIN",
    "parse_month",
    "ReportContext",
    "runs_around",
    "runs_as_of",
]
