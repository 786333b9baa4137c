"""The monthly report's model: figures from the store's runs and rollups through the SLA rules,
incidents with their deadlines, maintenance and probe gaps. Figures only: the words are
`probe.render`'s."""

from probe.store import runs_around

from . import heartbeat_status, incidents, periods, public, status
from .calendar import check_month_begun, iso_local, last_complete_month, local_days, parse_month
from .month import PARALLEL_MIN, ReportContext, build, maintenance_windows

__all__ = [
    "heartbeat_status",
    "incidents",
    "periods",
    "public",
    "status",
    "build",
    "check_month_begun",
    "iso_local",
    "last_complete_month",
    "local_days",
    "maintenance_windows",
    "PARALLEL_MIN",
    "parse_month",
    "ReportContext",
    "runs_around",
]
