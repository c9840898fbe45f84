"""Deployments joined to the change ledger: which change each deployed revision landed with,
which changes each deployment brought to its system, and when each change first ran where.

Per source (an application, a Flux object, a pipeline system and environment) the deployments
are taken in time order. A revision on the branch's first-parent chain sits at a position; a
deployment brings the changes after the previous deployment's position up to its own. A change
runs on a source from the first deployment at or after its position (a later revision carries
it), and its lead time is from landing to that deployment.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from auditor.deployments.interface import CoverageGap, Deployment, DeploymentHistory, Observation

_HEX = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Chain:
    """An audited branch's first-parent chain (oldest first) and its chain of custody."""

    branch: str
    shas: tuple[str, ...]
    landed: tuple[datetime, ...]
    custody: Mapping[str, str] = field(default_factory=dict)  # commit → the change bringing it

    def position(self, sha: str) -> int | None:
        return self._index.get(sha)

    @property
    def _index(self) -> dict[str, int]:
        cached: dict[str, int] | None = self.__dict__.get("_idx")
        if cached is None:
            cached = {sha: i for i, sha in enumerate(self.shas)}
            object.__setattr__(self, "_idx", cached)
        return cached

    def head_at(self, when: datetime) -> int | None:
        """The position of the last change landed at or before ``when`` (committer times need
        not grow along the chain: a position counts as landed once every earlier one has)."""
        reached = self.__dict__.get("_reached")
        if reached is None:
            reached = list(itertools.accumulate(self.landed, max))
            object.__setattr__(self, "_reached", reached)
        i = bisect.bisect_right(reached, when)
        return i - 1 if i else None


@dataclass(frozen=True)
class OutOfSync:
    """A span a read saw the system differ from its source."""

    start: datetime
    end: datetime
    ongoing: bool  # still out of sync at the last read

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Placed:
    """A deployment of the period, placed on the ledger."""

    deployment: Deployment
    commit: str  # the deployed revision as a full SHA ("" when it is no commit of the repository)
    branch: str = ""  # the audited branch whose chain holds it ("" when none)
    change: str = ""  # the change (its SHA) that landed the revision on the branch
    feature_change: str = ""  # off the chain: the change that brought the commit in, if any
    brought: tuple[str, ...] = ()  # the changes (SHAs) this deployment brought, oldest first
    rollback: bool = False  # an older revision than the one running before
    head: str = ""  # the change (SHA) at the head of the branch when it was deployed
    previous: Deployment | None = None  # the source's deployment before it
    after_gap: CoverageGap | None = None  # deployments before it (since ``previous``) unknown
    until: datetime | None = None  # when the next deployment of the source replaced it
    observations: tuple[Observation, ...] = ()  # reads of the source while it ran
    out_of_sync: tuple[OutOfSync, ...] = ()  # spans out of sync that began while it ran

    @property
    def on_branch(self) -> bool:
        return bool(self.branch)


@dataclass(frozen=True)
class ChangeDeployment:
    """Where and when a change first ran: one per source that ran it."""

    source: str
    system: str
    environment: str
    deployed_at: datetime
    revision: str
    actor: str
    automated: bool | None
    lead_time: timedelta


@dataclass(frozen=True)
class RepoDeployments:
    """A repository's deployments joined to its ledger for the period."""

    history: DeploymentHistory
    placed: tuple[Placed, ...] = ()  # the deployments of the period, by time
    by_change: Mapping[str, tuple[ChangeDeployment, ...]] = field(default_factory=dict)  # by SHA
    period_gaps: tuple[CoverageGap, ...] = ()  # spans no read covers, inside the period

    @property
    def gap_lines(self) -> tuple[str, ...]:
        """What makes the evidence incomplete: reads that failed, spans no read covers."""
        return self.history.failures + tuple(
            f"deployments of {g.source} from {_stamp(g.after) if g.after else 'its beginning'}"
            f" to {_stamp(g.before)} are not known: {g.reason}"
            for g in self.period_gaps
        )


