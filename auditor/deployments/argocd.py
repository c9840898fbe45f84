"""Argo CD Applications (``kubectl get applications.argoproj.io -A -o json``, ``argocd app list
-o json``, or ``GET /api/v1/applications``) as deployments and observations.

Each ``status.history`` entry is a deployment (its ``id`` counts up per application, so two reads
that no longer overlap show the entries lost between them); ``status.operationState`` of the last
operation says whether it was forced or replacing; ``status.sync`` and ``spec.syncPolicy`` what
the application looked like when read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from auditor.deployments.fields import Obj
from auditor.deployments.interface import (
    Deployment,
    DeploymentRead,
    DeploymentSourceKind,
    Observation,
)

API_GROUP = "argoproj.io/"
HISTORY_LIMIT = 10
"""Argo CD's default ``spec.revisionHistoryLimit``."""
_MATCH_WINDOW = timedelta(seconds=60)


def is_application(item: object) -> bool:
    return (
        isinstance(item, dict)
        and item.get("kind") == "Application"
        and str(item.get("apiVersion", "")).startswith(API_GROUP)
    )


def read_applications(items: Iterable[Obj], origin: str) -> DeploymentRead:
    """Every application of ``items`` (each an ``Application`` object)."""
    deployments: list[Deployment] = []
    observations: list[Observation] = []
    limits: list[tuple[str, int]] = []
    for app in items:
        kind = app.text("kind")
        if kind != "Application" or not app.text("apiVersion").startswith(API_GROUP):
            raise app.fail("kind", f"expected an Argo CD Application, got {kind or 'nothing'}")
        found, observed, limit = _application(app)
        deployments += found
        observations += observed
        limits.append(limit)
    return DeploymentRead(
        origin, DeploymentSourceKind.ARGOCD, tuple(deployments), tuple(observations), tuple(limits)
    )


def _application(app: Obj) -> tuple[list[Deployment], list[Observation], tuple[str, int]]:
    meta = app.obj("metadata", required=True)
    spec = app.obj("spec", required=True)
    assert meta is not None and spec is not None
    name = meta.text("name", required=True)
    source = f"argocd:{meta.text('namespace') or 'argocd'}/{name}"
    environment = _environment(spec)
    status = app.obj("status") or Obj.of({}, app.origin, app.path("status"))
    spec_sources = _sources(spec)
    forced = _forced_operation(status)
    deployments = []
    for entry in status.objs("history"):
        deployments += _entries(entry, source, name, environment, spec_sources, forced)
    limit = spec.integer("revisionHistoryLimit")
    observed = _observation(status, spec, source, name, environment, spec_sources)
    return deployments, observed, (source, HISTORY_LIMIT if limit is None else limit)


def _environment(spec: Obj) -> str:
    dest = spec.obj("destination")
    if dest is None:
        return ""
    cluster = dest.text("name") or dest.text("server")
    namespace = dest.text("namespace")
    return f"{cluster}/{namespace}" if namespace else cluster


def _sources(spec: Obj) -> list[tuple[str, str, bool]]:
    """(repoURL, path, is a Helm chart) of each source, in order."""
    many = list(spec.objs("sources"))
    single = spec.obj("source")
    chosen = many or ([single] if single is not None else [])
    return [(s.text("repoURL"), s.text("path"), bool(s.text("chart"))) for s in chosen]


