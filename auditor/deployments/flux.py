"""Flux Kustomizations and HelmReleases, with the GitRepositories they read (``kubectl get
kustomizations,helmreleases,gitrepositories -A -o json``), as deployments and observations.

A Kustomization's ``status.history`` holds its last five reconciliation snapshots, newest first;
each succeeded one is a deployment of its ``metadata.revision`` (``main@sha1:<sha>``) from
``firstReconciled`` on. Without a history (Flux before 2.5), ``status.lastAppliedRevision`` is
the one deployment known, from the Ready condition's last transition. A HelmRelease whose chart
comes from a GitRepository is a deployment per ``status.history`` entry whose chart version
carries the commit (``1.2.0+<sha>``, Flux's ``reconcileStrategy: Revision``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from auditor.deployments.fields import Obj
from auditor.deployments.interface import (
    Deployment,
    DeploymentRead,
    DeploymentSourceKind,
    Observation,
)

GROUP_SUFFIX = ".toolkit.fluxcd.io/"
HISTORY_LIMIT = 5
"""Snapshots Flux keeps in ``status.history``."""
KINDS = ("Kustomization", "HelmRelease", "GitRepository")
_REVISION = re.compile(
    r"^(?:(?P<ref>.*)@)?sha1:(?P<sha>[0-9a-f]{40})$|^(?P<old>.+)/(?P<osha>[0-9a-f]{40})$"
)
_CHART_COMMIT = re.compile(r"\+(?P<sha>[0-9a-f]{7,40})$")


def is_flux_object(item: object) -> bool:
    return (
        isinstance(item, dict)
        and item.get("kind") in KINDS
        and GROUP_SUFFIX in str(item.get("apiVersion", "")) + "/"
    )


def commit_of(revision: str) -> str:
    """The commit of a Flux revision (``main@sha1:<sha>``, or ``main/<sha>`` before Flux 2.0);
    "" when it names none."""
    match = _REVISION.match(revision)
    if not match:
        return ""
    return match["sha"] or match["osha"] or ""


def read_flux(items: Iterable[Obj], origin: str) -> DeploymentRead:
    objects = list(items)
    for obj in objects:
        kind = obj.text("kind")
        if kind not in KINDS or GROUP_SUFFIX not in obj.text("apiVersion") + "/":
            raise obj.fail("kind", f"expected a Flux {', '.join(KINDS)}, got {kind or 'nothing'}")
    repos = {
        _key(o): (o.obj("spec", required=True) or o).text("url", required=True)
        for o in objects
        if o.text("kind") == "GitRepository"
    }
    deployments: list[Deployment] = []
    observations: list[Observation] = []
    limits: list[tuple[str, int]] = []
    notes: list[str] = []
    for obj in objects:
        kind = obj.text("kind")
        if kind == "GitRepository":
            continue
        spec = obj.obj("spec", required=True)
        assert spec is not None
        ref = spec.obj("sourceRef") if kind == "Kustomization" else _chart_source(spec)
        namespace = _key(obj)[0]
        source = f"flux:{kind}/{namespace}/{_key(obj)[1]}"
        if ref is None or ref.text("kind") != "GitRepository":
            notes.append(f"{source} does not read a GitRepository: left out")
            continue
        repo_ref = (ref.text("namespace") or namespace, ref.text("name", required=True))
        url = repos.get(repo_ref)
        if url is None:
            raise ref.fail(
                "name", f"GitRepository {repo_ref[0]}/{repo_ref[1]} is not in the export"
            )
        status = obj.obj("status") or Obj.of({}, obj.origin, obj.path("status"))
        environment = f"{namespace}/{spec.text('targetNamespace') or namespace}"
        if kind == "Kustomization":
            deployments += _kustomization(status, source, _key(obj)[1], environment, url, spec)
        else:
            deployments += _helm_release(status, source, _key(obj)[1], environment, url)
        limits.append((source, HISTORY_LIMIT if kind == "Kustomization" else _max_history(spec)))
        observations += _observation(status, spec, source, _key(obj)[1], environment, url)
    return DeploymentRead(
        origin,
        DeploymentSourceKind.FLUX,
        tuple(deployments),
        tuple(observations),
        tuple(limits),
        tuple(notes),
    )


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.obj("metadata", required=True)
    assert meta is not None
    return meta.text("namespace") or "flux-system", meta.text("name", required=True)


def _chart_source(spec: Obj) -> Obj | None:
    chart = spec.obj("chart")
    chart_spec = chart.obj("spec") if chart else None
    return chart_spec.obj("sourceRef") if chart_spec else spec.obj("chartRef")


def _max_history(spec: Obj) -> int:
    value = spec.integer("maxHistory")
    return HISTORY_LIMIT if value is None else value


def _kustomization(
    status: Obj, source: str, name: str, environment: str, url: str, spec: Obj
) -> list[Deployment]:
    found = []
    for snap in status.objs("history"):
        if snap.text("lastReconciledStatus") != "ReconciliationSucceeded":
            continue
        meta = snap.obj("metadata")
        revision = commit_of(meta.text("revision")) if meta else ""
        if not revision:
            raise snap.fail("metadata.revision", "names no commit (expected <ref>@sha1:<sha>)")
        first = snap.time("firstReconciled", required=True)
        assert first is not None
        found.append(
            Deployment(
                source=source,
                id=f"{snap.text('digest', required=True)}@{first.isoformat()}",
                system=name,
                environment=environment,
                revision=revision,
                deployed_at=first,
                repo_url=url,
                path=spec.text("path"),
                actor="",
                automated=True,
                kind="reconcile",
                forced=bool(spec.flag("force")),
                origin=snap.origin,
            )
        )
    if found or status.data.get("history"):
        return found
    applied = status.text("lastAppliedRevision")
    when = _ready_since(status)
    if not applied or when is None:
        return []
    revision = commit_of(applied)
    if not revision:
        raise status.fail("lastAppliedRevision", "names no commit (expected <ref>@sha1:<sha>)")
    return [
        Deployment(
            source=source,
            id=f"applied:{revision}",
            system=name,
            environment=environment,
            revision=revision,
            deployed_at=when,
            repo_url=url,
            path=spec.text("path"),
            automated=True,
            kind="reconcile",
            forced=bool(spec.flag("force")),
            origin=status.origin,
        )
    ]


def _helm_release(
    status: Obj, source: str, name: str, environment: str, url: str
) -> list[Deployment]:
    found = []
    for entry in status.objs("history"):
        version = entry.integer("version", required=True)
        match = _CHART_COMMIT.search(entry.text("chartVersion"))
        deployed = entry.time("firstDeployed") or entry.time("lastDeployed", required=True)
        if match is None or deployed is None:
            continue
        found.append(
            Deployment(
                source=source,
                id=f"v{version}",
                system=name,
                environment=environment,
                revision=match["sha"],
                deployed_at=deployed,
                repo_url=url,
                automated=True,
                kind="helm-release",
                seq=version,
                origin=entry.origin,
            )
        )
    return found


def _ready(status: Obj) -> Obj | None:
    return next((c for c in status.objs("conditions") if c.text("type") == "Ready"), None)


def _ready_since(status: Obj) -> datetime | None:
    ready = _ready(status)
    return ready.time("lastTransitionTime") if ready and ready.text("status") == "True" else None


def _observation(
    status: Obj, spec: Obj, source: str, name: str, environment: str, url: str
) -> list[Observation]:
    ready = _ready(status)
    times = [s.time("lastReconciled") for s in status.objs("history")]
    if ready is not None:
        times.append(ready.time("lastTransitionTime"))
    known = [t for t in times if t is not None]
    if not known:
        return []
    state = ready.text("status") if ready else ""
    since = ready.time("lastTransitionTime") if ready and state == "False" else None
    suspended = bool(spec.flag("suspend"))
    return [
        Observation(
            source=source,
            observed_at=max(known),
            system=name,
            environment=environment,
            repo_url=url,
            in_sync={"True": True, "False": False}.get(state),
            out_of_sync_since=since,
            automated=not suspended,
            self_heal=not suspended,
        )
    ]
