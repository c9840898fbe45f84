"""Collect a branch's protection snapshot and its merged requests' checks into the store.

Each collection adds one snapshot per branch (the store keeps them all: the timeline). Checks
are read only for merged requests the store has none for, whose head changed, or whose checks
were not read or had not finished: a re-run with nothing new asks for the snapshot only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import git
from auditor.errors import DefinitionError
from auditor.guard.interface import Collection, GuardData, RequestChecks, pending, stamp
from auditor.guard.sources import FORGES, read_raw
from auditor.ledger.store import Store
from auditor.reviews import forge_client
from auditor.reviews.collect import (
    ForgeOptions,
    ReviewExport,
    StoreCache,
    export_reviews,
    forge_remote,
)
from auditor.reviews.forges import FORGES as REGISTRY
from auditor.reviews.http import ForgeClient
from auditor.reviews.interface import ChangeRequest, Forge, Payload, PayloadError
from auditor.reviews.offline import with_guard


def collect_branch(
    store: Store,
    repo_id: int,
    remote_url: str,
    branch: str,
    options: ForgeOptions,
    requests: Sequence[ChangeRequest] | None,
    *,
    now: datetime | None = None,
) -> GuardData:
    """The guard data of ``branch`` from where its review data comes from: its forge (a
    snapshot taken at ``now``, default the current time, and the missing checks of
    ``requests``, into the store), its reviews file, or nowhere (no forge)."""
    if options.reviews_file is not None:
        document = read_document(options.reviews_file)
        forge = Forge(document["forge"])
        return offline_guard(options.reviews_file, forge, document, branch, requests or ())
    if options.forge is None:
        return GuardData()
    forge = options.forge
    remote = forge_remote(remote_url, options, forge)
    token = os.environ.get(REGISTRY[forge].token_variable) or None
    with forge_client(
        forge, remote, base_url=options.forge_url, token=token, cache=StoreCache(store)
    ) as client:
        return collect_guard(
            store, repo_id, forge, client, remote.path, branch, requests or (),
            now or datetime.now(UTC),
        )  # fmt: skip


def export_with_guard(
    store: Store,
    path: Path,
    branches: Sequence[str],
    options: ForgeOptions,
    *,
    exported_at: datetime,
    now: datetime | None = None,
) -> ReviewExport:
    """:func:`export_reviews`, the document also carrying every protection snapshot of the
    branches (one more taken now) and the checks of their merged requests."""
    exported = export_reviews(store, path, branches, options, exported_at=exported_at)
    facts = git.inspect(path)
    repo_id = store.upsert_repository(facts)
    forge = Forge(exported.document["forge"])  # export_reviews refused no forge
    for name, review in zip(exported.branches, exported.reviews, strict=True):
        collect_branch(store, repo_id, facts.remote_url, name, options, review.requests, now=now)
    snapshots, checks = export_raw(store, repo_id, forge, exported.branches)
    return replace(exported, document=with_guard(exported.document, snapshots, checks))


def collect_guard(
    store: Store,
    repo_id: int,
    forge: Forge,
    client: ForgeClient,
    repository: str,
    branch: str,
    requests: Iterable[ChangeRequest],
    now: datetime,
) -> GuardData:
    """Add ``branch``'s snapshot at ``now`` and the missing checks of ``requests`` (the
    branch's merged requests) to the store; return the branch's whole guard data."""
    module = FORGES[forge]
    name = REGISTRY[forge].name
    gaps: list[str] = []
    raw = module.collect_snapshot(client, repository, branch, now)
    try:
        snapshot = module.parse_snapshot(Payload.of(raw, ""))
    except PayloadError as err:
        gaps.append(f"{name} sent an unexpected branch protection payload for {branch}: {err}")
    else:
        if snapshot.collection is not Collection.COLLECTED:
            gaps.append(snapshot.reason)
        with store.transaction():
            store.add_snapshot(repo_id, forge.value, branch, stamp(now), raw)
    merged = [r for r in requests if r.merged_at is not None]
    stored = store.request_checks(repo_id, forge.value)
    wanted = [r for r in merged if _stale(forge, stored.get(int(r.number)), r.head_sha)]
    fetched = []
    for request, raw_checks in zip(
        wanted,
        client.map(lambda r: module.collect_checks(client, repository, r), wanted),
        strict=True,
    ):
        try:
            checks = module.parse_checks(Payload.of(raw_checks, ""))
        except PayloadError as err:
            gaps.append(f"{name} sent an unexpected checks payload for #{request.number}: {err}")
            continue
        if checks.collection is not Collection.COLLECTED:
            gaps.append(f"request #{request.number}: {checks.reason}")
        fetched.append((int(request.number), request.head_sha, raw_checks))
    with store.transaction():
        store.add_request_checks(repo_id, forge.value, fetched)
    return stored_guard(store, repo_id, forge, branch, merged, tuple(gaps))


def stored_guard(
    store: Store,
    repo_id: int,
    forge: Forge,
    branch: str,
    requests: Sequence[ChangeRequest],
    gaps: tuple[str, ...] = (),
) -> GuardData:
    """The guard data the store holds for ``branch`` and ``requests``."""
    stored = store.request_checks(repo_id, forge.value)
    numbers = sorted({int(r.number) for r in requests} & set(stored))
    snapshots, checks = read_raw(
        forge, store.snapshots(repo_id, forge.value, branch), [stored[n][1] for n in numbers]
    )
    return GuardData(forge.value, tuple(snapshots), tuple(checks), gaps, (branch,))


def _stale(forge: Forge, stored: tuple[str, dict[str, Any]] | None, head: str) -> bool:
    if stored is None or stored[0] != head:
        return True
    try:
        return pending(FORGES[forge].parse_checks(Payload.of(stored[1], "")))
    except PayloadError:
        return True


def offline_guard(
    path: Path, forge: Forge, document: dict[str, Any], branch: str, requests: Sequence[Any]
) -> GuardData:
    """The guard data an export document holds for ``branch`` and ``requests``; errors name
    the file and key. A document without ``protection`` or ``checks`` (exported before auditor
    collected them) holds none: the controls that need them say so."""
    try:
        top = Payload.of(document, "")
        snapshots_raw = top.items("protection") if "protection" in document else []
        checks_raw = top.items("checks") if "checks" in document else []
        snapshots, checks = read_raw(forge, snapshots_raw, checks_raw)
    except PayloadError as err:
        raise DefinitionError(f"{path}: {err.key}: {err.problem}") from None
    numbers = {int(r.number) for r in requests}
    return GuardData(
        f"offline:{path.name}",
        tuple(sorted((s for s in snapshots if s.branch == branch), key=lambda s: s.collected_at)),
        tuple(sorted((c for c in checks if int(c.number) in numbers), key=lambda c: c.number)),
        (),
        (branch,),
    )


def export_raw(
    store: Store, repo_id: int, forge: Forge, branches: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The raw snapshots of ``branches`` and every request's raw checks, for an export."""
    snapshots = [
        raw for branch in branches for raw in store.snapshots(repo_id, forge.value, branch)
    ]
    checks = [raw for _, raw in store.request_checks(repo_id, forge.value).values()]
    return snapshots, checks


def read_document(path: Path) -> dict[str, Any]:
    """The export document at ``path`` (already validated by the review reader)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DefinitionError(f"{path}: cannot read ({err})") from None
    if not isinstance(data, dict):
        raise DefinitionError(f"{path}: expected an object")
    return data


def requests_checks(data: GuardData, number: int | None) -> RequestChecks | None:
    return None if number is None else data.by_request.get(number)
