"""Each package's face (its __all__) is frozen here: a name leaves or joins a face on purpose,
with this list changed in the same commit. The daemon, the CLI, the tests and bench/ import faces."""
import importlib

import pytest

FACES = {
    "probe.alerts": [
        "AlertSettings", "Alerter", "DeliveryError", "Email", "Incident", "Route", "Webhook", "compose",
        "deliver", "is_loopback", "observe_pushed", "parse_alerts", "send_test",
    ],
    "probe.check": [
        "AuditFailed", "BODY_CAP", "CheckSpec", "MAX_REDIRECTS", "TLS_AUDIT_PROFILES", "USER_AGENT", "audit",
        "check", "check_many", "one_line", "run_many", "verdict", "workers_for",
    ],
    "probe.cli": [
        "EXIT_CRITICAL", "EXIT_OK", "EXIT_UNKNOWN", "EXIT_WARNING", "ProbeError", "cli", "main",
    ],
    "probe.config": [
        "AlertSettings", "Config", "ConfigError", "DEADLINE", "DEFAULT_DEADLINES", "ENDPOINT_KEYS",
        "ESCALATED", "Email", "Endpoint", "HEARTBEAT_KEYS", "HUB_KEYS", "Heartbeat", "HubSettings",
        "MAINTENANCE_KEYS", "Maintenance", "OPENED", "PROBE_KEYS", "ProbeSettings", "REPORT_KEYS",
        "RESOLVED", "ReportSettings", "Route", "SEVERITIES", "SITE_KEYS", "SLASettings", "SLA_KEYS", "Site",
        "TOP_KEYS", "UPSTREAM_KEYS", "Upstream", "WEEKDAYS", "Webhook", "Where", "check_ca_file",
        "check_url", "default_database", "describe_sites", "duration_in", "from_dict", "load",
        "parse_alerts", "parse_duration", "parse_header", "parse_status_list",
    ],
    "probe.daemon": [
        "Daemon", "DaemonLock", "DatabaseInUse", "EXIT_CANTCREAT", "EXIT_CONFIG", "EXIT_DATABASE_LOST",
        "EXIT_LISTEN", "EXIT_RUNNING", "LiveResults", "StartupError", "notify", "parse_listen", "run",
        "setup_logging", "start_web", "status_model", "watchdog_interval",
    ],
    "probe.render": [
        "DEADLINE_UNITS", "ERROR_LABELS", "LANGUAGES", "MESSAGES", "MONTHS", "NBSP", "NNBSP", "PARALLEL_MIN",
        "PUBLIC_MESSAGES", "PdfError", "availability_chart", "check_language", "default_filename",
        "find_browser", "format_date", "format_datetime", "format_deadline", "format_duration",
        "format_integer", "format_month", "format_number", "format_percent", "latency_chart",
        "make_environment", "period_name", "render_csv", "render_html", "render_pdf", "render_period_html",
    ],
    "probe.report": [
        "PARALLEL_MIN", "ReportContext", "build", "check_month_begun", "heartbeat_status", "incidents",
        "iso_local", "last_complete_month", "local_days", "maintenance_windows", "parse_month", "periods",
        "public", "runs_around", "status",
    ],
    "probe.schedule": [
        "SEND_EVERY", "Scheduler", "Stats", "WorkerPool", "auto_workers", "deal", "next_due",
        "phase_offsets",
    ],
    "probe.sla": [
        "Abstention", "BLIP", "COVERAGE_FACTOR", "Check", "DEFAULT_DEADLINES", "DEGRADATION", "DEGRADED",
        "DOWN", "DayFigures", "Deadline", "Declared", "EndpointFigures", "Episode", "Interval",
        "LATE_POLICIES", "MET", "MISSED", "OPEN", "OUTAGE", "ObjectiveFigure", "Occurrence", "Run",
        "SEVERITY_OF_CLASS", "SITE_RULES", "Segment", "ServiceFigures", "Severity", "SiteRule", "UP",
        "WEEKDAYS", "Window", "WorkCalendar", "abstentions", "availability", "classify", "clip",
        "combine_sites", "coverage_end", "cut_runs", "deadline_pairs", "deadline_status",
        "downtime_intervals", "eligible_intervals", "episodes", "excused_intervals", "expand_weekly",
        "fix_time", "fold_check", "heartbeats", "incident_deadlines", "incident_severity", "intersect",
        "maintenance_for", "merge", "monitored", "month_period", "nearest_rank", "objective_from_buckets",
        "objective_from_times", "objective_least_favourable", "occurrences", "parse_deadline", "per_day",
        "runs_from_checks", "service_figures", "site_timeline", "subtract", "to_ms", "total_ms",
        "truncate_percent", "unmonitored", "uses_support_hours", "vouching",
    ],
    "probe.store": [
        "COMMIT_INTERVAL", "DaemonRun", "HOUR_MS", "ImportStats", "IncidentRecord", "RETENTION_DAYS",
        "Rollup", "SCHEMA_VERSION", "Store", "StoreError", "StoredEndpoint", "Writer", "WriterStats",
        "backup", "bucket_bounds", "check_pages", "export_jsonl", "import_jsonl", "incident_notes",
        "job_declarations", "job_incidents", "latency_bucket", "log", "maintenance", "merge_histograms",
        "percentile_from_histogram", "pings", "response_times", "runs_around", "shipping", "tls_audits",
        "write_transaction",
    ],
}


@pytest.mark.parametrize("package", sorted(FACES))
def test_the_face_is_what_it_was_agreed_to_be(package):
    assert sorted(importlib.import_module(package).__all__) == FACES[package]


def test_every_package_has_its_face_frozen_here():
    import pkgutil

    import probe

    packages = {f"probe.{info.name}" for info in pkgutil.iter_modules(probe.__path__) if info.ispkg}
    assert packages - {"probe.reports"} == set(FACES)
