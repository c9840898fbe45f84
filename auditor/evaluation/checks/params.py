"""Parameter specs of the checks: each value is validated and normalised when a control loads.

A validator takes the raw YAML value and returns the normalised one, or raises
:class:`ParamError` whose ``key`` is the path below the parameter (``[0].min_approvals``), so the
catalog can name the file and the full key in its one-line message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from auditor.infra.model import Category

Validator = Callable[[Any], Any]

CATEGORIES = tuple(c.value for c in Category)
EMERGENCY_PATTERN = r"(?i)^(emergency|hotfix)[:!]"
"""A subject or request title marking an emergency (``EMERGENCY: ...``, ``hotfix! ...``)."""


class ParamError(ValueError):
    """An invalid parameter value; ``key`` is the path below the parameter, if any."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.key = key

    def under(self, prefix: str) -> ParamError:
        return ParamError(self.message, prefix + self.key)


@dataclass(frozen=True)
class Param:
    """One parameter of a check: its validator, its default and a short description."""

    validate: Validator
    default: Any
    doc: str


def describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def integer(minimum: int = 0) -> Validator:
    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(f"expected an integer, got {describe(value)}")
        if value < minimum:
            raise ParamError(f"expected an integer of at least {minimum}, got {value}")
        return value

    return validate


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ParamError(f"expected a string, got {describe(value)}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"expected true or false, got {describe(value)}")
    return value


def regex(value: Any) -> str:
    pattern = text(value)
    try:
        re.compile(pattern)
    except re.error as err:
        raise ParamError(f"invalid regular expression {pattern!r}: {err}") from None
    return pattern


def choice(*allowed: str) -> Validator:
    def validate(value: Any) -> str:
        if value not in allowed:
            raise ParamError(f"expected one of {', '.join(allowed)}, got {describe(value)}")
        return str(value)

    return validate


def list_of(item: Validator) -> Validator:
    def validate(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise ParamError(f"expected a list, got {describe(value)}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except ParamError as err:
                raise err.under(f"[{index}]") from None
        return tuple(out)

    return validate


def path_globs(value: Any) -> tuple[str, ...]:
    patterns: tuple[str, ...] = list_of(text)(value)  # every text is a glob (see infra.globs)
    return patterns


def record(fields: Mapping[str, Param], required: Sequence[str] = ()) -> Validator:
    """A mapping with the given fields (defaults filled in); unknown and missing keys fail."""

    def validate(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ParamError(f"expected a mapping, got {describe(value)}")
        for key in value:
            if key not in fields:
                raise ParamError(f"unknown key; expected {', '.join(fields)}", f".{key}")
        for key in required:
            if key not in value:
                raise ParamError("missing", f".{key}")
        out: dict[str, Any] = {}
        for key, spec in fields.items():
            try:
                out[key] = spec.validate(value[key]) if key in value else spec.default
            except ParamError as err:
                raise err.under(f".{key}") from None
        return out

    return validate


def day_start(value: Any) -> datetime:
    """A date (its start, UTC) or a timestamp (UTC unless it has an offset)."""
    return _when(value, time.min)


def day_end(value: Any) -> datetime:
    """A date (its last second, UTC) or a timestamp (UTC unless it has an offset)."""
    return _when(value, time(23, 59, 59))


def _when(value: Any, at: time) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, at, UTC)
    if isinstance(value, str):
        for parse in (date.fromisoformat, datetime.fromisoformat):
            try:
                return _when(parse(value.replace("Z", "+00:00")), at)
            except ValueError:
                continue
    raise ParamError(f"expected a date (YYYY-MM-DD) or ISO 8601 timestamp, got {describe(value)}")
