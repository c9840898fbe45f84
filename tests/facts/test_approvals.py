"""Latest review state per reviewer, approvals after the merge, and coverage of merged content."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from gitrepo import GitRepo

from auditor.facts.approvals import ContentQuery, approvals, content_queries, same_content
from auditor.facts.identities import People
from auditor.reviews.interface import (
    AccountType,
    ChangeRequest,
    Forge,
    RequestNumber,
    RequestState,
    Review,
    ReviewState,
)

MERGED = datetime(2026, 1, 10, 12, tzinfo=UTC)
APPROVED, CHANGES, DISMISSED, COMMENTED = (
    ReviewState.APPROVED,
    ReviewState.CHANGES_REQUESTED,
    ReviewState.DISMISSED,
    ReviewState.COMMENTED,
)


def review(login: str, state: ReviewState, minutes: int, commit: str | None = "h" * 40) -> Review:
    """A review ``minutes`` after the merge (negative: before it)."""
    return Review(
        id=None,
        reviewer_login=login,
        reviewer_type=AccountType.USER,
        state=state,
        submitted_at=MERGED + timedelta(minutes=minutes),
        commit_id=commit,
        url=None,
    )


def request(
    reviews: Sequence[Review], head: str = "h" * 40, base: str | None = None
) -> ChangeRequest:
    return ChangeRequest(
        forge=Forge.GITHUB,
        number=RequestNumber(1),
        title="t",
        body="",
        url="",
        author_login="carol",
        author_type=AccountType.USER,
        state=RequestState.MERGED,
        created_at=MERGED - timedelta(days=1),
        updated_at=MERGED,
        merged_at=MERGED,
        closed_at=MERGED,
        base_ref="main",
        head_ref="feature",
        head_sha=head,
        base_sha=base,
        merge_commit_sha=None,
        squash_commit_sha=None,
        merged_by="dave",
        labels=(),
        commits=(),
        reviews=tuple(reviews),
    )


def counted(reviews: Sequence[Review]) -> tuple[list[str], list[str]]:
    standing, retro = approvals(request(reviews), People.build(None), (), {}, None)
    return [a.reviewer.key for a in standing], [a.reviewer.key for a in retro]


@pytest.mark.parametrize("withdrawal", [CHANGES, DISMISSED])
def test_later_changes_requested_or_dismissal_withdraws_an_approval(
    withdrawal: ReviewState,
) -> None:
    assert counted([review("bob", APPROVED, -30), review("bob", withdrawal, -20)]) == ([], [])


def test_comments_do_not_change_the_state() -> None:
    reviews = [review("bob", CHANGES, -40), review("bob", APPROVED, -30)]
    assert counted([*reviews, review("bob", COMMENTED, -20)]) == (["login:bob"], [])


def test_approval_after_merge_is_not_counted_but_kept_apart() -> None:
    assert counted([review("bob", APPROVED, 30)]) == ([], ["login:bob"])
    assert counted([review("bob", CHANGES, -30), review("bob", APPROVED, 30)]) == (
        [],
        ["login:bob"],
    )
    assert counted([review("bob", APPROVED, -30), review("bob", CHANGES, 30)]) == (
        ["login:bob"],
        [],
    )


def test_approval_from_an_author_is_not_independent() -> None:
    reviews = [review("bob", APPROVED, -5), review("erin", APPROVED, -5)]
    standing, _ = approvals(request(reviews), People.build(None), {"login:bob"}, {}, None)
    assert [(a.reviewer.key, a.independent) for a in standing] == [
        ("login:bob", False),
        ("login:erin", True),
    ]


def _feature(repo: GitRepo) -> tuple[str, str]:
    base = repo.commit("init", {"main.tf": "a\n"})
    repo.checkout("-b", "feature")
    approved = repo.commit("Open port", {"fw.tf": "443\n"})
    return base, approved


def test_commit_after_approval_with_a_different_patch_is_stale(repo: GitRepo) -> None:
    base, approved = _feature(repo)
    head = repo.commit("Open more", {"fw.tf": "443\n22\n"})
    reviews = [review("bob", APPROVED, -5, approved)]
    content = same_content(repo.path, content_queries(request(reviews, head, base), base))

    standing, _ = approvals(request(reviews, head, base), People.build(None), (), content, base)

    assert [a.covers_merged_content for a in standing] == [False]


def test_rebase_after_approval_with_the_same_patch_still_covers(repo: GitRepo) -> None:
    _, approved = _feature(repo)
    repo.checkout("main")
    moved = repo.commit("Unrelated", {"dns.tf": "d\n"})
    repo.checkout("feature")
    repo.git("rebase", "-q", "--no-gpg-sign", "main")
    head = repo.head()

    query = ContentQuery(approved, head, moved)

    assert head != approved
    assert same_content(repo.path, [query]) == {query: True}


def test_same_tree_covers_and_unknown_commits_are_none(repo: GitRepo) -> None:
    base, approved = _feature(repo)
    empty = repo.commit("Empty follow-up")
    same, unknown = ContentQuery(approved, empty, None), ContentQuery("f" * 40, empty, base)

    assert same_content(repo.path, [same, unknown]) == {same: True, unknown: None}
    assert same_content(None, [same]) == {same: None}


def test_approval_without_a_commit_is_unknown_never_true() -> None:
    standing, _ = approvals(
        request([review("bob", APPROVED, -5, None)]), People.build(None), (), {}, None
    )
    assert [a.covers_merged_content for a in standing] == [None]
