"""The daemon: startup, main loop, shutdown (lifecycle); systemd's notifications and the
journal's log lines; the web listener (metrics, status page) and the database's lock."""

from .lifecycle import (
                        EXIT_CANTCREAT,
                        EXIT_CONFIG,
                        EXIT_DATABASE_LOST,
                        EXIT_LISTEN,
                        EXIT_RUNNING,
                        Daemon,
                        StartupError,
                        run,
)
from .lock import DaemonLock, DatabaseInUse
from .systemd import notify, setup_logging, watchdog_interval
from .web import LiveResults, parse_listen, start_web, status_model

__all__ = [
    "Daemon",
    "DaemonLock",
    "DatabaseInUse",
    "EXIT_CANTCREAT",
    "EXIT_CONFIG",
    "EXIT_DATABASE_LOST",
    "EXIT_LISTEN",
    "EXIT_RUNNING",
    "LiveResults",
    "notify",
    "parse_listen",
    "run",
    "setup_logging",
    "start_web",
    "StartupError",
    "status_model",
    "watchdog_interval",
]
