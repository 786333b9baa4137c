"""The probe's SQLite database: schema and migrations, the codec of checks, the writer thread,
queries, export/import and the paper trail's records."""
from .records import DaemonRun, StoredEndpoint, HOUR_MS, ImportStats, IncidentRecord, RETENTION_DAYS, Rollup, STATE_CODES, STATE_NAMES, StoreError, log
from .histograms import BUCKETS_PER_DECADE, LAST_BUCKET, bucket_bounds, latency_bucket, merge_histograms, percentile_from_histogram
from .schema import MIGRATIONS, SCHEMA_VERSION, check_pages, write_transaction
from .daemon_runs import DaemonRunRecords
from .incidents import IncidentRecords
from .store import Store
from .writer import COMMIT_INTERVAL, Writer, WriterStats
from . import maintenance, paper_trail
from .runs import LOOKBACK, MAX_LOOKBACK, runs_around
from .transfer import backup, export_jsonl, import_jsonl

__all__ = [
    "backup",
    "bucket_bounds",
    "BUCKETS_PER_DECADE",
    "check_pages",
    "COMMIT_INTERVAL",
    "DaemonRun",
    "DaemonRunRecords",
    "StoredEndpoint",
    "export_jsonl",
    "HOUR_MS",
    "import_jsonl",
    "ImportStats",
    "IncidentRecord",
    "IncidentRecords",
    "LAST_BUCKET",
    "latency_bucket",
    "log",
    "merge_histograms",
    "maintenance",
    "MIGRATIONS",
    "paper_trail",
    "percentile_from_histogram",
    "RETENTION_DAYS",
    "Rollup",
    "SCHEMA_VERSION",
    "STATE_CODES",
    "STATE_NAMES",
    "runs_around",
    "Store",
    "StoreError",
    "write_transaction",
    "Writer",
    "WriterStats",
]
