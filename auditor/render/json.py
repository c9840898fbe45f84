"""``evidence.json``: the whole normalised report as one versioned document, and back.

Every field of the report's records is written, except the ones in :data:`_OMITTED`: parsed
inputs that are not evidence of a change themselves (the CODEOWNERS file in force at each
change, with compiled patterns; the findings say what it decided).
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import json
import re
import sys
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Union, get_args, get_origin, get_type_hints

from auditor.errors import RenderError
from auditor.evidence.report import REPORT_SCHEMA_VERSION, Report
from auditor.model import ChangeFacts, ControlResult, Finding
from auditor.render.interface import EVIDENCE_FILE, Format, RenderContext, Renderer

_DERIVED: Mapping[type, tuple[str, ...]] = {
    ChangeFacts: ("change_id",),
    ControlResult: ("status",),
    Report: ("complete",),
}
_OMITTED: Mapping[type, frozenset[str]] = {
    ChangeFacts: frozenset({"codeowners"}),
    # A finding's framework references are its control's, restricted to the report's
    # frameworks: written once, with the control, and given back to each finding when read.
    Finding: frozenset({"framework_refs"}),
}
# Modules whose record types other records name only under ``TYPE_CHECKING``.
_TYPE_MODULES = ("auditor.model", "auditor.evidence.report", "auditor.infra.model")
_SCALARS = (str, int, float, bool, type(None))
Decoder = Callable[[Any, str], Any]
_KEYS: dict[type, tuple[str, ...]] = {}


def _record_keys(cls: type) -> tuple[str, ...]:
    keys = _KEYS.get(cls)
    if keys is None:
        omitted = _OMITTED.get(cls, frozenset())
        fields = tuple(f.name for f in dataclasses.fields(cls) if f.name not in omitted)
        keys = _KEYS[cls] = fields + _DERIVED.get(cls, ())
    return keys


Encoder = Callable[[Any], Any]
_ENCODERS: dict[type, Encoder] = {}


def encode(value: object) -> Any:
    """Records → JSON values: enums by value, timestamps as ISO 8601 with their offset."""
    kind = type(value)
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _ENCODERS[kind] = _encoder(kind)
    return encoder(value)


def _identity(value: Any) -> Any:
    return value


def _sorted_set(value: Any) -> list[Any]:
    return sorted((encode(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))


def _encoder(kind: type) -> Encoder:
    """How to encode every value of type ``kind`` (decided once per type)."""
    if issubclass(kind, _SCALARS):
        return _identity
    if hasattr(kind, "__dataclass_fields__"):
        keys = _record_keys(kind)
        return lambda value: {name: encode(getattr(value, name)) for name in keys}
    if issubclass(kind, enum.Enum):
        return lambda value: value.value
    if issubclass(kind, datetime | date):
        return lambda value: value.isoformat()
    if issubclass(kind, list | tuple):
        return lambda value: [encode(v) for v in value]
    if issubclass(kind, frozenset | set):
        return _sorted_set
    if issubclass(kind, Mapping):
        return lambda value: {str(k): encode(v) for k, v in value.items()}
    return str


_COMPACT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_DEFAULTS: dict[type, Encoder] = {}


def _default(value: object) -> Any:
    """What :data:`_RECORDS` cannot spell itself, one level at a time, as :func:`encode` would.

    JSON's own types (strings, numbers, lists, tuples) stay with the C encoder; records become
    dicts of their fields, a mapping field is encoded whole by :func:`encode` (its keys as
    text), enums, timestamps and sets as :func:`encode` spells them.
    """
    kind = type(value)
    encoder = _DEFAULTS.get(kind)
    if encoder is None:
        encoder = _DEFAULTS[kind] = _shallow(kind)
    return encoder(value)


def _shallow(kind: type) -> Encoder:
    if not hasattr(kind, "__dataclass_fields__"):
        return _encoder(kind)
    keys, hints = _record_keys(kind), _hints(kind)
    # A derived key (a property) has no hint: it is never a mapping, nor an enum.
    whole = tuple(name for name in keys if _is_mapping(hints.get(name, object)))
    enums = tuple(name for name in keys if _is_enum(hints.get(name, object)))
    if not whole and not enums:
        return lambda value: {name: getattr(value, name) for name in keys}
    plain = tuple(name for name in keys if name not in whole and name not in enums)

    def encode_record(value: Any) -> dict[str, Any]:
        fields = {name: getattr(value, name) for name in plain}
        for name in enums:  # spelled here: one call back from the C encoder fewer for each
            member = getattr(value, name)
            fields[name] = member.value if isinstance(member, enum.Enum) else member
        for name in whole:
            fields[name] = encode(getattr(value, name))
        return fields

    return encode_record


def _is_enum(hint: Any) -> bool:
    """A field holding an enum member (or None)."""
    if get_origin(hint) in (Union, types.UnionType):
        members = [a for a in get_args(hint) if a is not type(None)]
        return len(members) == 1 and _is_enum(members[0])
    return isinstance(hint, type) and issubclass(hint, enum.Enum)


def _is_mapping(hint: Any) -> bool:
    """A field that may hold a dict: encoded by :func:`encode`, which spells keys as text."""
    hint = getattr(hint, "__supertype__", hint)
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_is_mapping(a) for a in get_args(hint))
    if hint is Any or origin in (tuple, list, frozenset, set):
        return hint is Any
    kind = origin or hint
    return isinstance(kind, type) and issubclass(kind, Mapping)


# The C encoder over whole records: the same bytes as ``_COMPACT.encode(encode(record))``.
_RECORDS = json.JSONEncoder(
    ensure_ascii=False,
    sort_keys=True,
    separators=(",", ":"),
    default=_default,
    check_circular=False,
)


def write_evidence(report: Report, out: BinaryIO) -> None:
    """Write the document: compact, keys sorted, UTF-8, one line; ``jq .`` pretty-prints it.

    The bytes are those of ``json.dumps(encode(report), sort_keys=True)``, written one record
    of the long lists (changes, findings) at a time, so memory stays small.
    """
    _write_document(report, out)


def _write_document(report: Report, out: BinaryIO) -> None:
    out.write(b"{")
    for number, name in enumerate(sorted(_record_keys(Report))):
        value = getattr(report, name)
        out.write(b"," if number else b"")
        out.write(_COMPACT.encode(name).encode("utf-8") + b":")
        if isinstance(value, tuple) and value and hasattr(type(value[0]), "__dataclass_fields__"):
            out.write(b"[")
            for index, item in enumerate(value):
                out.write((b"," if index else b"") + _RECORDS.encode(item).encode("utf-8"))
            out.write(b"]")
        else:
            out.write(_RECORDS.encode(value).encode("utf-8"))
    out.write(b"}\n")


def evidence_bytes(report: Report) -> bytes:
    """The whole document in memory (see :func:`write_evidence`)."""
    buffer = io.BytesIO()
    write_evidence(report, buffer)
    return buffer.getvalue()


def _fail(where: str, expected: str, value: Any) -> RenderError:
    return RenderError(f"{where}: expected {expected}, got {value!r:.60}")


def _sequence(item: Decoder, build: Callable[[list[Any]], Any]) -> Decoder:
    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise _fail(where, "a list", value)
        if not where:  # the fast pass: no location kept (see load_evidence)
            return build([item(v, "") for v in value])
        return build([item(v, f"{where}[{i}]") for i, v in enumerate(value)])

    return decode


def _fixed(items: tuple[Decoder, ...]) -> Decoder:
    """A fixed-length tuple such as ``tuple[str, frozenset[str]]``."""

    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, list) or len(value) != len(items):
            raise _fail(where, f"a list of {len(items)}", value)
        return tuple(
            item(v, f"{where}[{i}]" if where else "")
            for i, (item, v) in enumerate(zip(items, value, strict=True))
        )

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
    args = get_args(kind)
    if origin is tuple and args and args[-1] is not Ellipsis:
        return _fixed(tuple(_decoder(a) for a in args))
    if origin in (tuple, frozenset):
        return _sequence(_decoder(args[0]), origin)
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


def _named_type(name: str) -> Any:
    for module in _TYPE_MODULES:
        importlib.import_module(module)
    for module_name in sorted(m for m in sys.modules if m.startswith("auditor.")):
        found = getattr(sys.modules[module_name], name, None)
        if isinstance(found, type):
            return found
    return None


def _only_omitted(cls: type, name: str) -> bool:
    """Whether ``name`` appears in the annotations of ``cls``'s omitted fields alone."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    omitted = _OMITTED.get(cls, frozenset())
    spelled = [(f.name in omitted, str(f.type)) for f in dataclasses.fields(cls)]
    return any(o and word.search(t) for o, t in spelled) and not any(
        not o and word.search(t) for o, t in spelled
    )


