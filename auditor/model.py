"""Frozen records of the change ledger.

Git objects are copied into these records at the mining boundary (``ledger.py``) and nothing
downstream sees pygit2 or subprocess output. Identities keep both the raw values written in the
commit and the values resolved through ``.mailmap``.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NewType

from auditor.outcome import Outcome

if TYPE_CHECKING:
    from auditor.infra.codeowners import CodeOwners
    from auditor.infra.model import FileAnalysis

CommitSha = NewType("CommitSha", str)
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
    notes: tuple[str, ...] = ()  # what of its headers was not recorded as written, and why

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
    old_blob: str = ""  # object ids of the file before and after ("" when absent)
    new_blob: str = ""


@dataclass(frozen=True)
class Change:
    """One landing on an audited branch: a commit of its first-parent chain."""

    commit: Commit
    files: tuple[FileChange, ...]
    request: RequestRef | None
    branch: BranchName = BranchName("")
    # when mining found the change rewritten away from the branch (a force-push dropped it
    # after it landed); None while it is on the branch
    rewritten: datetime | None = None

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


class EventKind(enum.StrEnum):
    """What mining noticed about a branch's history (the words the pack writes)."""

    HISTORY_REWRITTEN = "history-rewritten"  # commits seen before are no longer on the branch
    FIRST_PARENT_REWRITTEN = "first-parent-rewritten"  # the same commits, a reshaped chain


@dataclass(frozen=True)
class HistoryEvent:
    """Something the store noticed about a branch, e.g. a rewrite that lost commits."""

    kind: EventKind
    branch: BranchName
    detected_at: datetime
    old_tip: CommitSha
    new_tip: CommitSha
    lost: tuple[CommitSha, ...]


@dataclass(frozen=True)
class BranchWatch:
    """Since when the store has watched a branch: the first time auditor mined it (None: a store
    that recorded no mining of it). A rewrite before then cannot have been seen."""

    branch: BranchName
    first_mined: datetime | None


# -- review facts: what the review stage derives for each change ------------------------------


class ReviewEvidence(enum.Enum):
    """Where a change's review evidence comes from."""

    FORGE = "forge"  # pull/merge request data from GitHub or GitLab (live or exported)
    TRAILERS = "trailers"  # Reviewed-by / Approved-by / Acked-by trailers in the commit
    NONE = "none"  # no review data was collected for this repository
    MISSING = "missing"  # review data was expected but is missing or truncated for this change


NO_REVIEW_DATA = "no review data"
"""Words of every reason a check gives when it is ``unknown`` because a change has no review data
(``ReviewEvidence.NONE``): the pack names those controls as the ones it could not conclude."""


@dataclass(frozen=True)
class Person:
    """Someone resolved from Git identities, forge logins and the roster.

    ``key`` is stable: the roster's person id, else the forge login, else the mailmap email.
    ``known`` is false when the identity maps to nobody (not in the roster, no forge login).
    """

    key: str
    display: str
    known: bool
    is_bot: bool = False


@dataclass(frozen=True)
class Approval:
    """One approval counted for a change: the reviewer's latest state before the merge."""

    reviewer: Person
    at: datetime | None
    commit: str | None  # the head the approval was given on, when the forge says
    covers_merged_content: bool | None  # None: cannot tell
    independent: bool  # not an author or committer of the change's commits
    source: ReviewEvidence = ReviewEvidence.FORGE
    # A trailer approval: its key as written, and who committed the commit carrying it (it is
    # independent only when that is not a contributor: a review system or maintainer applied it;
    # None when the forge committed it, for a merger Git does not record).
    trailer: str = ""
    applied_by: Person | None = None


@dataclass(frozen=True)
class ForgeCopy:
    """A commit the forge re-created when it rebase-merged a request, and the original it copied
    (GitHub's rebase merge writes new, unsigned commits; the original is in the request)."""

    commit: CommitSha
    original: str
    original_signed: bool | None  # the forge reports a signature on the original; None: not said


@dataclass(frozen=True)
class SignatureVerdict:
    """A commit's signature checked against the organisation's keys (``git verify-commit``)."""

    commit: CommitSha
    verified: bool
    detail: str  # the signer git reports, or why the signature does not verify


