"""Plain-text tables for the terminal: each column as wide as its widest cell, counted in
terminal cells (a CJK character takes two, a combining mark none) of the cell as
:func:`~auditor.cli.output.show` writes it (control characters made visible), so that long
repository names and ``not applicable`` keep the columns aligned."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence

from auditor.printable import visible

_ZERO_WIDTH = frozenset({"Mn", "Me", "Cf"})  # combining marks, format characters (ZWJ, …)


def cell_width(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    if text.isascii():
        return len(text)
    return sum(
        0
        if unicodedata.category(c) in _ZERO_WIDTH
        else 2
        if unicodedata.east_asian_width(c) in ("W", "F")
        else 1
        for c in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - cell_width(text))
    return fill + text if right else text + fill


def aligned(
    rows: Sequence[Sequence[str]], *, right: Collection[int] = (), indent: str = "", gap: int = 2
) -> list[str]:
    """``rows`` (a header first, if any) as lines of aligned columns; the columns numbered in
    ``right`` are right-aligned. The last column is not padded: no line ends in spaces. Each
    cell is made visible first, as :func:`~auditor.cli.output.show` would print it."""
    if not rows:
        return []
    rows = [[visible(cell) for cell in row] for row in rows]
    count = max(len(row) for row in rows)
    widths = [max((cell_width(r[i]) for r in rows if i < len(r)), default=0) for i in range(count)]
    lines = []
    for row in rows:
        cells = [
            cell if i == len(row) - 1 and i not in right else _pad(cell, widths[i], i in right)
            for i, cell in enumerate(row)
        ]
        lines.append((indent + (" " * gap).join(cells)).rstrip())
    return lines
