"""Change facts with what the analysis found: categories, environments, code owners, handles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from auditor.facts.identities import Roster
from auditor.ledger.analysis import (
    NOT_ANALYSED_MISSING,
    NOT_ANALYSED_REWRITTEN,
    ChangeAnalysis,
    codeowners_at,
)
from auditor.model import Change, ChangeFacts


def with_analysis(
    facts: Iterable[ChangeFacts],
    analyses: Mapping[str, ChangeAnalysis],
    repo: Path,
    roster: Roster | None = None,
) -> list[ChangeFacts]:
    """``facts`` with what the analysis found: categories, environments, the analysis of each
    file, the CODEOWNERS file at each change's first parent, and the handles (``@login``,
    email) of the people involved, for matching code owners."""
    facts = list(facts)
    owners = codeowners_at(repo, (_first_parent(f.change) for f in facts))
    known = _roster_handles(roster)
    out = []
    for item in facts:
        analysis = analyses.get(item.change.sha)
        if analysis is None:  # its contents are gone: the checks say unknown
            why = NOT_ANALYSED_REWRITTEN if item.change.rewritten else NOT_ANALYSED_MISSING
            notes = (*item.notes, why)
            out.append(replace(item, notes=notes, handles=_handles(item, known)))
            continue
        out.append(
            replace(
                item,
                categories=analysis.categories,
                environments=analysis.environments,
                infra_files=analysis.files,
                codeowners=owners.get(_first_parent(item.change)),
                handles=_handles(item, known),
            )
        )
    return out


def _first_parent(change: Change) -> str:
    return change.commit.parents[0] if change.commit.parents else ""


def _roster_handles(roster: Roster | None) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for entry in roster.entries if roster else ():
        handles = found.setdefault(entry.person, set())
        handles |= {f"@{login.lower()}" for login in entry.logins}
        handles |= {email.lower() for email in entry.emails}
    return {person: frozenset(h) for person, h in found.items()}


def _handles(
    facts: ChangeFacts, known: Mapping[str, frozenset[str]]
) -> tuple[tuple[str, frozenset[str]], ...]:
    people = [a.reviewer for a in (*facts.approvals, *facts.post_merge_approvals)]
    people += list(facts.authors)
    out: dict[str, frozenset[str]] = {}
    for person in people:
        kind, _, value = person.key.partition(":")
        if kind == "login" and value:
            handles = frozenset({f"@{value.lower()}"})
        elif kind == "email" and value:
            handles = frozenset({value.lower()})
        else:
            handles = known.get(person.key, frozenset())
        out[person.key] = handles
    return tuple(sorted(out.items()))