@dataclass(frozen=True)
class ChangeFacts:
    """Everything a control needs to know about one change."""

    repo: str
    change: Change
    evidence: ReviewEvidence
    request_number: int | None = None  # linked by the review data, else named by the message
    request_unconfirmed: bool = False  # only the message names request_number; nothing links it
    request_url: str = ""
    request_title: str = ""
    request_body: str = ""
    labels: tuple[str, ...] = ()
    authors: tuple[Person, ...] = ()  # the contributors, as persons: who wrote the change
    committers: tuple[Person, ...] = ()
    approvals: tuple[Approval, ...] = ()  # latest state per reviewer at or before the merge
    post_merge_approvals: tuple[Approval, ...] = ()  # given after the merge (retrospective)
    merged_by: Person | None = None
    merged_at: datetime | None = None
    # The authors and co-authors of the commits the change brought in, merges aside (a merge
    # commit's author merged), as .mailmap resolves them, each person once (their first
    # identity seen; see auditor/ledger/contributors.py).
    contributors: tuple[Identity, ...] = ()
    categories: frozenset[str] = frozenset()
    environments: frozenset[str] = frozenset()
    commits: tuple[Commit, ...] = ()  # every commit the change brought in, itself included
    unresolved: tuple[str, ...] = ()  # identities that map to nobody, as "role: name <email>"
    notes: tuple[str, ...] = ()  # evidence gaps and oddities worth showing the auditor
    request_messages: tuple[tuple[str, str], ...] = ()  # (sha, message) of the request's commits
    forge_copies: tuple[ForgeCopy, ...] = ()  # commits the forge re-created when it merged
    infra_files: tuple[FileAnalysis, ...] = ()  # infrastructure analysis of each changed file
    codeowners: CodeOwners | None = None  # the CODEOWNERS file at the change's first parent
    handles: tuple[tuple[str, frozenset[str]], ...] = ()  # person key → @logins and emails
    signatures: tuple[SignatureVerdict, ...] = ()  # only when keys to verify against were given

    # The properties below are asked by control after control: each is worked out once.

    @functools.cached_property
    def change_id(self) -> str:
        return f"{self.repo}@{self.change.sha[:12]}"

    @property
    def request_linked(self) -> bool:
        """Whether review data links the change to ``request_number`` (not its message alone)."""
        return self.request_number is not None and not self.request_unconfirmed

    @functools.cached_property
    def independent_approvals(self) -> tuple[Approval, ...]:
        return tuple(a for a in self.approvals if a.independent)

    @functools.cached_property
    def is_bot_change(self) -> bool:
        return bool(self.authors) and all(p.is_bot for p in self.authors)

    @functools.cached_property
    def all_independent_approvals(self) -> tuple[Approval, ...]:
        """Independent approvals standing at the merge, then those first given after it."""
        return tuple(a for a in (*self.approvals, *self.post_merge_approvals) if a.independent)


# -- controls and findings --------------------------------------------------------------------


