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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from auditor.errors import ForgeError
from auditor.reviews.http import ForgeClient, ForgeRefusal, Params
from auditor.reviews.interface import Forge, Payload, RequestNumber

Raw = dict[str, Any]
"""A raw snapshot or checks bundle, as the forge answered, with its collection time."""


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

    forge: Forge
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

    number: RequestNumber
    collection: Collection
    runs: tuple[CheckRun, ...] = ()
    reason: str = ""
    """Why the checks could not be collected."""


# -- raw answers ------------------------------------------------------------------------------


def answer(client: ForgeClient, path: str, params: Params | None = None, *, pages: str = "") -> Raw:
    """The raw answer to one GET: ``pages`` = ``list`` follows a paginated list, the name of a
    key follows a paginated object whose ``key`` holds the items (GitHub check runs)."""
    try:
        if pages == "list":
            body: Any = client.collect(path, params)
        elif pages:
            documents = list(client.documents(path, params))
            body = dict(documents[0]) if documents else {}
            body[pages] = [item for document in documents for item in document.get(pages, [])]
        else:
            body = client.get(path, params)
    except ForgeRefusal as err:
        return {"status": err.status, "body": err.body, "error": str(err)}
    except ForgeError as err:
        return {"error": str(err)}
    return {"status": 200, "body": body}


@dataclass(frozen=True)
class Answer:
    """A raw answer, read back."""

    status: int | None
    body: Any
    error: str

    @classmethod
    def of(cls, raw: Payload, key: str) -> Answer:
        item = raw.obj(key)
        return cls(item.opt_number("status"), item.data.get("body"), item.opt_text("error") or "")

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def refused(self) -> bool:
        return self.status in (401, 403, 404)

    def message(self) -> str:
        if isinstance(self.body, Mapping) and isinstance(self.body.get("message"), str):
            return str(self.body["message"])
        return ""

    def failure(self, what: str) -> tuple[Collection, str]:
        """How a collection that got this answer for ``what`` went, and why."""
        if self.status is None:
            return Collection.FAILED, f"{what}: {self.error or 'not read'}"
        if self.refused:
            return Collection.DENIED, f"{what}: {self.error or f'refused ({self.status})'}"
        return Collection.FAILED, f"{what}: {self.error or f'answered {self.status}'}"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
