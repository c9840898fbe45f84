"""Reading deployments: Argo CD, Flux and JSON Lines files told apart by content, validated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deployfixtures import (
    REPO_URL,
    application,
    git_repository,
    history_entry,
    kube_list,
    kustomization,
    multi_source_application,
    operation_state,
    snapshot,
)

from auditor.deployments.fields import repo_key
from auditor.deployments.interface import DeploymentError, DeploymentSourceKind
from auditor.deployments.read import read_deployments_file
from auditor.outcome import Outcome

A, B, C = "a" * 40, "b" * 40, "c" * 40
LINE = '{"system": "s", "environment": "e", "revision": "x", "deployed_at": "2026-03-02T10:15:00Z"'


def line(extra: str = "", **replace: str) -> str:
    text = LINE
    for key, value in replace.items():
        text = text.replace(key, value)
    return text + extra + "}\n"


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def test_argocd_history_entries_are_deployments(tmp_path: Path) -> None:
    app = application(
        "payments",
        [
            history_entry(7, A, "2026-03-01T10:00:05Z", automated=True),
            history_entry(8, B, "2026-03-02T11:00:09Z", started_at="2026-03-02T11:00:00Z",
                          username="alice@example.com"),
        ],
        operation=operation_state(B, "2026-03-02T11:00:00Z", "2026-03-02T11:00:09Z",
                                  username="alice@example.com", force=True),
    )  # fmt: skip
    read = read_deployments_file(write(tmp_path, "apps.json", kube_list([app])))
    assert read.kind is DeploymentSourceKind.ARGOCD
    first, second = read.deployments
    assert (first.source, first.id, first.revision) == ("argocd:argocd/payments", "7", A)
    assert first.automated is True and first.actor == "" and not first.forced
    assert first.deployed_at == datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
    assert first.repo_url == REPO_URL and first.path == "k8s/payments"
    assert first.environment == "https://kubernetes.default.svc/payments"
    # the last operation was forced: the entry it wrote (same start) says so
    assert second.actor == "alice@example.com" and second.automated is None
    assert second.forced and second.seq == 8
    assert read.limits == (("argocd:argocd/payments", 10),)
    (seen,) = read.observations
    assert seen.in_sync is True and seen.automated is True and seen.self_heal is True


def test_argocd_replace_sync_and_switched_off_automation(tmp_path: Path) -> None:
    app = application(
        "web",
        [history_entry(1, A, "2026-03-01T10:00:09Z", started_at="2026-03-01T10:00:00Z",
                       username="bob")],
        operation=operation_state(A, "2026-03-01T10:00:00Z", "2026-03-01T10:00:09Z",
                                  username="bob", replace=True),
        automated=False,
        sync_status="OutOfSync",
        history_limit=3,
    )  # fmt: skip
    read = read_deployments_file(write(tmp_path, "apps.json", [app]))  # argocd app list -o json
    (deployment,) = read.deployments
    assert deployment.forced
    (seen,) = read.observations
    assert seen.in_sync is False and seen.automated is False and seen.self_heal is False
    assert read.limits == (("argocd:argocd/web", 3),)


def test_argocd_operation_of_another_entry_does_not_mark_it_forced(tmp_path: Path) -> None:
    app = application(
        "web",
        [history_entry(1, A, "2026-03-01T10:00:09Z", started_at="2026-03-01T10:00:00Z")],
        operation=operation_state(A, "2026-03-05T10:00:00Z", "2026-03-05T10:00:09Z",
                                  username="bob", force=True, phase="Failed"),
    )  # fmt: skip
    (deployment,) = read_deployments_file(write(tmp_path, "a.json", [app])).deployments
    assert not deployment.forced


def test_multi_source_application_deploys_each_git_source(tmp_path: Path) -> None:
    app = multi_source_application(
        "payments",
        [(3, ["1.4.2", A], "2026-03-01T10:00:00Z"), (4, ["1.4.2", B], "2026-03-03T10:00:00Z")],
    )
    read = read_deployments_file(write(tmp_path, "apps.json", kube_list([app])))
    assert [(d.id, d.revision, d.path) for d in read.deployments] == [
        ("3/1", A, "values/payments"),
        ("4/1", B, "values/payments"),
    ]
    assert read.deployments[0].revisions == ("1.4.2", A)


def test_flux_kustomization_history(tmp_path: Path) -> None:
    kustomizations = kustomization(
        "prod",
        [
            snapshot(B, "2026-03-02T10:00:00Z", "2026-03-03T10:00:00Z"),
            snapshot(C, "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z", ok=False),
            snapshot(A, "2026-03-01T10:00:00Z", "2026-03-01T11:50:00Z"),
        ],
    )
    read = read_deployments_file(
        write(tmp_path, "flux.json", kube_list([git_repository(), kustomizations]))
    )
    assert read.kind is DeploymentSourceKind.FLUX
    assert [(d.revision, d.deployed_at.day) for d in read.deployments] == [(B, 2), (A, 1)]
    first = read.deployments[0]
    assert first.source == "flux:Kustomization/flux-system/prod"
    assert first.repo_url == REPO_URL and first.automated is True and first.kind == "reconcile"
    assert read.limits == ((first.source, 5),)
    (seen,) = read.observations
    assert seen.in_sync is True and seen.automated is True


def test_flux_suspended_and_not_ready(tmp_path: Path) -> None:
    k = kustomization(
        "prod",
        [snapshot(A, "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z")],
        ready="False",
        ready_since="2026-03-04T09:00:00Z",
        suspend=True,
    )
    (seen,) = read_deployments_file(
        write(tmp_path, "flux.json", kube_list([git_repository(), k]))
    ).observations
    assert seen.in_sync is False and seen.automated is False
    assert seen.out_of_sync_since == datetime(2026, 3, 4, 9, tzinfo=UTC)


def test_flux_without_history_uses_last_applied_revision(tmp_path: Path) -> None:
    k = kustomization("prod", [])
    k["status"]["lastAppliedRevision"] = f"main/{A}"  # the format before Flux 2.0
    (only,) = read_deployments_file(
        write(tmp_path, "flux.json", kube_list([git_repository(), k]))
    ).deployments
    assert only.revision == A and only.deployed_at == datetime(2026, 3, 30, 10, tzinfo=UTC)


def test_flux_needs_the_git_repository_it_reads(tmp_path: Path) -> None:
    k = kustomization("prod", [snapshot(A, "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z")])
    with pytest.raises(DeploymentError, match=r"flux.json: items\[0\].spec.sourceRef.name: "
                       r"GitRepository flux-system/infra-live is not in the export"):  # fmt: skip
        read_deployments_file(write(tmp_path, "flux.json", kube_list([k])))


def test_jsonl_lines(tmp_path: Path) -> None:
    lines = [
        {"system": "terraform", "environment": "prod", "revision": A,
         "deployed_at": "2026-03-02T10:15:00Z", "actor": "ci", "automated": True,
         "kind": "apply", "url": "https://ci.example.com/jobs/1"},
        {"system": "terraform", "environment": "prod", "revision": B,
         "deployed_at": "2026-03-03T10:15:00+01:00"},
    ]  # fmt: skip
    text = "".join(json.dumps(line) + "\n" for line in lines)
    read = read_deployments_file(write(tmp_path, "deploys.jsonl", text))
    assert read.kind is DeploymentSourceKind.PIPELINE
    first, second = read.deployments
    assert first.source == "pipeline:terraform/prod" and first.actor == "ci"
    assert first.url == "https://ci.example.com/jobs/1" and first.kind == "apply"
    assert second.deployed_at == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    assert second.automated is None and first.id != second.id and len(first.id) == 16


def test_one_line_jsonl_is_recognised(tmp_path: Path) -> None:
    line = {"system": "s", "environment": "e", "revision": A, "deployed_at": "2026-03-02T10:15:00Z"}
    read = read_deployments_file(write(tmp_path, "d.jsonl", json.dumps(line) + "\n"))
    assert read.kind is DeploymentSourceKind.PIPELINE and len(read.deployments) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("apps.json", '{"apiVersion": "v1", "items": [{"apiVersion": "argoproj.io/v1alpha1",',
         r"apps.json: not valid JSON \(truncated\?\) and not JSON Lines of deployments"),
        ("apps.json", json.dumps(kube_list([])), "apps.json: holds no object"),
        ("apps.json", json.dumps(kube_list([{"apiVersion": "v1", "kind": "ConfigMap"}])),
         r"apps.json: items\[0\]: ConfigMap is not an Argo CD applications export"),
        ("apps.json", json.dumps({"foo": 1}), "apps.json: not an Argo CD applications export"),
        ("d.jsonl", line() + '{"system": "s", "envi',
         "d.jsonl: line 2: truncated"),
        ("d.jsonl", line(', "actr": "me"'),
         "d.jsonl: line 1.actr: unknown key"),
        ("d.jsonl", line(**{"T10:15:00Z": " 10:15"}),
         "d.jsonl: line 1.deployed_at: not an ISO 8601 timestamp"),
        ("d.jsonl", line(**{'"x"': '""'}),
         "d.jsonl: line 1.revision: missing"),
    ],
)  # fmt: skip
def test_malformed_sources_are_errors_naming_them(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    with pytest.raises(DeploymentError, match=message) as caught:
        read_deployments_file(write(tmp_path, name, content))
    assert caught.value.outcome is Outcome.INCOMPLETE


def test_malformed_argocd_entry_names_the_key(tmp_path: Path) -> None:
    app = application("web", [history_entry(1, A, "2026-03-01T10:00:00Z")])
    del app["status"]["history"][0]["deployedAt"]
    with pytest.raises(
        DeploymentError, match=r"items\[0\].status.history\[0\].deployedAt: missing"
    ):
        read_deployments_file(write(tmp_path, "apps.json", kube_list([app])))


@pytest.mark.parametrize(
    "url",
    ["https://github.com/Acme/Infra-Live.git", "git@github.com:acme/infra-live.git",
     "ssh://git@github.com:22/acme/infra-live", "https://user@github.com/acme/infra-live/"],
)  # fmt: skip
def test_repository_urls_match_whatever_their_form(url: str) -> None:
    assert repo_key(url) == repo_key(REPO_URL) == "github.com/acme/infra-live"


def helm_release(name: str, source: dict[str, str], history: list[dict[str, object]]) -> dict:
    """A ``helm.toolkit.fluxcd.io/v2`` HelmRelease with its release history."""
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "5m",
            "chart": {
                "spec": {
                    "chart": "./charts/web",
                    "reconcileStrategy": "Revision",
                    "sourceRef": source,
                }
            },
            "targetNamespace": "web",
        },
        "status": {"history": history, "observedGeneration": 2},
    }


def release(version: int, chart_version: str, deployed: str) -> dict[str, object]:
    return {
        "chartName": "web", "chartVersion": chart_version, "configDigest": "sha256:" + "c" * 64,
        "digest": "sha256:" + "d" * 64, "firstDeployed": deployed, "lastDeployed": deployed,
        "name": "web", "namespace": "web", "status": "deployed", "version": version,
    }  # fmt: skip


def test_flux_helm_release_of_a_git_chart_carries_the_commit(tmp_path: Path) -> None:
    from_git = helm_release(
        "web",
        {"kind": "GitRepository", "name": "infra-live"},
        [release(2, f"0.1.0+{B}", "2026-03-02T10:00:00Z"),
         release(1, f"0.1.0+{A}", "2026-03-01T10:00:00Z")],
    )  # fmt: skip
    from_repo = helm_release(
        "redis",
        {"kind": "HelmRepository", "name": "bitnami"},
        [release(1, "18.1.0", "2026-03-01T10:00:00Z")],
    )
    read = read_deployments_file(
        write(tmp_path, "flux.json", kube_list([git_repository(), from_git, from_repo]))
    )
    assert [(d.id, d.revision, d.kind) for d in read.deployments] == [
        ("v2", B, "helm-release"),
        ("v1", A, "helm-release"),
    ]
    assert read.deployments[0].environment == "flux-system/web"
    assert read.notes == (
        "flux:HelmRelease/flux-system/redis does not read a GitRepository: left out",
    )
