"""Without a forge, review evidence comes from the landed commit's trailers."""

from __future__ import annotations

from pathlib import Path

from gitrepo import GitRepo

from auditor.facts.identities import Roster
from auditor.facts.linking import build_facts
from auditor.ledger.changes import read_commits
from auditor.ledger.commits import DEFAULT_BOTS, request_ref
from auditor.model import Change, ChangeFacts, ReviewEvidence


def facts(repo: GitRepo, sha: str, roster: Roster | None = None) -> ChangeFacts:
    (commit,) = read_commits(repo.path, [sha], lambda n, e: (n, e), DEFAULT_BOTS)
    change = Change(commit, (), request_ref(commit.subject, commit.body))
    (found,) = build_facts("acme/infra", [change], {}, None, roster=roster, repo_path=repo.path)
    return found


def test_review_trailers_are_approvals_bound_to_the_landed_commit(repo: GitRepo) -> None:
    sha = repo.commit(
        "Open port 443\n\nReviewed-by: Bob Builder <bob@example.com>\n"
        "Acked-by: Alice Admin <alice@example.com>\n",
        {"fw.tf": "443\n"},
        committer=("Carol Maintainer", "carol@example.com"),
    )

    found = facts(repo, sha)

    assert found.evidence is ReviewEvidence.TRAILERS
    assert [
        (a.reviewer.key, a.independent, a.covers_merged_content, a.at, a.commit, a.source)
        for a in found.approvals
    ] == [
        ("email:bob@example.com", True, True, None, sha, ReviewEvidence.TRAILERS),
        ("email:alice@example.com", False, True, None, sha, ReviewEvidence.TRAILERS),
    ]
    assert [(a.trailer, a.applied_by and a.applied_by.key) for a in found.approvals] == [
        ("Reviewed-by", "email:carol@example.com"),
        ("Acked-by", "email:carol@example.com"),
    ]
    assert "reviewer: Bob Builder <bob@example.com>" in found.unresolved


def test_a_trailer_the_author_committed_herself_is_not_independent(repo: GitRepo) -> None:
    sha = repo.commit(
        "Open port 443\n\nReviewed-by: Bob Builder <bob@example.com>\n", {"fw.tf": "443\n"}
    )

    found = facts(repo, sha)

    assert [(a.reviewer.key, a.independent) for a in found.approvals] == [
        ("email:bob@example.com", False)
    ]
    assert found.approvals[0].applied_by == found.authors[0]
    assert found.independent_approvals == ()


def test_gerrit_trailers_give_the_change_number_and_url(tmp_path: Path, repo: GitRepo) -> None:
    (tmp_path / "people.csv").write_text("person,emails\nbob,bob@example.com\n")
    url = "https://review.example.com/c/infra/+/1234"
    sha = repo.commit(
        "Add subnet\n\nChange-Id: I0123456789abcdef\n"
        f"Reviewed-on: {url}\nReviewed-by: Bob Builder <bob@example.com>\n",
        {"subnet.tf": "s\n"},
    )

    found = facts(repo, sha, Roster.load(tmp_path / "people.csv"))

    assert (found.evidence, found.request_number, found.request_url) == (
        ReviewEvidence.TRAILERS,
        1234,
        url,
    )
    assert [(a.reviewer.key, a.reviewer.known) for a in found.approvals] == [("bob", True)]


def test_no_review_trailers_is_no_evidence(repo: GitRepo) -> None:
    sha = repo.commit("Tweak\n\nSigned-off-by: Alice Admin <alice@example.com>\n")

    found = facts(repo, sha)

    assert (found.evidence, found.approvals) == (ReviewEvidence.NONE, ())
