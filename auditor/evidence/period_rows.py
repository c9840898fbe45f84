"""The period's ledger as rows: what ``auditor changes`` writes, one row per change, resource
change or commit, keyed by the columns of :mod:`auditor.evidence.columns`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.evidence.rows import change_row, commit_row, resource_rows
from auditor.ledger.analysis import ChangeAnalysis
from auditor.ledger.contributors import contributions
from auditor.ledger.mining import MineResult, mailmap_resolver
from auditor.ledger.queries import (
    LedgerOptions,
    analyse_changes,
    brought_in_commits,
    period_changes,
    period_custody,
)
from auditor.ledger.store import Store
from auditor.model import Change


def _analysed(
    store: Store, mined: MineResult, options: LedgerOptions
) -> Iterator[tuple[Change, ChangeAnalysis | None]]:
    changes = period_changes(store, mined, options)
    analyses = analyse_changes(store, mined, changes, options)
    for change in changes:
        yield change, analyses.get(change.sha)  # None: its file contents are not in the repo


def change_rows(
    store: Store, mined: MineResult, options: LedgerOptions
) -> Iterator[dict[str, Any]]:
    """One row per change of the period, per audited branch, oldest first, with categories
    and contributors."""
    brought_in = brought_in_commits(store, mined, options)
    resolve = mailmap_resolver(mined.path, mined.mailmap)
    for change, analysis in _analysed(store, mined, options):
        written = contributions(brought_in.get(change.sha, ()), change.commit, resolve)
        contributors = [c.identity for c in written]
        yield change_row(mined.name, change, analysis, contributors, options.bots)


def resource_rows_of(
    store: Store, mined: MineResult, options: LedgerOptions
) -> Iterator[dict[str, Any]]:
    """One row per resource change of the period."""
    for change, analysis in _analysed(store, mined, options):
        if analysis is not None:
            yield from resource_rows(mined.name, change, analysis)


def commit_rows(
    store: Store, mined: MineResult, options: LedgerOptions
) -> Iterator[dict[str, Any]]:
    """One row per commit brought in by a change of the period: the chain of custody."""
    for branch, commit, link in period_custody(store, mined, options):
        yield commit_row(mined.name, branch, commit, link)
