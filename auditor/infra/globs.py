"""Glob patterns for paths, dotted field paths and type names, compiled once into matchers.

Syntax: ``*`` matches within one segment, ``**`` across segments (a leading ``**<sep>`` or a
trailing ``<sep>**`` also matches nothing), ``?`` one character, ``{a,b}`` alternatives and, in
field paths, ``[*]`` any list item (``containers[*].image``; ``ingress.**`` covers ``ingress[0]``).
Every other character stands for itself; ``**`` crosses line breaks in names too. Matching
takes time linear in the text whatever the pattern (see :mod:`auditor.infra.automaton`).
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.infra.automaton import (
    ANY,
    Alt,
    Automaton,
    Char,
    Node,
    Opt,
    Seq,
    Star,
    anything_but,
    literal,
    one_of,
)


def parse(pattern: str, sep: str) -> Node:
    """The pattern tree of ``pattern`` with ``sep`` (one character) as the segment separator."""
    items: list[Node] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**" + sep, i) and (i == 0 or pattern[i - 1] == sep):
            items.append(Opt(Seq((Star(ANY), Char(literal(sep))))))
            i += 3
        elif pattern.startswith(sep + "**", i) and i + 3 == n:
            first = one_of(".[") if sep == "." else literal(sep)
            items.append(Opt(Seq((Char(first), Star(ANY)))))
            i += 3
        elif pattern.startswith("**", i):
            items.append(Star(ANY))
            i += 2
        elif pattern.startswith("[*]", i):
            items.append(Seq((Char(literal("[")), Star(anything_but("]")), Char(literal("]")))))
            i += 3
        elif pattern[i] == "*":
            items.append(Star(anything_but(sep)))
            i += 1
        elif pattern[i] == "?":
            items.append(Char(anything_but(sep)))
            i += 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            alternatives = pattern[i + 1 : end].split(",")
            items.append(Alt(tuple(parse(a, sep) for a in alternatives)))
            i = end + 1
        else:
            items.append(Char(literal(pattern[i])))
            i += 1
    return Seq(tuple(items))


def compile_globs(patterns: Iterable[str], sep: str) -> Automaton | None:
    """One matcher for the whole text against any of ``patterns``; None when there are none."""
    trees = [parse(p, sep) for p in patterns]
    return Automaton(trees) if trees else None


def path_glob(pattern: str) -> str:
    """A path glob as matched: one without ``/`` matches any basename."""
    return pattern if "/" in pattern else "**/" + pattern


def segment_glob(pattern: str) -> str:
    """Like :func:`path_glob`; one without ``/`` matches any directory name too."""
    return pattern if "/" in pattern else f"**/{pattern}/**"


def compile_path_globs(patterns: Iterable[str]) -> Automaton | None:
    """``compile_globs`` of :func:`path_glob` patterns over ``/`` paths."""
    return compile_globs(map(path_glob, patterns), "/")


def compile_segment_globs(patterns: Iterable[str]) -> Automaton | None:
    """``compile_globs`` of :func:`segment_glob` patterns over ``/`` paths."""
    return compile_globs(map(segment_glob, patterns), "/")


def matches(matcher: Automaton | None, text: str) -> bool:
    return matcher is not None and matcher.matches(text)
