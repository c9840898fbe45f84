"""Approvals of a request: each reviewer's latest state, independence, and what it covered.

A reviewer's state is their latest APPROVED, CHANGES_REQUESTED or DISMISSED review; comments
and pending reviews change nothing. An approval counts when it is the reviewer's latest state
at the merge; an approval given after the merge is kept apart, for retrospective-approval
controls. It covers the merged content when it was given on the request's final head, or on a
head with the same tree or the same ``git patch-id --stable`` of its diff against the base.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auditor import git
from auditor.facts.identities import People
from auditor.model import Approval
from auditor.reviews.interface import ChangeRequest, Review, ReviewState

_DECISIVE = frozenset({ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.DISMISSED})
_EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True)
class ContentQuery:
    """Does ``approved`` carry the same change as ``head``, both taken against ``base``?"""

    approved: str
    head: str
    base: str | None


def standing_reviews(
    reviews: Sequence[Review], merged_at: datetime | None
) -> tuple[list[Review], list[Review]]:
    """Approvals standing at the merge, and approvals first given after it.

    A review without a time is taken as given before the merge, and before every timed review.
    """
    ordered = sorted(
        (r for r in reviews if r.state in _DECISIVE),
        key=lambda r: (r.submitted_at is not None, r.submitted_at or _EPOCH),
    )
    at_merge: dict[str | None, Review] = {}
    latest: dict[str | None, Review] = {}
    for review in ordered:
        reviewer = review.reviewer_login.lower() if review.reviewer_login else None
        latest[reviewer] = review
        if not _after(review, merged_at):
            at_merge[reviewer] = review
    standing = {k: r for k, r in at_merge.items() if r.state is ReviewState.APPROVED}
    retro = [
        r
        for reviewer, r in latest.items()
        if r.state is ReviewState.APPROVED and _after(r, merged_at) and reviewer not in standing
    ]
    return list(standing.values()), retro


def _after(review: Review, merged_at: datetime | None) -> bool:
    if review.submitted_at is None or merged_at is None:
        return False
    return review.submitted_at > merged_at


def content_queries(request: ChangeRequest, base: str | None) -> set[ContentQuery]:
    """The questions :func:`same_content` must answer for the approvals of ``request``."""
    return {
        ContentQuery(review.commit_id, request.head_sha, base)
        for review in request.reviews
        if review.state is ReviewState.APPROVED
        and review.commit_id
        and review.commit_id != request.head_sha
    }


def approvals(
    request: ChangeRequest,
    people: People,
    involved: Collection[str],
    content: Mapping[ContentQuery, bool | None],
    base: str | None,
) -> tuple[tuple[Approval, ...], tuple[Approval, ...]]:
    """Counted and post-merge approvals; ``involved`` holds the keys of authors and committers."""

    def approval(review: Review) -> Approval:
        reviewer = people.login(review.reviewer_login, review.reviewer_type, review.submitted_at)
        if review.commit_id is None:
            covers = None
        elif review.commit_id == request.head_sha:
            covers = True
        else:
            covers = content.get(ContentQuery(review.commit_id, request.head_sha, base))
        return Approval(
            reviewer=reviewer,
            at=review.submitted_at,
            commit=review.commit_id,
            covers_merged_content=covers,
            independent=reviewer.key not in involved,
        )

    standing, retro = standing_reviews(request.reviews, request.merged_at)
    return tuple(map(approval, standing)), tuple(map(approval, retro))


def same_content(
    repo: Path | None, queries: Iterable[ContentQuery]
) -> dict[ContentQuery, bool | None]:
    """Answer each query with git; None when a commit is not in ``repo`` (or there is no repo)."""
    wanted = list(queries)
    if repo is None or not wanted:
        return dict.fromkeys(wanted)
    trees = _trees(repo, {c for q in wanted for c in (q.approved, q.head, q.base) if c})
    answers: dict[ContentQuery, bool | None] = {}
    diffs: set[tuple[str, str]] = set()
    bases: dict[tuple[str, str], str | None] = {}
    for query in wanted:
        approved, head = trees.get(query.approved), trees.get(query.head)
        if approved is None or head is None:
            answers[query] = None
        elif approved == head:
            answers[query] = True
        elif query.base is None or query.base not in trees:
            answers[query] = None
        else:
            for commit in (query.approved, query.head):
                key = (commit, query.base)
                if key not in bases:
                    bases[key] = _merge_base(repo, commit, query.base)
                if (fork := bases[key]) is not None:
                    diffs.add((commit, fork))
    patch_ids = _patch_ids(repo, diffs)
    for query in wanted:
        if query in answers or query.base is None:
            continue
        ids = [
            patch_ids.get((c, fork)) if (fork := bases.get((c, query.base))) else None
            for c in (query.approved, query.head)
        ]
        answers[query] = None if None in ids else ids[0] == ids[1]
    return answers


def _trees(repo: Path, commits: Iterable[str]) -> dict[str, str]:
    """The tree of each commit present in ``repo``."""
    shas = sorted(commits)
    out = git.run(
        repo,
        "cat-file",
        "--batch-check=%(rest) %(objectname) %(objecttype)",
        input="".join(f"{sha}^{{tree}} {sha}\n" for sha in shas).encode(),
    )
    trees = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "tree":
            trees[parts[0]] = parts[1]
    return trees


def _merge_base(repo: Path, commit: str, base: str) -> str | None:
    out = git.run_or_none(repo, "merge-base", commit, base)
    return (out.decode().strip() or None) if out else None


def _patch_ids(repo: Path, diffs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``git patch-id --stable`` of each ``fork..commit`` diff ("" for an empty diff).

    Diffs are piped through one ``diff-tree --stdin`` per round; a round holds each commit once,
    because patch-id names its results by commit.
    """
    found: dict[tuple[str, str], str] = {}
    pending = sorted(diffs)
    while pending:
        round_: dict[str, str] = {}
        later = []
        for commit, fork in pending:
            if commit in round_:
                later.append((commit, fork))
            else:
                round_[commit] = fork
        lines = "".join(f"{commit} {fork}\n" for commit, fork in round_.items())
        patch = git.run(repo, "diff-tree", "--stdin", "-p", "--binary", input=lines.encode())
        output = git.run(repo, "patch-id", "--stable", input=patch).decode()
        ids = {commit: patch_id for patch_id, commit in map(str.split, output.splitlines())}
        found.update({(c, f): ids.get(c, "") for c, f in round_.items()})
        pending = later
    return found
