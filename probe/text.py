"""Text that reaches a terminal or a log line: names and free text are refused at input when
they hold control characters, and whatever reaches a terminal anyway is shown escaped, never
obeyed (no escape sequence, line break, NUL or bidirectional override gets through). Also
plain-text tables for the terminal, and durations as the config writes them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

# C0 and C1 controls and DEL; the bidirectional embeddings, overrides and isolates
# (U+202A-202E, U+2066-2069) and marks, the line and paragraph separators, and the BOM
# (U+FEFF): each can hide, reorder or forge what a terminal shows. Lone surrogates too: they
# are bytes that were not UTF-8 (as Python decodes them from argv and the environment) and no
# file, database or terminal can take them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
                      "\ud800-\udfff]")


def control_character(text: str) -> str | None:
    """The first control character of text, escaped ('\\n', '\\x1b', '\\u202e'), or None."""
    found = _CONTROL.search(text)
    return None if found is None else _escape(found)


def refuse_controls(text: str, what: str = "") -> str:
    """text itself, or ValueError naming `what` and the first control character found."""
    found = _CONTROL.search(text)
    if found is not None:
        raise ValueError(f"{what + ' ' if what else ''}{refuse_controls_message(found.group())}")
    return text


def refuse_controls_message(char: str) -> str:
    """What a message says of a character that refuse_controls refuses."""
    escaped = printable(char)
    if "\ud800" <= char <= "\udfff":
        return f"holds a byte that is not UTF-8 text ({escaped})"
    return f"holds a control character ({escaped})"


def printable(text: str) -> str:
    """text with every control character shown as its escape: safe on a terminal, one line."""
    return _CONTROL.sub(_escape, text)


def json_text(value, **options) -> str:
    """JSON as probe writes it: UTF-8 text kept as it is, but every character that printable
    escapes written as its \\u escape (JSON escapes only C0 controls itself): the same data
    for any JSON reader, and nothing a terminal would obey when the JSON is shown on one."""
    text = json.dumps(value, ensure_ascii=False, **options)
    # json.dumps escapes C0 controls inside strings itself, so a line break or tab left is
    # whitespace between values (indent); any other of these characters is inside a string
    return _CONTROL.sub(lambda m: m.group() if m.group() in "\t\n\r" else f"\\u{ord(m.group()):04x}", text)


def _escape(match: re.Match) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class PrintableFormatter(logging.Formatter):
    """A log line's message is shown escaped; a traceback, when logged, keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)


def say_duration(seconds: float) -> str:
    """Seconds as the config would write them: 90 -> '1m30s', 0.5 -> '500ms'."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    parts = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            parts.append(f"{int(rest // size)}{unit}")
            rest -= (rest // size) * size
    if rest or not parts:
        parts.append(f"{rest:g}s")
    return "".join(parts)



def local_stamp(at: float, zone: str, seconds: bool = False) -> str:
    """A moment as people read it, in the SLA's time zone and labelled with it:
    '2026-11-03 14:05 CET' (the zone's abbreviation, or its offset: '+03')."""
    moment = datetime.fromtimestamp(at, ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def short_span(seconds: float) -> str:
    """A duration in a narrow column: 42s, 12m, 3h12m, 3d04h."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, "…" where it was cut."""
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def text_table(rows: Sequence[tuple[str, ...]]) -> str:
    rows = [tuple(printable(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip() for row in rows
    )
