"""Writing rows as CSV, JSON and JSON Lines: spreadsheet-safe, deterministic and atomic."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from auditor.evidence.workdirs import cannot_write, check_parent

Row = Mapping[str, Any]
_FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their fullwidth forms
_ALWAYS = frozenset("\t\r")  # a cell starting with one is prefixed, whatever follows
# What a spreadsheet may trim before reading a formula: every Unicode space (the last is
# U+3000) and the invisible joiners and marks.
_LEADING = (
    "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\u200b\u200c\u200d\u2060\ufeff"
)
_SUSPECT = _FORMULA_STARTS | _ALWAYS | frozenset(_LEADING)  # "" is not in it: empty stays empty


def iso_utc(when: datetime | None) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second; empty for unknown."""
    if when is None:
        return ""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_cell(value: object) -> str:
    """One CSV cell: lists joined with ``;``, booleans as true/false, formulas neutralised."""
    if type(value) is str:  # the common case first, decided in one lookup
        return _neutralised(value) if value[:1] in _SUSPECT else value
    if type(value) is int:
        return str(value)
    return _other_cell(value)


def _other_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    text = str(value)
    return _neutralised(text) if text[:1] in _SUSPECT else text


def _neutralised(text: str) -> str:
    """``text`` prefixed with ``'`` when a spreadsheet could read it as a formula: it starts
    with tab or CR, or its first character after spaces is ``=``, ``+``, ``-`` or ``@``."""
    if text[0] in _ALWAYS or text.lstrip(_LEADING)[:1] in _FORMULA_STARTS:
        return "'" + text
    return text


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[Row]) -> int:
    """Write an RFC 4180 CSV (CRLF line ends, header row); returns the number of rows.

    Rows are joined here, quoting as the csv module's writer does (minimal quoting: a cell
    holding a comma, a quote or a line break, its quotes doubled): a row whose joined text has
    one comma fewer than cells and no quote or line break needs none, and is written as it is;
    the writer itself looks at every character and takes twice as long."""
    write, cell, count = out.write, csv_cell, 0
    write(_line(list(columns)))
    for row in rows:
        write(_line(list(map(cell, map(row.get, columns)))))
        count += 1
    return count


def _line(cells: list[str]) -> str:
    line = ",".join(cells)
    if line.count(",") != len(cells) - 1 or _SPECIAL.search(line):
        line = ",".join(map(_quoted, cells))
    elif not line and len(cells) == 1:
        line = '""'  # the writer's spelling of a row of one empty cell
    return line + "\r\n"


_SPECIAL = re.compile('["\r\n]')


def _quoted(text: str) -> str:
    """A cell as the csv module's writer spells it (``QUOTE_MINIMAL``, double quotes)."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def write_jsonl(out: IO[str], rows: Iterable[Row]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def write_json(out: IO[str], document: object) -> None:
    json.dump(document, out, ensure_ascii=False, sort_keys=True, indent=2)
    out.write("\n")


@contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """Open ``path`` for writing through a temporary file renamed into place on success.

    What the system refuses (a parent that is a file, no permission, no space left) is an
    :class:`OutputError` naming ``path``; nothing is left half-written.
    """
    check_parent(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise cannot_write(path, err) from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise cannot_write(path, err) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_text(write: Any, *args: Any) -> str:
    """Run a writer into a string (for tests and small outputs)."""
    buffer = io.StringIO(newline="")
    write(buffer, *args)
    return buffer.getvalue()
