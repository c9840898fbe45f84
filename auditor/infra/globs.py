"""Glob patterns for paths, dotted field paths and type names, compiled once into regexes.

Syntax: ``*`` matches within one segment, ``**`` across segments (a leading ``**<sep>`` or a
trailing ``<sep>**`` also matches nothing), ``?`` one character, ``{a,b}`` alternatives and, in
field paths, ``[*]`` any list item (``containers[*].image``; ``ingress.**`` covers ``ingress[0]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def translate(pattern: str, sep: str) -> str:
    """The regex source matching ``pattern`` with ``sep`` as the segment separator."""
    esc = re.escape(sep)
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**" + sep, i) and (i == 0 or pattern[i - 1] == sep):
            out.append(f"(?:.*{esc})?")
            i += 3
        elif pattern.startswith(sep + "**", i) and i + 3 == n:
            out.append(r"(?:[.\[].*)?" if sep == "." else f"(?:{esc}.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern.startswith("[*]", i):
            out.append(r"\[[^\]]*\]")
            i += 3
        elif pattern[i] == "*":
            out.append(f"[^{esc}]*")
            i += 1
        elif pattern[i] == "?":
            out.append(f"[^{esc}]")
            i += 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            alternatives = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(translate(a, sep) for a in alternatives) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def compile_globs(patterns: Iterable[str], sep: str) -> re.Pattern[str] | None:
    """One regex that fully matches any of ``patterns``; None when there are none."""
    sources = [f"(?:{translate(p, sep)})" for p in patterns]
    if not sources:
        return None
    return re.compile("|".join(sources))


def compile_path_globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """Like ``compile_globs`` for ``/`` paths; a pattern without ``/`` matches any basename."""
    return compile_globs((p if "/" in p else "**/" + p for p in patterns), "/")


def compile_segment_globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """Like ``compile_path_globs``; a pattern without ``/`` matches any directory name too."""
    return compile_globs((p if "/" in p else f"**/{p}/**" for p in patterns), "/")


def matches(regex: re.Pattern[str] | None, text: str) -> bool:
    return regex is not None and regex.fullmatch(text) is not None
