"""``evidence.json``: the whole normalised report as one versioned document, and back."""

from __future__ import annotations

import dataclasses
import enum
import json
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from auditor.errors import RenderError
from auditor.model import ChangeFacts, ControlResult
from auditor.render.interface import EVIDENCE_FILE, Format, RenderContext, Renderer
from auditor.report import REPORT_SCHEMA_VERSION, Report

_DERIVED: Mapping[type, tuple[str, ...]] = {
    ChangeFacts: ("change_id",),
    ControlResult: ("status",),
    Report: ("complete",),
}
_SCALARS = (str, int, float, bool, type(None))
Decoder = Callable[[Any, str], Any]
_KEYS: dict[type, tuple[str, ...]] = {}


def _record_keys(cls: type) -> tuple[str, ...]:
    keys = _KEYS.get(cls)
    if keys is None:
        keys = _KEYS[cls] = tuple(f.name for f in dataclasses.fields(cls)) + _DERIVED.get(cls, ())
    return keys


def encode(value: object) -> Any:
    """Records → JSON values: enums by value, timestamps as ISO 8601 with their offset."""
    if isinstance(value, _SCALARS):
        return value
    if hasattr(type(value), "__dataclass_fields__"):
        return {name: encode(getattr(value, name)) for name in _record_keys(type(value))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted((encode(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    return str(value)


def evidence_bytes(report: Report) -> bytes:
    """The document: compact, keys sorted, UTF-8; ``jq .`` pretty-prints it."""
    text = json.dumps(encode(report), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def _fail(where: str, expected: str, value: Any) -> RenderError:
    return RenderError(f"{where}: expected {expected}, got {value!r:.60}")


def _sequence(item: Decoder, build: Callable[[list[Any]], Any]) -> Decoder:
    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise _fail(where, "a list", value)
        return build([item(v, f"{where}[{i}]") for i, v in enumerate(value)])

    return decode


def _optional(inner: Decoder) -> Decoder:
    return lambda value, where: None if value is None else inner(value, where)


def _scalar(kind: type) -> Decoder:
    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _fail(where, kind.__name__, value)
        return value

    return decode


def _timestamp(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(where, "a timestamp", value)
    return datetime.fromisoformat(value)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "an object", value)
    return dict(value)


@cache
def _decoder(kind: Any) -> Decoder:
    kind = getattr(kind, "__supertype__", kind)
    origin = get_origin(kind)
    if kind is Any:
        return lambda value, where: value
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(kind) if a is not type(None)]
        return _optional(_decoder(inner))
    if origin in (tuple, frozenset):
        return _sequence(_decoder(get_args(kind)[0]), origin)
    if origin is not None and issubclass(origin, Mapping):
        return _mapping
    if kind is datetime:
        return _timestamp
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return lambda value, where: kind(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _record(kind)
    if isinstance(kind, type):
        return _scalar(kind)
    raise RenderError(f"no evidence decoder for {kind!r}")


def _record(cls: type) -> Decoder:
    hints = get_type_hints(cls)
    fields = [
        (
            f.name,
            _decoder(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    ]

    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(where, "an object", value)
        arguments = {}
        for name, decode_field, required in fields:
            if name in value:
                arguments[name] = decode_field(value[name], f"{where}.{name}")
            elif required:
                raise RenderError(f"{where}: missing key {name!r}")
        return cls(**arguments)

    return decode


def load_evidence(path: Path) -> Report:
    """Read an ``evidence.json`` written by :class:`JsonRenderer` back into a :class:`Report`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RenderError(f"cannot read evidence {path}: {err}") from err
    version = document.get("schema_version") if isinstance(document, dict) else None
    if not isinstance(version, int) or version > REPORT_SCHEMA_VERSION:
        raise RenderError(
            f"{path}: schema_version {version!r} is not supported (up to {REPORT_SCHEMA_VERSION})"
        )
    try:
        report: Report = _decoder(Report)(document, path.name)
    except (ValueError, TypeError) as err:
        raise RenderError(f"{path}: {err}") from err
    return report


class JsonRenderer(Renderer):
    format = Format.JSON

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        (out / EVIDENCE_FILE).write_bytes(evidence_bytes(report))
