"""View models of the report for the HTML site and the PDF binder: every value precomputed."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

from auditor.evidence.deploys import DEPLOYMENT_CHECKS
from auditor.evidence.report import BranchScope, ParameterScope, Report, RepositoryScope
from auditor.evidence.words import counted, status_text
from auditor.guard import SETTINGS
from auditor.model import (
    ChangeFacts,
    Control,
    ControlResult,
    Finding,
    ReviewEvidence,
    Status,
    Waiver,
)
from auditor.render.coverage import review_source_text
from auditor.render.text import safe_url, slug, when

PROTECTION_CHECK = "branch-protection"
"""The check whose control shows the protection timeline and the bypass actors."""
EXCEPTION_STATUSES = (Status.FAIL, Status.UNKNOWN, Status.WAIVED)
_SEVERITY = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.WAIVED: 2, Status.PASS: 3}


@dataclass(frozen=True)
class Link:
    """Text and, when there is a safe one, where it points."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class ExceptionView:
    control_id: str
    change_id: str
    repo: str
    status: str
    reason: str
    waiver_id: str
    subject: str
    landed_at: str
    change: Link  # the change id, pointing at its commit on the forge
    commit: Link
    request: Link
    page: str
    resources: str = ""  # "aws_security_group.web (modified), …": what the change touched
    request_note: str = ""  # see :func:`request_note`


@dataclass(frozen=True)
class RepositoryResultView:
    """A repository-level control's result on one repository (KNW-01, INT-02: no change)."""

    repo: str
    status: str
    reason: str
    commit: Link
    waiver_id: str


@dataclass(frozen=True)
class SnapshotView:
    """One branch protection snapshot: the settings it showed, or why it showed none."""

    repo: str
    branch: str
    collected_at: str
    collection: str
    settings: tuple[str, ...]  # the values of SETTINGS, in order ("" unknown)
    sources: str
    reason: str


@dataclass(frozen=True)
class BypassView:
    repo: str
    branch: str
    collected_at: str
    actor: str
    kind: str
    mode: str
    source: str


@dataclass(frozen=True)
class CheckView:
    """One automated check of a change's request."""

    name: str
    kind: str
    app: str
    commit: str
    conclusion: str
    started_at: str
    completed_at: str
    on_merge_commit: bool
    link: Link


@dataclass(frozen=True)
class WaiverView:
    id: str
    control: str
    owner: str
    ticket: str
    reason: str
    approved_by: str
    expires: str
    applies_to: str
    expired: bool
    unmatched: bool
    used: int


@dataclass(frozen=True)
class OverrideView:
    """Where an override applies, what it sets, and how many changes it matched."""

    applies_to: str  # "repositories acme/infra-live; paths apps/*/overlays/dev/**"
    parameters: tuple[tuple[str, str], ...]
    changes: int


@dataclass(frozen=True)
class ControlView:
    id: str
    title: str
    description: str
    procedure: str
    check: str
    severity: str
    status: str
    parameters: tuple[tuple[str, str], ...]
    refs: tuple[str, ...]
    population: int
    passed: int
    failed: int
    unknown: int
    not_applicable: int
    waived: int
    exceptions: tuple[ExceptionView, ...]
    waivers: tuple[WaiverView, ...]
    anchor: str
    page: str
    hidden_exceptions: int = 0  # left out of ``exceptions`` to keep a document readable
    overrides: tuple[OverrideView, ...] = ()  # in the order given; the defaults are parameters
    source: str = ""  # the control file, as shipped (controls/…) or as given
    repository_results: tuple[RepositoryResultView, ...] = ()  # every result naming no change
    population_unit: str = "change"  # what the population counts: "repository" for KNW-01
    timeline: tuple[SnapshotView, ...] = ()  # branch protection over time (CFG-01)
    bypass: tuple[BypassView, ...] = ()  # who may bypass the branches' rules (CFG-01)

    @property
    def exception_total(self) -> int:
        return len(self.exceptions) + self.hidden_exceptions


