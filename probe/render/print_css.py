"""Text placed in the report's print style sheet (the running header and footer of its pages)."""

from __future__ import annotations

from markupsafe import Markup


def css_string(text: object) -> Markup:
    """``text`` as a quoted CSS string, every character but ASCII letters and digits written as a
    six-digit hex escape (a space too: the space after an escape would be taken as its end):
    nothing in it can end the string, the rule or the <style> element."""
    out = []
    for char in str(text):
        if char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x}")
    return Markup('"' + "".join(out) + '"')