class Status(enum.Enum):
    """The result of one control on one change (the contract's ``status``)."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"
    WAIVED = "waived"


class Severity(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class FrameworkRef:
    """One requirement of a framework a control maps to, e.g. ``soc2`` ``CC8.1``."""

    framework: str
    ref: str

    def __str__(self) -> str:
        return f"{self.framework}:{self.ref}"


@dataclass(frozen=True)
class Finding:
    """One control result on one change (or on a repository, with ``change_id`` empty)."""

    control_id: str
    repo: str
    change_id: str
    commit: str
    change_request: int | None
    status: Status
    reason: str
    framework_refs: tuple[FrameworkRef, ...] = ()
    severity: Severity = Severity.MEDIUM
    waiver_id: str = ""


@dataclass(frozen=True)
class Control:
    """A control as its catalog file defines it; ``check`` names a registered check function."""

    id: str
    title: str
    description: str
    procedure: str
    check: str
    parameters: Mapping[str, Any]
    frameworks: tuple[FrameworkRef, ...]
    severity: Severity = Severity.MEDIUM
    scope: Mapping[str, Any] = field(default_factory=dict)  # paths, branches, repositories
    source: str = ""  # the file it was loaded from

    def refs(self, frameworks: Iterable[str] = ()) -> tuple[FrameworkRef, ...]:
        wanted = set(frameworks)
        return tuple(r for r in self.frameworks if not wanted or r.framework in wanted)


@dataclass(frozen=True)
class Waiver:
    """An accepted exception: a control waived for a change, request or path until it expires."""

    id: str
    control: str
    owner: str
    ticket: str
    reason: str
    approved_by: str
    expires: datetime
    change: str = ""  # a commit SHA or prefix, or a change_id
    request: int | None = None
    path: str = ""  # a glob over the change's paths


@dataclass(frozen=True)
class ControlResult:
    """The totals of one control over its population, and its overall status."""

    control: Control
    population: int
    passed: int
    failed: int
    unknown: int
    not_applicable: int
    waived: int

    @property
    def status(self) -> Status:
        if self.failed:
            return Status.FAIL
        if self.unknown:
            return Status.UNKNOWN
        if self.passed or self.waived:
            return Status.PASS
        return Status.NOT_APPLICABLE


# The record of a scheduled run, kept in the store: what it covered, what it found and wrote.


class RunStatus(enum.Enum):
    """How a run ended, after its outcome."""

    PASSED = "passed"
    FAILED = "failed"  # a control failed
    INCOMPLETE = "incomplete"  # a repository or its review data is missing
    ERROR = "error"  # no pack (bad input), or a repository hit a bug

    @classmethod
    def of(cls, outcome: Outcome) -> RunStatus:
        known = {
            Outcome.PASSED: cls.PASSED,
            Outcome.CONTROLS_FAILED: cls.FAILED,
            Outcome.INCOMPLETE: cls.INCOMPLETE,
        }
        return known.get(outcome, cls.ERROR)


@dataclass(frozen=True)
class RepositoryRecord:
    """One repository of a run: where it came from (no credentials), its heads, completeness."""

    name: str
    source: str  # the configured path, or URL without user information
    heads: tuple[tuple[str, str], ...] = ()  # (branch, commit SHA) mined
    changes: int = 0  # changes in the period
    complete: bool = True
    reasons: tuple[str, ...] = ()  # why not complete (or why it is missing altogether)
    rewrites: tuple[str, ...] = ()  # history rewrites detected by this run, one line each

    def encode(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "heads": [{"branch": b, "commit": c} for b, c in self.heads],
            "changes": self.changes,
            "complete": self.complete,
            "reasons": list(self.reasons),
            "rewrites": list(self.rewrites),
        }

    @classmethod
    def decode(cls, data: dict[str, Any]) -> RepositoryRecord:
        return cls(
            name=str(data["name"]),
            source=str(data["source"]),
            heads=tuple((str(h["branch"]), str(h["commit"])) for h in data.get("heads", ())),
            changes=int(data.get("changes", 0)),
            complete=bool(data.get("complete", True)),
            reasons=tuple(str(r) for r in data.get("reasons", ())),
            rewrites=tuple(str(r) for r in data.get("rewrites", ())),
        )


@dataclass(frozen=True)
class RunRecord:
    """One ``auditor run``, as recorded in the store and listed by ``auditor runs``."""

    as_of: datetime  # the run's time, written into its outputs
    period: str  # the pack label of the period, e.g. 2026-Q3
    since: datetime | None
    until: datetime | None
    config: str  # the config file's path
    config_sha256: str
    tool_version: str
    repositories: tuple[RepositoryRecord, ...]
    outcome: Outcome
    pack: str = ""  # the pack directory, empty when none was written
    manifest_sha256: str = ""  # SHA-256 of the pack's MANIFEST.sha256
    started_at: datetime | None = None  # wall-clock time, unlike as_of
    finished_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None  # assigned by the store
    # The chain: the run before this one that wrote a pack, as this run found it recorded
    # (None and empty for the first; runs recorded before store schema 9 were not chained).
    previous_run: int | None = None
    previous_manifest_sha256: str = ""
    chained: bool = True

    @property
    def status(self) -> RunStatus:
        return RunStatus.of(self.outcome)

    @property
    def rewrites(self) -> int:
        return sum(len(r.rewrites) for r in self.repositories)

    def repositories_json(self) -> str:
        return json.dumps([r.encode() for r in self.repositories], sort_keys=True)

    def encode(self) -> dict[str, Any]:
        """A JSON object of the record, for ``auditor runs --format json`` (which adds the
        exit code of its outcome)."""

        def stamp(when: datetime | None) -> str | None:
            return when.isoformat().replace("+00:00", "Z") if when else None

        return {
            "id": self.id,
            "as_of": stamp(self.as_of),
            "period": self.period,
            "since": stamp(self.since),
            "until": stamp(self.until),
            "config": self.config,
            "config_sha256": self.config_sha256,
            "tool_version": self.tool_version,
            "repositories": [r.encode() for r in self.repositories],
            "status": self.status.value,
            "pack": self.pack,
            "manifest_sha256": self.manifest_sha256,
            "started_at": stamp(self.started_at),
            "finished_at": stamp(self.finished_at),
            "notes": list(self.notes),
            "previous_run": self.previous_run,
            "previous_manifest_sha256": self.previous_manifest_sha256,
            "chained": self.chained,
        }
