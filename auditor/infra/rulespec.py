"""Rules files read and validated: every error names the file and the key at fault."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import yaml

from auditor.errors import DefinitionError
from auditor.infra.model import Category, FileKind
from auditor.infra.scope import PLACEHOLDER

PATTERN_SECTIONS = ("paths", "path_hints", "resource_types", "module_sources", "kinds")
_SECTIONS = ("file_kinds", *PATTERN_SECTIONS, "fields", "environments")
_FIELD_KEYS = ("match", "categories", "types")
_ENV_KEYS = ("patterns", "names")

Patterns = Mapping[Category, tuple[str, ...]]
_E = TypeVar("_E", Category, FileKind)


@dataclass(frozen=True)
class FieldRule:
    """Changed fields matching ``match`` on types matching ``types`` (any if empty) → categories."""

    match: tuple[str, ...]
    categories: frozenset[Category]
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    """Validated, uncompiled rules: category-keyed pattern sections plus field rules."""

    file_kinds: Mapping[FileKind, frozenset[Category]] = field(default_factory=dict)
    patterns: Mapping[str, Patterns] = field(default_factory=dict)
    fields: tuple[FieldRule, ...] = ()
    env_patterns: tuple[str, ...] = ()
    env_names: tuple[str, ...] = ()

    def extended(self, other: RuleSpec) -> RuleSpec:
        """These rules plus ``other``'s; its environment patterns are tried first."""
        file_kinds = dict(self.file_kinds)
        for kind, categories in other.file_kinds.items():
            file_kinds[kind] = file_kinds.get(kind, frozenset()) | categories
        patterns = {section: dict(by_cat) for section, by_cat in self.patterns.items()}
        for section, by_cat in other.patterns.items():
            mine = patterns.setdefault(section, {})
            for category, globs in by_cat.items():
                mine[category] = mine.get(category, ()) + globs
        return RuleSpec(
            file_kinds,
            patterns,
            self.fields + other.fields,
            other.env_patterns + self.env_patterns,
            self.env_names + other.env_names,
        )


def parse_rules(text: str, source: str) -> RuleSpec:
    """Rules from YAML ``text``; ``source`` names the file in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DefinitionError(f"{source}: invalid YAML: {err}") from err
    top = _mapping(source, "(top level)", {} if data is None else data)
    _known_keys(source, "", top, _SECTIONS)
    file_kinds: dict[FileKind, frozenset[Category]] = {}
    for category, names in _by_category(source, "file_kinds", top.get("file_kinds")).items():
        for index, name in enumerate(names):
            kind = _enum(FileKind, name, source, f"file_kinds.{category.value}[{index}]")
            file_kinds[kind] = file_kinds.get(kind, frozenset()) | {category}
    patterns = {name: _by_category(source, name, top.get(name)) for name in PATTERN_SECTIONS}
    fields = tuple(_field_rules(source, top.get("fields")))
    env = _mapping(source, "environments", top.get("environments") or {})
    _known_keys(source, "environments.", env, _ENV_KEYS)
    env_patterns = _optional_strings(source, "environments.patterns", env.get("patterns"))
    for index, pattern in enumerate(env_patterns):
        if pattern.count(PLACEHOLDER) != 1:
            key = f"environments.patterns[{index}]"
            raise DefinitionError(f"{source}: {key}: must contain {PLACEHOLDER} exactly once")
    env_names = _optional_strings(source, "environments.names", env.get("names"))
    return RuleSpec(file_kinds, patterns, fields, env_patterns, env_names)


def _field_rules(source: str, raw: object) -> list[FieldRule]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DefinitionError(f"{source}: fields: must be a list of rules")
    rules = []
    for index, item in enumerate(raw):
        key = f"fields[{index}]"
        rule = _mapping(source, key, item)
        _known_keys(source, key + ".", rule, _FIELD_KEYS)
        for required in ("match", "categories"):
            if required not in rule:
                raise DefinitionError(f"{source}: {key}.{required}: missing")
        categories = frozenset(
            _enum(Category, name, source, f"{key}.categories[{n}]")
            for n, name in enumerate(_strings(source, f"{key}.categories", rule["categories"]))
        )
        rules.append(
            FieldRule(
                _strings(source, f"{key}.match", rule["match"]),
                categories,
                _optional_strings(source, f"{key}.types", rule.get("types")),
            )
        )
    return rules


def _by_category(source: str, key: str, raw: object) -> dict[Category, tuple[str, ...]]:
    section = _mapping(source, key, raw or {})
    return {
        _enum(Category, name, source, f"{key}.{name}"): _strings(source, f"{key}.{name}", value)
        for name, value in section.items()
    }


def _mapping(source: str, key: str, raw: object) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: {key}: must be a mapping")
    for name in raw:
        if not isinstance(name, str):
            raise DefinitionError(f"{source}: {key}.{name}: keys must be strings (quote it)")
    return raw


def _known_keys(
    source: str, prefix: str, raw: Mapping[str, object], known: tuple[str, ...]
) -> None:
    for key in raw:
        if key not in known:
            raise DefinitionError(
                f"{source}: {prefix}{key}: unknown key (expected one of {', '.join(known)})"
            )


def _strings(source: str, key: str, raw: object) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise DefinitionError(f"{source}: {key}: must be a string or a non-empty list of strings")
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise DefinitionError(f"{source}: {key}[{index}]: must be a non-empty string")
    return tuple(items)


def _optional_strings(source: str, key: str, raw: object) -> tuple[str, ...]:
    return () if raw is None else _strings(source, key, raw)


def _enum(enum: type[_E], name: object, source: str, key: str) -> _E:
    try:
        return enum(name)
    except ValueError:
        expected = ", ".join(member.value for member in enum)
        raise DefinitionError(
            f"{source}: {key}: unknown {enum.__name__} {name!r} (expected one of {expected})"
        ) from None
