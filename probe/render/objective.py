"""The performance objective as the report reads it: the rule, the month's value, met or not."""

from __future__ import annotations

import math

from probe.labels import NBSP

from .formats import format_integer, format_number
from .i18n import MESSAGES


def percentile_name(percentile: float, lang: str) -> str:
    """95 -> ``95e centile`` / ``95th percentile``; 99.9 -> ``99,9e centile`` / ``99.9th percentile``."""
    number = format_number(percentile, lang)
    if lang == "fr":
        return f"{number}e{NBSP}centile"
    whole = int(percentile) if float(percentile).is_integer() else None
    suffix = "th"
    if whole is not None and whole % 100 not in (11, 12, 13):
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{number}{suffix} percentile"


def milliseconds(value: float, lang: str, up: bool = True) -> str:
    """A response time in whole ms, rounded away from the favourable side: up for a value
    judged against a bound, down for a lower bound."""
    whole = math.ceil(value - 1e-9) if up else math.floor(value + 1e-9)
    return f"{format_integer(whole, lang)}{NBSP}ms"


def objective_view(endpoint: dict, lang: str) -> dict | None:
    """The texts of the objective's paragraph, or None when the endpoint has no objective."""
    objective = endpoint.get("latency_objective")
    if not objective:
        return None
    t = MESSAGES[lang]
    name = percentile_name(objective["percentile"], lang)
    met = objective["met"]
    view = {
        "rule": t["objective_rule"].format(percentile=name, under=milliseconds(objective["under_ms"], lang, up=False)),
        "value": None if objective["value_ms"] is None else milliseconds(objective["value_ms"], lang),
        "state": "nodata" if met is None else ("met" if met else "breached"),
        "verdict": t["objective_no_data"] if met is None else t["objective_met" if met else "objective_breached"],
        "counted": t["objective_counted"].format(count=format_integer(objective.get("checks", 0), lang)),
        "estimate": None,
    }
    if not objective["exact"] and objective["value_ms"] is not None:
        view["estimate"] = t["objective_estimate"].format(
            low=milliseconds(objective["low_ms"], lang, up=False), high=milliseconds(objective["value_ms"], lang))
    return view
