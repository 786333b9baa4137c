"""The probe's SQLite database: schema and migrations, the codec of checks, the writer thread,
queries, export/import and the paper trail's records."""

from . import incident_notes, job_declarations, job_incidents, maintenance, pings, shipping, tls_audits
from .histograms import bucket_bounds, latency_bucket, merge_histograms, percentile_from_histogram
from .latencies import response_times
from .records import (
    HOUR_MS,
    RETENTION_DAYS,
    DaemonRun,
    ImportStats,
    IncidentRecord,
    Rollup,
    StoredEndpoint,
    StoreError,
    log,
)
from .runs import LOOKBACK, MAX_LOOKBACK, runs_around
from .schema import SCHEMA_VERSION, check_pages, write_transaction
from .store import Store
from .transfer import backup, export_jsonl, import_jsonl
from .writer import COMMIT_INTERVAL, Writer, WriterStats

__all__ = [
    "backup",
    "bucket_bounds",
    "check_pages",
    "COMMIT_INTERVAL",
    "DaemonRun",
    "StoredEndpoint",
    "export_jsonl",
    "HOUR_MS",
    "import_jsonl",
    "ImportStats",
    "incident_notes",
    "IncidentRecord",
    "job_declarations",
    "job_incidents",
    "latency_bucket",
    "log",
    "merge_histograms",
    "maintenance",
    "percentile_from_histogram",
    "response_times",
    "pings",
    "RETENTION_DAYS",
    "Rollup",
    "SCHEMA_VERSION",
    "runs_around",
    "shipping",
    "Store",
    "StoreError",
    "tls_audits",
    "write_transaction",
    "Writer",
    "WriterStats",
]
