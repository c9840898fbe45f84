"""The normalised report: one document that every renderer reads (PDF, HTML, CSV, JSON, OSCAL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.evaluation.sampling import SampleItem
from auditor.guard import GuardData
from auditor.model import (
    ChangeFacts,
    ControlResult,
    Finding,
    HistoryEvent,
    Waiver,
)

# 2: findings no longer repeat their control's framework references; 3: sample items carry
# their 1-based position by draw key (``position``, was the 0-based ``index``), and the report
# records the parameter overrides and the config; 4: deployments, where each change ran, and the
# spans of deployment records no read covers
# 5: repositories carry their guard data (branch protection snapshots, the checks of merged
# requests)
REPORT_SCHEMA_VERSION = 5


@dataclass(frozen=True)
class BranchScope:
    name: str
    head: str  # the last change landed by the end of the period (or --as-of); "" if none
    head_landed_at: datetime | None = None
    tip: str = ""  # the branch's tip as mined, which a past --as-of may not describe
    head_at: datetime | None = None  # the time ``head`` describes the branch at


@dataclass(frozen=True)
class RepositoryScope:
    """One audited repository: where it is, what was mined, where review data came from."""

    name: str
    path: str
    remote: str
    branches: tuple[BranchScope, ...]
    review_source: str  # "github", "gitlab", "offline:<file>", "trailers" or "none"
    complete: bool
    incomplete_reasons: tuple[str, ...] = ()
    commit_url: str = ""  # template with {sha}, e.g. https://github.com/acme/infra/commit/{sha}
    request_url: str = ""  # template with {number}
    events: tuple[HistoryEvent, ...] = ()
    mailmap: str = ""  # the .mailmap blob committed at the first branch's tip ("" for none)
    guard: GuardData = field(default_factory=GuardData)  # protection timeline, request checks


@dataclass(frozen=True)
class DeploymentItem:
    """One deployment of the period, read from a reconciler or pipeline record."""

    repo: str
    source: str  # argocd:NAMESPACE/APP, flux:KIND/NAMESPACE/NAME, pipeline:SYSTEM/ENVIRONMENT
    id: str  # the record's id within its source
    system: str
    environment: str
    revision: str  # as the record names it
    commit: str  # the revision as a commit of the repository ("" when it is none)
    change_id: str  # the change that landed the revision on the branch ("" when none)
    deployed_at: datetime
    actor: str
    automated: bool | None
    kind: str
    forced: bool = False
    on_branch: bool = False
    url: str = ""
    brought: tuple[str, ...] = ()  # the change ids of the changes it brought
    until: datetime | None = None  # when the source's next deployment replaced it


@dataclass(frozen=True)
class ChangeRun:
    """Where and when a change first ran: one per deployment source that ran it."""

    change_id: str
    source: str
    system: str
    environment: str
    deployed_at: datetime
    lead_time_minutes: int  # from landing on the branch to running


@dataclass(frozen=True)
class DeploymentCoverage:
    """What the deployment records of one source cover: the first and last deployment known,
    and the spans between no read holds (``after`` None: from the source's beginning)."""

    repo: str
    source: str
    first: datetime | None
    last: datetime | None
    count: int
    gaps: tuple[tuple[datetime | None, datetime, str], ...] = ()


@dataclass(frozen=True)
class ParameterScope:
    """An override: the parameters a control takes for some repositories and/or paths (globs;
    none given: every one), the rest staying the control's defaults."""

    control_id: str
    parameters: Mapping[str, Any]  # only the keys the override sets
    repositories: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    changes: int = 0  # changes of the control's population it matched


@dataclass(frozen=True)
class ConfigRecord:
    """The config file the run read: its name, the SHA-256 of its bytes as read, its text with
    credentials removed (the pack's ``config.toml``)."""

    name: str
    sha256: str
    text: str
    redacted: bool = False  # whether credentials were removed from ``text``


@dataclass(frozen=True)
class RunChain:
    """Where the pack of a scheduled run stands in the chain of runs its store records: the
    run before it that wrote a pack, by id, pack directory name and manifest digest (all empty
    for the first run of the store)."""

    previous_run: int | None = None
    previous_pack: str = ""  # the directory's name, no path
    previous_manifest_sha256: str = ""  # SHA-256 of that pack's MANIFEST.sha256


@dataclass(frozen=True)
class Report:
    """Everything an audit pack shows, already computed: renderers only lay it out."""

    organisation: str
    generated_at: datetime
    tool_version: str
    command: str
    since: datetime | None
    until: datetime | None
    frameworks: tuple[str, ...]
    repositories: tuple[RepositoryScope, ...]
    changes: tuple[ChangeFacts, ...]
    findings: tuple[Finding, ...]
    controls: tuple[ControlResult, ...]
    sample: tuple[SampleItem, ...] = ()
    sample_seed: str = ""
    sample_size: int | None = None  # as requested (per control); None: by the size table
    waivers: tuple[Waiver, ...] = ()
    unmatched_waivers: tuple[str, ...] = ()  # waiver ids that matched nothing
    expired_waivers: tuple[str, ...] = ()
    schema_version: int = REPORT_SCHEMA_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)
    roster: bool = False  # identities were checked against a roster of the organisation's people
    empty_populations: tuple[str, ...] = ()  # said when nothing landed in the period
    overrides: tuple[ParameterScope, ...] = ()  # by control id, in the config's order
    config: ConfigRecord | None = None
    chain: RunChain | None = None  # ``auditor run`` only: the run before this one
    # the repositories whose deployment records were given; their deployments of the period,
    # where each change ran, and what the records cover
    deployment_repos: tuple[str, ...] = ()
    deployments: tuple[DeploymentItem, ...] = ()
    change_runs: tuple[ChangeRun, ...] = ()
    deployment_coverage: tuple[DeploymentCoverage, ...] = ()

    @property
    def complete(self) -> bool:
        return all(r.complete for r in self.repositories)
