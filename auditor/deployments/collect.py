"""Deployments of one audited repository: this run's reads kept in the store, then everything
the store holds, with the spans no read covered.

Each read adds what it holds, de-duplicated by source and id, so the store's history grows past
the reconciler's own limit (Argo CD keeps 10 entries per application, Flux 5 per object). When a
read no longer overlaps the store's last one (its oldest entry is newer than the newest stored,
and Argo CD's history ids skip, or the read is full), the deployments between are lost: the span
is recorded as a gap with its dates. A source read for the first time whose history is full may
have lost older ones: what the store holds of it begins at its oldest entry.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from auditor.deployments.fields import repo_key
from auditor.deployments.interface import (
    CoverageGap,
    Deployment,
    DeploymentError,
    DeploymentHistory,
    DeploymentOptions,
    DeploymentRead,
    DeploymentSourceKind,
    Observation,
)
from auditor.deployments.read import read_argocd_api, read_deployments_file
from auditor.ledger.store import Store


def collect_deployments(
    store: Store, repo_id: int, remote: str, options: DeploymentOptions, now: datetime
) -> DeploymentHistory:
    """Read every source of ``options``, keep what belongs to the repository at ``remote`` in
    the store, and return what the store then holds."""
    failures: list[str] = []
    notes: list[str] = []
    origins: list[str] = []
    reads: list[DeploymentRead] = []
    for path in options.files:
        origins.append(path.name)
        try:
            reads.append(read_deployments_file(path))
        except DeploymentError as err:
            failures.append(str(err))
    for url in options.argocd_urls:
        origins.append(url)
        try:
            reads.append(read_argocd_api(url))
        except DeploymentError as err:
            failures.append(str(err))
    ours = repo_key(remote) if remote else ""
    for read in reads:
        notes += read.notes
        kept, failed, foreign = _ours(read, ours, options.unnamed_are_ours)
        failures += failed
        if foreign:
            notes.append(f"{read.origin}: {foreign} deployment(s) of other repositories left out")
        _keep(store, repo_id, read, kept, now)
    return stored_history(store, repo_id, failures=failures, origins=origins, notes=notes)


def stored_history(
    store: Store,
    repo_id: int,
    *,
    failures: Sequence[str] = (),
    origins: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> DeploymentHistory:
    deployments = tuple(decode_deployment(r) for r in store.deployment_records(repo_id))
    observations = tuple(decode_observation(r) for r in store.observation_records(repo_id))
    gaps = [
        CoverageGap(source, _utc(after), _utc(before), reason, _utc(found))
        for source, after, before, found, reason in store.deployment_gaps(repo_id)
    ]
    for source, start in sorted(store.deployment_coverage(repo_id).items()):
        if start is not None:
            gaps.append(
                CoverageGap(
                    source,
                    None,
                    _utc(start),
                    "the first read held only the source's last entries; earlier deployments"
                    " are not known",
                )
            )
    return DeploymentHistory(
        deployments,
        observations,
        tuple(sorted(gaps, key=lambda g: (g.source, g.before))),
        tuple(failures),
        tuple(origins),
        tuple(notes),
    )


def _ours(
    read: DeploymentRead, ours: str, unnamed_are_ours: bool
) -> tuple[list[Deployment], list[str], int]:
    """The deployments of ``read`` from the repository ``ours``; lines naming no repository
    where they cannot be told; how many name another repository."""
    kept: list[Deployment] = []
    failures: list[str] = []
    foreign = 0
    unnamed = 0
    for d in read.deployments:
        if not d.repo_url:
            if unnamed_are_ours:
                kept.append(d)
            else:
                unnamed += 1
        elif ours and repo_key(d.repo_url) == ours:
            kept.append(d)
        else:
            foreign += 1
    if unnamed:
        failures.append(
            f"{read.origin}: {unnamed} deployment(s) name no repository (key repo) and several"
            " repositories are audited"
        )
    return kept, failures, foreign


def _keep(
    store: Store, repo_id: int, read: DeploymentRead, kept: Sequence[Deployment], now: datetime
) -> None:
    by_source: dict[str, list[Deployment]] = defaultdict(list)
    for d in kept:
        by_source[d.source].append(d)
    limits = dict(read.limits)
    for source, entries in sorted(by_source.items()):
        seen_before, _ = store.deployment_source(repo_id, source)
        stored = store.deployment_keys(repo_id, source)
        limit = limits.get(source)
        full = limit is not None and len({d.seq or d.id for d in entries}) >= limit
        oldest = min(entries, key=lambda d: d.deployed_at)
        gap = _gap(entries, stored, full, read.kind, now) if seen_before and stored else None
        store.add_deployments(
            repo_id,
            source,
            ((d.id, _epoch(d.deployed_at), d.seq, encode(d)) for d in entries),
            covered_from=_epoch(oldest.deployed_at) if full else None,
            first_read=not seen_before,
            gap=gap,
        )
    for seen in read.observations:
        if seen.source in by_source or (seen.repo_url and _any_ours(seen, kept)):
            store.add_observation(repo_id, seen.source, _epoch(seen.observed_at), encode(seen))


def _any_ours(seen: Observation, kept: Sequence[Deployment]) -> bool:
    urls = {repo_key(d.repo_url) for d in kept if d.repo_url}
    return any(repo_key(u) in urls for u in seen.repo_url.split(";"))


def _gap(
    entries: Sequence[Deployment],
    stored: Sequence[tuple[str, int, int | None]],
    full: bool,
    kind: DeploymentSourceKind,
    now: datetime,
) -> tuple[int, int, int, str] | None:
    """The span between the store's newest entry of a source and the read's oldest, when the
    deployments between may be lost."""
    if kind is DeploymentSourceKind.PIPELINE:
        return None  # a pipeline's file only grows: nothing is dropped from it
    ids = {i for i, _, _ in stored}
    if any(d.id in ids for d in entries):
        return None  # the read overlaps what the store holds
    newest_at = max(at for _, at, _ in stored)
    oldest = min(entries, key=lambda d: (d.deployed_at, d.seq or 0))
    if _epoch(oldest.deployed_at) <= newest_at:
        return None
    seqs = [s for _, _, s in stored if s is not None]
    if seqs and oldest.seq is not None:
        lost = oldest.seq - max(seqs) - 1
        if lost <= 0:
            return None
        reason = f"{lost} deployment(s) happened between two reads and are not known"
    elif full:
        reason = "the read held only the source's last entries, none of them seen before"
    else:
        return None
    return (newest_at, _epoch(oldest.deployed_at), _epoch(now), reason)


# -- records as JSON in the store ----------------------------------------------------------------


def encode(record: Deployment | Observation) -> str:
    data = {k: v for k, v in asdict(record).items() if k != "origin"}
    return json.dumps(data, sort_keys=True, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(type(value).__name__)


def decode_deployment(text: str) -> Deployment:
    data = json.loads(text)
    for key in ("deployed_at", "started_at"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    data["revisions"] = tuple(data.get("revisions", ()))
    return Deployment(**_known(Deployment, data))


def decode_observation(text: str) -> Observation:
    data = json.loads(text)
    for key in ("observed_at", "out_of_sync_since"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    return Observation(**_known(Observation, data))


def _known(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def in_period(
    items: Iterable[Deployment], since: datetime | None, until: datetime | None
) -> list[Deployment]:
    return [
        d
        for d in items
        if (since is None or d.deployed_at >= since) and (until is None or d.deployed_at <= until)
    ]
