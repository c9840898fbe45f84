"""Structural diff of parsed documents into dotted-path attribute changes with display values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from auditor.infra.model import AttributeChange

_MAX_DEPTH = 40
_MAX_LIST_MATCH = 500
_REDACTED = "<redacted>"
_SENSITIVE = re.compile(r"(?i)(passw(or)?d|secret|token|private_?key|api_?key|credential)")
_REFERENCE = re.compile(r"\$\{|\{\{")
_ABSENT = object()

Sensitive = Callable[[str], bool]


def sensitive_name(path: str) -> bool:
    """Whether the last segment of ``path`` names a credential (its value is never shown)."""
    return _SENSITIVE.search(path.rsplit(".", 1)[-1]) is not None


def diff_values(
    before: object, after: object, prefix: str = "", sensitive: Sensitive = sensitive_name
) -> tuple[AttributeChange, ...]:
    """Changed leaves between two parsed values, as dotted paths under ``prefix``.

    Dicts are walked by key; lists of mappings by their ``name`` when every item has a unique
    one (``containers[name=web]``), otherwise unchanged items are ignored and the rest paired
    by position (``ingress[1]``); lists of scalars compare as one value.
    """
    out: list[AttributeChange] = []
    _walk(prefix, before, after, out, sensitive, 0)
    return tuple(out)


def _walk(
    path: str, a: object, b: object, out: list[AttributeChange], sensitive: Sensitive, depth: int
) -> None:
    if a == b:
        return
    if depth < _MAX_DEPTH and isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            child = f"{path}.{key}" if path else str(key)
            _walk(child, a.get(key, _ABSENT), b.get(key, _ABSENT), out, sensitive, depth + 1)
        return
    if depth < _MAX_DEPTH and isinstance(a, list) and isinstance(b, list) and _has_mappings(a, b):
        for suffix, item_a, item_b in _pair_items(a, b):
            _walk(path + suffix, item_a, item_b, out, sensitive, depth + 1)
        return
    hide = sensitive(path)
    out.append(AttributeChange(path, show(a, hide), show(b, hide)))


def _has_mappings(a: list[object], b: list[object]) -> bool:
    return any(isinstance(item, dict) for item in (*a, *b))


def _pair_items(a: list[object], b: list[object]) -> list[tuple[str, object, object]]:
    names_a, names_b = _names(a), _names(b)
    if names_a is not None and names_b is not None:
        by_name_a, by_name_b = (
            dict(zip(names_a, a, strict=True)),
            dict(zip(names_b, b, strict=True)),
        )
        order = [*names_a, *(n for n in names_b if n not in by_name_a)]
        return [
            (f"[name={n}]", by_name_a.get(n, _ABSENT), by_name_b.get(n, _ABSENT)) for n in order
        ]
    if len(a) + len(b) > _MAX_LIST_MATCH:
        return [(f"[{i}]", *_at(a, b, i)) for i in range(max(len(a), len(b)))]
    gone = [i for i, item in enumerate(a) if item not in b]
    new = [i for i, item in enumerate(b) if item not in a]
    pairs = [(f"[{j}]", a[i], b[j]) for i, j in zip(gone, new, strict=False)]
    pairs += [(f"[{i}]", a[i], _ABSENT) for i in gone[len(new) :]]
    pairs += [(f"[{j}]", _ABSENT, b[j]) for j in new[len(gone) :]]
    return pairs


def _at(a: list[object], b: list[object], i: int) -> tuple[object, object]:
    return (a[i] if i < len(a) else _ABSENT), (b[i] if i < len(b) else _ABSENT)


def _names(items: list[object]) -> list[str] | None:
    names = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str | int):
            return None
        names.append(str(item["name"]))
    return names if len(set(names)) == len(names) else None


def show(value: object, hide: bool = False) -> str | None:
    """A parsed value as one line of text, whole (the resource ledger is evidence: a display
    shortens it where it must, never the record); None when absent."""
    if value is _ABSENT:
        return None
    if (
        hide
        and not (isinstance(value, str) and _REFERENCE.search(value))
        and value not in ("", None)
    ):
        return _REDACTED
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
    else:
        text = str(value)
    return text.replace("\n", "\\n")