def join(
    history: DeploymentHistory,
    chains: Sequence[Chain],
    *,
    since: datetime | None,
    until: datetime | None,
    changes: Sequence[tuple[str, datetime]] = (),
    paths: Mapping[str, Sequence[str]] | None = None,
) -> RepoDeployments:
    """Place each deployment of ``history`` within ``[since, until]`` on ``chains``; give each
    change of ``changes`` (SHA, landed at) its first deployment per source. Where a
    deployment names the path it deploys (an Argo CD source's ``path``, a Kustomization's
    ``spec.path``) and ``paths`` names the files a change touched, the deployment brings and
    runs only the changes that touched that path."""
    touched = paths or {}
    by_source: dict[str, list[Deployment]] = defaultdict(list)
    for d in history.deployments:
        by_source[d.source].append(d)
    observations: dict[str, list[Observation]] = defaultdict(list)
    for o in history.observations:
        observations[o.source].append(o)
    gaps: dict[str, list[CoverageGap]] = defaultdict(list)
    for g in history.coverage_gaps:
        gaps[g.source].append(g)
    resolver = _Resolver(chains)
    placed: list[Placed] = []
    runs: dict[str, tuple[list[datetime], list[int], list[Deployment]]] = {}
    for source, deployments in sorted(by_source.items()):
        deployments.sort(key=lambda d: (d.deployed_at, d.seq or 0, d.id))
        spans = _out_of_sync(sorted(observations[source], key=lambda o: o.observed_at))
        times: list[datetime] = []
        reach: list[int] = []  # the furthest position on the first chain run so far
        furthest = -1
        prev_pos: int | None = None
        for i, d in enumerate(deployments):
            commit, chain, pos = resolver.resolve(d.revision)
            nxt = deployments[i + 1].deployed_at if i + 1 < len(deployments) else None
            if chain is resolver.first and pos is not None:
                furthest = max(furthest, pos)
            times.append(d.deployed_at)
            reach.append(furthest)
            if _inside(d.deployed_at, since, until):
                placed.append(
                    _place(d, commit, chain, pos, prev_pos, deployments[i - 1] if i else None,
                           nxt, gaps[source], observations[source], spans,
                           resolver.feature(commit), resolver.chains, touched)
                )  # fmt: skip
            if pos is not None:
                prev_pos = pos
        runs[source] = (times, reach, deployments)
    by_change = _by_change(resolver, runs, changes, touched)
    placed.sort(key=lambda p: (p.deployment.deployed_at, p.deployment.source, p.deployment.id))
    period_gaps = tuple(
        g
        for g in history.coverage_gaps
        if (until is None or g.after is None or g.after <= until)
        and (since is None or g.before >= since)
    )
    return RepoDeployments(history, tuple(placed), by_change, period_gaps)


class _Resolver:
    """Deployed revisions (full or abbreviated SHAs) to commits of the audited branches."""

    def __init__(self, chains: Sequence[Chain]) -> None:
        self.chains = list(chains)
        self.first = self.chains[0] if self.chains else None
        self._sorted = sorted({sha for c in self.chains for sha in (*c.shas, *c.custody)})

    def full(self, revision: str) -> str:
        rev = revision.lower()
        if not _HEX.match(rev):
            return ""
        if len(rev) == 40:
            return rev
        i = bisect.bisect_left(self._sorted, rev)
        hits = [s for s in self._sorted[i : i + 2] if s.startswith(rev)]
        return hits[0] if len(hits) == 1 else ""

    def feature(self, commit: str) -> str:
        """The change that brought ``commit`` in, when it is off the chain ("" else)."""
        for chain in self.chains:
            if commit and chain.position(commit) is None and commit in chain.custody:
                return chain.custody[commit]
        return ""

    def resolve(self, revision: str) -> tuple[str, Chain | None, int | None]:
        commit = self.full(revision)
        for chain in self.chains:
            pos = chain.position(commit) if commit else None
            if pos is not None:
                return commit, chain, pos
        return commit, None, None


