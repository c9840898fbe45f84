"""Catalog × change facts → findings, per-control totals, waivers applied.

Every control of the catalog that maps to a requested framework is run on every change of
every repository (a repository-level control once per repository). A change outside the
control's ``scope`` (repository globs, branch globs, path globs over any of its paths) is
``not_applicable``; a change whose branch is not recorded is treated as in scope. Waivers are
applied last: a matching, unexpired waiver turns a ``fail`` into ``waived`` and keeps the
reason; expired waivers never apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, TypeVar

from auditor.errors import DefinitionError
from auditor.evaluation.catalog import Overrides, effective_parameters
from auditor.evaluation.checks import (
    CHECKS,
    CheckContext,
    DeploymentCheck,
    Outcome,
    RepositoryCheck,
)
from auditor.evaluation.checks.evidence import any_path_matches, change_paths
from auditor.evaluation.waivers import expired, matches
from auditor.guard import GuardData
from auditor.ledger.period import Period
from auditor.model import (
    BranchWatch,
    ChangeFacts,
    Control,
    ControlResult,
    Finding,
    HistoryEvent,
    Severity,
    Status,
    Waiver,
)
from auditor.outcome import Outcome as WorkOutcome  # checks have their own Outcome

if TYPE_CHECKING:
    from auditor.deployments.join import RepoDeployments

_BEFORE_ALL = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Evaluation:
    """The findings (sorted by control, repository, landing time, commit) and their totals."""

    findings: tuple[Finding, ...]
    results: tuple[ControlResult, ...]
    unmatched_waivers: tuple[str, ...] = ()  # unexpired waivers that waived nothing
    expired_waivers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ControlItem:
    """A finding before waivers, with what sorting and waiver matching need."""

    finding: Finding
    landed: datetime | None = None
    paths: tuple[str, ...] = field(default_factory=tuple)
    request_linked: bool = True  # review data links the change to ``finding.change_request``

    @property
    def key(self) -> tuple[str, str, datetime, str]:
        f = self.finding
        return (f.control_id, f.repo, self.landed or _BEFORE_ALL, f.commit)


def evaluate(
    catalog: Sequence[Control],
    facts_by_repo: Mapping[str, Sequence[ChangeFacts]],
    events_by_repo: Mapping[str, Sequence[HistoryEvent]],
    *,
    as_of: datetime,
    frameworks: Iterable[str] = (),
    waivers: Sequence[Waiver] = (),
    period: Period | None = None,
    overrides: Overrides | None = None,
    roster: bool = False,
    deployments_by_repo: Mapping[str, RepoDeployments | None] | None = None,
    watched_by_repo: Mapping[str, Sequence[BranchWatch]] | None = None,
    guard_by_repo: Mapping[str, GuardData] | None = None,
) -> Evaluation:
    """Run ``catalog`` (restricted to ``frameworks``) over the changes and events of every
    repository; ``overrides`` adjust parameters per repository and path; ``waivers`` unexpired
    at ``as_of`` turn failures into ``waived``; ``roster`` says whether a roster was given.
    Raises ``UsageError`` for an unknown framework.

    The same as :func:`run_controls` on each repository (which a run does in its workers),
    then :func:`settle` over all of them."""
    repos = sorted(set(facts_by_repo) | set(events_by_repo))
    items = [
        item
        for repo in repos
        for item in run_controls(
            catalog,
            repo,
            facts_by_repo.get(repo, ()),
            events_by_repo.get(repo, ()),
            as_of=as_of,
            frameworks=frameworks,
            period=period,
            overrides=overrides,
            roster=roster,
            deployments=(deployments_by_repo or {}).get(repo),
            watched=(watched_by_repo or {}).get(repo, ()),
            guard=(guard_by_repo or {}).get(repo, GuardData()),
        )
    ]
    return settle(catalog, items, as_of=as_of, frameworks=frameworks, waivers=waivers)


def run_controls(
    catalog: Sequence[Control],
    repo: str,
    facts: Sequence[ChangeFacts],
    events: Sequence[HistoryEvent],
    *,
    as_of: datetime,
    frameworks: Iterable[str] = (),
    period: Period | None = None,
    overrides: Overrides | None = None,
    roster: bool = False,
    deployments: RepoDeployments | None = None,
    watched: Sequence[BranchWatch] = (),
    guard: GuardData | None = None,
) -> list[ControlItem]:
    """Every control of ``catalog`` (restricted to ``frameworks``) on one repository: its
    findings before waivers, in no particular order. Deployment controls run last: they judge
    the changes each deployment brought by the other controls' findings on them."""
    wanted = tuple(frameworks)  # checked when the catalog was loaded
    ctx = CheckContext(
        as_of,
        period or Period(),
        repo,
        tuple(events),
        tuple(facts),
        roster,
        deployments,
        watched=tuple(watched),
        guard=guard or GuardData(),
    )
    # what every control asks of a change, worked out once
    changes = [(f, change_paths(f), f.change_id) for f in facts]
    items: list[ControlItem] = []
    selected = [_framed(c, wanted) for c in _selected(catalog, wanted)]
    later = [c for c in selected if isinstance(CHECKS.get(c.check), DeploymentCheck)]
    for control in selected:
        if control not in later:
            items += _run(control, ctx, changes, overrides or {})
    if later:
        verdicts: dict[str, dict[str, Status]] = defaultdict(dict)
        for item in items:
            if item.finding.change_id:
                verdicts[item.finding.commit][item.finding.control_id] = item.finding.status
        ctx = replace(ctx, verdicts=verdicts)
        for control in later:
            items += _run_deployments(control, ctx, overrides or {})
    return items


