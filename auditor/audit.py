"""The core: mine the repositories, then read the ledger of the period. No printing, no exiting."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.commits import DEFAULT_BOT_PATTERNS, BotPolicy
from auditor.mining import MineResult, Progress, mine
from auditor.period import Period
from auditor.rows import change_row, commit_row
from auditor.store import Store


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


def change_rows(
    store: Store, mined: MineResult, options: LedgerOptions
) -> Iterator[dict[str, Any]]:
    """One row per change of the period, per audited branch, oldest first."""
    for branch in _branches(mined):
        for change in store.changes(
            mined.repo_id,
            branch,
            since=options.period.since,
            until=options.period.until,
            bots=options.bots,
        ):
            yield change_row(mined.name, change)


def commit_rows(
    store: Store, mined: MineResult, options: LedgerOptions
) -> Iterator[dict[str, Any]]:
    """One row per commit brought in by a change of the period: the chain of custody."""
    for branch in _branches(mined):
        for commit, link in store.custody_commits_in_period(
            mined.repo_id,
            branch,
            since=options.period.since,
            until=options.period.until,
            bots=options.bots,
        ):
            yield commit_row(mined.name, branch, commit, link)


def _branches(mined: MineResult) -> Sequence[str]:
    return [b.branch for b in mined.branches]
