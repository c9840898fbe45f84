"""Cheap splitting of HCL files into top-level items and YAML streams into documents.

Only the items that differ between the two sides of a change need parsing: an item present on
both sides yields the same entities on both, so it cannot contribute a change.
"""

from __future__ import annotations

import re
from collections import Counter

_HCL_TOKEN = re.compile(r'"|\$\{|%\{|#|//|/\*|<<-?|[{}\[\]()]|\n')
_NESTED_TOKEN = re.compile(
    r'"|\$\{|%\{|#|//|/\*|<<-?|[{}\[\]()]'
)  # new lines only matter at top level
_STRING_TOKEN = re.compile(r'\\.|"|\$\{|%\{|\n', re.S)
_HEREDOC = re.compile(r"<<-?[ \t]*([A-Za-z_][\w-]*)[ \t]*\r?\n")
_OPENERS = {"{": "}", "[": "]", "(": ")", "${": "}", "%{": "}"}
_YAML_SEPARATOR = re.compile(r"^---(?:[ \t].*)?$\n?", re.M)


def split_hcl(text: str) -> list[str] | None:
    """Top-level blocks and attributes of HCL ``text``; None when its structure is unclear."""
    chunks: list[str] = []
    closers: list[str] = []
    in_string: list[bool] = []
    start = position = 0
    while True:
        if in_string and in_string[-1]:
            regex = _STRING_TOKEN
        else:
            regex = _NESTED_TOKEN if closers else _HCL_TOKEN
        found = regex.search(text, position)
        if found is None:
            break
        token, position = found.group(), found.end()
        if in_string and in_string[-1]:
            if token == '"':
                in_string.pop()
            elif token in ("${", "%{"):
                closers.append("}")
                in_string.append(False)
            elif token == "\n":
                return None
        elif token == '"':
            in_string.append(True)
        elif token in _OPENERS:
            closers.append(_OPENERS[token])
            in_string.append(False)
        elif token in ("}", "]", ")"):
            if not closers or closers.pop() != token:
                return None
            in_string.pop()
        elif token in ("#", "//"):
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
        elif token == "/*":
            end = text.find("*/", position)
            if end < 0:
                return None
            position = end + 2
        elif token.startswith("<<"):
            heredoc = _HEREDOC.match(text, found.start())
            if heredoc is None:
                return None
            terminator = re.compile(rf"^[ \t]*{re.escape(heredoc[1])}[ \t]*$", re.M)
            closing = terminator.search(text, heredoc.end())
            if closing is None:
                return None
            position = closing.end()
        elif token == "\n" and not closers:
            _append(chunks, text[start:position])
            start = position
    if closers or in_string:
        return None
    _append(chunks, text[start:])
    return chunks


def split_yaml(text: str) -> list[str]:
    """The documents of a YAML stream, split at ``---`` lines."""
    chunks: list[str] = []
    for document in _YAML_SEPARATOR.split(text):
        _append(chunks, document)
    return chunks


def _append(chunks: list[str], chunk: str) -> None:
    if chunk.strip():
        chunks.append(chunk.strip("\n"))


def differing(before: list[str], after: list[str], joiner: str) -> tuple[str, str]:
    """The items of each side that the other side lacks, joined back into one text each."""
    old, new = differing_items(before, after)
    return _joined(old, joiner), _joined(new, joiner)


def differing_items(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """The items of each side that the other side lacks, in order."""
    common = Counter(before) & Counter(after)
    return _without(before, common), _without(after, common)


def _joined(items: list[str], joiner: str) -> str:
    return joiner.join(items) + "\n" if items else ""


def _without(chunks: list[str], common: Counter[str]) -> list[str]:
    remaining = Counter(common)
    kept = []
    for chunk in chunks:
        if remaining[chunk] > 0:
            remaining[chunk] -= 1
        else:
            kept.append(chunk)
    return kept
