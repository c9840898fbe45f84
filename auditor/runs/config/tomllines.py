"""Where each key of a TOML document is written: :mod:`tomllib` gives values, never lines.

:func:`key_lines` scans a document that :mod:`tomllib` has already accepted and maps every key
path to the line defining it. A path is a tuple of keys and list indices, the way the parsed
value is reached: ``("repository", 1, "forge")`` for the ``forge`` key of the second
``[[repository]]`` table, ``("audit", "frameworks", 0)`` for the first item of that array.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from collections.abc import Mapping
from pathlib import Path

from auditor.errors import DefinitionError

KeyPath = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every key path of ``text`` (valid TOML) → the 1-based line where it is defined."""
    return _Scanner(text).scan()


def line_of(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one (an inline value)."""
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def key_error(
    source: Path, lines: Mapping[KeyPath, int], key: KeyPath, message: str
) -> DefinitionError:
    """``FILE:LINE: KEY: message``, the line being that of ``key`` (or of what holds it)."""
    line = line_of(lines, key)
    where = f"{source}:{line}" if line else str(source)
    return DefinitionError(f"{where}: {dotted(key) or '(top level)'}: {message}")


def dotted(path: KeyPath) -> str:
    """``("repository", 1, "forge")`` → ``repository[1].forge``; odd keys are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if part and set(part) <= _BARE else '"' + part.replace('"', '\\"') + '"'
            out += f".{key}" if out else key
    return out


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.lines: dict[KeyPath, int] = {}
        self.arrays: dict[KeyPath, int] = {}  # array-of-tables path → index of its last table

    def line(self) -> int:
        return bisect_right(self.newlines, self.pos - 1) + 1

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def record(self, path: KeyPath) -> None:
        self.lines.setdefault(path, self.line())

    def scan(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            if self.peek(2) == "[[":
                self.pos += 2
                keys = self.keys()
                self.pos += 2
                parent = self.resolve(keys[:-1])
                array = (*parent, keys[-1])
                self.record(array)
                index = self.arrays.get(array, -1) + 1
                self.arrays[array] = index
                table = (*array, index)
                self.record(table)
            elif self.peek() == "[":
                self.pos += 1
                keys = self.keys()
                self.pos += 1
                table = self.resolve(keys)
                self.record(table)
            else:
                self.pair(table)

    def resolve(self, keys: list[str]) -> KeyPath:
        """A table header's keys → path, descending into the latest table of each array."""
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            if path in self.arrays:
                path = (*path, self.arrays[path])
        return path

    def pair(self, table: KeyPath) -> None:
        keys = self.keys()
        path = table
        for key in keys:
            path = (*path, key)
            self.record(path)
        self.pos += 1  # "="
        self.skip()
        self.value(path)

    def keys(self) -> list[str]:
        """A dotted key, up to the ``=`` or ``]`` after it (not consumed)."""
        keys = []
        while True:
            self.skip()
            char = self.peek()
            if char in ('"', "'"):
                start = self.pos
                self.string()
                keys.append(_unquote(self.text[start : self.pos]))
            else:
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] in _BARE:
                    self.pos += 1
                keys.append(self.text[start : self.pos])
            self.skip()
            if self.peek() != ".":
                break
            self.pos += 1
        return keys

    def value(self, path: KeyPath) -> None:
        char = self.peek()
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self.skip(newlines=True)
                if self.peek() == "]":
                    self.pos += 1
                    return
                item = (*path, index)
                self.record(item)
                self.value(item)
                self.skip(newlines=True)
                if self.peek() == ",":
                    self.pos += 1
                index += 1
        elif char == "{":
            self.pos += 1
            while True:
                self.skip(newlines=True)
                if self.peek() == "}":
                    self.pos += 1
                    return
                self.pair(path)
                self.skip(newlines=True)
                if self.peek() == ",":
                    self.pos += 1
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}\n#":
                self.pos += 1

    def string(self) -> None:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.pos += 3
            while self.peek(3) != quote * 3:
                self.pos += 2 if quote == '"' and self.peek() == "\\" else 1
            self.pos += 3
            while self.peek() == quote:  # up to two quotes may end the content
                self.pos += 1
            return
        self.pos += 1
        while self.peek() != quote:
            self.pos += 2 if quote == '"' and self.peek() == "\\" else 1
        self.pos += 1

    def skip(self, *, newlines: bool = False) -> None:
        """Blanks and comments, and line ends when ``newlines``."""
        blanks = " \t\r\n" if newlines else " \t"
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in blanks:
                self.pos += 1
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return


def _unquote(token: str) -> str:
    if token.startswith("'"):
        return token[1:-1]
    value = tomllib.loads(f"k = {token}")["k"]
    assert isinstance(value, str)
    return value
