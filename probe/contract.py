"""The contract's words, shared by the config that states them and the rules that apply them:
the incident classes, their default deadlines, the days of the week."""

from __future__ import annotations

SEVERITIES = ("minor", "major", "blocking")  # lowest first, as sla.Severity orders them

# The contract's (acknowledge, fix) deadlines per class, counted from the incident's start.
DEFAULT_DEADLINES: dict[str, tuple[str, str]] = {
    "blocking": ("5h", "24wh"),
    "major": ("24wh", "48wh"),
    "minor": ("48wh", "5wd"),
}

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