@dataclass(frozen=True)
class FrameworkRow:
    ref: str
    status: str
    controls: tuple[Link, ...]


@dataclass(frozen=True)
class FrameworkView:
    name: str
    status: str
    rows: tuple[FrameworkRow, ...]


@dataclass(frozen=True)
class BranchView:
    """A branch as the period left it: its head then, and its tip when mined if that differs."""

    name: str
    head: str  # "" when nothing had landed by then
    head_text: str  # what ``head`` is: "last change landed at or before …"
    tip: str  # "" when the same as ``head``


@dataclass(frozen=True)
class RepositoryView:
    name: str
    remote: str
    path: str
    branches: tuple[BranchView, ...]
    review_source: str
    complete: bool
    incomplete_reasons: tuple[str, ...]
    events: tuple[str, ...]
    identities: str  # which .mailmap resolved the identities (see identities_text)


def identities_text(scope: RepositoryScope) -> str:
    """Which ``.mailmap`` the repository's identities were resolved by."""
    at = scope.branches[0].name if scope.branches else "the audited branch"
    if not scope.mailmap:
        return f"identities as written: no .mailmap committed at {at}"
    return f"identities by the .mailmap committed at {at} (blob {scope.mailmap[:12]})"


def parameter_text(value: object) -> str:
    """A control parameter as written in the pack: text as is, anything else as JSON (the same
    whether the report was just assessed or read back from ``evidence.json``)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def period(report: Report) -> str:
    since = when(report.since) or "the first commit"
    until = when(report.until) or when(report.generated_at)
    return f"{since} – {until}"


def worst(statuses: list[Status]) -> Status:
    """The status that matters most to an auditor among ``statuses``."""
    ranked = [s for s in statuses if s in _SEVERITY]
    return min(ranked, key=_SEVERITY.__getitem__) if ranked else Status.NOT_APPLICABLE


def commit_link(scope: RepositoryScope | None, sha: str) -> Link:
    template = scope.commit_url if scope else ""
    return Link(sha[:12], safe_url(template.replace("{sha}", sha)) if template else "")


def request_link(scope: RepositoryScope | None, number: int | None, url: str = "") -> Link:
    if number is None:
        return Link("")
    template = scope.request_url if scope else ""
    href = url or (template.replace("{number}", str(number)) if template else "")
    return Link(f"#{number}", safe_url(href))


def request_note(facts: ChangeFacts) -> str:
    """What the pack may say of a change's request beside its number: how far review data
    confirms it; "direct push" only when no request is named and forge data links none."""
    if facts.request_linked:
        return ""
    if facts.request_number is not None:
        if facts.evidence is ReviewEvidence.FORGE:
            return "named in the message; the forge did not merge this commit through it"
        if facts.evidence is ReviewEvidence.MISSING:
            return "named in the message; missing from the review data"
        if facts.evidence is ReviewEvidence.TRAILERS:
            return "named in the message; its review trailers do not confirm it"
        return "named in the message; no review data to confirm it"
    if facts.evidence is ReviewEvidence.FORGE:
        return "none (direct push)"
    return "none named; no review data to tell a direct push from a rebase merge"


def population_unit(control: Control, findings_by_control: Mapping[str, Sequence[Finding]]) -> str:
    """What a control's population counts: "deployment" for the deployment checks (DEP-01,
    DEP-02), "repository" when every result names no change (KNW-01), else "change"."""
    if control.check in DEPLOYMENT_CHECKS:
        return "deployment"
    found = findings_by_control.get(control.id, [])
    return "repository" if found and not any(f.change_id for f in found) else "change"


def change_page(facts_or_id: ChangeFacts | str) -> str:
    change_id = facts_or_id if isinstance(facts_or_id, str) else facts_or_id.change_id
    return f"changes/{slug(change_id)}.html"


@cache
def control_page(control_id: str) -> str:
    return f"controls/{slug(control_id)}.html"


def _event_text(scope: RepositoryScope) -> tuple[str, ...]:
    return tuple(
        f"{when(e.detected_at)} {e.kind} on {e.branch}: {e.old_tip[:12]} → {e.new_tip[:12]}"
        f" ({counted(len(e.lost), 'commit')} no longer reachable)"
        for e in scope.events
    )


class ReportView:
    """Indexes over one report, and the view models built from them (each built once)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.scopes: Mapping[str, RepositoryScope] = {r.name: r for r in report.repositories}
        self.changes: Mapping[str, ChangeFacts] = {c.change_id: c for c in report.changes}
        by_change: defaultdict[str, list[Finding]] = defaultdict(list)
        by_control: defaultdict[str, list[Finding]] = defaultdict(list)
        for finding in report.findings:
            by_change[finding.change_id].append(finding)
            by_control[finding.control_id].append(finding)
        self.findings_by_change: Mapping[str, list[Finding]] = by_change
        self.findings_by_control: Mapping[str, list[Finding]] = by_control
        self.waiver_uses = Counter(f.waiver_id for f in report.findings if f.waiver_id)

    def exception(self, finding: Finding) -> ExceptionView:
        facts = self.changes.get(finding.change_id)
        scope = self.scopes.get(finding.repo)
        commit = commit_link(scope, finding.commit) if finding.commit else Link("")
        return ExceptionView(
            control_id=finding.control_id,
            change_id=finding.change_id,
            repo=finding.repo,
            status=finding.status.value,
            reason=finding.reason,
            waiver_id=finding.waiver_id,
            subject=facts.change.commit.subject if facts else "",
            landed_at=when(facts.change.landed_at) if facts else "",
            change=Link(finding.change_id, commit.href),
            commit=commit,
            request=request_link(scope, finding.change_request, facts.request_url if facts else ""),
            page=change_page(finding.change_id) if facts else "",
            resources=_resources(facts) if facts else "",
            request_note=request_note(facts) if facts else "",
        )

    def _exceptions(
        self, control_id: str, limit: int | None
    ) -> tuple[tuple[ExceptionView, ...], int]:
        """The first ``limit`` (all when None) exceptions, by status, landing time and change;
        and how many were left out."""
        order = {s: i for i, s in enumerate(EXCEPTION_STATUSES)}
        found = [f for f in self.findings_by_control.get(control_id, []) if f.status in order]
        found.sort(key=lambda f: (order[f.status], self._landed(f.change_id), f.change_id))
        shown = found[:limit]
        return tuple(self.exception(f) for f in shown), len(found) - len(shown)

    def _landed(self, change_id: str) -> str:
        facts = self.changes.get(change_id)
        return when(facts.change.landed_at) if facts else ""

    def _repository_results(self, control_id: str) -> tuple[RepositoryResultView, ...]:
        """The control's results that name a repository and no change, by repository."""
        found = [f for f in self.findings_by_control.get(control_id, []) if not f.change_id]
        return tuple(
            RepositoryResultView(
                repo=f.repo,
                status=f.status.value,
                reason=f.reason,
                commit=commit_link(self.scopes.get(f.repo), f.commit) if f.commit else Link(""),
                waiver_id=f.waiver_id,
            )
            for f in sorted(found, key=lambda f: (f.repo, f.commit))
        )

    def waiver(self, waiver: Waiver) -> WaiverView:
        scope = ", ".join(
            part
            for part in (
                f"change {waiver.change}" if waiver.change else "",
                f"request #{waiver.request}" if waiver.request is not None else "",
                f"paths {waiver.path}" if waiver.path else "",
            )
            if part
        )
        return WaiverView(
            id=waiver.id,
            control=waiver.control,
            owner=waiver.owner,
            ticket=waiver.ticket,
            reason=waiver.reason,
            approved_by=waiver.approved_by,
            expires=when(waiver.expires),
            applies_to=scope or "every change",
            expired=waiver.id in self.report.expired_waivers,
            unmatched=waiver.id in self.report.unmatched_waivers,
            used=self.waiver_uses[waiver.id],
        )

    def control(self, result: ControlResult, limit: int | None = None) -> ControlView:
        """The view of one control, listing its first ``limit`` exceptions (all when None)."""
        control = result.control
        exceptions, hidden = self._exceptions(control.id, limit)
        return ControlView(
            id=control.id,
            title=control.title,
            description=control.description,
            procedure=control.procedure,
            check=control.check,
            severity=control.severity.value,
            status=result.status.value,
            parameters=_parameters(control.parameters),
            overrides=tuple(
                OverrideView(_applies_to(o), _parameters(o.parameters), o.changes)
                for o in self.report.overrides
                if o.control_id == control.id
            ),
            source=control.source,
            refs=tuple(str(r) for r in control.refs(self.report.frameworks)),
            population=result.population,
            passed=result.passed,
            failed=result.failed,
            unknown=result.unknown,
            not_applicable=result.not_applicable,
            waived=result.waived,
            exceptions=exceptions,
            hidden_exceptions=hidden,
            repository_results=self._repository_results(control.id),
            population_unit=population_unit(control, self.findings_by_control),
            waivers=tuple(self.waiver(w) for w in self.report.waivers if w.control == control.id),
            anchor=f"control-{slug(control.id)}",
            page=control_page(control.id),
            timeline=self.timeline if control.check == PROTECTION_CHECK else (),
            bypass=self.bypass if control.check == PROTECTION_CHECK else (),
        )

    @cached_property
    def timeline(self) -> tuple[SnapshotView, ...]:
        """Every repository's protection snapshots, by repository, branch and time."""
        return tuple(
            SnapshotView(
                repo=scope.name,
                branch=s.branch,
                collected_at=when(s.collected_at),
                collection=s.collection.value,
                settings=tuple(s.settings.value(n) for n in SETTINGS) if s.settings else (),
                sources=", ".join(s.settings.sources) if s.settings else "",
                reason=s.reason,
            )
            for scope in self.report.repositories
            for s in scope.guard.snapshots
        )

    @cached_property
    def bypass(self) -> tuple[BypassView, ...]:
        """Who may bypass the rules, once per actor, mode and source over the timeline (at
        the last snapshot showing them)."""
        latest: dict[tuple[str, str, str, str, str], BypassView] = {}
        for scope in self.report.repositories:
            for s in scope.guard.snapshots:
                for a in s.bypass_actors:
                    key = (scope.name, s.branch, a.actor, a.mode, a.source)
                    latest[key] = BypassView(
                        scope.name, s.branch, when(s.collected_at), a.actor, a.kind, a.mode,
                        a.source,
                    )  # fmt: skip
        return tuple(latest[k] for k in sorted(latest))

    def checks(self, facts: ChangeFacts) -> tuple[tuple[CheckView, ...], str]:
        """The checks of ``facts``'s request, and why there are none where none were read."""
        scope = self.scopes.get(facts.repo)
        if scope is None or not scope.guard.configured or not facts.request_linked:
            return (), ""
        found = scope.guard.by_request.get(int(facts.request_number or 0))
        if found is None:
            return (), "not collected"
        if found.reason:
            return (), found.reason
        views = tuple(
            CheckView(
                name=r.name,
                kind=r.kind.value,
                app=r.app,
                commit=r.commit[:12],
                conclusion=r.conclusion.value,
                started_at=when(r.started_at),
                completed_at=when(r.completed_at),
                on_merge_commit=r.on_merge_commit,
                link=Link(r.name, safe_url(r.url)),
            )
            for r in found.runs
        )
        return views, "" if views else "none ran"

    @cached_property
    def uniform_controls(self) -> Mapping[str, Status]:
        """The controls that give every change of the report they apply to one and the same
        ``fail`` or ``unknown`` (e.g. unknown on all for want of review data, fail on all when
        no commit is signed), with that result: they tell no change from another, so the
        changes table's status leaves them out (see :meth:`table_status`)."""
        uniform: dict[str, Status] = {}
        for control_id, findings in self.findings_by_control.items():
            statuses = {f.status for f in findings if f.change_id} - {Status.NOT_APPLICABLE}
            if len(self.report.changes) > 1 and statuses in ({Status.FAIL}, {Status.UNKNOWN}):
                uniform[control_id] = statuses.pop()
        return uniform

    def table_status(self, findings: Sequence[Finding]) -> Status:
        """A change's status in the changes table: the worst result among the controls that
        tell changes apart (not :attr:`uniform_controls`); the worst of all when none does."""
        telling = [f.status for f in findings if f.control_id not in self.uniform_controls]
        return worst(telling) if telling else worst([f.status for f in findings])

    @cached_property
    def table_status_note(self) -> str:
        """How the changes table's status is derived, naming the controls it leaves out."""
        note = "Status is each change's worst result among the controls that tell changes apart."
        if not self.uniform_controls:
            return note
        left = ", ".join(
            f"{control_id} ({status_text(status)})"
            for control_id, status in sorted(self.uniform_controls.items())
        )
        return (
            f"{note} Left out, because they give every change the same result: {left}."
            " Each change's page lists all its results; the Control filter shows any one."
        )

    @cached_property
    def controls(self) -> tuple[ControlView, ...]:
        return tuple(self.control(r) for r in self.report.controls)

    @cached_property
    def frameworks(self) -> tuple[FrameworkView, ...]:
        views = []
        for name in self.report.frameworks:
            refs: defaultdict[str, list[ControlResult]] = defaultdict(list)
            for result in self.report.controls:
                for ref in result.control.refs((name,)):
                    refs[ref.ref].append(result)
            rows = tuple(
                FrameworkRow(
                    ref=ref,
                    status=worst([r.status for r in results]).value,
                    controls=tuple(Link(r.control.id, control_page(r.control.id)) for r in results),
                )
                for ref, results in sorted(refs.items())
            )
            status = worst([r.status for rs in refs.values() for r in rs]).value
            views.append(FrameworkView(name=name, status=status, rows=rows))
        return tuple(views)

    @cached_property
    def repositories(self) -> tuple[RepositoryView, ...]:
        return tuple(
            RepositoryView(
                name=r.name,
                remote=r.remote,
                path=r.path,
                branches=tuple(_branch(b) for b in r.branches),
                review_source=review_source_text(r.review_source),
                complete=r.complete,
                incomplete_reasons=r.incomplete_reasons,
                events=_event_text(r),
                identities=identities_text(r),
            )
            for r in self.report.repositories
        )


