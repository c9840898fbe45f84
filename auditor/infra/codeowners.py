"""CODEOWNERS files (GitHub and GitLab syntax): who owns a path.

A rule is a path pattern followed by owners (``@user``, ``@org/team``, ``user@example.com``).
The last rule whose pattern matches a path decides its owners; a matching rule without owners
leaves the path unowned. Patterns follow gitignore: a leading or inner ``/`` anchors a pattern
at the repository root, otherwise it matches at any depth; ``*`` and ``?`` stay within one path
segment, ``**`` crosses them; a pattern naming a directory owns everything below it, except
one ending in ``/*``, which owns only the directory's own files. ``!`` negations (unsupported by
GitHub) are ignored. GitLab sections (``[Section]``, ``^[Optional]``, with default owners) are
independent: each section's last matching rule applies, and each required section needs its
own approval.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from auditor.infra.automaton import (
    ANY,
    Automaton,
    Char,
    Node,
    Opt,
    Seq,
    Star,
    anything_but,
    literal,
)

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
"""Where forges look for the file, in their order (GitHub first, then GitLab's)."""

_SECTION = re.compile(r"^(?P<optional>\^)?\[(?P<name>[^\]]+)\](?:\[\d+\])?(?P<owners>.*)$")
_OWNER = re.compile(r"^(?:@[\w.-]+(?:/[\w.-]+)?|[^@\s]+@[^@\s]+)$")


@dataclass(frozen=True)
class Rule:
    """One pattern line: its section, the pattern as written, its owners and line number."""

    section: str
    pattern: str
    owners: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Ownership:
    """Who owns one path in one section, and by which rule (``owners`` empty: unowned)."""

    path: str
    section: str
    optional: bool
    owners: tuple[str, ...]
    rule: str
    line: int


@dataclass(frozen=True)
class CodeOwners:
    """A parsed CODEOWNERS file, as it was at some commit."""

    source: str  # where it was found, e.g. ".github/CODEOWNERS"
    commit: str  # the commit it was read at
    rules: tuple[Rule, ...]
    optional_sections: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()  # lines that could not be read, "line N: why"

    @functools.cached_property
    def _matcher(self) -> Automaton:
        """Every rule's pattern in one matcher: one pass over a path finds all that match."""
        return _matcher_of(tuple(rule.pattern for rule in self.rules))

    @classmethod
    def parse(cls, text: str, source: str = "CODEOWNERS", commit: str = "") -> CodeOwners:
        rules: list[Rule] = []
        problems: list[str] = []
        optional: set[str] = set()
        section, defaults = "", tuple[str, ...]()
        for number, raw in enumerate(text.splitlines(), start=1):
            line = _strip_comment(raw).strip()
            if not line or line.startswith("!"):
                continue
            header = _SECTION.match(line) if line.startswith(("[", "^[")) else None
            if header:
                section = header["name"].strip()
                defaults = tuple(header["owners"].split())
                if header["optional"]:
                    optional.add(section)
                continue
            pattern, *owners = line.split()
            if not owners and section:
                owners = list(defaults)
            bad = [o for o in owners if not _OWNER.match(o)]
            if bad:
                problems.append(f"line {number}: not an owner: {', '.join(bad)}")
                owners = [o for o in owners if _OWNER.match(o)]
            rules.append(Rule(section, pattern, tuple(owners), number))
        return cls(source, commit, tuple(rules), frozenset(optional), tuple(problems))

    def owners_of(self, path: str) -> tuple[Ownership, ...]:
        """Per section, the last rule matching ``path`` (sections without a match omitted)."""
        found: dict[str, Rule] = {}
        for index in sorted(self._matcher.matching(path)):
            rule = self.rules[index]
            found[rule.section] = rule
        return tuple(
            Ownership(
                path,
                rule.section,
                rule.section in self.optional_sections,
                rule.owners,
                rule.pattern,
                rule.line,
            )
            for rule in found.values()
        )


@functools.lru_cache(maxsize=64)
def _matcher_of(patterns: tuple[str, ...]) -> Automaton:
    """One matcher per list of patterns: the file at one commit is mostly the file at the next."""
    return Automaton([pattern_tree(pattern) for pattern in patterns])


def _strip_comment(line: str) -> str:
    """The line without its ``#`` comment (``\\#`` is a literal hash)."""
    out, escaped = [], False
    for char in line:
        if char == "#" and not escaped:
            break
        escaped = char == "\\" and not escaped
        out.append(char)
    return "".join(out).replace("\\#", "#")


_DIRECTORIES = Opt(Seq((Star(ANY), Char(literal("/")))))  # any directories, or none
_BELOW = Seq((Char(literal("/")), Star(ANY)))  # anything below a directory


def pattern_tree(pattern: str) -> Node:
    """What a CODEOWNERS pattern matches of a whole repository path, as a pattern tree."""
    dir_only = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    files_only = body.endswith("/*") and not body.endswith("**/*")
    items = [_glob_tree(body)] if anchored else [_DIRECTORIES, _glob_tree(body)]
    if dir_only:
        items.append(_BELOW)
    elif not (files_only or body.endswith("/**")):
        items.append(Opt(_BELOW))
    return Seq(tuple(items))


def _glob_tree(glob: str) -> Node:
    items: list[Node] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            items.append(_DIRECTORIES)
            index += 3
            continue
        if glob.startswith("**", index):
            items.append(Star(ANY))
            index += 2
            continue
        if char == "*":
            items.append(Star(anything_but("/")))
        elif char == "?":
            items.append(Char(anything_but("/")))
        elif char == "\\" and index + 1 < len(glob):
            index += 1
            items.append(Char(literal(glob[index])))
        else:
            items.append(Char(literal(char)))
        index += 1
    return Seq(tuple(items))