@cache
def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s field types, resolving names its module imports only for type checkers (a
    type only an omitted field names, which the evidence never holds, stands as ``Any``)."""
    names: dict[str, Any] = {}
    while True:
        try:
            return get_type_hints(cls, localns=names)
        except NameError as err:
            name = err.name or ""
            found = _named_type(name) if name and name not in names else None
            if found is None and name and name not in names and _only_omitted(cls, name):
                found = Any
            if found is None:
                raise RenderError(
                    f"evidence: cannot resolve type {name} of {cls.__name__}"
                ) from err
            names[name] = found


def _record(cls: type) -> Decoder:
    hints = _hints(cls)
    omitted = _OMITTED.get(cls, frozenset())
    fields = [
        (
            f.name,
            _decoder(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.name not in omitted
    ]

    def decode(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(where, "an object", value)
        arguments = {}
        for name, decode_field, required in fields:
            if name in value:
                arguments[name] = decode_field(value[name], f"{where}.{name}" if where else "")
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
    if version < 3:
        _upgrade_sample(document)
    decode = _decoder(Report)
    try:
        report: Report = decode(document, "")  # fast: no locations kept
    except (ValueError, TypeError, RenderError):
        try:  # again, keeping every location, for a message naming where the document is wrong
            decode(document, path.name)
        except (ValueError, TypeError) as err:
            raise RenderError(f"{path}: {err}") from err
        raise
    return _current(report)


def _upgrade_sample(document: dict[str, Any]) -> None:
    """A sample of schema 2 or earlier was drawn otherwise (0-based ``index`` into the population
    sorted by change id): its items keep their changes, with an unknown (0) position."""
    sample = document.get("sample")
    if isinstance(sample, list):
        for item in sample:
            if isinstance(item, dict):
                item.pop("index", None)
                item.setdefault("position", 0)


def _current(report: Report) -> Report:
    """The report as this version writes it: each finding with its control's framework
    references (see :data:`_OMITTED`), the current ``schema_version``."""
    wanted = set(report.frameworks)
    refs = {
        result.control.id: tuple(r for r in result.control.frameworks if r.framework in wanted)
        for result in report.controls
    }
    findings = tuple(
        dataclasses.replace(f, framework_refs=refs.get(f.control_id, ())) for f in report.findings
    )
    return dataclasses.replace(report, findings=findings, schema_version=REPORT_SCHEMA_VERSION)


class JsonRenderer(Renderer):
    format = Format.JSON

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        with (out / EVIDENCE_FILE).open("wb", buffering=1 << 20) as stream:
            write_evidence(report, stream)
