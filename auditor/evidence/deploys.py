"""A repository's deployments joined to its ledger, as the report's records and table rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from auditor.evidence.report import ChangeRun, DeploymentCoverage, DeploymentItem
from auditor.evidence.tabular import iso_utc

if TYPE_CHECKING:
    from auditor.deployments.join import RepoDeployments

DEPLOYMENT_CHECKS = ("deployed-approved", "no-drift")
"""The checks whose findings are one per deployment (DEP-01, DEP-02)."""


def _cid(repo: str, sha: str) -> str:
    return f"{repo}@{sha[:12]}" if sha else ""


def deployment_items(repo: str, joined: RepoDeployments) -> tuple[DeploymentItem, ...]:
    return tuple(
        DeploymentItem(
            repo=repo,
            source=d.source,
            id=d.id,
            system=d.system,
            environment=d.environment,
            revision=d.revision,
            commit=p.commit,
            change_id=_cid(repo, p.change),
            deployed_at=d.deployed_at,
            actor=d.actor,
            automated=d.automated,
            kind=d.kind,
            forced=d.forced,
            on_branch=p.on_branch,
            url=d.url,
            brought=tuple(_cid(repo, sha) for sha in p.brought),
            until=p.until,
        )
        for p in joined.placed
        for d in (p.deployment,)
    )


def change_runs(repo: str, joined: RepoDeployments) -> tuple[ChangeRun, ...]:
    return tuple(
        ChangeRun(
            change_id=_cid(repo, sha),
            source=r.source,
            system=r.system,
            environment=r.environment,
            deployed_at=r.deployed_at,
            lead_time_minutes=max(int(r.lead_time.total_seconds() // 60), 0),
        )
        for sha, runs in sorted(joined.by_change.items())
        for r in runs
    )


def coverage(repo: str, joined: RepoDeployments) -> tuple[DeploymentCoverage, ...]:
    by_source: dict[str, list[Any]] = defaultdict(list)
    for d in joined.history.deployments:
        by_source[d.source].append(d.deployed_at)
    gaps: dict[str, list[Any]] = defaultdict(list)
    for g in joined.history.coverage_gaps:
        gaps[g.source].append((g.after, g.before, g.reason))
    return tuple(
        DeploymentCoverage(
            repo,
            source,
            min(times) if times else None,
            max(times) if times else None,
            len(times),
            tuple(gaps[source]),
        )
        for source in sorted(set(by_source) | set(gaps))
        for times in (by_source[source],)
    )


def runs_by_change(runs: Iterable[ChangeRun]) -> dict[str, list[ChangeRun]]:
    out: dict[str, list[ChangeRun]] = defaultdict(list)
    for run in runs:
        out[run.change_id].append(run)
    return out


def deployment_cells(runs: Sequence[ChangeRun] | None) -> dict[str, Any]:
    """The change table's deployment columns: empty when no deployment records were given."""
    if runs is None:
        return {}
    if not runs:
        return {"deployment_status": "not_deployed"}
    first = min(runs, key=lambda r: r.deployed_at)
    return {
        "deployment_status": "deployed",
        "deployed_to": [
            f"{r.system} ({r.environment})" if r.environment else r.system
            for r in sorted(runs, key=lambda r: (r.deployed_at, r.source))
        ],
        "first_deployed_at": iso_utc(first.deployed_at),
        "lead_time_minutes": first.lead_time_minutes,
    }


def deployment_row(item: DeploymentItem) -> dict[str, Any]:
    """One row of ``deployments.csv``."""
    return {
        "repo": item.repo,
        "system": item.system,
        "environment": item.environment,
        "revision": item.revision,
        "change_id": item.change_id,
        "deployed_at": iso_utc(item.deployed_at),
        "actor": item.actor,
        "automated": item.automated,
        "source": item.source,
        "record_id": item.id,
        "kind": item.kind,
        "forced": item.forced,
        "on_branch": item.on_branch,
        "commit": item.commit,
        "changes_brought": list(item.brought),
        "replaced_at": iso_utc(item.until),
        "url": item.url,
    }


def cells_for(
    change_id: str, repo: str, given: Iterable[str], runs: Mapping[str, Sequence[ChangeRun]]
) -> dict[str, Any]:
    """The deployment columns of one change of ``repo``: its runs when ``repo``'s records
    were ``given``, else nothing."""
    if repo not in set(given):
        return {}
    return deployment_cells(runs.get(change_id, ()))
