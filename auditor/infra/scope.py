"""Environment scope of a file, from its path: ``envs/prod/main.tf`` is in ``prod``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from auditor.infra.automaton import Automaton, Capture, Char, Seq, Star, anything_but
from auditor.infra.globs import parse

PLACEHOLDER = "<env>"
_TOKEN_SPLIT = re.compile(r"[-_.]")


class EnvironmentPatterns:
    """Compiled environment patterns (globs with one ``<env>`` segment) and known names.

    A path matching a pattern is in the environment its ``<env>`` segment names. Otherwise
    the outermost directory named like a known environment wins, then a known name among the
    ``-_.``-separated words of the file name (``values-prod.yaml``, ``staging.tfvars``).
    """

    def __init__(self, patterns: Iterable[str], names: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self.names = frozenset(name.lower() for name in names)
        self._matchers = tuple(_env_matcher(p) for p in self.patterns)
        self._cache: dict[str, str | None] = {}

    def environment_of(self, path: str) -> str | None:
        if path not in self._cache:
            self._cache[path] = self._environment_of(path)
        return self._cache[path]

    def _environment_of(self, path: str) -> str | None:
        for matcher in self._matchers:
            found = matcher.capture(path)
            if found is not None:
                return found
        *directories, filename = path.split("/")
        for segment in directories:
            if segment.lower() in self.names:
                return segment
        for word in _TOKEN_SPLIT.split(filename):
            if word.lower() in self.names:
                return word
        return None


def _env_matcher(pattern: str) -> Automaton:
    """Captures the ``<env>`` segment (one or more characters but ``/``)."""
    before, _, after = pattern.partition(PLACEHOLDER)
    segment = Seq((Char(anything_but("/")), Star(anything_but("/"))))
    return Automaton([Seq((parse(before, "/"), Capture(segment), parse(after, "/")))])


def environment_of(path: str, patterns: EnvironmentPatterns) -> str | None:
    """The environment ``path`` belongs to, or None when nothing in it names one."""
    return patterns.environment_of(path)
