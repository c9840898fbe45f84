"""Waivers: accepted exceptions that turn a control's ``fail`` on a change into ``waived``.

A waivers file is YAML with one list under ``waivers:``; each item has ``id``, ``control``,
exactly one of ``change`` (a commit SHA or prefix of at least 7 characters, or a change id
``repo@sha``), ``request`` (a change-request number, in any repository) or ``path`` (a glob every
path of the change must match), and ``owner``, ``ticket``, ``reason``, ``approved_by`` and
``expires`` (a date; the waiver holds through that day, UTC).

Only ``fail`` is waived: ``unknown`` means evidence is missing, which no waiver can supply. A
finding on a repository (``history-integrity``) is waived through ``change`` naming the new tip.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import DefinitionError
from auditor.evaluation.checks.evidence import path_matches
from auditor.evaluation.checks.params import ParamError, day_end, describe
from auditor.evaluation.yamlload import load_definition
from auditor.model import Finding, Waiver

TEXT_KEYS = ("id", "control", "owner", "ticket", "reason", "approved_by")
TARGETS = ("change", "request", "path")
KEYS = (*TEXT_KEYS, *TARGETS, "expires")
_CHANGE = re.compile(r"^(?:(?P<repo>[^@]+)@)?(?P<sha>[0-9a-f]{7,40})$")


def load_waivers(path: Path) -> tuple[Waiver, ...]:
    """The waivers of ``path``; the first error raises a :class:`DefinitionError`."""
    try:
        data = load_definition(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"{path}: cannot read: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None)
        why = f": {problem}" if problem else ""
        raise DefinitionError(f"{path}: invalid YAML{where}{why}") from None
    return parse_waivers(data, source=str(path))


def parse_waivers(data: Any, *, source: str) -> tuple[Waiver, ...]:
    if not isinstance(data, Mapping) or set(data) != {"waivers"}:
        raise DefinitionError(f"{source}: expected a mapping with one key, waivers")
    items = data["waivers"] or []
    if not isinstance(items, list):
        raise DefinitionError(f"{source}: waivers: expected a list, got {describe(items)}")
    waivers: list[Waiver] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        waiver = _waiver(item, f"{source}: waivers[{index}]")
        if waiver.id in seen:
            raise DefinitionError(f"{source}: waivers[{index}].id: duplicate id {waiver.id!r}")
        seen.add(waiver.id)
        waivers.append(waiver)
    return tuple(waivers)


def _waiver(item: Any, where: str) -> Waiver:
    if not isinstance(item, Mapping):
        raise DefinitionError(f"{where}: expected a mapping, got {describe(item)}")
    for key in item:
        if key not in KEYS:
            raise DefinitionError(f"{where}.{key}: unknown key; expected {', '.join(KEYS)}")
    for key in (*TEXT_KEYS, "expires"):
        if key not in item:
            raise DefinitionError(f"{where}.{key}: missing")
    texts: dict[str, str] = {}
    for key in TEXT_KEYS:
        value = item[key]
        if not isinstance(value, str) or not value.strip():
            raise DefinitionError(
                f"{where}.{key}: expected a non-empty string, got {describe(value)}"
            )
        texts[key] = value.strip()
    targets = [key for key in TARGETS if key in item]
    if len(targets) != 1:
        raise DefinitionError(f"{where}: expected exactly one of change, request, path")
    try:
        expires = day_end(item["expires"])
    except ParamError as err:
        raise DefinitionError(f"{where}.expires: {err.message}") from None
    target = _target(targets[0], item[targets[0]], where)
    return Waiver(
        id=texts["id"],
        control=texts["control"],
        owner=texts["owner"],
        ticket=texts["ticket"],
        reason=texts["reason"],
        approved_by=texts["approved_by"],
        expires=expires,
        change=target if targets[0] == "change" else "",
        request=target if isinstance(target, int) else None,
        path=target if targets[0] == "path" else "",
    )


def _target(key: str, value: Any, where: str) -> Any:
    if key == "request":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DefinitionError(
                f"{where}.request: expected a request number, got {describe(value)}"
            )
        return value
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{where}.{key}: expected a non-empty string, got {describe(value)}")
    value = value.strip()
    if key == "change" and not _CHANGE.match(value.lower()):
        raise DefinitionError(
            f"{where}.change: expected a commit SHA (7 to 40 hex digits) or a change id "
            f"(repo@sha), got {value!r}"
        )
    return value


def expired(waiver: Waiver, as_of: datetime) -> bool:
    return as_of > waiver.expires


def matches(
    waiver: Waiver, finding: Finding, paths: Sequence[str] = (), *, request_linked: bool = True
) -> bool:
    """Whether ``waiver`` covers ``finding`` (on a change whose paths are ``paths``). A waiver of
    a request covers a change only when review data links it to that request
    (``request_linked``): a number its message merely names is no evidence of it."""
    if waiver.control != finding.control_id:
        return False
    if waiver.change:
        found = _CHANGE.match(waiver.change.lower())
        return bool(
            found
            and finding.commit
            and finding.commit.lower().startswith(found["sha"])
            and found["repo"] in (None, finding.repo.lower())
        )
    if waiver.request is not None:
        return request_linked and finding.change_request == waiver.request
    return bool(paths) and all(path_matches((waiver.path,), p) for p in paths)
