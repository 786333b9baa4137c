"""Text placed in the report's print style sheet (the running header and footer of its pages)."""

from __future__ import annotations

from markupsafe import Markup


def css_string(text: object) -> Markup:
    """``text`` as a quoted CSS string, every character but letters, digits and spaces written
    as a hex escape: nothing in it can end the string, the rule or the <style> element."""
    out = []
    for char in str(text):
        if char.isascii() and (char.isalnum() or char == " "):
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x}")
    return Markup('"' + "".join(out) + '"')
