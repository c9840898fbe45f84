"""Shared wording and lookups for the checks' one-line reasons."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from auditor.evaluation.checks.registry import Outcome
from auditor.infra.automaton import Automaton
from auditor.infra.globs import compile_path_globs, matches
from auditor.model import (
    NO_REVIEW_DATA,
    Approval,
    ChangeFacts,
    Identity,
    Person,
    ReviewEvidence,
    Status,
)


def when(moment: datetime | None) -> str:
    if moment is None:
        return "an unrecorded time"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def short(sha: str | None) -> str:
    return (sha or "")[:7]


def ident(identity: Identity) -> str:
    return f"{identity.name} <{identity.email}>"


def names(people: Iterable[Person]) -> str:
    return ", ".join(sorted({p.display for p in people}))


def approval(item: Approval) -> str:
    if item.source is ReviewEvidence.TRAILERS:
        return f"{item.reviewer.display} ({attested(item)})"
    text = f"{item.reviewer.display} at {when(item.at)}"
    return f"{text} on head {short(item.commit)}" if item.commit else text


def attested(item: Approval) -> str:
    """Where a trailer approval is written, and who committed it."""
    by = f", committed by {item.applied_by.display}" if item.applied_by else ""
    return f"attested by a {item.trailer or 'review'} trailer in the commit message{by}"


def approvals(items: Iterable[Approval]) -> str:
    return "; ".join(approval(a) for a in items)


def request(facts: ChangeFacts) -> str:
    return f"request #{facts.request_number}" if facts.request_number is not None else "no request"


def distinct_reviewers(items: Iterable[Approval]) -> tuple[Approval, ...]:
    """One approval per reviewer (their first in the list), in the order given."""
    seen: dict[str, Approval] = {}
    for item in items:
        seen.setdefault(item.reviewer.key, item)
    return tuple(seen.values())


def review_data_missing(facts: ChangeFacts) -> Outcome | None:
    """``unknown`` when the change has no review data to judge, else None; the reason says
    what is known (the request its message names)."""
    named = facts.request_number if facts.request_unconfirmed else None
    if facts.evidence is ReviewEvidence.NONE:
        if named is not None:
            return Outcome(
                Status.UNKNOWN, f"names #{named}; {NO_REVIEW_DATA} to confirm it was reviewed"
            )
        return Outcome(
            Status.UNKNOWN, f"{NO_REVIEW_DATA} for this change (no forge data, no review trailer)"
        )
    if facts.evidence is ReviewEvidence.MISSING:
        if named is not None:
            return Outcome(
                Status.UNKNOWN,
                f"names #{named}, which the review data lacks; its review cannot be confirmed",
            )
        return Outcome(Status.UNKNOWN, "review data for this change is missing or truncated")
    if facts.evidence is ReviewEvidence.TRAILERS and not facts.independent_approvals:
        return Outcome(Status.UNKNOWN, uncounted_trailers(facts))
    return None


def uncounted_trailers(facts: ChangeFacts) -> str:
    """Why the trailers of a change attest no independent approval (it has no other data)."""
    contributors = {p.key for p in facts.authors}
    reasons = []
    for item in facts.approvals:
        named = f"the {item.trailer} trailer naming {item.reviewer.display}"
        if item.applied_by is None:
            reasons.append(f"{named} was committed by the forge for a merger not recorded")
        elif item.applied_by.key in contributors:
            reasons.append(f"{named} was committed by {item.applied_by.display}, a contributor")
        else:
            reasons.append(f"{named} names someone who wrote or committed the change")
    named = f"names #{facts.request_number}; " if facts.request_unconfirmed else ""
    if not reasons:
        return f"{named}no approval trailer in the commit message, and no other review data"
    return (
        f"{named}no independent approval: {'; '.join(reasons)}; an approval attested in the "
        "commit message counts only when someone other than the contributors committed it, and "
        "no other review data confirms a review"
    )


def change_paths(facts: ChangeFacts) -> tuple[str, ...]:
    """Every path the change touched, old paths of renames included."""
    found: list[str] = []
    for item in facts.change.files:
        found.append(item.path)
        if item.old_path and item.old_path != item.path:
            found.append(item.old_path)
    return tuple(found)


@functools.lru_cache(maxsize=512)
def _globs(patterns: tuple[str, ...]) -> Automaton | None:
    return compile_path_globs(patterns)


def path_matches(patterns: Sequence[str], path: str) -> bool:
    return matches(_globs(tuple(patterns)), path)


def matching_paths(patterns: Sequence[str], paths: Iterable[str]) -> tuple[str, ...]:
    matcher = _globs(tuple(patterns))
    return tuple(p for p in paths if matches(matcher, p))


def any_path_matches(patterns: Sequence[str], paths: Iterable[str]) -> bool:
    matcher = _globs(tuple(patterns))
    return any(matches(matcher, p) for p in paths)


def emergency_marker(facts: ChangeFacts, labels: Sequence[str], pattern: str) -> str:
    """What marks the change as an emergency (a request label, or its subject or request title
    matching ``pattern``), or ``""``."""
    wanted = {label.lower() for label in labels}
    for label in facts.labels:
        if label.lower() in wanted:
            return f"label {label}"
    compiled = re.compile(pattern)
    for where, value in (("subject", facts.change.commit.subject), ("title", facts.request_title)):
        if value and compiled.search(value):
            return f"{where} {value!r}"
    return ""
