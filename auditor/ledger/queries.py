"""The core: mine the repositories, then read the ledger of the period. No printing, no exiting."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.ledger.commits import DEFAULT_BOT_PATTERNS, BotPolicy
from auditor.ledger.mining import MineResult, Progress, mine
from auditor.ledger.period import Period
from auditor.ledger.store import Store
from auditor.model import Change, Commit, CommitSha, CustodyLink

if TYPE_CHECKING:  # the analysis (parsers, forge identities) is imported where it is used, so
    from auditor.ledger.analysis import ChangeAnalysis  # that `mine` starts without it


@dataclass(frozen=True)
class LedgerOptions:
    """Everything the ledger commands need, parsed once at the edge."""

    store: Path
    repos: tuple[Path, ...]
    as_of: datetime
    branches: tuple[str, ...] = ()
    period: Period = field(default_factory=Period)
    jobs: int | None = None
    bot_patterns: tuple[str, ...] = DEFAULT_BOT_PATTERNS
    rule_files: tuple[Path, ...] = ()  # category rules extending the shipped ones

    @property
    def bots(self) -> BotPolicy:
        return BotPolicy(self.bot_patterns)


def mine_all(
    store: Store, options: LedgerOptions, progress: Progress | None = None
) -> list[MineResult]:
    """Bring the store up to date with every repository, in the order given."""
    return [
        mine(store, repo, options.branches, now=options.as_of, jobs=options.jobs, progress=progress)
        for repo in options.repos
    ]


def period_changes(store: Store, mined: MineResult, options: LedgerOptions) -> list[Change]:
    """The changes of the period on every audited branch, oldest first per branch, then those
    that landed in the period and were later rewritten away from the branch (marked so)."""
    period = options.period
    found: list[Change] = []
    for branch in _branches(mined):
        for read in (store.changes, store.rewritten_changes):
            found += read(
                mined.repo_id, branch, since=period.since, until=period.until, bots=options.bots
            )
    return [_as_of(change, options.as_of) for change in found]


def _as_of(change: Change, as_of: datetime) -> Change:
    """A change rewritten away only after ``as_of`` was still on its branch then."""
    if change.rewritten is not None and change.rewritten > as_of:
        return replace(change, rewritten=None)
    return change


def period_custody(
    store: Store, mined: MineResult, options: LedgerOptions
) -> Iterator[tuple[str, Commit, CustodyLink]]:
    """(branch, commit, link) for every commit a change of :func:`period_changes` brought in."""
    period = options.period
    for branch in _branches(mined):
        for read in (store.custody_commits_in_period, store.rewritten_custody_in_period):
            for commit, link in read(
                mined.repo_id, branch, since=period.since, until=period.until, bots=options.bots
            ):
                yield branch, commit, link


def brought_in_commits(
    store: Store, mined: MineResult, ledger: LedgerOptions
) -> dict[CommitSha, Sequence[Commit]]:
    """The commits each change of the period brought in, in chain order, by change."""
    grouped: dict[CommitSha, list[Commit]] = defaultdict(list)
    for _, commit, link in period_custody(store, mined, ledger):
        grouped[link.change].append(commit)
    return dict(grouped)


def analyse_changes(
    store: Store, mined: MineResult, changes: Sequence[Change], options: LedgerOptions
) -> dict[str, ChangeAnalysis]:
    """The infrastructure analysis of each change (cached in the store)."""
    from auditor.infra import Rules
    from auditor.ledger.analysis import analyse, rules_digest

    rules = Rules.load(*options.rule_files) if options.rule_files else Rules.default()
    digest = rules_digest(options.rule_files)
    return analyse(store, mined.repo_id, mined.path, changes, rules, digest, jobs=options.jobs)


def _branches(mined: MineResult) -> Sequence[str]:
    return [b.branch for b in mined.branches]
