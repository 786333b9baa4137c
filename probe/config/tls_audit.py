"""An endpoint's `tls_audit`: how often the daemon audits its TLS ("1d" by default), or "off"."""

from __future__ import annotations

from .fields import duration_in

TLS_AUDIT_DEFAULT = 86400.0
_every = duration_in(3600, 30 * 86400)


def tls_audit_every(value: object) -> float | None:
    """Seconds between two audits of an endpoint, or None for "off"."""
    if value == "off":
        return None
    try:
        return _every(value)
    except ValueError as exc:
        raise ValueError(f'{exc}; or "off"') from None
