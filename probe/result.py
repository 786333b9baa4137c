"""What one check found: the facts and the verdict, in one flat record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

# Hard failures (state down) and soft ones (state degraded), as the accounting rules name them.
DOWN_CLASSES = (
    "dns",
    "connect",
    "timeout",
    "tls_handshake",
    "tls_version",
    "tls_cert",
    "protocol",
    "redirects",
    "http_status",
    "body_mismatch",
)
DEGRADED_CLASSES = ("too_slow", "cert_expiring")
# The prober's own trouble (out of file descriptors, memory or buffers, no socket to be had): the
# check was not made. Stored as a down check of this class, for the record, it vouches for
# nothing in the accounting (unmonitored time, never downtime) and raises no alert.
PROBE_ERROR = "probe_error"
NOT_MADE_CLASSES = (PROBE_ERROR,)
ERROR_CLASSES = DOWN_CLASSES + DEGRADED_CLASSES + NOT_MADE_CLASSES
UP, DEGRADED, DOWN = "up", "degraded", "down"
STATES = (UP, DEGRADED, DOWN)

# The keys of `probe check --json`, in order.
JSON_KEYS = (
    "url",
    "at",
    "state",
    "error_class",
    "error",
    "http_status",
    "dns_ms",
    "connect_ms",
    "tls_ms",
    "ttfb_ms",
    "total_ms",
    "wait_ms",
    "tls_version",
    "tls_cipher",
    "cert_not_after",
    "cert_days_left",
    "cert_issuer",
    "cert_subject",
)


def iso_utc(epoch: float | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the millisecond when there is a fraction."""
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    if moment.microsecond:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """ISO 8601 (with Z or an offset; naive means UTC) -> epoch seconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@dataclass(slots=True)
class CheckResult:
    url: str
    at: float  # epoch seconds (UTC) when the check started
    state: str = "down"
    error_class: str | None = None
    error: str | None = None
    http_status: int | None = None
    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None
    # How long the check's data waited on the prober's host before the prober, busy with other
    # checks, read it: left out of the timings above. The check took total_ms + wait_ms by the clock.
    wait_ms: float | None = None
    tls_version: str | None = None  # "TLSv1.3"
    tls_cipher: str | None = None
    cert_not_after: float | None = None  # epoch seconds
    cert_days_left: int | None = None
    cert_issuer: str | None = None
    cert_subject: str | None = None

    def to_json(self) -> dict:
        record = {key: getattr(self, key) for key in JSON_KEYS}
        record["at"] = iso_utc(self.at)
        record["cert_not_after"] = iso_utc(self.cert_not_after)
        return record
