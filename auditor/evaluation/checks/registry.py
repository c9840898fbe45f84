"""The check registry: named functions that judge one change (or one repository) for a control."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.evaluation.checks.params import Param, ParamError
from auditor.guard import GuardData
from auditor.ledger.period import Period
from auditor.model import BranchWatch, ChangeFacts, HistoryEvent, Status

if TYPE_CHECKING:
    from auditor.deployments.join import RepoDeployments


@dataclass(frozen=True)
class Outcome:
    """A check's verdict and its one-line reason naming the evidence."""

    status: Status
    reason: str


@dataclass(frozen=True)
class CheckContext:
    """What a check may need beyond the change: the audit period, the time of the run, the
    repository's history events (rewrites noticed while mining) and since when the store has
    watched each branch, for repository-level checks every change of the period, whether a
    roster of the organisation's people was given, and the repository's guard data (branch
    protection timeline, request checks)."""

    as_of: datetime
    period: Period = field(default_factory=Period)
    repo: str = ""
    events: tuple[HistoryEvent, ...] = ()
    changes: tuple[ChangeFacts, ...] = ()
    roster: bool = False
    # deployment checks: the repository's deployments joined to its ledger (None: no
    # deployment records were given), and the change controls' statuses per change SHA
    deployments: RepoDeployments | None = None
    verdicts: Mapping[str, Mapping[str, Status]] = field(default_factory=dict)
    watched: tuple[BranchWatch, ...] = ()  # since when the store watched each audited branch
    guard: GuardData = field(default_factory=GuardData)


@dataclass(frozen=True)
class ItemOutcome:
    """A deployment check's verdict on one item: a deployment (``commit`` the deployed
    revision, ``change`` the SHA of the change that landed it, ``at`` when it was deployed) or
    a change never deployed."""

    outcome: Outcome
    commit: str = ""
    change: str = ""
    at: datetime | None = None


Params = Mapping[str, Any]
CheckFn = Callable[[ChangeFacts, Params, CheckContext], Outcome]
RepositoryCheckFn = Callable[[Params, CheckContext], Outcome]
DeploymentCheckFn = Callable[[Params, CheckContext], list[ItemOutcome]]


@dataclass(frozen=True)
class _Check:
    name: str
    params: Mapping[str, Param]

    def resolve(self, raw: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> Params:
        """``raw`` validated over ``base`` (or the defaults); raises :class:`ParamError`."""
        out = dict(base) if base is not None else {k: p.default for k, p in self.params.items()}
        for key, value in raw.items():
            spec = self.params.get(key)
            if spec is None:
                known = ", ".join(self.params) or "none"
                raise ParamError(f"unknown parameter of check {self.name} (known: {known})", key)
            try:
                out[key] = spec.validate(value)
            except ParamError as err:
                raise err.under(key) from None
        return out


@dataclass(frozen=True)
class ChangeCheck(_Check):
    """A check run on every change of a control's population."""

    fn: CheckFn


@dataclass(frozen=True)
class RepositoryCheck(_Check):
    """A check run once per repository; its finding has an empty ``change_id``."""

    fn: RepositoryCheckFn


@dataclass(frozen=True)
class DeploymentCheck(_Check):
    """A check run once per repository after the change checks, yielding one verdict per
    deployment of the period (their findings carry the deployed revision as ``commit``)."""

    fn: DeploymentCheckFn


Check = ChangeCheck | RepositoryCheck | DeploymentCheck

CHECKS: dict[str, Check] = {}


def check(name: str, **params: Param) -> Callable[[CheckFn], CheckFn]:
    """Register a change-level check under ``name`` with its parameters."""

    def register(fn: CheckFn) -> CheckFn:
        _add(ChangeCheck(name, params, fn))
        return fn

    return register


def repository_check(
    name: str, **params: Param
) -> Callable[[RepositoryCheckFn], RepositoryCheckFn]:
    """Register a repository-level check under ``name`` with its parameters."""

    def register(fn: RepositoryCheckFn) -> RepositoryCheckFn:
        _add(RepositoryCheck(name, params, fn))
        return fn

    return register


def deployment_check(
    name: str, **params: Param
) -> Callable[[DeploymentCheckFn], DeploymentCheckFn]:
    """Register a deployment check under ``name`` with its parameters."""

    def register(fn: DeploymentCheckFn) -> DeploymentCheckFn:
        _add(DeploymentCheck(name, params, fn))
        return fn

    return register


def _add(entry: Check) -> None:
    if entry.name in CHECKS:
        raise ValueError(f"check {entry.name!r} registered twice")
    CHECKS[entry.name] = entry
