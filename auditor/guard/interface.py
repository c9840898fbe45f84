"""Guard rails read from a forge: branch protection snapshots and the checks run on requests.

A forge keeps no history of classic branch protection, so the evidence exists only where it was
collected: each collection is a :class:`ProtectionSnapshot` at its collection time, and the
store keeps them all, a timeline. The checks of a merged request (check runs, commit statuses,
pipeline jobs) are :class:`CheckRun` records. Each forge module turns its raw answers into these
records; the raw answers are what the store and the review export keep, so the same evidence can
be parsed again later (:func:`parse_snapshot`, :func:`parse_checks`).

A raw answer is ``{"status": 200, "body": ...}`` for what the forge said, including refusals
(``403``, ``404``), or ``{"error": "..."}`` when it could not be read at all.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum


class Collection(Enum):
    """How a collection went."""

    COLLECTED = "collected"
    DENIED = "denied"
    """The forge refused the token (401, 403, or a 404 that hides a resource from it)."""
    FAILED = "failed"
    """The forge could not be read (unreachable, a server error, an unusable answer)."""


@dataclass(frozen=True)
class BypassActor:
    """Someone who may skip the branch's rules, and how."""

    actor: str
    """Who, as the forge names them: ``Team 42``, ``OrganizationAdmin``, ``Maintainers``…"""
    kind: str
    """The forge's actor type (``Team``, ``Integration``, ``RepositoryRole``, ``user``…)."""
    mode: str
    """``always``, ``pull_request``, ``exempt`` (GitHub rulesets); ``push``, ``force push``,
    ``unprotect`` (GitLab); ``admin`` (GitHub classic protection not enforced on admins)."""
    source: str
    """The ruleset or protection rule granting it."""


SNAPSHOT_GRACE = timedelta(hours=1)
"""How long after the end of a period (or ``--as-of``) a snapshot still shows the protection
at that end: a run collects its own snapshot as it runs, moments after the time it reports as
of."""

SETTINGS = (
    "protected",
    "requires_request",
    "required_approvals",
    "blocks_force_push",
    "blocks_deletion",
    "applies_to_admins",
    "required_checks",
)
"""The settings of every snapshot, in the order the pack lists them."""


@dataclass(frozen=True)
class ProtectionSettings:
    """The protection in force on a branch; None where the forge's answer did not say."""

    protected: bool
    requires_request: bool | None
    """Changes must come through a pull/merge request (no direct push)."""
    required_approvals: int | None
    blocks_force_push: bool | None
    blocks_deletion: bool | None
    applies_to_admins: bool | None
    """Administrators are held to the rules too."""
    required_checks: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    """What the settings were read from (``classic protection``, ``ruleset 'main' (#42,
    active)``, ``protected branch 'main'``)."""
    extras: tuple[tuple[str, str], ...] = ()
    """Further settings shown as evidence but not judged (GitLab push rules, approval options)."""

    def value(self, setting: str) -> str:
        """A setting of :data:`SETTINGS` as a cell: ``true``, ``false``, a number, names joined
        by ``;``, or empty when unknown."""
        value = getattr(self, setting)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return ";".join(value)
        return "" if value is None else str(value)


@dataclass(frozen=True)
class ProtectionSnapshot:
    """The protection of one branch as collected at one time."""

    forge: str
    """``github`` or ``gitlab``."""
    branch: str
    collected_at: datetime
    collection: Collection
    settings: ProtectionSettings | None
    """None unless ``collection`` is COLLECTED."""
    bypass_actors: tuple[BypassActor, ...] = ()
    bypass_known: bool = True
    """False when the forge would not show who may bypass (a token without admin read)."""
    reason: str = ""
    """Why the snapshot was denied or failed, or what of it could not be read."""


class CheckKind(Enum):
    CHECK_RUN = "check_run"
    """A GitHub check run (GitHub Actions, scanner apps)."""
    STATUS = "status"
    """A GitHub commit status (an external CI posting a context)."""
    JOB = "job"
    """A job of a GitLab pipeline."""
    PIPELINE = "pipeline"
    """A GitLab pipeline whose jobs could not be listed."""


class Conclusion(Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    TIMED_OUT = "timed_out"
    ACTION_REQUIRED = "action_required"
    STALE = "stale"
    ERROR = "error"
    PENDING = "pending"
    """Not finished when collected (queued, in progress, waiting)."""


@dataclass(frozen=True)
class CheckRun:
    """One automated check on a request's commit."""

    name: str
    kind: CheckKind
    app: str
    """The app (GitHub check run), the status's creator or context host, the pipeline (GitLab)."""
    commit: str
    conclusion: Conclusion
    started_at: datetime | None
    completed_at: datetime | None
    url: str = ""
    on_merge_commit: bool = False
    """Run on the merge commit, after the merge: shown, never counted as a pre-merge check."""


@dataclass(frozen=True)
class RequestChecks:
    """The checks collected for one merged request."""

    number: int
    collection: Collection
    runs: tuple[CheckRun, ...] = ()
    reason: str = ""
    """Why the checks could not be collected."""


def pending(checks: RequestChecks) -> bool:
    """Whether collecting ``checks`` again may tell more: they were not read, or a run had not
    finished."""
    return checks.collection is not Collection.COLLECTED or any(
        run.conclusion is Conclusion.PENDING for run in checks.runs
    )


@dataclass(frozen=True)
class GuardData:
    """The protection timeline and the request checks of one repository's audited branches."""

    source: str = "none"
    """``github``, ``gitlab``, ``offline:<file>``, or ``none`` (no forge configured)."""
    snapshots: tuple[ProtectionSnapshot, ...] = ()
    """Every snapshot of the audited branches, by branch and collection time."""
    checks: tuple[RequestChecks, ...] = ()
    """The checks of every merged request the review data holds, by number."""
    gaps: tuple[str, ...] = field(default_factory=tuple)
    """What could not be collected this time (a refused endpoint…), one line each."""
    audited: tuple[str, ...] = ()
    """The audited branches the data was collected for (each judged, snapshots or not)."""

    @property
    def configured(self) -> bool:
        return self.source != "none"

    @functools.cached_property
    def by_request(self) -> Mapping[int, RequestChecks]:
        return {int(c.number): c for c in self.checks}

    def branch(self, name: str) -> tuple[ProtectionSnapshot, ...]:
        return tuple(s for s in self.snapshots if s.branch == name)

    def in_force(self, branch: str, moment: datetime) -> ProtectionSnapshot | None:
        """The last snapshot of ``branch`` collected at or before ``moment``."""
        found = [s for s in self.branch(branch) if s.collected_at <= moment]
        return max(found, key=lambda s: s.collected_at, default=None)


def merged(parts: Iterable[GuardData]) -> GuardData:
    """The guard data of several branches as one."""
    parts = list(parts)
    if not parts:
        return GuardData()
    checks = {int(c.number): c for part in parts for c in part.checks}
    return GuardData(
        parts[0].source,
        tuple(
            sorted(
                {(s.branch, s.collected_at): s for p in parts for s in p.snapshots}.values(),
                key=lambda s: (s.branch, s.collected_at),
            )
        ),
        tuple(checks[n] for n in sorted(checks)),
        tuple(dict.fromkeys(g for p in parts for g in p.gaps)),
        tuple(dict.fromkeys(b for p in parts for b in p.audited)),
    )


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
