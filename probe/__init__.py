"""probe: HTTPS availability checks and SLA evidence (checks, daemon, monthly reports)."""

__version__ = "0.1.0"
