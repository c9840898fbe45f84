"""The core of ``check``, ``report`` and ``run``: ledger → reviews → facts → controls → report.

:func:`audit` takes the options (built once, from the command line and a config alike) and
returns an :class:`Audited`: the report, its warnings and its outcome. No printing, no exiting:
the command line prints the warnings and turns the outcome into an exit code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from auditor.deployments.collect import collect_deployments
from auditor.deployments.interface import DeploymentOptions
from auditor.deployments.join import Chain, RepoDeployments, join
from auditor.evaluation.assessment import Assessment, BranchHead, RepoAssessment, period_end
from auditor.evaluation.catalog import Overrides, load_catalog
from auditor.evaluation.checks.guard import GUARD_CHECKS
from auditor.evaluation.evaluate import evaluate, verdict
from auditor.evaluation.waivers import load_waivers
from auditor.evidence.builder import ReportOptions, build_report
from auditor.evidence.report import Report
from auditor.evidence.words import counted
from auditor.facts.analysed import with_analysis
from auditor.facts.identities import Roster
from auditor.facts.linking import build_facts
from auditor.facts.signatures import SignerKeys, verify_commits
from auditor.guard import GuardData, merged
from auditor.guard.collect import collect_branch
from auditor.ledger.mining import MineResult, Progress
from auditor.ledger.period import Period
from auditor.ledger.queries import (
    LedgerOptions,
    analyse_changes,
    brought_in_commits,
    mine_all,
    period_changes,
)
from auditor.ledger.store import Store
from auditor.model import BranchWatch, ChangeFacts, Severity
from auditor.outcome import Outcome
from auditor.reviews.collect import ForgeOptions, ReviewData, collect
from auditor.runtime import long_lived


@dataclass(frozen=True)
class AssessOptions:
    """What ``check`` and ``report`` evaluate, parsed once at the edge."""

    ledger: LedgerOptions
    forge: ForgeOptions = field(default_factory=ForgeOptions)
    frameworks: tuple[str, ...] = ()
    controls_dirs: tuple[Path, ...] = ()
    waivers: Path | None = None
    roster: Path | None = None
    overrides: Overrides = field(default_factory=dict)  # parameters per repository and path
    signers: SignerKeys = field(default_factory=SignerKeys)  # keys to verify signatures against
    deployments: DeploymentOptions = field(default_factory=DeploymentOptions)


@dataclass(frozen=True)
class AuditOptions:
    """What is assessed, what the report says about itself, and which failures fail."""

    assess: AssessOptions
    report: ReportOptions = field(default_factory=ReportOptions)
    fail_on: frozenset[Severity] = frozenset(Severity)


@dataclass(frozen=True)
class Audited:
    """An audit's assessment and report; its warnings and outcome follow from the report."""

    assessment: Assessment
    report: Report
    fail_on: frozenset[Severity] = frozenset(Severity)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a person running the audit must be told, each once: every repository's
        evidence gaps, empty populations, waivers that matched nothing, expired waivers."""
        report = self.report
        gaps = [
            f"{repo.mined.name}: evidence incomplete: {gap}"
            for repo in self.assessment.repositories
            for gap in repo.gaps
        ]
        waivers = [f"waiver {w} matched nothing" for w in report.unmatched_waivers]
        waivers += [f"waiver {w} has expired and no longer applies" for w in report.expired_waivers]
        return tuple(dict.fromkeys((*gaps, *report.empty_populations, *waivers)))

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.report, self.fail_on)


def outcome_of(report: Report, fail_on: frozenset[Severity] = frozenset(Severity)) -> Outcome:
    """Incomplete evidence, else a failed control of a severity in ``fail_on``, else passed."""
    return verdict(report.controls, fail_on, complete=report.complete)


def audit(store: Store, options: AuditOptions, progress: Progress | None = None) -> Audited:
    """Assess the repositories of ``options`` and report on them."""
    ledger = options.assess.ledger
    assessment = assess(store, options.assess, progress)
    return concluded(
        assessment,
        options.report,
        as_of=ledger.as_of,
        period=ledger.period,
        fail_on=options.fail_on,
    )


def concluded(
    assessment: Assessment,
    options: ReportOptions,
    *,
    as_of: datetime,
    period: Period,
    fail_on: frozenset[Severity] = frozenset(Severity),
) -> Audited:
    """The report on ``assessment``: for :func:`audit`, and for a run, which assesses its
    repositories in worker processes and settles their findings itself."""
    report = build_report(assessment, as_of=as_of, period=period, options=options)
    return Audited(assessment, report, fail_on)


def assess(store: Store, options: AssessOptions, progress: Progress | None = None) -> Assessment:
    """Mine, collect reviews, derive facts and evaluate the catalog over the period."""
    catalog = load_catalog(options.controls_dirs, frameworks=options.frameworks)
    waivers = load_waivers(options.waivers) if options.waivers else ()
    progress = progress or Progress()
    mined = mine_all(store, options.ledger, progress)
    progress.start("assessing", len(mined) + 1)  # each repository, then the evaluation
    repos = _assess_mined(store, mined, options, progress, assessed=long_lived)
    progress.describe(f"evaluating {counted(len(catalog), 'control')}")
    evaluation = evaluate(
        catalog,
        {r.mined.name: r.facts for r in repos},
        {r.mined.name: r.events for r in repos},
        as_of=options.ledger.as_of,
        frameworks=options.frameworks,
        waivers=waivers,
        period=options.ledger.period,
        overrides=options.overrides,
        roster=options.roster is not None,
        deployments_by_repo={r.mined.name: r.deployments for r in repos},
        watched_by_repo={r.mined.name: r.watched for r in repos},
        guard_by_repo={r.mined.name: r.guard for r in repos},
    )
    long_lived()
    progress.advance(1)
    progress.finish()
    return Assessment(tuple(repos), evaluation, tuple(waivers), options.roster is not None)


def assess_repositories(
    store: Store, options: AssessOptions, progress: Progress | None = None
) -> list[RepoAssessment]:
    """Mine every repository of ``options`` and assess each (no evaluation: see :func:`assess`)."""
    return _assess_mined(store, mine_all(store, options.ledger, progress), options, Progress())


def _assess_mined(
    store: Store,
    mined: Sequence[MineResult],
    options: AssessOptions,
    progress: Progress,
    assessed: Callable[[], None] = lambda: None,
) -> list[RepoAssessment]:
    """Assess each mined repository, advancing ``progress`` by one for each and calling
    ``assessed`` after each."""
    roster = Roster.load(options.roster) if options.roster else None
    repos = []
    for repo in mined:
        progress.describe(f"analysing {repo.name}")
        repos.append(assess_repository(store, repo, options, roster))
        assessed()
        progress.advance(1)
    return repos


def assess_repository(
    store: Store, mined: MineResult, options: AssessOptions, roster: Roster | None = None
) -> RepoAssessment:
    """One mined repository's changes of the period with their reviews and analysis, as facts."""
    ledger = options.ledger
    changes = period_changes(store, mined, ledger)
    analyses = analyse_changes(store, mined, changes, ledger)
    brought_in = brought_in_commits(store, mined, ledger)
    reviews, facts, guards = [], [], []
    guarded = _judges_guard(options.controls_dirs, options.frameworks)
    for branch in mined.branches:
        review = collect(store, mined.repo_id, mined.remote, branch.branch, options.forge)
        reviews.append(review)
        if guarded:
            guards.append(
                collect_branch(
                    store,
                    mined.repo_id,
                    mined.remote,
                    branch.branch,
                    options.forge,
                    review.requests,
                )
            )
        on_branch = [c for c in changes if c.branch == branch.branch]
        facts += build_facts(
            mined.name,
            on_branch,
            brought_in,
            review.requests,
            roster=roster,
            repo_path=mined.path,
            mailmap=mined.mailmap,
            forge_complete=review.complete,
            bots=ledger.bots,
        )
    facts = with_analysis(facts, analyses, mined.path, roster)
    if options.signers:
        facts = _with_signatures(facts, mined.path, options.signers)
    events = tuple(
        e for e in store.events(mined.repo_id) if e.branch in {b.branch for b in mined.branches}
    )
    first = store.watches(mined.repo_id)
    return RepoAssessment(
        mined,
        tuple(reviews),
        tuple(facts),
        events,
        _heads(store, mined, ledger),
        _deployments(store, mined, options, facts),
        watched=tuple(BranchWatch(b.branch, first.get(b.branch)) for b in mined.branches),
        guard=merged(guards),
    )


