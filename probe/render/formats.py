"""Numbers, percentages, dates, deadlines and file names in the language's notation; figures are
cut, never rounded up."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from probe.labels import NBSP, NNBSP

from .i18n import DEADLINE_UNITS, MONTHS


def _plain_decimal(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def truncate(value: float, places: int) -> Decimal:
    """``value`` cut (never rounded up) to ``places`` decimals: 99.7996, 3 -> 99.799."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def format_number(value, lang: str, places: int | None = None) -> str:
    """A number in the language's notation. A string is taken as already formatted (``"99.806"``
    keeps every digit); a number is cut to ``places`` decimals, never rounded up."""
    if isinstance(value, str):
        text = value
    elif places is None:
        text = _plain_decimal(Decimal(str(value)))
    else:
        text = _plain_decimal(truncate(value, places))
    if lang == "fr":
        return text.replace(".", ",")
    return text


def format_percent(value, lang: str, places: int | None = None) -> str:
    """``"99.806"`` -> ``99,806 %`` (fr, narrow no-break space) or ``99.806%`` (en)."""
    number = format_number(value, lang, places)
    return f"{number}{NNBSP}%" if lang == "fr" else f"{number}%"


def format_integer(value, lang: str) -> str:
    """``1234`` -> ``1 234`` (fr) or ``1,234`` (en); rounded to the nearest unit."""
    text = f"{round(value):,}"
    return text.replace(",", NNBSP) if lang == "fr" else text


@lru_cache(maxsize=4096)
def format_date(value: str | date, lang: str) -> str:
    """``2026-10-07`` -> ``7 octobre 2026`` (fr) / ``7 October 2026`` (en)."""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{number} {MONTHS[lang][day.month - 1]} {day.year}"


def format_datetime(value: str, lang: str, timezone: str | None = None, seconds: bool = False) -> str:
    """``2026-10-07T10:00:00+02:00`` -> ``7 octobre 2026 à 10:00`` / ``7 October 2026, 10:00``.

    The time is shown as written (the model's times are already in the SLA time zone). When
    ``timezone`` is given and the wall time occurs twice that day (the hour the clocks go back),
    the UTC offset is added so that the two cannot be confused. None (no such time) -> ``—``.
    """
    if value is None:
        return "—"
    moment = datetime.fromisoformat(value)
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    if timezone and moment.utcoffset() is not None and _ambiguous(moment, timezone):
        offset = moment.strftime("%z")
        clock += f" (UTC{offset[:3]}:{offset[3:]})"
    day = format_date(moment.date(), lang)
    return f"{day} à {clock}" if lang == "fr" else f"{day}, {clock}"


def _ambiguous(moment: datetime, timezone: str) -> bool:
    wall = moment.replace(tzinfo=ZoneInfo(timezone))
    return wall.replace(fold=0).utcoffset() != wall.replace(fold=1).utcoffset()


def seconds_between(start: str, end: str) -> float:
    """The length of a period given by its two ISO 8601 ends (offsets make DST days right)."""
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def format_month(month: str, lang: str) -> str:
    """``2026-10`` -> ``octobre 2026`` / ``October 2026``."""
    year, number = _parse_month(month)
    return f"{MONTHS[lang][number - 1]} {year}"


def format_deadline(spec: str, lang: str) -> str:
    """A contract deadline as written in the config, in words: ``24wh`` -> ``24 heures ouvrées``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(wh|wd|sh|h)\s*", str(spec))
    if not match:
        return str(spec)
    amount, unit = match.groups()
    singular, plural = DEADLINE_UNITS[lang][unit]
    return f"{format_number(amount, lang)}{NBSP}{singular if float(amount) <= 1 else plural}"


def _parse_month(month: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(month))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"report month {month!r} is not of the form YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def default_filename(model: dict) -> str:
    """The file name a report is saved under: ``probe-report-2026-10.html``."""
    year, number = _parse_month(model["month"])
    return f"probe-report-{year:04d}-{number:02d}.html"
