"""The deployment record every reader yields, what a read saw besides, and the readers' errors.

A deployment is one sync or apply that made a system run a revision: Argo CD's history entries,
Flux's reconciliation snapshots, or one line a pipeline appended. Readers turn each source's own
shape into these records; nothing downstream sees an Argo CD or Flux object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from auditor.errors import IncompleteEvidenceError


class DeploymentSourceKind(enum.Enum):
    """What kind of record a deployment was read from (the ``source`` column's prefix)."""

    ARGOCD = "argocd"
    FLUX = "flux"
    PIPELINE = "pipeline"


class DeploymentError(IncompleteEvidenceError):
    """A deployments file or API that cannot be read, has an unknown shape or is truncated:
    the evidence is incomplete (exit 4). The message names the source."""


@dataclass(frozen=True)
class Deployment:
    """One deployment: ``system`` ran ``revision`` from ``deployed_at`` on.

    ``source`` identifies where the record lives and, with ``id``, the record itself: the Argo
    CD application (``argocd:NAMESPACE/NAME``), the Flux object (``flux:Kustomization/NS/NAME``)
    or the pipeline's system and environment (``pipeline:SYSTEM/ENVIRONMENT``)."""

    source: str
    id: str
    system: str  # the application, Kustomization or pipeline system
    environment: str  # the destination (cluster/namespace) or the pipeline's environment
    revision: str  # the commit it deployed (a full or abbreviated SHA), as the source says
    deployed_at: datetime  # UTC
    repo_url: str = ""  # the repository the revision is from, as the source names it
    path: str = ""  # the path inside that repository, where the source says
    revisions: tuple[str, ...] = ()  # every source's revision of a multi-source application
    started_at: datetime | None = None
    actor: str = ""  # the person or account that started it; "" when automated and unnamed
    automated: bool | None = None  # started by the reconciler or pipeline itself; None: unsaid
    kind: str = "sync"  # sync, apply, rollback, reconcile …
    forced: bool = False  # a forced or replacing sync (delete and re-create)
    url: str = ""
    seq: int | None = None  # the source's own counter (Argo CD's history id), when it has one
    origin: str = ""  # the file or API it was read from, for messages (never in the pack)

    @property
    def kind_of_source(self) -> DeploymentSourceKind:
        return DeploymentSourceKind(self.source.split(":", 1)[0])


@dataclass(frozen=True)
class Observation:
    """What a read saw of one reconciled system at one time, besides its deployments: whether
    it was in sync with its source, and whether automated sync and self-heal were on."""

    source: str
    observed_at: datetime
    system: str
    environment: str
    repo_url: str = ""
    in_sync: bool | None = None  # None: the source does not say
    out_of_sync_since: datetime | None = None  # when the source says the drift began
    automated: bool | None = None  # automated sync (Argo CD) / not suspended (Flux)
    self_heal: bool | None = None


@dataclass(frozen=True)
class DeploymentRead:
    """Everything one file or API answer held."""

    origin: str  # the file name or API URL
    kind: DeploymentSourceKind
    deployments: tuple[Deployment, ...] = ()
    observations: tuple[Observation, ...] = ()
    # per source: the most entries the source keeps (Argo CD's revisionHistoryLimit, Flux's 5),
    # so a read holding that many may have lost older ones
    limits: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CoverageGap:
    """A span of a source's deployments no read holds: from ``after`` (None: its beginning)
    to ``before``."""

    source: str
    after: datetime | None
    before: datetime
    reason: str
    detected_at: datetime | None = None


@dataclass(frozen=True)
class DeploymentHistory:
    """What is known of one repository's deployments: everything the store holds, sorted by
    time, what the reads saw besides, the spans no read covers, and this run's read failures
    (each a gap: the evidence is incomplete)."""

    deployments: tuple[Deployment, ...] = ()
    observations: tuple[Observation, ...] = ()
    coverage_gaps: tuple[CoverageGap, ...] = ()
    failures: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()  # the files and URLs read this run
    notes: tuple[str, ...] = field(default_factory=tuple)

    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({d.source for d in self.deployments}))


@dataclass(frozen=True)
class DeploymentOptions:
    """Where a run reads deployments from: files (``--deployments``, config ``deployments``)
    and Argo CD API URLs (config ``argocd_url``)."""

    files: tuple[Path, ...] = ()
    argocd_urls: tuple[str, ...] = ()
    # lines and records that name no repository belong to the audited one (one repository)
    unnamed_are_ours: bool = True

    @property
    def given(self) -> bool:
        return bool(self.files or self.argocd_urls)
