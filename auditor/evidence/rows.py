"""Ledger records → flat rows, keyed by the columns of :mod:`auditor.evidence.columns`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from auditor.evidence.tabular import iso_utc
from auditor.ledger.commits import BotPolicy
from auditor.ledger.contributors import display, merger
from auditor.model import (
    Change,
    ChangeFacts,
    Commit,
    ControlResult,
    CustodyLink,
    Finding,
    Identity,
    SignatureKind,
    SignatureStatus,
)

if TYPE_CHECKING:
    from auditor.ledger.analysis import ChangeAnalysis


def change_id(repo: str, sha: str) -> str:
    """The stable identifier of a change: repository name and abbreviated landing commit."""
    return f"{repo}@{sha[:12]}"


def signature_status(kind: SignatureKind) -> SignatureStatus:
    return SignatureStatus.UNSIGNED if kind is SignatureKind.NONE else SignatureStatus.UNVERIFIED


def _people(commit: Commit) -> dict[str, Any]:
    author, committer = commit.author, commit.committer
    return {
        "authored_at": iso_utc(author.when),
        "author_name": author.identity.name,
        "author_email": author.identity.email,
        "author_raw_name": author.identity.raw_name,
        "author_raw_email": author.identity.raw_email,
        "committed_at": iso_utc(committer.when),
        "committer_name": committer.identity.name,
        "committer_email": committer.identity.email,
        "committer_raw_name": committer.identity.raw_name,
        "committer_raw_email": committer.identity.raw_email,
        "signature": signature_status(commit.signature).value,
        "signature_kind": commit.signature.value,
        "is_bot": commit.is_bot,
        "parents": list(commit.parents),
        "trailers": [f"{t.key}: {t.value}" for t in commit.trailers],
        "commit_notes": list(commit.notes),
    }


def change_row(
    repo: str,
    change: Change,
    analysis: ChangeAnalysis | None = None,
    contributors: Sequence[Identity] = (),
    bots: BotPolicy | None = None,
) -> dict[str, Any]:
    """The ledger's row of a change; ``is_bot`` when ``bots`` match all its ``contributors``
    (without them, the landing commit's author)."""
    commit = change.commit
    found = merger(commit)
    return {
        "repo": repo,
        "change_id": change_id(repo, commit.sha),
        "commit": commit.sha,
        "branch": change.branch,
        **_people(commit),
        "landed_at": iso_utc(change.landed_at),
        "subject": commit.subject,
        "files_changed": len(change.files),
        "lines_added": change.lines_added,
        "lines_deleted": change.lines_deleted,
        "change_request": change.request.number if change.request else None,
        "change_request_url": "",
        "approvers": [],
        "merged_by": display(found) if found else "",
        "contributors": [display(c) for c in contributors],
        "is_bot": bool(contributors) and all(map(bots.matches, contributors))
        if bots
        else commit.is_bot,
        "categories": sorted(analysis.categories) if analysis else [],
        "environments": sorted(analysis.environments) if analysis else [],
        "is_merge": commit.is_merge,
        "co_authors": list(commit.trailer_values("Co-authored-by")),
        "paths": [f.path for f in change.files],
        "rewritten": iso_utc(change.rewritten),  # when found rewritten away; empty: on the branch
    }


def facts_row(facts: ChangeFacts) -> dict[str, Any]:
    """The change row completed with its review: request, its URL, approvers, merger."""
    row = change_row(facts.repo, facts.change)
    request = facts.request_number
    row.update(
        change_request=request if request is not None else row["change_request"],
        change_request_url=facts.request_url,
        approvers=[a.reviewer.display for a in facts.approvals],
        merged_by=facts.merged_by.display if facts.merged_by else "",
        contributors=[display(c) for c in facts.contributors],
        is_bot=facts.is_bot_change,
        categories=sorted(facts.categories),
        environments=sorted(facts.environments),
        review_evidence=facts.evidence.value,
    )
    verdict = next((v for v in facts.signatures if v.commit == facts.change.sha), None)
    if verdict is not None and verdict.verified:
        row["signature"] = SignatureStatus.VERIFIED.value
    return row


def commit_row(repo: str, branch: str, commit: Commit, link: CustodyLink) -> dict[str, Any]:
    return {
        "repo": repo,
        "commit": commit.sha,
        "change_id": change_id(repo, link.change),
        "change_commit": link.change,
        "branch": branch,
        **_people(commit),
        "subject": commit.subject,
    }


def resource_rows(repo: str, change: Change, analysis: ChangeAnalysis) -> list[dict[str, Any]]:
    """One row per resource, object or value a change added, removed or modified."""
    commit = change.commit
    return [
        {
            "repo": repo,
            "change_id": change_id(repo, commit.sha),
            "commit": commit.sha,
            "landed_at": iso_utc(change.landed_at),
            "author_name": commit.author.identity.name,
            "author_email": commit.author.identity.email,
            "path": file.path,
            "file_kind": file.kind.value,
            "environment": file.environment or "",
            "address": resource.address,
            "resource_kind": resource.kind.value,
            "type": resource.type,
            "operation": resource.operation.value,
            "changed_attributes": [str(a) for a in resource.changed_attributes],
            "categories": sorted(c.value for c in resource.categories),
        }
        for file, resource in analysis.resources
    ]


def finding_rows(
    findings: Iterable[Finding],
    changes: Iterable[ChangeFacts],
    results: Iterable[ControlResult],
    *,
    joined: bool = True,
) -> Iterator[dict[str, Any]]:
    """The ``findings.csv`` rows of ``findings``, completed from their changes and controls;
    ``framework_refs`` joined with ``;`` as a CSV cell, or (not ``joined``) a list, for JSON."""
    by_id = {f.change_id: f for f in changes}
    titles = {r.control.id: r.control.title for r in results}
    # A control's references, spelled once: found by the identity of the reference records
    # (shared by a control's findings), each entry keeping its tuple so the ids stay theirs.
    refs: dict[tuple[int, ...], tuple[tuple[Any, ...], str | list[str]]] = {}
    landed: dict[str, tuple[str, str]] = {}  # change id → (landed_at, request URL), once
    for finding in findings:
        key = tuple(map(id, finding.framework_refs))
        known = refs.get(key)
        if known is None:
            names = [str(r) for r in finding.framework_refs]
            known = refs[key] = (finding.framework_refs, ";".join(names) if joined else names)
        change = landed.get(finding.change_id)
        if change is None:
            facts = by_id.get(finding.change_id)
            change = landed[finding.change_id] = (
                (iso_utc(facts.change.landed_at), facts.request_url) if facts else ("", "")
            )
        yield {
            "control_id": finding.control_id,
            "framework_refs": known[1],  # joined as csv_cell would join the list
            "repo": finding.repo,
            "change_id": finding.change_id,
            "commit": finding.commit,
            "change_request": finding.change_request,
            "status": finding.status.value,
            "reason": finding.reason,
            "waiver_id": finding.waiver_id,
            "severity": finding.severity.value,
            "landed_at": change[0],
            "change_request_url": change[1],
            "control_title": titles.get(finding.control_id, ""),
        }
