"""A JSON object read member by member from a file, its large arrays element by element.

A review export of a large organisation's year is hundreds of megabytes; decoded at once it
takes five to six times that in memory before a single request is parsed. :func:`read_object`
reads the top-level object through a window of the file and hands each element of the arrays
the caller names to a function as soon as it is decoded, so only one element's raw payload is
held at a time. What it accepts and rejects is what :func:`json.loads` accepts and rejects;
errors are :class:`json.JSONDecodeError` with the position in the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

_CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"
_NUMBER = frozenset("0123456789+-.eE")

Element = Callable[[int, Any], None]
"""Takes one element of a streamed array: its index and its decoded value."""


def read_object(path: Path, streamed: Callable[[str, dict[str, Any]], Element | None]) -> Any:
    """The JSON document in ``path``. When it is an object, ``streamed(key, members)`` is asked
    for each member whose value is an array, as it is met (``members``: those read so far); a
    function it returns takes each element of that array in turn, and the member reads ``[]``.
    Every other member is decoded whole, and so is a document that is not an object."""
    with path.open(encoding="utf-8", newline="") as stream:
        return _Reader(stream).document(streamed)


class _Reader:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.text = ""  # the window of the file being read
        self.pos = 0  # the next character to read, in ``text``
        self.offset = 0  # characters of the file before ``text``
        self.lines = 0  # line breaks before ``text``
        self.line_start = 0  # the file position after the last of them
        self.eof = False
        self.decoder = json.JSONDecoder()

    def document(self, streamed: Callable[[str, dict[str, Any]], Element | None]) -> Any:
        if self._peek() != "{":
            return self._rest()
        self.pos += 1
        members: dict[str, Any] = {}
        if self._peek() == "}":
            self.pos += 1
        else:
            while True:
                if self._peek() != '"':
                    self._fail("Expecting property name enclosed in double quotes")
                key = self._value()
                if self._peek() != ":":
                    self._fail("Expecting ':' delimiter")
                self.pos += 1
                take = streamed(key, members) if self._peek() == "[" else None
                if take is not None:
                    self._array(take)
                    members[key] = []
                else:
                    members[key] = self._value()
                following = self._peek()
                self.pos += 1
                if following == "}":
                    break
                if following != ",":
                    self.pos -= 1
                    self._fail("Expecting ',' delimiter")
                self._peek()
        if self._peek() != "":
            self._fail("Extra data")
        return members

    def _array(self, take: Element) -> None:
        self.pos += 1  # the "["
        if self._peek() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            take(index, self._value())
            index += 1
            following = self._peek()
            self.pos += 1
            if following == "]":
                return
            if following != ",":
                self.pos -= 1
                self._fail("Expecting ',' delimiter")

    def _value(self) -> Any:
        """The value starting at the current position (whitespace skipped), read whole."""
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as err:
                if self.eof:
                    raise self._error(err.msg, err.pos) from None
                self._more()
                continue
            if self.eof or not self._may_go_on(value, end):
                self.pos = end
                return value
            self._more()

    def _may_go_on(self, value: Any, end: int) -> bool:
        """Whether the window may end inside ``value``: anything the window ends with, or a
        number followed by what a number is made of (the window cut "1.5e3" as "1.5e")."""
        if end >= len(self.text):
            return True
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return self.text[end] in _NUMBER

    def _rest(self) -> Any:
        """The rest of the file decoded whole (a document that is not an object)."""
        while not self.eof:
            self._more()
        try:
            return self.decoder.decode(self.text[self.pos :])
        except json.JSONDecodeError as err:
            raise self._error(err.msg, self.pos + err.pos) from None

    def _peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.text) or self.eof:
                return self.text[self.pos] if self.pos < len(self.text) else ""
            self._more()

    def _more(self) -> None:
        """Read the next chunk, dropping what was read (at least as much as the window holds,
        so that a value of any size is decoded a bounded number of times)."""
        done = self.text[: self.pos]
        self.lines += done.count("\n")
        last = done.rfind("\n")
        if last >= 0:
            self.line_start = self.offset + last + 1
        self.offset += self.pos
        self.text = self.text[self.pos :]
        self.pos = 0
        chunk = self.stream.read(max(_CHUNK, len(self.text)))
        if not chunk:
            self.eof = True
        self.text += chunk

    def _fail(self, message: str) -> None:
        raise self._error(message, self.pos)

    def _error(self, message: str, pos: int) -> json.JSONDecodeError:
        """``message`` at ``pos`` of the window, with the line and column in the file."""
        before = self.text[:pos]
        line = self.lines + before.count("\n") + 1
        last = before.rfind("\n")
        start = self.offset + last + 1 if last >= 0 else self.line_start
        where = self.offset + pos
        error = json.JSONDecodeError(message, "", 0)
        error.msg, error.pos, error.lineno, error.colno = message, where, line, where - start + 1
        error.args = (f"{message}: line {line} column {where - start + 1} (char {where})",)
        return error