@functools.lru_cache(maxsize=8)
def _judges_guard(controls_dirs: tuple[Path, ...], frameworks: tuple[str, ...]) -> bool:
    """Whether a control of the catalog judges branch protection or request checks: only then
    are they collected for the assessment, and only then does a refused read (a token without
    admin read, say) leave the evidence incomplete (exit 4 where the control needs it)."""
    catalog = load_catalog(controls_dirs, frameworks=frameworks)
    return any(control.check in GUARD_CHECKS for control in catalog)


def _deployments(
    store: Store, mined: MineResult, options: AssessOptions, facts: Sequence[ChangeFacts]
) -> RepoDeployments | None:
    """The repository's deployments (this run's reads kept in the store) joined to its
    ledger for the period; None when no deployment records were given."""
    if not options.deployments.given:
        return None
    ledger = options.ledger
    history = collect_deployments(
        store, mined.repo_id, mined.remote, options.deployments, ledger.as_of
    )
    chains = []
    for branch in mined.branches:
        landings = store.chain_landings(mined.repo_id, branch.branch)
        chains.append(
            Chain(
                branch.branch,
                tuple(sha for sha, _ in landings),
                tuple(datetime.fromtimestamp(at, UTC) for _, at in landings),
                store.custody_changes(mined.repo_id, branch.branch),
            )
        )
    return join(
        history,
        chains,
        since=ledger.period.since,
        until=period_end(ledger.period, ledger.as_of),
        changes=[(f.change.sha, f.change.landed_at) for f in facts],
        paths={
            f.change.sha: [p for c in f.change.files for p in (c.path, c.old_path) if p]
            for f in facts
        },
    )


