"""Categories of resource changes and files, from the compiled rules."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.infra.model import Category, FileKind, Operation, ResourceChange
from auditor.infra.rules import Rules

_OTHER = frozenset({Category.OTHER})


def change_categories(change: ResourceChange, rules: Rules) -> frozenset[Category]:
    """An added or removed entity has its type's categories; a modified one, for each changed
    field, the categories of the field rules it matches, or else its type's."""
    by_type = rules.type_categories(change.kind, change.type)
    if change.operation is not Operation.MODIFIED:
        return _specific(by_type)
    found: set[Category] = set()
    for attribute in change.changed_attributes:
        found |= rules.field_categories(attribute.path, change.type) or by_type
    return _specific(found)


def file_categories(
    rules: Rules,
    kind: FileKind,
    paths: Iterable[str],
    changes: tuple[ResourceChange, ...],
    has_secrets: bool,
) -> frozenset[Category]:
    """A file's categories: its changes', its kind's and paths', and path hints without changes."""
    found = set(rules.file_kinds.get(kind, ()))
    for path in paths:
        found |= rules.path_categories(path)
        if not changes:
            found |= rules.hint_categories(path)
    for change in changes:
        found |= change.categories
    if has_secrets:
        found.add(Category.SECRETS)
    return _specific(found)


def _specific(categories: Iterable[Category]) -> frozenset[Category]:
    """``other`` only when nothing more specific applies."""
    found = frozenset(categories) - _OTHER
    return found or _OTHER
