"""The assessment: each repository as mined, its review data, its change facts, and the
evaluation of the controls over them; what every output of a run is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from auditor.deployments.join import RepoDeployments
from auditor.evaluation.evaluate import Evaluation
from auditor.guard import GuardData
from auditor.ledger.mining import MineResult
from auditor.ledger.period import Period
from auditor.model import (
    BranchName,
    BranchWatch,
    ChangeFacts,
    CommitSha,
    HistoryEvent,
    ReviewEvidence,
    Waiver,
)
from auditor.reviews.collect import ReviewData


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
    deployments: RepoDeployments | None = None  # None: no deployment records were given
    watched: tuple[BranchWatch, ...] = ()  # since when the store watched each audited branch
    guard: GuardData = field(default_factory=GuardData)  # protection timeline, request checks

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def gaps(self) -> tuple[str, ...]:
        return (
            self.mined.completeness.reasons
            + tuple(g for r in self.reviews for g in r.gaps)
            + self.guard.gaps
            + self._requests_missing()
            + self._contents_missing()
            + (self.deployments.gap_lines if self.deployments else ())
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


def period_end(period: Period, as_of: datetime) -> datetime:
    """The time the pack describes the branches at: the period's end, or ``as_of`` if earlier."""
    return period.until if period.until is not None and period.until < as_of else as_of
