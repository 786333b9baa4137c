"""Text that reaches a terminal or a log line: names and free text are refused at input when
they hold control characters, and whatever reaches a terminal anyway is shown escaped, never
obeyed (no escape sequence, line break, NUL or bidirectional override gets through)."""

from __future__ import annotations

import logging
import re

# C0 and C1 controls and DEL; the bidirectional embeddings, overrides and isolates
# (U+202A-202E, U+2066-2069) and marks, the line and paragraph separators, and the BOM
# (U+FEFF): each can hide, reorder or forge what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def control_character(text: str) -> str | None:
    """The first control character of text, escaped ('\\n', '\\x1b', '\\u202e'), or None."""
    found = _CONTROL.search(text)
    return None if found is None else _escape(found)


def refuse_controls(text: str, what: str = "") -> str:
    """text itself, or ValueError naming `what` and the first control character found."""
    found = control_character(text)
    if found is not None:
        raise ValueError(f"{what + ' ' if what else ''}holds a control character ({found})")
    return text


def printable(text: str) -> str:
    """text with every control character shown as its escape: safe on a terminal, one line."""
    return _CONTROL.sub(_escape, text)


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
