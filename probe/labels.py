"""The words that reports and alerts use for the probe's figures, per language: the error
classes, and durations as people read them."""

from __future__ import annotations

import math

NNBSP = "\u202f"  # narrow no-break space: French puts one before "%"
NBSP = "\u00a0"  # keeps "5 min" on one line

ERROR_LABELS = {
    "fr": {
        "dns": "résolution DNS", "connect": "connexion refusée ou impossible",
        "timeout": "délai dépassé", "tls_handshake": "négociation TLS",
        "tls_version": "version TLS", "tls_cert": "certificat TLS",
        "protocol": "protocole HTTP", "redirects": "redirections",
        "http_status": "statut HTTP", "body_mismatch": "contenu inattendu",
        "too_slow": "lenteur", "cert_expiring": "certificat bientôt expiré",
    },
    "en": {
        "dns": "DNS resolution", "connect": "connection failed",
        "timeout": "timeout", "tls_handshake": "TLS handshake",
        "tls_version": "TLS version", "tls_cert": "TLS certificate",
        "protocol": "HTTP protocol", "redirects": "redirects",
        "http_status": "HTTP status", "body_mismatch": "unexpected content",
        "too_slow": "slow responses", "cert_expiring": "certificate expiring soon",
    },
}

DURATION_UNITS = {"fr": ("j", "h", "min", "s"), "en": ("d", "h", "min", "s")}


def format_duration(seconds, lang: str, down: bool = False) -> str:
    """Seconds as days, hours, minutes and seconds, the zero parts left out:
    3900 -> ``1 h 05 min``; 183600 -> ``2 j 3 h`` (fr) / ``2 d 3 h`` (en). Rounded to the second,
    or cut down to it with ``down`` (a budget is never shown larger than it is)."""
    total = math.floor(seconds) if down else round(seconds)
    if total == 0:
        return f"0{NBSP}min"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts: list[str] = []
    for amount, unit in zip((days, hours, minutes, secs), DURATION_UNITS[lang]):
        if amount:
            # Minutes and seconds after a larger unit read like a clock: 1 h 05 min.
            text = f"{amount:02d}" if parts and unit in ("min", "s") else str(amount)
            parts.append(f"{text}{NBSP}{unit}")
    return NBSP.join(parts)