def settle(
    catalog: Sequence[Control],
    items: Iterable[ControlItem],
    *,
    as_of: datetime,
    frameworks: Iterable[str] = (),
    waivers: Sequence[Waiver] = (),
) -> Evaluation:
    """The evaluation of the :func:`run_controls` items of every repository: sorted, waived
    (each waiver matched once over all repositories), counted per control."""
    wanted = tuple(frameworks)  # checked when the catalog was loaded
    ordered = sorted(items, key=lambda i: i.key)
    active = sorted((w for w in waivers if not expired(w, as_of)), key=lambda w: w.id)
    used: set[str] = set()
    findings = [_waive(item, active, used) for item in ordered]
    counts = _counts(findings)
    return Evaluation(
        findings=tuple(findings),
        results=tuple(_totals(c, counts[c.id]) for c in _selected(catalog, wanted)),
        unmatched_waivers=tuple(w.id for w in active if w.id not in used),
        expired_waivers=tuple(sorted(w.id for w in waivers if expired(w, as_of))),
    )


CompactItem = tuple[Any, ...]


def compact(items: Iterable[ControlItem]) -> tuple[CompactItem, ...]:
    """Items as plain tuples, several times cheaper to send between processes than records;
    :func:`expand` makes them again, given the same catalog and frameworks."""
    return tuple(
        (f.control_id, f.repo, f.change_id, f.commit, f.change_request, f.status.value,
         f.reason, f.waiver_id, item.landed, item.paths, item.request_linked)
        for item in items
        for f in (item.finding,)
    )  # fmt: skip


def expand(
    rows: Iterable[CompactItem], catalog: Sequence[Control], frameworks: Iterable[str] = ()
) -> list[ControlItem]:
    """The items of :func:`compact`: a finding's framework references and severity are its
    control's, as :func:`run_controls` gave them."""
    wanted = tuple(frameworks)  # checked when the catalog was loaded
    controls = {c.id: _framed(c, wanted) for c in _selected(catalog, wanted)}
    statuses = {s.value: s for s in Status}
    items = []
    for (control_id, repo, change, commit, request, status, reason, waiver, landed, paths,
         linked) in rows:  # fmt: skip
        control = controls[control_id]
        finding = Finding(
            control_id, repo, change, commit, request, statuses[status], reason,
            control.frameworks, control.severity, waiver,
        )  # fmt: skip
        items.append(ControlItem(finding, landed, paths, linked))
    return items


def _selected(catalog: Sequence[Control], wanted: Collection[str]) -> list[Control]:
    return [c for c in catalog if not wanted or c.refs(wanted)]


def _run(
    control: Control,
    ctx: CheckContext,
    changes: Sequence[tuple[ChangeFacts, tuple[str, ...], str]],
    overrides: Overrides,
) -> list[ControlItem]:
    """The findings of ``control`` on each change (facts, paths, change id), or on the
    repository's history for a control of the history."""
    check = CHECKS.get(control.check)
    if check is None:
        raise DefinitionError(f"{control.source}: check: unknown check {control.check!r}")
    repo_scope = control.scope.get("repositories", ())
    outside = (
        Outcome(Status.NOT_APPLICABLE, f"repository {ctx.repo} out of scope")
        if repo_scope and not any(fnmatchcase(ctx.repo, p) for p in repo_scope)
        else None
    )
    if isinstance(check, DeploymentCheck):
        return _run_deployments(control, ctx, overrides)
    if isinstance(check, RepositoryCheck):
        branches = control.scope.get("branches", ())
        ctx = replace(
            ctx,
            events=_in_branches(ctx.events, branches),
            watched=_in_branches(ctx.watched, branches),
        )
        outcome = outside or check.fn(effective_parameters(control, overrides, ctx.repo), ctx)
        latest = max(ctx.events, key=lambda e: e.detected_at, default=None)
        tip = latest.new_tip if latest and outcome.status is Status.FAIL else ""
        return [ControlItem(_finding(control, ctx.repo, outcome, commit=tip))]
    items = []
    fixed = None if overrides.get(control.id) else control.parameters
    for facts, paths, change_id in changes:
        outcome = (
            outside
            or _out_of_scope(control, facts, paths)
            or check.fn(
                facts, fixed or effective_parameters(control, overrides, ctx.repo, paths), ctx
            )
        )
        finding = _finding(
            control,
            facts.repo,
            outcome,
            change_id=change_id,
            commit=facts.change.sha,
            request=facts.request_number,
        )
        items.append(ControlItem(finding, facts.change.landed_at, paths, facts.request_linked))
    return items


