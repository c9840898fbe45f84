"""The assessment core: ledger → reviews → facts → controls. No printing, no exiting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from auditor.evaluation.catalog import Overrides, load_catalog
from auditor.evaluation.evaluate import Evaluation, evaluate
from auditor.evaluation.waivers import load_waivers
from auditor.evidence.words import counted
from auditor.facts.identities import Roster
from auditor.facts.linking import build_facts
from auditor.facts.signatures import SignerKeys, verify_commits
from auditor.ledger.analysis import with_analysis
from auditor.ledger.mining import MineResult, Progress
from auditor.ledger.period import Period
from auditor.ledger.queries import (
    LedgerOptions,
    analyse_changes,
    brought_in_commits,
    mine_all,
    period_changes,
)
from auditor.model import (
    BranchName,
    ChangeFacts,
    CommitSha,
    HistoryEvent,
    ReviewEvidence,
    Waiver,
)
from auditor.reviews.collect import ForgeOptions, ReviewData, collect
from auditor.store import Store


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


@dataclass(frozen=True)
class BranchHead:
    """A branch at the end of the period (or ``--as-of``, if earlier): the last change that had
    landed on it by then, and its tip as mined now."""

    branch: BranchName
    commit: CommitSha | None  # None: nothing had landed by then
    landed_at: datetime | None
    tip: CommitSha


@dataclass(frozen=True)
class RepoAssessment:
    """One repository as assessed: what was mined and where its review data came from."""

    mined: MineResult
    reviews: tuple[ReviewData, ...]
    facts: tuple[ChangeFacts, ...]
    events: tuple[HistoryEvent, ...]
    heads: tuple[BranchHead, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def gaps(self) -> tuple[str, ...]:
        return (
            self.mined.completeness.reasons
            + tuple(g for r in self.reviews for g in r.gaps)
            + self._requests_missing()
            + self._contents_missing()
        )

    def _contents_missing(self) -> tuple[str, ...]:
        """Changes on their branch whose file contents the repository lacks (not analysed)."""
        ids = [
            f.change_id
            for f in self.facts
            if f.change.files and not f.infra_files and f.change.rewritten is None
        ]
        if not ids:
            return ()
        shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
        return (
            f"the repository is incomplete or corrupt: the file contents of {len(ids)} change(s)"
            f" are missing, so what they changed is unknown: {shown}",
        )

    def _requests_missing(self) -> tuple[str, ...]:
        """Changes whose message names a request the review data does not hold."""
        named = sorted(
            {
                f.request_number
                for f in self.facts
                if f.evidence is ReviewEvidence.MISSING and f.request_number is not None
            }
        )
        if not named:
            return ()
        shown = ", ".join(f"#{n}" for n in named[:10]) + (" …" if len(named) > 10 else "")
        return (
            f"{len(named)} request(s) named by changes are missing from the review data: {shown}",
        )


@dataclass(frozen=True)
class Assessment:
    repositories: tuple[RepoAssessment, ...]
    evaluation: Evaluation
    waivers: tuple[Waiver, ...] = ()
    roster: bool = False  # a roster of the organisation's people was given

    @property
    def complete(self) -> bool:
        return all(r.complete for r in self.repositories)


def empty_populations(assessment: Assessment, period: Period) -> tuple[str, ...]:
    """What a run must say, on stderr and in the pack, when nothing landed in the period: an
    empty population passes nothing, it only has nothing to test (a mis-set period or branch
    would otherwise look healthy)."""
    repos = assessment.repositories
    during = f"during {period.label()}"
    if repos and not any(r.facts for r in repos):
        return (
            f"the population is empty: no change landed on an audited branch {during}, so no"
            " control tested anything; check the period and the branches",
        )
    return tuple(
        f"{r.mined.name}: the population is empty: no change landed on"
        f" {', '.join(b.branch for b in r.mined.branches)} {during}"
        for r in repos
        if not r.facts
    )


def assess(store: Store, options: AssessOptions, progress: Progress | None = None) -> Assessment:
    """Mine, collect reviews, derive facts and evaluate the catalog over the period."""
    catalog = load_catalog(options.controls_dirs, frameworks=options.frameworks)
    waivers = load_waivers(options.waivers) if options.waivers else ()
    progress = progress or Progress()
    mined = mine_all(store, options.ledger, progress)
    progress.start("assessing", len(mined) + 1)  # each repository, then the evaluation
    repos = _assess_mined(store, mined, options, progress)
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
    )
    progress.advance(1)
    progress.finish()
    return Assessment(tuple(repos), evaluation, tuple(waivers), options.roster is not None)


def assess_repositories(
    store: Store, options: AssessOptions, progress: Progress | None = None
) -> list[RepoAssessment]:
    """Mine every repository of ``options`` and assess each (no evaluation: see :func:`assess`)."""
    return _assess_mined(store, mine_all(store, options.ledger, progress), options, Progress())


def _assess_mined(
    store: Store, mined: Sequence[MineResult], options: AssessOptions, progress: Progress
) -> list[RepoAssessment]:
    """Assess each mined repository, advancing ``progress`` by one for each."""
    roster = Roster.load(options.roster) if options.roster else None
    assessed = []
    for repo in mined:
        progress.describe(f"analysing {repo.name}")
        assessed.append(assess_repository(store, repo, options, roster))
        progress.advance(1)
    return assessed


def assess_repository(
    store: Store, mined: MineResult, options: AssessOptions, roster: Roster | None = None
) -> RepoAssessment:
    """One mined repository's changes of the period with their reviews and analysis, as facts."""
    ledger = options.ledger
    changes = period_changes(store, mined, ledger)
    analyses = analyse_changes(store, mined, changes, ledger)
    brought_in = brought_in_commits(store, mined, ledger)
    reviews, facts = [], []
    for branch in mined.branches:
        review = collect(store, mined.repo_id, mined.remote, branch.branch, options.forge)
        reviews.append(review)
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
    return RepoAssessment(mined, tuple(reviews), tuple(facts), events, _heads(store, mined, ledger))


def period_end(period: Period, as_of: datetime) -> datetime:
    """The time the pack describes the branches at: the period's end, or ``as_of`` if earlier."""
    return period.until if period.until is not None and period.until < as_of else as_of


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
