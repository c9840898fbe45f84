"""Frozen records of the change ledger.

Git objects are copied into these records at the mining boundary (``ledger.py``) and nothing
downstream sees pygit2 or subprocess output. Identities keep both the raw values written in the
commit and the values resolved through ``.mailmap``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

CommitSha = NewType("CommitSha", str)
RepoId = NewType("RepoId", str)
BranchName = NewType("BranchName", str)


class ChangeType(enum.Enum):
    """How a file changed, as ``git diff --raw`` reports it."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    COPIED = "copied"
    TYPE_CHANGED = "type-changed"
    UNMERGED = "unmerged"

    @classmethod
    def from_git_status(cls, letter: str) -> ChangeType:
        return _STATUS_LETTERS[letter[0]]


_STATUS_LETTERS = {
    "A": ChangeType.ADDED,
    "M": ChangeType.MODIFIED,
    "D": ChangeType.DELETED,
    "R": ChangeType.RENAMED,
    "C": ChangeType.COPIED,
    "T": ChangeType.TYPE_CHANGED,
    "U": ChangeType.UNMERGED,
}


class SignatureKind(enum.Enum):
    """The kind of signature found in a commit's ``gpgsig`` header."""

    NONE = "none"
    GPG = "gpg"
    SSH = "ssh"
    X509 = "x509"
    UNKNOWN = "unknown"


class SignatureStatus(enum.Enum):
    """The contract's ``signature`` column."""

    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    UNSIGNED = "unsigned"


class RequestKind(enum.Enum):
    """Where a change-request reference in a commit message came from."""

    GITHUB_MERGE = "github-merge"
    GITHUB_SQUASH = "github-squash"
    GITLAB = "gitlab"
    BITBUCKET = "bitbucket"


@dataclass(frozen=True)
class Identity:
    """A person as written in a commit, and as ``.mailmap`` resolves them."""

    name: str
    email: str
    raw_name: str
    raw_email: str


@dataclass(frozen=True)
class Stamp:
    """Who did something and when. ``when`` is timezone-aware with the commit's own offset."""

    identity: Identity
    when: datetime


@dataclass(frozen=True)
class Trailer:
    """One ``Key: value`` line of the message's trailer block, key as written."""

    key: str
    value: str


@dataclass(frozen=True)
class RequestRef:
    """A merged-request number found in a commit message (forge data comes later)."""

    kind: RequestKind
    number: int
    project: str = ""


@dataclass(frozen=True)
class Commit:
    """Any commit reachable from an audited branch."""

    sha: CommitSha
    parents: tuple[CommitSha, ...]
    author: Stamp
    committer: Stamp
    subject: str
    body: str
    trailers: tuple[Trailer, ...]
    signature: SignatureKind
    encoding: str
    is_bot: bool

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    def trailer_values(self, key: str) -> tuple[str, ...]:
        wanted = key.lower()
        return tuple(t.value for t in self.trailers if t.key.lower() == wanted)


@dataclass(frozen=True)
class FileChange:
    """One file of a change's diff against its first parent, as ``git log -M --numstat``."""

    path: str
    old_path: str | None
    change_type: ChangeType
    lines_added: int
    lines_deleted: int
    binary: bool
    submodule: bool = False


@dataclass(frozen=True)
class Change:
    """One landing on an audited branch: a commit of its first-parent chain."""

    commit: Commit
    files: tuple[FileChange, ...]
    request: RequestRef | None
    branch: BranchName = BranchName("")

    @property
    def sha(self) -> CommitSha:
        return self.commit.sha

    @property
    def landed_at(self) -> datetime:
        return self.commit.committer.when

    @property
    def lines_added(self) -> int:
        return sum(f.lines_added for f in self.files)

    @property
    def lines_deleted(self) -> int:
        return sum(f.lines_deleted for f in self.files)


@dataclass(frozen=True)
class CustodyLink:
    """Chain of custody: ``commit`` reached ``branch`` through the change ``change``."""

    commit: CommitSha
    change: CommitSha


@dataclass(frozen=True)
class Completeness:
    """Whether the mined population can be trusted to be complete, and why not."""

    complete: bool = True
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class HistoryEvent:
    """Something the store noticed about a branch, e.g. a rewrite that lost commits."""

    kind: str
    branch: BranchName
    detected_at: datetime
    old_tip: CommitSha
    new_tip: CommitSha
    lost: tuple[CommitSha, ...]