def _run_deployments(
    control: Control, ctx: CheckContext, overrides: Overrides
) -> list[ControlItem]:
    """The findings of a deployment control: one per deployment (and per gap) of the period."""
    check = CHECKS[control.check]
    assert isinstance(check, DeploymentCheck)
    repo_scope = control.scope.get("repositories", ())
    if repo_scope and not any(fnmatchcase(ctx.repo, p) for p in repo_scope):
        outcome = Outcome(Status.NOT_APPLICABLE, f"repository {ctx.repo} out of scope")
        return [ControlItem(_finding(control, ctx.repo, outcome))]
    items = []
    requests: dict[str, int | None] = {f.change.sha: f.request_number for f in ctx.changes}
    for result in check.fn(effective_parameters(control, overrides, ctx.repo), ctx):
        finding = _finding(
            control,
            ctx.repo,
            result.outcome,
            change_id=f"{ctx.repo}@{result.change[:12]}" if result.change else "",
            commit=result.commit,
            request=requests.get(result.change),
        )
        items.append(ControlItem(finding, result.at))
    return items


def _out_of_scope(control: Control, facts: ChangeFacts, paths: Sequence[str]) -> Outcome | None:
    branches = control.scope.get("branches", ())
    branch = facts.change.branch
    if branches and branch and not any(fnmatchcase(branch, p) for p in branches):
        return Outcome(Status.NOT_APPLICABLE, f"branch {branch} out of scope")
    patterns = control.scope.get("paths", ())
    if patterns and not any_path_matches(patterns, paths):
        return Outcome(Status.NOT_APPLICABLE, f"no path in scope ({', '.join(patterns)})")
    return None


_OnBranch = TypeVar("_OnBranch", HistoryEvent, BranchWatch)


def _in_branches(items: tuple[_OnBranch, ...], globs: Sequence[str]) -> tuple[_OnBranch, ...]:
    if not globs:
        return items
    return tuple(e for e in items if any(fnmatchcase(e.branch, g) for g in globs))


def _finding(
    control: Control,
    repo: str,
    outcome: Outcome,
    *,
    change_id: str = "",
    commit: str = "",
    request: int | None = None,
) -> Finding:
    return Finding(
        control_id=control.id,
        repo=repo,
        change_id=change_id,
        commit=commit,
        change_request=request,
        status=outcome.status,
        reason=outcome.reason,
        framework_refs=control.frameworks,
        severity=control.severity,
    )


def _waive(item: ControlItem, active: Sequence[Waiver], used: set[str]) -> Finding:
    finding = item.finding
    if finding.status is not Status.FAIL:
        return finding
    for waiver in active:
        if matches(waiver, finding, item.paths, request_linked=item.request_linked):
            used.add(waiver.id)
            return replace(finding, status=Status.WAIVED, waiver_id=waiver.id)
    return finding


def _framed(control: Control, wanted: Collection[str]) -> Control:
    """The control with only the framework references of ``wanted`` (all when empty), as its
    findings carry them."""
    if not wanted:
        return control
    return replace(
        control, frameworks=tuple(r for r in control.frameworks if r.framework in wanted)
    )


def _counts(findings: Iterable[Finding]) -> dict[str, dict[Status, int]]:
    counts: dict[str, dict[Status, int]] = defaultdict(lambda: dict.fromkeys(Status, 0))
    for finding in findings:
        counts[finding.control_id][finding.status] += 1
    return counts


def _totals(control: Control, counts: Mapping[Status, int]) -> ControlResult:
    return ControlResult(
        control=control,
        population=sum(counts.values()) - counts[Status.NOT_APPLICABLE],
        passed=counts[Status.PASS],
        failed=counts[Status.FAIL],
        unknown=counts[Status.UNKNOWN],
        not_applicable=counts[Status.NOT_APPLICABLE],
        waived=counts[Status.WAIVED],
    )


def verdict(
    results: Iterable[ControlResult],
    fail_on: Collection[Severity] = frozenset(Severity),
    *,
    complete: bool = True,
) -> WorkOutcome:
    """The outcome of an evaluation.

    ``INCOMPLETE`` when the evidence is incomplete (``complete`` false: shallow clone, review
    data missing or truncated), whatever the results; else ``CONTROLS_FAILED`` when a control
    whose severity is in ``fail_on`` has a failed (unwaived) finding; else ``PASSED``.
    ``unknown`` results alone do not fail: they come from missing evidence, which the caller
    reports through ``complete``.
    """
    if not complete:
        return WorkOutcome.INCOMPLETE
    if any(r.failed and r.control.severity in fail_on for r in results):
        return WorkOutcome.CONTROLS_FAILED
    return WorkOutcome.PASSED
