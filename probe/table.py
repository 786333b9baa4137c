"""Plain-text tables for the terminal: columns padded to their widest cell, the last column
(free text, often long) left unpadded; control characters in any cell shown escaped."""

from probe.text import printable


def text_table(rows: list[tuple[str, ...]]) -> str:
    rows = [tuple(printable(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip() for row in rows
    )
