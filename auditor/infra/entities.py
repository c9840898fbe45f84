"""Addressed entities parsed from one side of a file, and their comparison into changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.infra.diff import Sensitive, diff_values, sensitive_name
from auditor.infra.model import Operation, ResourceChange, ResourceKind


@dataclass(frozen=True)
class Entity:
    """A resource, block, object or top-level value; ``body`` is compared field by field."""

    kind: ResourceKind
    address: str
    type: str
    body: dict[str, object]
    sensitive: Sensitive = field(default=sensitive_name, compare=False)


EntityMap = dict[str, Entity]


def compare(before: EntityMap, after: EntityMap) -> tuple[ResourceChange, ...]:
    """Entities added, removed, or modified (with their changed fields), in file order."""
    changes = []
    for address in [*before, *(a for a in after if a not in before)]:
        old, new = before.get(address), after.get(address)
        if old is None and new is not None:
            changes.append(ResourceChange(address, new.kind, Operation.ADDED, new.type))
        elif new is None and old is not None:
            changes.append(ResourceChange(address, old.kind, Operation.REMOVED, old.type))
        elif old is not None and new is not None:
            attributes = diff_values(old.body, new.body, sensitive=new.sensitive)
            if attributes:
                kind_type = new.type or old.type
                changes.append(
                    ResourceChange(address, new.kind, Operation.MODIFIED, kind_type, attributes)
                )
    return tuple(changes)
