"""The store keeps every deployment it saw: de-duplicated, past the reconciler's limit, with the
span between two reads that no longer overlap recorded as a gap."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from deployfixtures import (
    REPO_URL,
    application,
    git_repository,
    history_entry,
    kube_list,
    kustomization,
    snapshot,
)

from auditor.deployments.collect import collect_deployments
from auditor.deployments.interface import DeploymentOptions
from auditor.ledger.store import Store

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def sha(n: int) -> str:
    return f"{n:040x}"


def export(tmp_path: Path, ids: range, *, limit: int = 10) -> Path:
    """An export whose history holds the entries ``ids`` (entry n deployed on day n)."""
    history = [history_entry(n, sha(n), f"2026-03-{n:02d}T10:00:00Z", automated=True) for n in ids]
    path = tmp_path / "apps.json"
    path.write_text(json.dumps(kube_list([application("web", history, history_limit=limit)])))
    return path


def collect(store: Store, path: Path, remote: str = REPO_URL):  # type: ignore[no-untyped-def]
    return collect_deployments(store, 1, remote, DeploymentOptions(files=(path,)), NOW)


def test_reads_accumulate_past_the_history_limit(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store") as store:
        first = collect(store, export(tmp_path, range(1, 4), limit=3))
        assert first.coverage_gaps[0].before == datetime(2026, 3, 1, 10, tzinfo=UTC)  # full
        collect(store, export(tmp_path, range(3, 6), limit=3))  # overlaps entry 3
        again = collect(store, export(tmp_path, range(3, 6), limit=3))  # the same read again
    assert [d.id for d in again.deployments] == ["1", "2", "3", "4", "5"]
    assert len(again.coverage_gaps) == 1  # only the beginning: no gap between the reads
    assert again.failures == ()


def test_a_read_that_no_longer_overlaps_records_the_gap(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store") as store:
        collect(store, export(tmp_path, range(1, 4)))  # 3 of at most 10: complete
        later = collect(store, export(tmp_path, range(11, 21)))  # entries 4-10 were lost
    assert [d.id for d in later.deployments][:4] == ["1", "2", "3", "11"]
    (gap,) = later.coverage_gaps
    assert gap.source == "argocd:argocd/web"
    assert gap.after == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert gap.before == datetime(2026, 3, 11, 10, tzinfo=UTC)
    assert gap.reason.startswith("7 deployment(s) happened between two reads")
    assert gap.detected_at == NOW


def test_deployments_of_other_repositories_are_left_out(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store") as store:
        history = collect(store, export(tmp_path, range(1, 3)), "git@github.com:acme/other.git")
    assert history.deployments == () and history.observations == ()
    assert history.notes == ("apps.json: 2 deployment(s) of other repositories left out",)


def test_unreadable_source_is_a_failure_named_by_source(tmp_path: Path) -> None:
    broken = tmp_path / "apps.json"
    broken.write_text('{"items": [')
    with Store.open(tmp_path / "store") as store:
        history = collect(store, broken)
    assert history.failures == (
        "apps.json: not valid JSON (truncated?) and not JSON Lines of deployments",
    )


def flux_export(tmp_path: Path, days: range) -> Path:
    """A Kustomization whose history holds a snapshot per day of ``days`` (newest first)."""
    history = [
        snapshot(sha(n), f"2026-03-{n:02d}T10:00:00Z", f"2026-03-{n:02d}T11:00:00Z")
        for n in reversed(days)
    ]
    path = tmp_path / "flux.json"
    path.write_text(json.dumps(kube_list([git_repository(), kustomization("prod", history)])))
    return path


def test_a_full_flux_history_seen_nowhere_before_records_the_gap(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store") as store:
        first = collect(store, flux_export(tmp_path, range(1, 4)))  # 3 of at most 5: complete
        assert first.coverage_gaps == ()
        collect(store, flux_export(tmp_path, range(2, 7)))  # overlaps days 2 and 3: no gap
        later = collect(store, flux_export(tmp_path, range(12, 17)))  # days 7 to 11 unseen
    assert [d.deployed_at.day for d in later.deployments] == [1, 2, 3, 4, 5, 6, 12, 13, 14, 15, 16]
    (gap,) = later.coverage_gaps
    assert gap.source == "flux:Kustomization/flux-system/prod"
    assert (gap.after, gap.before) == (
        datetime(2026, 3, 6, 10, tzinfo=UTC),
        datetime(2026, 3, 12, 10, tzinfo=UTC),
    )
    assert "none of them seen before" in gap.reason
