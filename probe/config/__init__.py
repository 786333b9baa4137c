"""The config: TOML -> frozen dataclasses. Defaults in one place, unknown keys rejected, every
error names the file, section and key."""

from probe.contract import WEEKDAYS

from .alerts import parse_alerts
from .fields import ConfigError, Where, check_ca_file, duration_in, parse_duration, parse_header, parse_status_list
from .heartbeats import HEARTBEAT_KEYS, Heartbeat
from .https_url import check_url
from .load import ENDPOINT_KEYS, PROBE_KEYS, TOP_KEYS, from_dict, load
from .model import (
    DEADLINE,
    DEFAULT_DEADLINES,
    ESCALATED,
    OPENED,
    RESOLVED,
    SEVERITIES,
    AlertSettings,
    Config,
    Email,
    Endpoint,
    Maintenance,
    ProbeSettings,
    ReportSettings,
    Route,
    SLASettings,
    Webhook,
    default_database,
)
from .sections import MAINTENANCE_KEYS, REPORT_KEYS, SLA_KEYS

__all__ = [
    "AlertSettings",
    "check_ca_file",
    "check_url",
    "Config",
    "ConfigError",
    "DEADLINE",
    "default_database",
    "DEFAULT_DEADLINES",
    "duration_in",
    "Email",
    "Endpoint",
    "ENDPOINT_KEYS",
    "ESCALATED",
    "from_dict",
    "Heartbeat",
    "HEARTBEAT_KEYS",
    "load",
    "Maintenance",
    "MAINTENANCE_KEYS",
    "OPENED",
    "parse_alerts",
    "parse_duration",
    "parse_header",
    "parse_status_list",
    "PROBE_KEYS",
    "ProbeSettings",
    "REPORT_KEYS",
    "ReportSettings",
    "RESOLVED",
    "Route",
    "SEVERITIES",
    "SLA_KEYS",
    "SLASettings",
    "TOP_KEYS",
    "Webhook",
    "WEEKDAYS",
    "Where",
]
