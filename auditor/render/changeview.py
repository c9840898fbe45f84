"""View models of single changes: the HTML change page, the PDF sample and the table rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.evidence.deploys import runs_by_change
from auditor.evidence.rows import signature_status
from auditor.ledger.contributors import display
from auditor.model import ChangeFacts, FileChange, Finding, Person
from auditor.render.text import cell, visible, when
from auditor.render.views import (
    CheckView,
    Link,
    ReportView,
    change_page,
    commit_link,
    control_page,
    request_link,
    request_note,
    worst,
)


@dataclass(frozen=True)
class FileView:
    path: str
    old_path: str
    change_type: str
    lines_added: int
    lines_deleted: int


@dataclass(frozen=True)
class TimelineEvent:
    at: str
    what: str
    who: str


@dataclass(frozen=True)
class FindingView:
    control_id: str
    control_page: str
    status: str
    reason: str
    waiver_id: str


@dataclass(frozen=True)
class CommitView:
    commit: Link
    subject: str
    author: str
    authored_at: str
    signature: str


@dataclass(frozen=True)
class ResourceView:
    """One infrastructure resource, object or value the change added, removed or modified."""

    path: str
    address: str
    kind: str
    operation: str
    attributes: tuple[str, ...]  # "spec.replicas: 3 → 6", whole values


@dataclass(frozen=True)
class RunView:
    """Where the change first ran: one per deployment source."""

    system: str
    environment: str
    deployed_at: str
    lead_time: str
    source: str


@dataclass(frozen=True)
class ChangeView:
    change_id: str
    repo: str
    sha: str
    branch: str
    subject: str
    body: str
    page: str
    status: str
    commit: Link
    request: Link
    request_note: str
    request_title: str
    contributors: tuple[str, ...]  # "Name <email>", as changes.csv spells them
    committers: tuple[str, ...]
    approvers: tuple[str, ...]
    merged_by: str
    landed_at: str
    rewritten: str  # when a rewrite of the branch was found to have dropped it; "" if not
    categories: tuple[str, ...]
    environments: tuple[str, ...]
    labels: tuple[str, ...]
    evidence: str
    signature: str
    lines_added: int
    lines_deleted: int
    files: tuple[FileView, ...]
    resources: tuple[ResourceView, ...]
    timeline: tuple[TimelineEvent, ...]
    findings: tuple[FindingView, ...]
    commits: tuple[CommitView, ...]
    notes: tuple[str, ...]
    unresolved: tuple[str, ...]
    deployments: tuple[RunView, ...] = ()
    deployment_note: str = ""  # "" when no deployment records were given for its repository
    checks: tuple[CheckView, ...] = ()  # the automated checks of its request
    checks_note: str = ""  # why none are listed ("" when no forge gave guard data)


def _names(people: tuple[Person, ...]) -> tuple[str, ...]:
    return tuple(p.display for p in people)


def _file(change: FileChange) -> FileView:
    return FileView(
        path=change.path,
        old_path=change.old_path or "",
        change_type=change.change_type.value,
        lines_added=change.lines_added,
        lines_deleted=change.lines_deleted,
    )


def _timeline(facts: ChangeFacts) -> tuple[TimelineEvent, ...]:
    commit = facts.change.commit
    what = "merge commit " if commit.is_merge else ""  # its author merged; others wrote
    events = [
        (commit.author.when, f"{what}authored", commit.author.identity.name),
        (commit.committer.when, f"{what}committed", commit.committer.identity.name),
    ]
    for approval in facts.approvals:
        if approval.at is not None:
            independence = "independent" if approval.independent else "not independent"
            events.append((approval.at, f"approved ({independence})", approval.reviewer.display))
    if facts.merged_at is not None:
        merger = facts.merged_by.display if facts.merged_by else ""
        events.append((facts.merged_at, "merged", merger))
    events.sort(key=lambda e: e[0])
    return tuple(TimelineEvent(when(at), what, who) for at, what, who in events)


class ChangeViews:
    """Builds change views over one :class:`ReportView`."""

    def __init__(self, view: ReportView) -> None:
        self.view = view
        self.runs = runs_by_change(view.report.change_runs)
        self.deployed_repos = set(view.report.deployment_repos)

    def _findings(self, facts: ChangeFacts) -> list[Finding]:
        return self.view.findings_by_change.get(facts.change_id, [])

    def change(self, facts: ChangeFacts) -> ChangeView:
        scope = self.view.scopes.get(facts.repo)
        change, commit = facts.change, facts.change.commit
        findings = self._findings(facts)
        return ChangeView(
            change_id=facts.change_id,
            repo=facts.repo,
            sha=change.sha,
            branch=change.branch,
            subject=commit.subject,
            body=commit.body,
            page=change_page(facts),
            status=worst([f.status for f in findings]).value,
            commit=commit_link(scope, change.sha),
            request=request_link(scope, facts.request_number, facts.request_url),
            request_note=request_note(facts),
            request_title=facts.request_title,
            contributors=tuple(map(display, facts.contributors)),
            committers=_names(facts.committers) or (commit.committer.identity.name,),
            approvers=tuple(a.reviewer.display for a in facts.approvals),
            merged_by=facts.merged_by.display if facts.merged_by else "",
            landed_at=when(change.landed_at),
            rewritten=when(change.rewritten),
            categories=tuple(sorted(facts.categories)),
            environments=tuple(sorted(facts.environments)),
            labels=facts.labels,
            evidence=facts.evidence.value,
            signature=signature_status(commit.signature).value,
            lines_added=change.lines_added,
            lines_deleted=change.lines_deleted,
            files=tuple(_file(f) for f in change.files),
            resources=tuple(
                ResourceView(
                    path=analysed.path,
                    address=r.address,
                    kind=r.kind.value,
                    operation=r.operation.value,
                    attributes=tuple(str(a) for a in r.changed_attributes),
                )
                for analysed in facts.infra_files
                for r in analysed.changes
            ),
            timeline=_timeline(facts),
            checks=self.view.checks(facts)[0],
            checks_note=self.view.checks(facts)[1],
            findings=tuple(
                FindingView(
                    control_id=f.control_id,
                    control_page=control_page(f.control_id),
                    status=f.status.value,
                    reason=f.reason,
                    waiver_id=f.waiver_id,
                )
                for f in findings
            ),
            commits=tuple(
                CommitView(
                    commit=commit_link(scope, c.sha),
                    subject=c.subject,
                    author=c.author.identity.name,
                    authored_at=when(c.author.when),
                    signature=signature_status(c.signature).value,
                )
                for c in facts.commits
            ),
            notes=(
                *facts.notes,
                *(f"commit {c.sha[:12]}: {note}" for c in facts.commits for note in c.notes),
            ),
            unresolved=facts.unresolved,
            deployments=tuple(
                RunView(
                    r.system,
                    r.environment,
                    when(r.deployed_at),
                    lead_time(r.lead_time_minutes),
                    r.source,
                )
                for r in sorted(self.runs.get(facts.change_id, []), key=lambda r: r.deployed_at)
            ),
            deployment_note=self._deployment_note(facts),
        )

    def _deployment_note(self, facts: ChangeFacts) -> str:
        if facts.repo not in self.deployed_repos:
            return ""
        if facts.change_id in self.runs:
            return "ran where listed: the first deployment of each system that carried it"
        return "not deployed by the end of the period: no deployment record carries it"

    def table_row(self, facts: ChangeFacts) -> dict[str, Any]:
        """One row of the HTML changes table (made visible here: the browser shows it as text)."""
        findings = self._findings(facts)
        commit = facts.change.commit
        return {
            "id": visible(facts.change_id),
            "repo": visible(facts.repo),
            "at": when(facts.change.landed_at),
            "author": _cell("; ".join(c.name for c in facts.contributors)),
            "subject": _cell(commit.subject),
            "req": facts.request_number,
            "cats": [visible(c) for c in sorted(facts.categories)],
            "st": self.view.table_status(findings).value,
            "ctl": {f.control_id: f.status.value for f in findings},
            "page": change_page(facts),
        }


def lead_time(minutes: int) -> str:
    """``1 d 2 h 5 min`` from landing on the branch to running."""
    hours, rest = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{rest} min"]
    return " ".join(p for p in parts if p)


def _cell(text: str) -> str:
    """A text as the changes table shows (and searches) it: capped, then made visible."""
    return visible(str(cell(text)))
