"""The report as CSV: one row per endpoint per month, for a spreadsheet (the month's own
start and end in the last two columns: a range of days covers part of its first and last months).

Cells are written by Python's csv module (RFC 4180 quoting). A text cell that a spreadsheet
would read as a formula (one beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return: OWASP's "CSV injection") is prefixed with ``'``, so it is shown as text and never run.
Numbers are written as numbers, with a dot, in seconds and percent.
"""

from __future__ import annotations

import csv
import io

COLUMNS = (
    "month", "endpoint", "title", "availability_percent", "target_percent", "met", "eligible_seconds",
    "downtime_seconds", "allowed_downtime_seconds", "unmonitored_seconds", "maintenance_seconds",
    "incidents_blocking", "incidents_major", "incidents_minor", "blips", "provisional", "period_start",
    "period_end",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would take for a formula, made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _number(value: float | None) -> object:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else value


def csv_rows(model: dict) -> list[list[object]]:
    """The rows (header first) of a month's model, or of a quarter's, year's or range's."""
    months = model["months"] if "months" in model else [_month_summary(model)]
    rows: list[list[object]] = [list(COLUMNS)]
    for month in months:
        if not month.get("begun", True):
            continue
        for endpoint in month["endpoints"]:
            classes = endpoint["incidents_by_class"]
            rows.append([neutralise(cell) for cell in (
                month["month"], endpoint["name"], endpoint.get("title") or endpoint["name"],
                endpoint["availability_display"] or "",
                _number(model["target_percent"]), "yes" if endpoint["met"] else "no",
                _number(endpoint["eligible_seconds"]), _number(endpoint["downtime_seconds"]),
                _number(endpoint["allowed_downtime_seconds"]), _number(endpoint["unmonitored_seconds"]),
                _number(endpoint["maintenance_seconds"]), classes.get("blocking", 0), classes.get("major", 0),
                classes.get("minor", 0), endpoint["blips"], "yes" if month["provisional"] else "no",
                month["period_start"], month["period_end"],
            )])
    return rows


def _month_summary(model: dict) -> dict:
    endpoints = []
    for section in model["endpoints"]:
        counts = {"blocking": 0, "major": 0, "minor": 0}
        for incident in section["incidents"]:
            counts[incident["severity"]] = counts.get(incident["severity"], 0) + 1
        endpoints.append({**section, "incidents_by_class": counts})
    return {"month": model["month"], "provisional": model["provisional"], "period_start": model["period_start"],
            "period_end": model["period_end"], "endpoints": endpoints}


def render_csv(model: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(csv_rows(model))
    return out.getvalue()
