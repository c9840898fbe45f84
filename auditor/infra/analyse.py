"""One changed file in, one FileAnalysis out: kind, changes, signals, secrets, categories."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import yaml

from auditor.infra import chunks, kubernetes, pins, secrets, terraform
from auditor.infra.categories import change_categories, file_categories
from auditor.infra.entities import EntityMap, compare
from auditor.infra.kinds import classify
from auditor.infra.model import FileAnalysis, FileKind, Reference, ResourceChange, Signal
from auditor.infra.rules import Rules

MAX_PARSE_BYTES = 2_000_000
_MAX_MESSAGE = 200
_PARSE_ERRORS = (ValueError, yaml.YAMLError, RecursionError)

_Parser = Callable[[FileKind, bool, str], EntityMap]  # kind, JSON syntax, text
_ItemsParser = Callable[[FileKind, list[str]], EntityMap]
_Splitter = Callable[[str], list[str] | None]


@dataclass(frozen=True)
class _Format:
    parse: _Parser
    split: _Splitter | None = None
    joiner: str = ""
    parse_items: _ItemsParser | None = None  # items parsed one by one (cached), then merged


def _hcl(kind: FileKind, is_json: bool, text: str) -> EntityMap:
    return terraform.entities_of(kind, terraform.load(text, is_json=is_json), is_json=is_json)


def _hcl_items(kind: FileKind, items: list[str]) -> EntityMap:
    documents = []
    for item in items:
        document = _hcl_item(item)
        if isinstance(document, str):
            raise ValueError(document)
        documents.append(document)
    return terraform.entities_of(kind, terraform.merge(documents))


@functools.lru_cache(maxsize=8192)
def _hcl_item(text: str) -> dict[str, object] | str:
    """One top-level HCL item as read, or the error: successive versions of a file share
    most of their items, so each distinct item is read once. Never mutated by callers."""
    try:
        return terraform.load(text)
    except _PARSE_ERRORS as err:
        return _message(err)


def _yaml_items(kind: FileKind, items: list[str]) -> EntityMap:
    documents = []
    for item in items:
        loaded = _yaml_item(item)
        if isinstance(loaded, str):
            raise ValueError(loaded)
        documents.append(loaded[0])
    return kubernetes.objects_of(kind, documents)


@functools.lru_cache(maxsize=8192)
def _yaml_item(text: str) -> tuple[object] | str:
    """The one document of a YAML stream item, or why not (an error, or not one document)."""
    try:
        documents = kubernetes.load_documents(text)
    except _PARSE_ERRORS as err:
        return _message(err)
    return (documents[0],) if len(documents) == 1 else "not one YAML document"


_HCL = _Format(_hcl, chunks.split_hcl, "\n", _hcl_items)
_OBJECTS = _Format(
    lambda kind, _json, text: kubernetes.parse_objects(kind, text),
    chunks.split_yaml,
    "\n---\n",
    _yaml_items,
)
_VALUES = _Format(lambda _kind, _json, text: kubernetes.parse_values(text))
_LINE_REFERENCES = frozenset(
    {
        FileKind.KUBERNETES,
        FileKind.HELM_VALUES,
        FileKind.HELM_TEMPLATE,
        FileKind.HELM_CHART,
        FileKind.KUSTOMIZE,
        FileKind.ARGOCD,
        FileKind.FLUX,
        FileKind.DOCKERFILE,
        FileKind.GITHUB_ACTIONS,
        FileKind.GITLAB_CI,
        FileKind.CI,
        FileKind.ANSIBLE,
        FileKind.OTHER,
    }
)
_FORMATS: dict[FileKind, _Format] = {
    FileKind.TERRAFORM: _HCL,
    FileKind.TERRAFORM_VARS: _HCL,
    FileKind.TERRAFORM_LOCK: _HCL,
    FileKind.TERRAGRUNT: _HCL,
    FileKind.KUBERNETES: _OBJECTS,
    FileKind.HELM_TEMPLATE: _OBJECTS,
    FileKind.KUSTOMIZE: _OBJECTS,
    FileKind.ARGOCD: _OBJECTS,
    FileKind.FLUX: _OBJECTS,
    FileKind.POLICY_KYVERNO: _OBJECTS,
    FileKind.POLICY_GATEKEEPER: _OBJECTS,
    FileKind.HELM_VALUES: _VALUES,
    FileKind.HELM_CHART: _VALUES,
}


Content = bytes | int | None  # a side's bytes; its size when too large to be read; None: absent


def analyse_file(
    path: str,
    old_path: str | None,
    before: Content,
    after: Content,
    rules: Rules | None = None,
) -> FileAnalysis:
    """What the change of one file did. Never raises on bad content: problems become ``errors``.

    ``before``/``after`` are None when the file was added/deleted, the size of a side too
    large to have been read (over MAX_PARSE_BYTES); ``old_path`` is given for a rename.
    Content over MAX_PARSE_BYTES or not UTF-8 is neither parsed nor scanned.
    """
    rules = rules or Rules.default()
    kind = classify(path, after if isinstance(after, bytes) else _bytes_or_none(before))
    errors: list[str] = []
    old_text, old_ok = _decode(path, "before", before, errors)
    new_text, new_ok = _decode(path, "after", after, errors)
    changes: tuple[ResourceChange, ...] = ()
    signals: tuple[Signal, ...] = ()
    hits: tuple[secrets.SecretHit, ...] = ()
    references: list[Reference] = []
    file_format = _FORMATS.get(kind)
    if old_ok and new_ok and old_text != new_text:
        added = secrets.added_lines(old_text, new_text) if new_text is not None else []
        hits = secrets.scan(path, old_text, new_text, added)
        maps = file_format and _entities(file_format, kind, path, old_text, new_text, errors)
        if maps:
            changes = tuple(
                replace(change, categories=change_categories(change, rules))
                for change in compare(*maps)
            )
            if kind in (FileKind.TERRAFORM, FileKind.TERRAFORM_LOCK):
                signals = terraform.signals(kind, *maps, changes)
            elif file_format is _OBJECTS:
                signals = kubernetes.signals(maps[1], changes)
                changes, signals = _located(changes, signals, path)
            if kind is FileKind.TERRAFORM and new_text is not None:
                references += pins.terraform_references(path, maps[1], changes, new_text)
        if new_text is not None and kind in _LINE_REFERENCES:
            references += pins.scan_lines(kind, path, added, new_text)
    paths = (path,) if old_path is None or old_path == path else (path, old_path)
    return FileAnalysis(
        path=path,
        old_path=old_path,
        kind=kind,
        categories=file_categories(rules, kind, paths, changes, bool(hits)),
        changes=changes,
        signals=signals,
        secrets=hits,
        errors=tuple(errors),
        environment=rules.environments.environment_of(path),
        references=tuple(references),
    )


def _located(
    changes: tuple[ResourceChange, ...], signals: tuple[Signal, ...], path: str
) -> tuple[tuple[ResourceChange, ...], tuple[Signal, ...]]:
    """Unnamed objects addressed by their file's path (see :func:`kubernetes.located`)."""
    return (
        tuple(replace(c, address=kubernetes.located(c.address, path)) for c in changes),
        tuple(replace(s, address=kubernetes.located(s.address, path)) for s in signals),
    )


