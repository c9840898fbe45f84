"""Argo CD and Flux objects shaped as their APIs return them (argoproj.io/v1alpha1 Application;
kustomize.toolkit.fluxcd.io/v1 Kustomization, helm.toolkit.fluxcd.io/v2 HelmRelease,
source.toolkit.fluxcd.io/v1 GitRepository), for tests."""

from __future__ import annotations

from typing import Any

REPO_URL = "https://github.com/acme/infra-live.git"


def history_entry(
    ident: int,
    revision: str,
    deployed_at: str,
    *,
    started_at: str | None = None,
    username: str = "",
    automated: bool = False,
    path: str = "k8s/payments",
    repo_url: str = REPO_URL,
) -> dict[str, Any]:
    """One ``status.history`` entry (``RevisionHistory``)."""
    entry: dict[str, Any] = {
        "revision": revision,
        "deployedAt": deployed_at,
        "id": ident,
        "source": {"repoURL": repo_url, "path": path, "targetRevision": "main"},
        "deployStartedAt": started_at or deployed_at,
    }
    initiator: dict[str, Any] = {}
    if username:
        initiator["username"] = username
    if automated:
        initiator["automated"] = True
    if initiator:
        entry["initiatedBy"] = initiator
    return entry


def operation_state(
    revision: str,
    started_at: str,
    finished_at: str,
    *,
    username: str = "",
    automated: bool = False,
    force: bool = False,
    replace: bool = False,
    phase: str = "Succeeded",
) -> dict[str, Any]:
    """``status.operationState`` of a sync operation."""
    sync: dict[str, Any] = {"revision": revision, "prune": True}
    if force:
        sync["syncStrategy"] = {"hook": {"force": True}}
    if replace:
        sync["syncOptions"] = ["Replace=true"]
    initiator: dict[str, Any] = {"username": username} if username else {"automated": automated}
    return {
        "operation": {"sync": sync, "initiatedBy": initiator, "retry": {}},
        "phase": phase,
        "message": "successfully synced (all tasks run)",
        "syncResult": {
            "resources": [],
            "revision": revision,
            "source": {"repoURL": REPO_URL, "path": "k8s/payments", "targetRevision": "main"},
        },
        "startedAt": started_at,
        "finishedAt": finished_at,
    }


def application(
    name: str,
    history: list[dict[str, Any]],
    *,
    sync_status: str = "Synced",
    revision: str = "",
    reconciled_at: str = "2026-03-31T12:00:00Z",
    automated: bool = True,
    self_heal: bool = True,
    operation: dict[str, Any] | None = None,
    history_limit: int | None = None,
    repo_url: str = REPO_URL,
) -> dict[str, Any]:
    """An ``Application`` as ``kubectl get applications.argoproj.io -o json`` lists it."""
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": repo_url, "path": f"k8s/{name}", "targetRevision": "main"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
    }
    if automated:
        spec["syncPolicy"]["automated"] = {"prune": True, "selfHeal": self_heal}
    if history_limit is not None:
        spec["revisionHistoryLimit"] = history_limit
    status: dict[str, Any] = {
        "resources": [],
        "sync": {
            "status": sync_status,
            "comparedTo": {"source": spec["source"], "destination": spec["destination"]},
            "revision": revision or (history[-1]["revision"] if history else ""),
        },
        "health": {"status": "Healthy"},
        "history": history,
        "reconciledAt": reconciled_at,
        "sourceType": "Directory",
        "summary": {},
    }
    if operation is not None:
        status["operationState"] = operation
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "uid": f"00000000-0000-4000-8000-{len(name):012d}",
            "resourceVersion": "123456",
            "generation": 42,
            "creationTimestamp": "2025-01-01T00:00:00Z",
        },
        "spec": spec,
        "status": status,
    }


def multi_source_application(name: str, entries: list[tuple[int, list[str], str]]) -> dict:
    """A multi-source application: a Helm chart with values from the audited repository."""
    sources = [
        {"repoURL": "https://charts.example.com", "chart": "payments", "targetRevision": "1.4.2"},
        {"repoURL": REPO_URL, "path": f"values/{name}", "targetRevision": "main", "ref": "values"},
    ]
    app = application(name, [])
    del app["spec"]["source"]
    app["spec"]["sources"] = sources
    app["status"]["sync"] = {"status": "Synced", "revisions": entries[-1][1] if entries else []}
    app["status"]["history"] = [
        {
            "deployedAt": when,
            "id": ident,
            "deployStartedAt": when,
            "sources": sources,
            "revisions": revisions,
            "initiatedBy": {"automated": True},
        }
        for ident, revisions, when in entries
    ]
    return app


def kube_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``kubectl get … -A -o json`` prints."""
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def git_repository(name: str = "infra-live", url: str = REPO_URL) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "1m0s", "ref": {"branch": "main"}, "url": url},
        "status": {
            "artifact": {
                "digest": "sha256:" + "ab" * 32,
                "lastUpdateTime": "2026-03-31T11:59:00Z",
                "path": f"gitrepository/flux-system/{name}/latest.tar.gz",
                "revision": "main@sha1:" + "0" * 40,
                "size": 12345,
                "url": f"http://source-controller.flux-system.svc/{name}/latest.tar.gz",
            },
            "conditions": [],
        },
    }


def snapshot(revision: str, first: str, last: str, *, ok: bool = True, digest: str = "") -> dict:
    """One Kustomization ``status.history`` snapshot."""
    return {
        "digest": digest or "sha256:" + (revision[:8] * 8),
        "firstReconciled": first,
        "lastReconciled": last,
        "lastReconciledDuration": "1.234s",
        "lastReconciledStatus": "ReconciliationSucceeded" if ok else "HealthCheckFailed",
        "totalReconciliations": 3,
        "metadata": {"revision": f"main@sha1:{revision}", "originRevision": ""},
    }


def kustomization(
    name: str,
    history: list[dict[str, Any]],
    *,
    ready: str = "True",
    ready_since: str = "2026-03-30T10:00:00Z",
    suspend: bool = False,
    source: str = "infra-live",
) -> dict[str, Any]:
    last = history[0]["metadata"]["revision"] if history else ""
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "10m0s",
            "path": f"./clusters/{name}",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": source},
            "suspend": suspend,
        },
        "status": {
            "conditions": [
                {
                    "lastTransitionTime": ready_since,
                    "message": f"Applied revision: {last}",
                    "observedGeneration": 1,
                    "reason": "ReconciliationSucceeded" if ready == "True" else "BuildFailed",
                    "status": ready,
                    "type": "Ready",
                }
            ],
            "history": history,
            "inventory": {"entries": []},
            "lastAppliedRevision": last,
            "lastAttemptedRevision": last,
            "observedGeneration": 1,
        },
    }