def _branch(branch: BranchScope) -> BranchView:
    if branch.head_at is None:  # a report from before heads were dated: the tip as mined
        return BranchView(branch.name, branch.head, "the tip as mined", "")
    landed = f", which landed {when(branch.head_landed_at)}" if branch.head_landed_at else ""
    text = (
        f"the last change at or before {when(branch.head_at)}{landed}"
        if branch.head
        else f"nothing had landed by {when(branch.head_at)}"
    )
    return BranchView(
        branch.name, branch.head, text, branch.tip if branch.tip != branch.head else ""
    )


RESOURCES_SHOWN = 5


def _parameters(parameters: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), parameter_text(v)) for k, v in sorted(parameters.items()))


def _applies_to(override: ParameterScope) -> str:
    """``repositories a, b; paths x/**`` — what an override is restricted to."""
    parts = []
    if override.repositories:
        parts.append(f"repositories {', '.join(override.repositories)}")
    if override.paths:
        parts.append(f"changes touching {', '.join(override.paths)}")
    return "; ".join(parts) or "every repository and path"


def _resources(facts: ChangeFacts) -> str:
    """The first resources a change added, removed or modified, for an exception's line."""
    touched = [f"{r.address} ({r.operation.value})" for f in facts.infra_files for r in f.changes]
    more = f" and {len(touched) - RESOURCES_SHOWN} more" if len(touched) > RESOURCES_SHOWN else ""
    return ", ".join(touched[:RESOURCES_SHOWN]) + more