def _place(
    d: Deployment,
    commit: str,
    chain: Chain | None,
    pos: int | None,
    prev_pos: int | None,
    previous: Deployment | None,
    nxt: datetime | None,
    gaps: Sequence[CoverageGap],
    observations: Sequence[Observation],
    spans: Sequence[OutOfSync],
    feature: str,
    head_of: Sequence[Chain],
    touched: Mapping[str, Sequence[str]],
) -> Placed:
    after_gap = next(
        (
            g
            for g in gaps
            if g.before <= d.deployed_at
            and (previous is None or g.after is None or g.after >= previous.deployed_at)
        ),
        None,
    )
    window_end = nxt
    seen = tuple(
        o
        for o in observations
        if o.observed_at >= d.deployed_at and (nxt is None or o.observed_at < nxt)
    )
    drifts = tuple(s for s in spans if s.start >= d.deployed_at and (nxt is None or s.start < nxt))
    if chain is None or pos is None:
        first = head_of[0] if head_of else None
        at = first.head_at(d.deployed_at) if first else None
        return Placed(
            d, commit, feature_change=feature, previous=previous,
            head=first.shas[at] if first and at is not None else "", after_gap=after_gap,
            until=window_end, observations=seen, out_of_sync=drifts,
        )  # fmt: skip
    head = chain.head_at(d.deployed_at)
    if after_gap is not None:  # what the deployments hidden by the gap brought is not known
        brought = range(pos, pos + 1)
    elif prev_pos is None:
        brought = range(0, pos + 1)
    else:
        brought = range(prev_pos + 1, pos + 1)
    return Placed(
        d,
        commit,
        branch=chain.branch,
        change=commit,
        brought=tuple(
            chain.shas[i] for i in brought if i == pos or concerns(touched, chain.shas[i], d.path)
        ),
        rollback=prev_pos is not None and pos < prev_pos,
        head=chain.shas[head] if head is not None else "",
        previous=previous,
        after_gap=after_gap,
        until=window_end,
        observations=seen,
        out_of_sync=drifts,
    )


def _out_of_sync(observations: Sequence[Observation]) -> list[OutOfSync]:
    """The spans successive reads saw the system out of sync, each until a read saw it in sync
    again (or, still out of sync, until the last read)."""
    spans: list[OutOfSync] = []
    start: datetime | None = None
    last: datetime | None = None
    for o in observations:
        if o.in_sync is False:
            if start is None:
                start = o.out_of_sync_since or o.observed_at
            last = o.observed_at
        elif o.in_sync is True and start is not None:
            spans.append(OutOfSync(start, o.observed_at, False))
            start = None
    if start is not None and last is not None:
        spans.append(OutOfSync(start, max(last, start), True))
    return spans


def _by_change(
    resolver: _Resolver,
    runs: Mapping[str, tuple[list[datetime], list[int], list[Deployment]]],
    changes: Sequence[tuple[str, datetime]],
    touched: Mapping[str, Sequence[str]],
) -> dict[str, tuple[ChangeDeployment, ...]]:
    chain = resolver.first
    if chain is None or not changes:
        return {}
    out: dict[str, list[ChangeDeployment]] = defaultdict(list)
    for change_id, landed in changes:
        q = chain.position(change_id)
        if q is None:
            continue
        for source, (times, reach, deployments) in sorted(runs.items()):
            # the first deployment at or after landing whose reach includes position q
            start = bisect.bisect_left(times, landed)
            i = bisect.bisect_left(reach, q, lo=start)
            if i >= len(reach):
                continue
            d = deployments[i]
            if not concerns(touched, change_id, d.path):
                continue
            out[change_id].append(
                ChangeDeployment(
                    source,
                    d.system,
                    d.environment,
                    d.deployed_at,
                    d.revision,
                    d.actor,
                    d.automated,
                    d.deployed_at - landed,
                )
            )
    return {k: tuple(v) for k, v in out.items()}


def concerns(touched: Mapping[str, Sequence[str]], sha: str, path: str) -> bool:
    """Whether the change ``sha`` concerns a deployment of ``path``: it touched a file under
    it, or either is not known (no path deployed, the change's files not at hand)."""
    base = path.strip().removeprefix("./").strip("/")
    files = touched.get(sha)
    if not base or base == "." or files is None:
        return True
    return any(f == base or f.startswith(base + "/") for f in files)


def _within(when: datetime, start: datetime, end: datetime | None) -> bool:
    return when >= start and (end is None or when < end)


def _inside(when: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or when >= since) and (until is None or when <= until)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