def _entries(
    entry: Obj,
    source: str,
    system: str,
    environment: str,
    spec_sources: list[tuple[str, str, bool]],
    forced: tuple[datetime | None, datetime | None, bool, str] | None,
) -> list[Deployment]:
    seq = entry.integer("id", required=True)
    assert seq is not None
    deployed = entry.time("deployedAt", required=True)
    assert deployed is not None
    started = entry.time("deployStartedAt")
    initiator = entry.obj("initiatedBy")
    actor = initiator.text("username") if initiator else ""
    automated = initiator.flag("automated") if initiator else None
    revisions = entry.strs("revisions")
    if revisions:  # a multi-source application: one deployment per Git source
        sources = _sources_of(entry, "sources") or spec_sources
        if len(sources) != len(revisions):
            raise entry.fail(
                "revisions", f"{len(revisions)} revision(s) for {len(sources)} source(s)"
            )
        picked: list[tuple[int | None, tuple[str, str, bool], str]] = [
            (i, s, r) for i, (s, r) in enumerate(zip(sources, revisions, strict=True))
        ]
    else:
        revision = entry.text("revision", required=True)
        sources = _sources_of(entry, "source") or spec_sources[:1]
        picked = [(None, sources[0] if sources else ("", "", False), revision)]
    is_forced = forced is not None and _same_operation(forced, started, deployed)
    kind = forced[3] if forced and is_forced and forced[3] else "sync"
    return [
        Deployment(
            source=source,
            id=str(seq) if index is None else f"{seq}/{index}",
            system=system,
            environment=environment,
            revision=revision,
            deployed_at=deployed,
            repo_url=repo_url,
            path=path,
            revisions=revisions,
            started_at=started,
            actor=actor,
            automated=automated,
            kind=kind,
            forced=is_forced and forced is not None and forced[2],
            seq=seq,
            origin=entry.origin,
        )
        for index, (repo_url, path, chart), revision in picked
        if not chart
    ]


def _sources_of(entry: Obj, key: str) -> list[tuple[str, str, bool]]:
    if key == "source":
        one = entry.obj("source")
        return [(one.text("repoURL"), one.text("path"), bool(one.text("chart")))] if one else []
    return [(s.text("repoURL"), s.text("path"), bool(s.text("chart"))) for s in entry.objs(key)]


def _forced_operation(status: Obj) -> tuple[datetime | None, datetime | None, bool, str] | None:
    """(started, finished, forced or replacing, kind) of the last succeeded sync operation."""
    state = status.obj("operationState")
    if state is None or state.text("phase") != "Succeeded":
        return None
    operation = state.obj("operation")
    sync = operation.obj("sync") if operation else None
    if sync is None:
        return None
    strategy = sync.obj("syncStrategy")
    force = False
    if strategy is not None:
        for key in ("apply", "hook"):
            part = strategy.obj(key)
            force = force or bool(part and part.flag("force"))
    replace = any(o.replace(" ", "") == "Replace=true" for o in sync.strs("syncOptions"))
    kind = "rollback" if sync.obj("source") or list(sync.objs("sources")) else "sync"
    return state.time("startedAt"), state.time("finishedAt"), force or replace, kind


def _same_operation(
    op: tuple[datetime | None, datetime | None, bool, str],
    started: datetime | None,
    deployed: datetime,
) -> bool:
    """Whether a history entry records the operation ``op``: Argo CD writes the operation's
    start as the entry's ``deployStartedAt``; without it, the entry was deployed as it finished."""
    op_started, op_finished, _, _ = op
    if started is not None and op_started is not None:
        return started == op_started
    return op_finished is not None and abs(deployed - op_finished) <= _MATCH_WINDOW


def _observation(
    status: Obj,
    spec: Obj,
    source: str,
    system: str,
    environment: str,
    spec_sources: list[tuple[str, str, bool]],
) -> list[Observation]:
    when = status.time("reconciledAt")
    state = status.obj("operationState")
    when = when or (state.time("finishedAt") if state else None)
    if when is None:
        return []
    sync = status.obj("sync")
    code = sync.text("status") if sync else ""
    policy = spec.obj("syncPolicy")
    auto = policy.obj("automated") if policy else None
    enabled = auto is not None and auto.flag("enabled") is not False
    return [
        Observation(
            source=source,
            observed_at=when,
            system=system,
            environment=environment,
            repo_url=";".join(url for url, _, chart in spec_sources if not chart),
            in_sync={"Synced": True, "OutOfSync": False}.get(code),
            automated=enabled,
            self_heal=bool(auto.flag("selfHeal")) if enabled and auto else False,
        )
    ]
