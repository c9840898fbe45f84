"""Review evidence from commit trailers, for repositories reviewed without a forge.

``Reviewed-by``, ``Approved-by`` and ``Acked-by`` trailers of the landed commit name its
approvers; Gerrit adds ``Reviewed-on`` with the change's URL. A trailer is part of the commit
that landed, so it covers exactly the merged content; it records no time, so ``at`` is None
rather than the commit time, which would be a guess.

A trailer is the word of whoever wrote the message. It attests an independent approval only
when someone other than the change's contributors committed it (a review system, or the
maintainer who applied the patch): Alice pushing her own commit with ``Reviewed-by: Bob``
attests nothing Bob did. Nor does a commit the forge committed (a squash merge): it was written
for whoever clicked Merge, whom Git does not record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from auditor.facts.identities import Involvement, People, involvement
from auditor.ledger.contributors import contributions, is_forge_identity, merger
from auditor.model import Approval, Change, ChangeFacts, Commit, Identity, Person, ReviewEvidence

APPROVAL_KEYS = ("reviewed-by", "approved-by", "acked-by")
GERRIT_KEY = "reviewed-on"

_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+)>\s*$")
_GERRIT_NUMBER = re.compile(r"/(?:\+/)?(?P<number>\d+)/?$")


def trailer_facts(
    repo: str, change: Change, commits: Sequence[Commit], people: People
) -> ChangeFacts:
    """The facts of one change from its own trailers (``TRAILERS``), or ``NONE`` without any.

    A request its message names (``Merge pull request #5``, ``(#5)``) is kept, unconfirmed:
    only Gerrit's ``Reviewed-on`` links the change to a reviewed request.
    """
    commit = change.commit
    involved = involvement(people, contributions(commits, commit, people.mailmap), commits)
    merged_by = people.merger(merger(commit), change.landed_at)
    reviewed_on = next(iter(commit.trailer_values(GERRIT_KEY)), "")
    reviewers = _reviewers(commit, people)
    named = change.request.number if change.request else None
    if not reviewers and not reviewed_on:
        return ChangeFacts(
            repo,
            change,
            ReviewEvidence.NONE,
            request_number=named,
            request_unconfirmed=named is not None,
            authors=involved.authors,
            committers=involved.committers,
            merged_by=merged_by,
            contributors=involved.contributors,
            commits=tuple(commits),
            unresolved=involved.unresolved,
        )
    number = _GERRIT_NUMBER.search(reviewed_on) if reviewed_on else None
    committer = commit.committer
    applied_by = (
        None
        if is_forge_identity(committer.identity.raw_email)
        else people.identity(committer.identity, committer.when)
    )
    approvals = tuple(
        Approval(
            reviewer=person,
            at=None,
            commit=commit.sha,
            covers_merged_content=True,
            independent=_independent(person, applied_by, involved),
            source=ReviewEvidence.TRAILERS,
            trailer=key,
            applied_by=applied_by,
        )
        for key, person in reviewers
    )
    unresolved = [f"reviewer: {p.display}" for _, p in reviewers if not p.known]
    return ChangeFacts(
        repo,
        change,
        ReviewEvidence.TRAILERS,
        request_number=int(number["number"]) if number else named,
        request_unconfirmed=number is None and named is not None,
        request_url=reviewed_on,
        authors=involved.authors,
        committers=involved.committers,
        approvals=approvals,
        merged_by=merged_by,
        contributors=involved.contributors,
        commits=tuple(commits),
        unresolved=(*involved.unresolved, *unresolved),
    )


def _independent(reviewer: Person, applied_by: Person | None, involved: Involvement) -> bool:
    """Neither a contributor nor a committer approved, and someone known, not a contributor,
    applied the trailer (``applied_by`` None: the forge committed it for an unknown merger)."""
    if applied_by is None or reviewer.key in involved.keys:
        return False
    return applied_by.key not in {p.key for p in involved.authors}


def _reviewers(commit: Commit, people: People) -> tuple[tuple[str, Person], ...]:
    """Each person named by an approval trailer, once, in trailer order, with its key."""
    found: dict[str, tuple[str, Person]] = {}
    for trailer in commit.trailers:
        if trailer.key.lower() in APPROVAL_KEYS and trailer.value:
            person = _person(trailer.value, commit, people)
            found.setdefault(person.key, (trailer.key, person))
    return tuple(found.values())


def _person(value: str, commit: Commit, people: People) -> Person:
    match = _NAME_EMAIL.match(value)
    if match is None:
        return people.named(value, commit.committer.when)
    identity = Identity(match["name"], match["email"], match["name"], match["email"])
    return people.identity(identity, commit.committer.when)
