"""Category mapping rules: the packaged ``rules.yaml``, extended by user files, compiled once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from auditor.errors import DefinitionError
from auditor.infra.automaton import Automaton
from auditor.infra.globs import compile_globs, matches, path_glob, segment_glob
from auditor.infra.model import Category, ResourceKind
from auditor.infra.rulespec import PATTERN_SECTIONS, Patterns, RuleSpec, parse_rules
from auditor.infra.scope import EnvironmentPatterns

_NAME_SEP = "\0"
_TYPED_KINDS = frozenset(
    {
        ResourceKind.RESOURCE,
        ResourceKind.DATA,
        ResourceKind.IMPORT,
        ResourceKind.MOVED,
        ResourceKind.REMOVED,
    }
)


class _NameMatcher:
    """Type/kind globs: patterns with ``/`` see ``group/Kind``, the others the Kind alone."""

    def __init__(self, patterns: Iterable[str]) -> None:
        listed = list(patterns)
        self._qualified = compile_globs((p for p in listed if "/" in p), _NAME_SEP)
        self._bare = compile_globs((p for p in listed if "/" not in p), _NAME_SEP)

    def __call__(self, name: str) -> bool:
        return matches(self._qualified, name) or matches(self._bare, name.rsplit("/", 1)[-1])


class _SourceMatcher:
    """Module source globs, matched against the whole source string."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._matcher = compile_globs(patterns, _NAME_SEP)

    def __call__(self, name: str) -> bool:
        return matches(self._matcher, name)


class _CategoryGlobs:
    """The path globs of every category in one matcher: one pass over a path finds them all."""

    def __init__(self, by_category: Patterns, expand: Callable[[str], str]) -> None:
        listed = [(cat, expand(p)) for cat, patterns in by_category.items() for p in patterns]
        self._categories = tuple(cat for cat, _ in listed)
        self._matcher = compile_globs((p for _, p in listed), "/")

    def __call__(self, path: str) -> frozenset[Category]:
        if self._matcher is None:
            return frozenset()
        return frozenset(self._categories[i] for i in self._matcher.matching(path))


@dataclass(frozen=True)
class _CompiledField:
    matcher: Automaton | None
    types: _NameMatcher | None
    categories: frozenset[Category]


class Rules:
    """Compiled category rules; build with ``Rules.default()`` or ``Rules.load(path, ...)``."""

    def __init__(self, spec: RuleSpec) -> None:
        self.file_kinds = {kind: frozenset(cats) for kind, cats in spec.file_kinds.items()}
        sections = {name: spec.patterns.get(name, {}) for name in PATTERN_SECTIONS}
        self._paths = _CategoryGlobs(sections["paths"], path_glob)
        self._hints = _CategoryGlobs(sections["path_hints"], segment_glob)
        resource_types = _named(sections["resource_types"])
        self._by_kind = {kind: resource_types for kind in _TYPED_KINDS} | {
            ResourceKind.MODULE: tuple(
                (cat, _SourceMatcher(globs)) for cat, globs in sections["module_sources"].items()
            ),
            ResourceKind.OBJECT: _named(sections["kinds"]),
        }
        self._fields = tuple(
            _CompiledField(
                compile_globs(rule.match, "."),
                _NameMatcher(rule.types) if rule.types else None,
                rule.categories,
            )
            for rule in spec.fields
        )
        self.environments = EnvironmentPatterns(spec.env_patterns, spec.env_names)
        # Answers by key: the same paths, types and field paths come back change after change.
        self._type_cache: dict[tuple[ResourceKind, str], frozenset[Category]] = {}
        self._path_cache: dict[str, frozenset[Category]] = {}
        self._hint_cache: dict[str, frozenset[Category]] = {}
        self._field_cache: dict[tuple[str, str], frozenset[Category]] = {}

    @classmethod
    def default(cls) -> Rules:
        """The rules shipped with auditor."""
        return _default_rules()

    @classmethod
    def load(cls, *paths: str | Path) -> Rules:
        """The shipped rules extended by each user rules file, in order."""
        spec = _builtin_spec()
        for path in paths:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise DefinitionError(f"{path}: cannot read rules file: {err}") from err
            spec = spec.extended(parse_rules(text, str(path)))
        return cls(spec)

    def path_categories(self, path: str) -> frozenset[Category]:
        found = self._path_cache.get(path)
        if found is None:
            found = self._paths(path)
            self._path_cache[path] = found
        return found

    def hint_categories(self, path: str) -> frozenset[Category]:
        found = self._hint_cache.get(path)
        if found is None:
            found = self._hints(path)
            self._hint_cache[path] = found
        return found

    def type_categories(self, kind: ResourceKind, type_: str) -> frozenset[Category]:
        """Categories of a resource type, module source or ``group/Kind``."""
        key = (kind, type_)
        if key not in self._type_cache:
            matchers = self._by_kind.get(kind, ())
            self._type_cache[key] = frozenset(cat for cat, match in matchers if match(type_))
        return self._type_cache[key]

    def field_categories(self, path: str, type_: str) -> frozenset[Category]:
        """Categories of a changed field path on a resource of ``type_``."""
        key = (path, type_)
        cached = self._field_cache.get(key)
        if cached is not None:
            return cached
        found: set[Category] = set()
        for rule in self._fields:
            if matches(rule.matcher, path) and (rule.types is None or rule.types(type_)):
                found |= rule.categories
        self._field_cache[key] = frozenset(found)
        return self._field_cache[key]


def _named(by_category: Patterns) -> tuple[tuple[Category, Callable[[str], bool]], ...]:
    return tuple((cat, _NameMatcher(patterns)) for cat, patterns in by_category.items())


@functools.cache
def _default_rules() -> Rules:
    return Rules(_builtin_spec())


def _builtin_spec() -> RuleSpec:
    text = resources.files("auditor.infra").joinpath("rules.yaml").read_text(encoding="utf-8")
    return parse_rules(text, "auditor/infra/rules.yaml")
