"""Review sources: the records they yield, the source ABC and the payload reader they share."""

from __future__ import annotations

import re
import reprlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar, NamedTuple, NewType, Self
from urllib.parse import urlsplit

from auditor.errors import ForgeError, UsageError
from auditor.redaction import redact

RequestNumber = NewType("RequestNumber", int)
"""The number a forge shows for a pull or merge request (GitHub ``number``, GitLab ``iid``)."""

ReviewId = NewType("ReviewId", str)
"""The forge's identifier of one submitted review."""

Bundle = dict[str, Any]
"""The raw payloads of one request, as the forge returned them (see ``auditor.reviews.offline``)."""


class Forge(Enum):
    GITHUB = "github"
    GITLAB = "gitlab"


class AccountType(Enum):
    USER = "user"
    BOT = "bot"
    UNKNOWN = "unknown"
    """The account was deleted or the forge did not say."""


class RequestState(Enum):
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


class ReviewState(Enum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    COMMENTED = "commented"
    DISMISSED = "dismissed"
    PENDING = "pending"


@dataclass(frozen=True)
class RequestCommit:
    """One commit listed by the forge as part of a request."""

    sha: str
    parents: tuple[str, ...]
    """Parent SHAs; GitLab may list none even for commits that have parents."""
    author_name: str
    author_email: str
    authored_at: datetime
    committer_name: str
    committer_email: str
    committed_at: datetime
    author_login: str | None
    """The forge account the author email maps to, when the forge knows one."""
    committer_login: str | None
    message: str
    signed: bool | None = None
    """Whether the forge reports a signature on the commit (verified or not); None: not said."""


@dataclass(frozen=True)
class Review:
    """One review or approval; fields the forge does not report are None, never guessed."""

    id: ReviewId | None
    reviewer_login: str | None
    """None when the reviewer's account was deleted."""
    reviewer_type: AccountType
    state: ReviewState
    submitted_at: datetime | None
    commit_id: str | None
    """The head commit the review was given on."""
    url: str | None


@dataclass(frozen=True)
class ChangeRequest:
    """A pull request (GitHub) or merge request (GitLab) with its commits and reviews."""

    forge: Forge
    number: RequestNumber
    title: str
    body: str
    url: str
    author_login: str | None
    author_type: AccountType
    state: RequestState
    created_at: datetime
    updated_at: datetime
    merged_at: datetime | None
    closed_at: datetime | None
    base_ref: str
    head_ref: str
    head_sha: str
    base_sha: str | None
    merge_commit_sha: str | None
    squash_commit_sha: str | None
    merged_by: str | None
    labels: tuple[str, ...]
    commits: tuple[RequestCommit, ...]
    reviews: tuple[Review, ...]
    commit_count: int | None = None
    """How many commits the forge says the request has, when it says so."""

    @property
    def commits_truncated(self) -> bool:
        """True when the forge listed fewer commits than the request has."""
        return self.commit_count is not None and len(self.commits) < self.commit_count


@dataclass(frozen=True)
class EvidenceGap:
    """A known hole in the review data: the audit must report it, not ignore it."""

    request: RequestNumber | None
    reason: str


class Remote(NamedTuple):
    host: str
    owner: str
    """The account, or for GitLab the full group path (``group/subgroup``)."""
    repo: str

    @property
    def path(self) -> str:
        return f"{self.owner}/{self.repo}"


_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def parse_remote_url(url: str) -> Remote:
    """Split a Git remote URL (https, ``ssh://``, or ``git@host:path``) into host, owner, repo."""
    if "://" in url:
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
    elif match := _SCP_LIKE.match(url):
        host, path = match["host"], match["path"]
    else:
        host, path = "", ""
    segments = [s for s in path.strip("/").removesuffix(".git").split("/") if s]
    if not host or len(segments) < 2:
        raise UsageError(f"cannot tell the forge repository from remote URL {redact(url)!r}")
    return Remote(host.lower(), "/".join(segments[:-1]), segments[-1])


class PayloadError(ForgeError):
    """A forge payload lacks a key or has a value of the wrong type."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (naive values are taken as UTC)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Payload:
    """Typed reads from one JSON object; errors name the key path."""

    data: Mapping[str, Any]
    where: str

    @classmethod
    def of(cls, data: Any, where: str) -> Payload:
        if not isinstance(data, Mapping):
            raise PayloadError(where or "document", "expected an object")
        return cls(data, where)

    def key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str, kind: type, optional: bool) -> Any:
        if key not in self.data:
            if optional:
                return None
            raise PayloadError(self.key(key), "missing")
        value = self.data[key]
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise PayloadError(self.key(key), f"unexpected value {reprlib.repr(value)}")
        return value

    def text(self, key: str) -> str:
        value: str = self._get(key, str, optional=False)
        return value

    def opt_text(self, key: str) -> str | None:
        value: str | None = self._get(key, str, optional=True)
        return value

    def number(self, key: str) -> int:
        value: int = self._get(key, int, optional=False)
        return value

    def opt_number(self, key: str) -> int | None:
        value: int | None = self._get(key, int, optional=True)
        return value

    def flag(self, key: str) -> bool:
        return self._get(key, bool, optional=True) is True

    def time(self, key: str) -> datetime:
        value = self.opt_time(key)
        if value is None:
            raise PayloadError(self.key(key), "missing")
        return value

    def opt_time(self, key: str) -> datetime | None:
        value = self.opt_text(key)
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            raise PayloadError(self.key(key), f"not a timestamp: {value!r}") from None

    def obj(self, key: str) -> Payload:
        return Payload(self._get(key, Mapping, optional=False), self.key(key))

    def opt_obj(self, key: str) -> Payload | None:
        value = self._get(key, Mapping, optional=True)
        return None if value is None else Payload(value, self.key(key))

    def items(self, key: str) -> list[Any]:
        value: list[Any] = self._get(key, list, optional=False)
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of strings; an absent or null list is empty."""
        values = self._get(key, list, optional=True) or []
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise PayloadError(
                    f"{self.key(key)}[{index}]", f"unexpected value {reprlib.repr(value)}"
                )
        return tuple(values)

    def objs(self, key: str) -> list[Payload]:
        return [Payload.of(item, f"{self.key(key)}[{i}]") for i, item in enumerate(self.items(key))]


class ReviewSource(ABC):
    """Where the review evidence of merged requests comes from.

    ``fetch`` raises ``ForgeError`` when the forge cannot be read completely; it never yields a
    partial result as if it were whole. Holes it can name without failing (a request whose commit
    list the forge truncated, an export marked incomplete) are listed in ``gaps`` once the
    iteration has finished: a caller that finds any must treat the evidence as incomplete.
    """

    def __init__(self) -> None:
        self._gaps: list[EvidenceGap] = []

    @abstractmethod
    def fetch(self, *, base_branch: str, updated_since: datetime | None) -> Iterator[ChangeRequest]:
        """Merged requests into ``base_branch``, those updated at or after ``updated_since``."""

    def close(self) -> None:  # noqa: B027
        """Release the connections the source holds (most sources hold none)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def gaps(self) -> tuple[EvidenceGap, ...]:
        return tuple(self._gaps)

    @property
    def complete(self) -> bool:
        return not self._gaps

    def _note(self, request: ChangeRequest) -> ChangeRequest:
        if request.commits_truncated:
            self._gaps.append(
                EvidenceGap(
                    request.number,
                    f"the forge listed {len(request.commits)} of {request.commit_count} commits",
                )
            )
        return request


class RawSource(ReviewSource):
    """A source that reads a forge's raw payloads, which can be exported and parsed again."""

    forge: ClassVar[Forge]
    bundles_key: ClassVar[str]
    """The key of the bundle list in an export document."""

    def __init__(self, repository: str, base_url: str) -> None:
        super().__init__()
        self.repository = repository
        self.base_url = base_url.rstrip("/")

    @abstractmethod
    def fetch_raw(self, *, base_branch: str, updated_since: datetime | None) -> Iterator[Bundle]:
        """One bundle of raw payloads per merged request, most recently updated first."""

    @staticmethod
    @abstractmethod
    def parse(bundle: Payload) -> ChangeRequest:
        """The record for one bundle; raises ``PayloadError`` naming the bad key."""

    def fetch_pairs(
        self, *, base_branch: str, updated_since: datetime | None
    ) -> Iterator[tuple[Bundle, ChangeRequest]]:
        """Each raw bundle with its record; ``gaps`` is filled as requests are read."""
        self._gaps.clear()
        try:
            for bundle in self.fetch_raw(base_branch=base_branch, updated_since=updated_since):
                yield bundle, self._note(self.parse(Payload.of(bundle, "")))
        except PayloadError as err:
            raise ForgeError(
                f"{self.forge.value} sent an unexpected payload for {self.repository}: {err}"
            ) from None

    def fetch(self, *, base_branch: str, updated_since: datetime | None) -> Iterator[ChangeRequest]:
        for _, request in self.fetch_pairs(base_branch=base_branch, updated_since=updated_since):
            yield request
