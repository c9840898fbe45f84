"""Typed reads from the JSON of a deployments source; every error names the source and key."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from auditor.deployments.interface import DeploymentError

T = TypeVar("T")


@dataclass(frozen=True)
class Obj:
    """One JSON object of ``origin`` at key path ``where``."""

    data: Mapping[str, Any]
    origin: str
    where: str

    @classmethod
    def of(cls, data: Any, origin: str, where: str) -> Obj:
        if not isinstance(data, Mapping):
            raise DeploymentError(f"{origin}: {where or 'document'}: expected an object")
        return cls(data, origin, where)

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> DeploymentError:
        return DeploymentError(f"{self.origin}: {self.path(key)}: {problem}")

    def _typed(self, key: str, kind: type[T] | tuple[type, ...], what: str) -> Any:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.fail(key, f"expected {what}, got {type(value).__name__}")
        return value

    def text(self, key: str, *, required: bool = False) -> str:
        value = self._typed(key, str, "a string")
        if required and not value:
            raise self.fail(key, "missing")
        return value or ""

    def flag(self, key: str) -> bool | None:
        value: bool | None = self._typed(key, bool, "true or false")
        return value

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value: int | None = self._typed(key, int, "an integer")
        if required and value is None:
            raise self.fail(key, "missing")
        return value

    def obj(self, key: str, *, required: bool = False) -> Obj | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        return Obj.of(value, self.origin, self.path(key))

    def objs(self, key: str) -> Iterator[Obj]:
        value = self.data.get(key)
        if value is None:
            return
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            yield Obj.of(item, self.origin, f"{self.path(key)}[{i}]")

    def strs(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "expected a list of strings")
        return tuple(value)

    def time(self, key: str, *, required: bool = False) -> datetime | None:
        text = self.text(key, required=required)
        if not text:
            return None
        try:
            return parse_utc(text)
        except ValueError:
            raise self.fail(key, f"not an ISO 8601 timestamp: {text[:40]!r}") from None


def parse_utc(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; one without an offset is refused (the
    contract wants deployment times in UTC, and a guess would move them)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(text)
    return parsed.astimezone(UTC)


_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def repo_key(url: str) -> str:
    """A repository URL reduced to ``host/path`` (lower-case, no scheme, user, port, ``.git``
    or trailing slash), so ``git@github.com:acme/infra.git`` and
    ``https://github.com/acme/infra`` match; a local path stays itself."""
    text = url.strip()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme == "file":
            return parts.path.rstrip("/").removesuffix(".git")
        host, path = (parts.hostname or "").lower(), parts.path
    elif match := _SCP_LIKE.match(text):
        host, path = match["host"].lower(), match["path"]
    else:
        return text.rstrip("/").removesuffix(".git")
    return f"{host}/{path.strip('/').removesuffix('.git').lower()}"
