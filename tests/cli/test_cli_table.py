from __future__ import annotations

from auditor.cli.table import aligned, cell_width


def _starts(line: str, cells: list[str]) -> list[int]:
    """The terminal column at which each of ``cells`` begins in ``line``."""
    starts, at = [], 0
    for cell in cells:
        at = line.index(cell, at)
        starts.append(cell_width(line[:at]))
        at += len(cell)
    return starts


def test_wide_and_zero_width_characters_are_counted_in_terminal_cells() -> None:
    assert cell_width("infra") == 5
    assert cell_width("基础设施") == 8  # wide: two cells each
    assert cell_width("café") == cell_width("cafe\u0301") == 4  # a combining accent takes none


def test_columns_line_up_whatever_the_cells_hold() -> None:
    rows = [
        ["control", "population", "status", "title"],
        ["INT-02", "1", "not applicable", "History is not rewritten"],
        ["KNW-01", "12345", "pass", "Knowledge is shared"],
        ["基础设施/网络-01", "7", "fail", "Wide"],
    ]
    lines = aligned(rows, right={1})
    starts = [_starts(line, row) for line, row in zip(lines, rows, strict=True)]
    assert len({s[2] for s in starts}) == len({s[3] for s in starts}) == 1
    ends = {s[1] + cell_width(row[1]) for s, row in zip(starts, rows, strict=True)}
    assert len(ends) == 1  # numbers right-aligned
    assert all(line == line.rstrip() for line in lines)
    assert aligned([["a", "b"]], indent="  ") == ["  a  b"]


def test_cells_are_measured_as_shown_with_control_characters_made_visible() -> None:
    rows = [["repo\u202e", "fail"], ["a", "pass"]]  # a right-to-left override in a name
    lines = aligned(rows)
    assert lines == ["repo⟨U+202E⟩  fail", "a             pass"]
