"""One changed file in, one FileAnalysis out: kind, changes, signals, secrets, categories."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import yaml

from auditor.infra import chunks, kubernetes, secrets, terraform
from auditor.infra.categories import change_categories, file_categories
from auditor.infra.entities import EntityMap, compare
from auditor.infra.kinds import classify
from auditor.infra.model import FileAnalysis, FileKind, ResourceChange, Signal
from auditor.infra.rules import Rules

MAX_PARSE_BYTES = 2_000_000
_MAX_MESSAGE = 200
_PARSE_ERRORS = (ValueError, yaml.YAMLError, RecursionError)

_Parser = Callable[[FileKind, str, str], EntityMap]
_Splitter = Callable[[str], list[str] | None]


@dataclass(frozen=True)
class _Format:
    parse: _Parser
    split: _Splitter | None = None
    joiner: str = ""


_HCL = _Format(terraform.parse_entities, chunks.split_hcl, "\n")
_OBJECTS = _Format(
    lambda kind, _path, text: kubernetes.parse_objects(kind, text), chunks.split_yaml, "\n---\n"
)
_VALUES = _Format(lambda _kind, _path, text: kubernetes.parse_values(text))
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


def analyse_file(
    path: str,
    old_path: str | None,
    before: bytes | None,
    after: bytes | None,
    rules: Rules | None = None,
) -> FileAnalysis:
    """What the change of one file did. Never raises on bad content: problems become ``errors``.

    ``before``/``after`` are None when the file was added/deleted; ``old_path`` is given for a
    rename. Content over MAX_PARSE_BYTES or not UTF-8 is neither parsed nor scanned.
    """
    rules = rules or Rules.default()
    kind = classify(path, after if after is not None else before)
    errors: list[str] = []
    old_text, old_ok = _decode(path, "before", before, errors)
    new_text, new_ok = _decode(path, "after", after, errors)
    changes: tuple[ResourceChange, ...] = ()
    signals: tuple[Signal, ...] = ()
    hits: tuple[secrets.SecretHit, ...] = ()
    file_format = _FORMATS.get(kind)
    if old_ok and new_ok and old_text != new_text:
        hits = secrets.scan(path, old_text, new_text)
        maps = file_format and _entities(file_format, kind, path, old_text, new_text, errors)
        if maps:
            changes = tuple(
                replace(change, categories=change_categories(change, rules))
                for change in compare(*maps)
            )
            if kind in (FileKind.TERRAFORM, FileKind.TERRAFORM_LOCK):
                signals = terraform.signals(kind, *maps, changes)
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
    )


def _decode(
    path: str, side: str, content: bytes | None, errors: list[str]
) -> tuple[str | None, bool]:
    if content is None:
        return None, True
    if len(content) > MAX_PARSE_BYTES:
        errors.append(
            f"{path}: {side} not analysed: {len(content)} bytes is over the "
            f"{MAX_PARSE_BYTES} byte limit"
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
    split = None if path.endswith(".json") else fmt.split
    old_items = [] if old is None or split is None else split(old)
    new_items = [] if new is None or split is None else split(new)
    if split is not None and old_items is not None and new_items is not None:
        old_part, new_part = chunks.differing(old_items, new_items, fmt.joiner)
        narrowed = _parse(fmt.parse, kind, path, old_part), _parse(fmt.parse, kind, path, new_part)
        if not isinstance(narrowed[0], str) and not isinstance(narrowed[1], str):
            return narrowed[0], narrowed[1]
    sides = []
    for side, text in (("before", old), ("after", new)):
        result = {} if text is None else _parse(fmt.parse, kind, path, text)
        if isinstance(result, str):
            errors.append(f"{path}: cannot parse {side}: {result}")
        sides.append(result)
    if isinstance(sides[0], str) or isinstance(sides[1], str):
        return None
    return sides[0], sides[1]


@functools.lru_cache(maxsize=256)
def _parse(parser: _Parser, kind: FileKind, path: str, text: str) -> EntityMap | str:
    """Parsed entities, or the one-line parse error; consecutive changes share a side."""
    try:
        return parser(kind, path, text)
    except _PARSE_ERRORS as err:
        return _message(err)


def _message(err: Exception) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem and err.problem_mark:
        mark = err.problem_mark
        message = f"{err.problem} at line {mark.line + 1}, column {mark.column + 1}"
    else:
        message = " ".join(str(err).split()) or type(err).__name__
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
