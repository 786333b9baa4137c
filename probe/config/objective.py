"""An endpoint's performance objective: ``latency_objective = { percentile = 95, under = "800ms" }``."""

from __future__ import annotations

from .fields import _shown, duration_in
from .model import LatencyObjective

OBJECTIVE_KEYS = ("percentile", "under")
_FORM = 'a table like { percentile = 95, under = "800ms" }'


def parse_latency_objective(value: object) -> LatencyObjective:
    """The table as written -> LatencyObjective; ValueError with one line naming the key."""
    if not isinstance(value, dict):
        raise ValueError(f"must be {_FORM}")
    for key in value:
        if key not in OBJECTIVE_KEYS:
            raise ValueError(f"{key}: unknown key (expected one of: {', '.join(OBJECTIVE_KEYS)})")
    for key in OBJECTIVE_KEYS:
        if key not in value:
            raise ValueError(f"{key}: missing (expected {_FORM})")
    percentile = value["percentile"]
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float)):
        raise ValueError(f"percentile: {_shown(percentile)} is not a number (like 95 or 99.9)")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile: {_shown(percentile)} is out of range (more than 0, at most 100)")
    try:
        under = duration_in(0.001, 300)(value["under"])
    except ValueError as exc:
        raise ValueError(f"under: {exc}") from None
    return LatencyObjective(percentile=float(percentile), under=under)
