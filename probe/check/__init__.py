"""One HTTPS check -> CheckResult, and many at once. The wire (DNS, connect, TLS, one HTTP/1.1
exchange, the kernel's time stamps) is `probe.check.wire`; a check records facts, and its verdict
is derived from them in `verdict`."""

from probe.spec import CheckSpec

from .audit import AuditFailed, audit
from .audit_profile import PROFILES as TLS_AUDIT_PROFILES
from .many import check_many, run_many, workers_for
from .run import BODY_CAP, MAX_REDIRECTS, USER_AGENT, check, one_line, verdict

__all__ = [
    "AuditFailed",
    "audit",
    "BODY_CAP",
    "CheckSpec",
    "check",
    "check_many",
    "MAX_REDIRECTS",
    "one_line",
    "run_many",
    "TLS_AUDIT_PROFILES",
    "USER_AGENT",
    "verdict",
    "workers_for",
]
