"""Terraform/OpenTofu files (HCL or JSON), variable files and lock files as addressed entities."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from auditor.infra import hclfast
from auditor.infra.diff import show
from auditor.infra.entities import Entity, EntityMap
from auditor.infra.model import (
    FileKind,
    Operation,
    ResourceChange,
    ResourceKind,
    Signal,
    SignalKind,
)

_BLOCK_MARK = "__is_block__"
_JSON_LABELS = {"resource": 2, "data": 2} | dict.fromkeys(
    ("module", "variable", "output", "provider", "check"), 1
)
_LABELLED = {
    "resource": ResourceKind.RESOURCE,
    "data": ResourceKind.DATA,
    "module": ResourceKind.MODULE,
    "variable": ResourceKind.VARIABLE,
    "output": ResourceKind.OUTPUT,
    "check": ResourceKind.CHECK,
}
_PREFIX = {ResourceKind.VARIABLE: "var", ResourceKind.DATA: "data"}
_TARGETS = {
    "import": ("to", ResourceKind.IMPORT),
    "moved": ("from", ResourceKind.MOVED),
    "removed": ("from", ResourceKind.REMOVED),
}
_ADDED_SIGNAL = {
    ResourceKind.IMPORT: SignalKind.IMPORT_ADDED,
    ResourceKind.MOVED: SignalKind.MOVED_ADDED,
    ResourceKind.REMOVED: SignalKind.REMOVED_ADDED,
}
_MODULE_SIGNALS = {
    "source": SignalKind.MODULE_SOURCE_CHANGED,
    "version": SignalKind.MODULE_VERSION_CHANGED,
}
_RESOURCE_ADDRESS = re.compile(
    r"(?:^|\.)(?!module\.)(?P<type>[A-Za-z][\w-]*)\.[\w-]+(?:\[[^\]]*\])?$"
)
_INTERPOLATION = re.compile(r"^\$\{(.*)\}$", re.S)
Block = tuple[str, tuple[str, ...], dict[str, object]]


def parse_entities(kind: FileKind, path: str, text: str) -> EntityMap:
    """The entities of one side of a Terraform-family file; raises ValueError when malformed."""
    is_json = path.endswith(".json")
    return entities_of(kind, load(text, is_json=is_json), is_json=is_json)


def load(text: str, *, is_json: bool = False) -> dict[str, object]:
    """The document as python-hcl2 (or ``json``) reads it; raises ValueError when malformed."""
    data = json.loads(text) if is_json else _load_hcl(text)
    if not isinstance(data, dict):
        raise ValueError("top level is not an object")
    return data


def merge(documents: Iterable[dict[str, object]]) -> dict[str, object]:
    """HCL documents read one top-level item at a time, merged as reading them joined would:
    blocks grouped under their type in order of appearance, a later attribute replacing an
    earlier one; a block named like an earlier attribute is an error, as python-hcl2 has it."""
    merged: dict[str, object] = {}
    attributes: set[str] = set()
    for document in documents:
        for name, value in document.items():
            if isinstance(value, list) and value and all(_is_block(v) for v in value):
                if name in attributes:
                    raise ValueError(f"invalid HCL (attribute {name} is already defined)")
                existing = merged.get(name)
                merged[name] = [*existing, *value] if isinstance(existing, list) else list(value)
            else:
                attributes.add(name)
                merged[name] = value
    return merged


def _is_block(item: object) -> bool:
    """Whether ``item`` is a (possibly labelled) block as python-hcl2 marks them."""
    while isinstance(item, dict):
        if item.get(_BLOCK_MARK) is True:
            return True
        if len(item) != 1:
            return False
        item = next(iter(item.values()))
    return False


def entities_of(kind: FileKind, data: dict[str, object], *, is_json: bool = False) -> EntityMap:
    """The addressed entities of a document read by :func:`load` (or :func:`merge`)."""
    if kind in (FileKind.TERRAFORM_VARS, FileKind.TERRAGRUNT):
        prefix = "var." if kind is FileKind.TERRAFORM_VARS else ""
        return {
            prefix + name: Entity(
                ResourceKind.VALUE, prefix + name, "", {name: _strip_marks(value)}
            )
            for name, value in data.items()
        }
    blocks = _json_blocks(data) if is_json else _hcl_blocks(data)
    if kind is FileKind.TERRAFORM_LOCK:
        return {
            f"lock.{labels[0]}": Entity(ResourceKind.LOCK, f"lock.{labels[0]}", labels[0], body)
            for block_type, labels, body in blocks
            if block_type == "provider" and labels
        }
    entities: EntityMap = {}
    for block_type, labels, body in blocks:
        for entity in _entities(block_type, labels, body):
            previous = entities.get(entity.address)
            if previous is not None and entity.kind is ResourceKind.TERRAFORM:
                entity = Entity(entity.kind, "terraform", "", previous.body | entity.body)
            entities[entity.address] = entity
    return entities


def _load_hcl(text: str) -> object:
    try:
        return hclfast.loads(text)
    except hclfast.Unsupported:
        pass
    import hcl2

    options = hcl2.SerializationOptions(
        with_comments=False, explicit_blocks=True, strip_string_quotes=True, preserve_heredocs=False
    )
    try:
        return hcl2.loads(text, serialization_options=options)
    except Exception as err:  # the parser raises lark, key and type errors on malformed input
        line, column = getattr(err, "line", None), getattr(err, "column", None)
        where = f" at line {line}, column {column}" if isinstance(line, int) else ""
        raise ValueError(f"invalid HCL{where} ({type(err).__name__})") from err


def _entities(
    block_type: str, labels: tuple[str, ...], body: dict[str, object]
) -> Iterator[Entity]:
    if block_type == "locals":
        for name, value in body.items():
            yield Entity(ResourceKind.LOCAL, f"local.{name}", "", {name: value})
    elif block_type == "terraform":
        yield Entity(ResourceKind.TERRAFORM, "terraform", "", body)
    elif block_type == "provider" and labels:
        alias = body.get("alias")
        address = f"provider.{labels[0]}" + (f".{alias}" if isinstance(alias, str) else "")
        yield Entity(ResourceKind.PROVIDER, address, labels[0], body)
    elif block_type in _TARGETS:
        key, kind = _TARGETS[block_type]
        target = _unwrap(body.get(key, ""))
        found = _RESOURCE_ADDRESS.search(target)
        yield Entity(kind, f"{block_type}.{target}", found["type"] if found else "", body)
    elif block_type in _LABELLED and labels:
        kind = _LABELLED[block_type]
        if kind in (ResourceKind.RESOURCE, ResourceKind.DATA) and len(labels) >= 2:
            address = ".".join(filter(None, (_PREFIX.get(kind), labels[0], labels[1])))
            yield Entity(kind, address, labels[0], body)
        else:
            source = body.get("source") if kind is ResourceKind.MODULE else ""
            prefix = _PREFIX.get(kind, block_type)
            yield Entity(kind, f"{prefix}.{labels[0]}", _unwrap(source), body)
    else:
        yield Entity(ResourceKind.BLOCK, ".".join((block_type, *labels)), block_type, body)


def _hcl_blocks(data: dict[str, object]) -> Iterator[Block]:
    for block_type, items in data.items():
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                for labels, body in _unlabel(item, ()):
                    yield block_type, labels, body


def _unlabel(
    item: dict[str, object], labels: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], dict[str, object]]]:
    if item.get(_BLOCK_MARK):
        yield labels, {k: _strip_marks(v) for k, v in item.items() if k != _BLOCK_MARK}
        return
    for label, inner in item.items():
        if isinstance(inner, dict):
            yield from _unlabel(inner, (*labels, label))


def _strip_marks(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_marks(v) for k, v in value.items() if k != _BLOCK_MARK}
    if isinstance(value, list):
        return [_strip_marks(v) for v in value]
    return value


def _json_blocks(data: dict[str, object]) -> Iterator[Block]:
    for block_type, content in data.items():
        yield from _json_labelled(block_type, content, (), _JSON_LABELS.get(block_type, 0))


def _json_labelled(
    block_type: str, content: object, labels: tuple[str, ...], depth: int
) -> Iterator[Block]:
    for item in content if isinstance(content, list) else [content]:
        if not isinstance(item, dict):
            continue
        if depth == 0:
            yield block_type, labels, item
        else:
            for label, inner in item.items():
                yield from _json_labelled(block_type, inner, (*labels, label), depth - 1)


def _unwrap(value: object) -> str:
    text = value if isinstance(value, str) else ""
    found = _INTERPOLATION.match(text)
    return found.group(1) if found else text


def signals(
    kind: FileKind, before: EntityMap, after: EntityMap, changes: tuple[ResourceChange, ...]
) -> tuple[Signal, ...]:
    """Drift and supply-chain signals: version and source changes, imports, moves, removals."""
    found: list[Signal] = []
    if kind is FileKind.TERRAFORM_LOCK:
        found += _version_signals(_lock_versions(before), _lock_versions(after), "lock.")
    else:
        found += _version_signals(_constraints(before), _constraints(after), "provider.")
    for change in changes:
        if change.operation is Operation.ADDED and change.kind in _ADDED_SIGNAL:
            found.append(Signal(_ADDED_SIGNAL[change.kind], change.address))
        if change.kind is ResourceKind.MODULE and change.operation is Operation.MODIFIED:
            found += [
                Signal(_MODULE_SIGNALS[attr.path], change.address, _arrow(attr.before, attr.after))
                for attr in change.changed_attributes
                if attr.path in _MODULE_SIGNALS
            ]
        if change.kind is ResourceKind.RESOURCE and change.operation is not Operation.REMOVED:
            old = before.get(change.address)
            added = _ignored(after[change.address].body) - (_ignored(old.body) if old else set())
            if added:
                detail = ", ".join(sorted(added))
                found.append(Signal(SignalKind.IGNORE_CHANGES_ADDED, change.address, detail))
    return tuple(found)


def _arrow(before: str | None, after: str | None) -> str:
    return f"{before or '(absent)'} → {after or '(absent)'}"


def _version_signals(old: dict[str, str], new: dict[str, str], prefix: str) -> list[Signal]:
    names = [*old, *(n for n in new if n not in old)]
    return [
        Signal(
            SignalKind.PROVIDER_VERSION_CHANGED, prefix + name, _arrow(old.get(name), new.get(name))
        )
        for name in names
        if old.get(name) != new.get(name)
    ]


def _constraints(entities: EntityMap) -> dict[str, str]:
    terraform = entities.get("terraform")
    found: dict[str, str] = {}
    blocks = terraform.body.get("required_providers", []) if terraform else []
    for block in blocks if isinstance(blocks, list) else [blocks]:
        for name, spec in block.items() if isinstance(block, dict) else ():
            version = spec.get("version") if isinstance(spec, dict) else spec
            found[name] = show(version) or ""
    return found


def _lock_versions(entities: EntityMap) -> dict[str, str]:
    return {e.type: show(e.body.get("version")) or "" for e in entities.values()}


def _ignored(body: dict[str, object]) -> set[str]:
    lifecycles = body.get("lifecycle", [])
    ignored: set[str] = set()
    for lifecycle in lifecycles if isinstance(lifecycles, list) else [lifecycles]:
        value = lifecycle.get("ignore_changes") if isinstance(lifecycle, dict) else None
        for item in value if isinstance(value, list) else [value] if value else []:
            ignored.add(_unwrap(item) or str(item))
    return ignored