@dataclass(frozen=True)
class CollectedBranch:
    """What ``mine --forge`` collected for one branch: its review data and guard data."""

    repo: str
    branch: str
    reviews: ReviewData
    guard: GuardData

    @property
    def gaps(self) -> tuple[str, ...]:
        return self.reviews.gaps + self.guard.gaps


def collect_review_data(
    store: Store, mined: Sequence[MineResult], forge: ForgeOptions
) -> list[CollectedBranch]:
    """Bring the store's review data, protection timeline and request checks of every mined
    branch up to date (what ``check`` and ``report`` would collect), without evaluating."""
    collected = []
    for repo in mined:
        for branch in repo.branches:
            review = collect(store, repo.repo_id, repo.remote, branch.branch, forge)
            guard = collect_branch(
                store, repo.repo_id, repo.remote, branch.branch, forge, review.requests
            )
            collected.append(CollectedBranch(repo.name, branch.branch, review, guard))
    return collected


def _heads(store: Store, mined: MineResult, ledger: LedgerOptions) -> tuple[BranchHead, ...]:
    end = period_end(ledger.period, ledger.as_of)
    heads = []
    for branch in mined.branches:
        found = store.head_at(mined.repo_id, branch.branch, end)
        commit, landed = found if found else (None, None)
        heads.append(BranchHead(branch.branch, commit, landed, branch.tip))
    return tuple(heads)


def _with_signatures(
    facts: Sequence[ChangeFacts], repo: Path, keys: SignerKeys
) -> list[ChangeFacts]:
    """Each change's signed commits verified against ``keys``."""
    commits = {c.sha: c for f in facts for c in f.commits or (f.change.commit,)}
    verdicts = verify_commits(repo, commits.values(), keys)
    return [
        replace(
            f,
            signatures=tuple(
                verdicts[c.sha] for c in f.commits or (f.change.commit,) if c.sha in verdicts
            ),
        )
        for f in facts
    ]