def _bytes_or_none(content: Content) -> bytes | None:
    return content if isinstance(content, bytes) else None


def _decode(path: str, side: str, content: Content, errors: list[str]) -> tuple[str | None, bool]:
    if content is None:
        return None, True
    size = content if isinstance(content, int) else len(content)
    if isinstance(content, int) or size > MAX_PARSE_BYTES:
        errors.append(
            f"{path}: {side} not analysed: {size} bytes is over the {MAX_PARSE_BYTES} byte limit"
        )
        return None, False
    try:
        return content.decode("utf-8"), True
    except UnicodeDecodeError as err:
        errors.append(
            f"{path}: {side} not analysed: not UTF-8 text (invalid byte at offset {err.start})"
        )
        return None, False


def _entities(
    fmt: _Format, kind: FileKind, path: str, old: str | None, new: str | None, errors: list[str]
) -> tuple[EntityMap, EntityMap] | None:
    """Entities of both sides: from the differing items only when the split is clear."""
    is_json = path.endswith(".json")
    split = None if is_json else fmt.split
    old_items = [] if old is None or split is None else _split(split, old)
    new_items = [] if new is None or split is None else _split(split, new)
    if split is not None and old_items is not None and new_items is not None:
        old_part, new_part = chunks.differing_items(old_items, new_items)
        narrowed = _parse_items(fmt, kind, old_part), _parse_items(fmt, kind, new_part)
        if not isinstance(narrowed[0], str) and not isinstance(narrowed[1], str):
            return narrowed[0], narrowed[1]
    sides = []
    for side, text in (("before", old), ("after", new)):
        result = {} if text is None else _parse(fmt.parse, kind, is_json, text)
        if isinstance(result, str):
            errors.append(f"{path}: cannot parse {side}: {result}")
        sides.append(result)
    if isinstance(sides[0], str) or isinstance(sides[1], str):
        return None
    return sides[0], sides[1]


@functools.lru_cache(maxsize=256)
def _split(splitter: _Splitter, text: str) -> list[str] | None:
    """Items of one side; consecutive changes share a side. Never mutated by callers."""
    return splitter(text)


def _parse_items(fmt: _Format, kind: FileKind, items: list[str]) -> EntityMap | str:
    """The entities of ``items`` as if read joined into one text."""
    if fmt.parse_items is not None:
        try:
            return fmt.parse_items(kind, items)
        except _PARSE_ERRORS:
            pass  # an item unclear on its own: read them joined, as one text
    return _parse(fmt.parse, kind, False, fmt.joiner.join(items) + "\n" if items else "")


@functools.lru_cache(maxsize=256)
def _parse(parser: _Parser, kind: FileKind, is_json: bool, text: str) -> EntityMap | str:
    """Parsed entities, or the one-line parse error; consecutive changes share a side."""
    try:
        return parser(kind, is_json, text)
    except _PARSE_ERRORS as err:
        return _message(err)


def _message(err: Exception) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem and err.problem_mark:
        mark = err.problem_mark
        message = f"{err.problem} at line {mark.line + 1}, column {mark.column + 1}"
    else:
        message = " ".join(str(err).split()) or type(err).__name__
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
