"""Changes link to their requests (merge, squash, rebase, fast-forward, nested) or to none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from gitrepo import GitRepo

from auditor.facts.linking import build_facts
from auditor.git import mailmap_blob
from auditor.ledger.changes import commit_graph, custody, first_parent_chain, read_commits
from auditor.ledger.commits import DEFAULT_BOTS, request_ref
from auditor.model import (
    Change,
    ChangeFacts,
    Commit,
    CommitSha,
    ForgeCopy,
    Person,
    ReviewEvidence,
)
from auditor.reviews.interface import (
    AccountType,
    ChangeRequest,
    Forge,
    RequestCommit,
    RequestNumber,
    RequestState,
    Review,
    ReviewId,
    ReviewState,
)

CAROL = ("Carol Coder", "carol@example.com")
BOB = ("Bob Builder", "bob@example.com")
DAVE = ("Dave Merger", "dave@example.com")
ERIN = ("Erin Nested", "erin@example.com")
WEB_FLOW = ("GitHub", "noreply@github.com")
LOGINS = {"carol@example.com": "carol", "bob@example.com": "bob", "erin@example.com": "erin"}


def when(repo: GitRepo, sha: str) -> datetime:
    return datetime.fromtimestamp(int(repo.git("log", "-1", "--format=%ct", sha)), UTC)


def request_commit(repo: GitRepo, sha: str) -> RequestCommit:
    fields = repo.git(
        "log", "-1", "--format=%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%P%x00%B", sha
    )
    an, ae, at, cn, ce, ct, parents, message = fields.split("\x00")
    return RequestCommit(
        sha=sha,
        parents=tuple(parents.split()),
        author_name=an,
        author_email=ae,
        authored_at=datetime.fromtimestamp(int(at), UTC),
        committer_name=cn,
        committer_email=ce,
        committed_at=datetime.fromtimestamp(int(ct), UTC),
        author_login=LOGINS.get(ae),
        committer_login=LOGINS.get(ce),
        message=message,
    )


def review(
    login: str, at: datetime, commit: str | None, state: ReviewState = ReviewState.APPROVED
) -> Review:
    return Review(
        id=ReviewId(f"{login}-{at.timestamp()}"),
        reviewer_login=login,
        reviewer_type=AccountType.USER,
        state=state,
        submitted_at=at,
        commit_id=commit,
        url=None,
    )


def pull(
    repo: GitRepo,
    number: int,
    commits: Sequence[str],
    *,
    merged: str | None,
    reviews: Sequence[Review] = (),
    forge: Forge = Forge.GITHUB,
    squash: str | None = None,
    author_type: AccountType = AccountType.USER,
    base_ref: str = "main",
    merged_at: datetime | None = None,
) -> ChangeRequest:
    merged_at = merged_at or when(repo, squash or merged or commits[-1])
    return ChangeRequest(
        forge=forge,
        number=RequestNumber(number),
        title=f"Change {number}",
        body="",
        url="",
        author_login="carol",
        author_type=author_type,
        state=RequestState.MERGED,
        created_at=merged_at - timedelta(days=1),
        updated_at=merged_at,
        merged_at=merged_at,
        closed_at=merged_at,
        base_ref=base_ref,
        head_ref=f"feature-{number}",
        head_sha=commits[-1],
        base_sha=None,
        merge_commit_sha=merged,
        squash_commit_sha=squash,
        merged_by="dave",
        labels=("infra",),
        commits=tuple(request_commit(repo, sha) for sha in commits),
        reviews=tuple(reviews),
    )


def forge_merge(repo: GitRepo, branch: str, message: str) -> str:
    repo.clock += 3600
    stamp = f"@{repo.clock} +0000"
    repo.git(
        "merge", "-q", "--no-ff", "--no-gpg-sign", "-m", message, branch,
        env={
            "GIT_AUTHOR_NAME": DAVE[0], "GIT_AUTHOR_EMAIL": DAVE[1], "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": WEB_FLOW[0], "GIT_COMMITTER_EMAIL": WEB_FLOW[1],
            "GIT_COMMITTER_DATE": stamp,
        },
    )  # fmt: skip
    return repo.head()


def facts(
    repo: GitRepo,
    requests: Sequence[ChangeRequest] | None,
    *,
    forge_complete: bool = True,
    request_url: str = "",
) -> dict[str, ChangeFacts]:
    """Build the ledger of HEAD the way the miner does, then the facts of every change."""
    chain = first_parent_chain(repo.path, "HEAD")
    graph = commit_graph(repo.path, "HEAD")
    commits = {
        c.sha: c for c in read_commits(repo.path, list(graph), lambda n, e: (n, e), DEFAULT_BOTS)
    }
    brought_in: dict[CommitSha, list[Commit]] = {}
    for sha, change in custody(chain, graph).items():
        brought_in.setdefault(change, []).append(commits[sha])
    changes = [
        Change(commits[sha], (), request_ref(commits[sha].subject, commits[sha].body))
        for sha in chain
    ]
    built = build_facts(
        "acme/infra",
        changes,
        brought_in,
        requests,
        roster=None,
        repo_path=repo.path,
        mailmap=mailmap_blob(repo.path, "HEAD"),
        request_url=request_url,
        forge_complete=forge_complete,
    )
    return {f.change.sha: f for f in built}


def keys(people: Sequence[Person]) -> list[str]:
    return sorted(p.key for p in people)


def test_merge_commit_links_and_the_forge_merge_is_not_authorship(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "feature")
    head = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    repo.checkout("main")
    merge = forge_merge(repo, "feature", "Merge pull request #1 from acme/feature")
    approved = review("bob", when(repo, head) + timedelta(minutes=5), head)

    found = facts(repo, [pull(repo, 1, [head], merged=merge, reviews=[approved])])[merge]

    assert (found.evidence, found.request_number) == (ReviewEvidence.FORGE, 1)
    assert keys(found.authors) == ["login:carol"]
    assert keys(found.committers) == ["login:carol"]
    assert found.merged_by is not None and found.merged_by.key == "login:dave"
    assert [(a.reviewer.key, a.independent, a.covers_merged_content) for a in found.approvals] == [
        ("login:bob", True, True)
    ]
    assert found.labels == ("infra",)


def test_squash_commit_links_by_merge_or_squash_sha(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "feature")
    one = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    two = repo.commit("Tune VPC", {"vpc.tf": "vpc2\n"}, author=CAROL)
    repo.checkout("main")
    github = repo.commit("Add VPC (#2)", {"vpc.tf": "vpc2\n"}, author=CAROL, committer=WEB_FLOW)
    gitlab = repo.commit("Add subnet", {"subnet.tf": "s\n"}, author=CAROL)

    found = facts(
        repo,
        [
            pull(repo, 2, [one, two], merged=github),
            pull(repo, 3, [one, two], merged=None, squash=gitlab, forge=Forge.GITLAB),
        ],
        request_url="https://gitlab.example.com/acme/infra/-/merge_requests/{number}",
    )

    assert found[github].request_number == 2
    assert keys(found[github].committers) == ["login:carol"]
    assert found[gitlab].request_number == 3
    assert found[gitlab].request_url.endswith("/merge_requests/3")


def test_rebase_merge_links_every_rebased_commit_to_its_request(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "feature")
    one = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    two = repo.commit("Add subnet", {"subnet.tf": "s\n"}, author=CAROL)
    repo.checkout("main")
    repo.commit("Unrelated", {"other.tf": "o\n"})
    env = {"GIT_COMMITTER_NAME": WEB_FLOW[0], "GIT_COMMITTER_EMAIL": WEB_FLOW[1]}
    repo.git("cherry-pick", "--no-gpg-sign", one, two, env=env)
    rebased = repo.git("rev-list", "-2", "HEAD").split()

    found = facts(repo, [pull(repo, 4, [one, two], merged=rebased[0])])

    assert [found[sha].request_number for sha in rebased] == [4, 4]
    assert rebased[1] not in (one, two)


def test_fast_forward_links_by_request_commit_sha(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    head = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)

    found = facts(repo, [pull(repo, 5, [head], merged=None, forge=Forge.GITLAB)])[head]

    assert found.request_number == 5


def test_exact_sha_wins_over_a_rebase_match(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    landed = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    repo.checkout("-b", "release", "HEAD~1")
    env = {"GIT_COMMITTER_NAME": WEB_FLOW[0], "GIT_COMMITTER_EMAIL": WEB_FLOW[1]}
    repo.git("cherry-pick", "--no-gpg-sign", landed, env=env)
    copy = repo.head()
    repo.checkout("main")
    earlier = when(repo, landed) - timedelta(days=1)
    requests = [
        pull(repo, 11, [copy], merged=None, merged_at=earlier, base_ref="release"),
        pull(repo, 12, [landed], merged=None, forge=Forge.GITLAB),
    ]

    assert facts(repo, requests)[landed].request_number == 12


def test_self_approval_via_a_pushed_commit_is_not_independent(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "feature")
    one = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    two = repo.commit("Open the firewall", {"fw.tf": "0.0.0.0/0\n"}, author=BOB)
    repo.checkout("main")
    squash = repo.commit("Add VPC (#6)", {"vpc.tf": "vpc\n", "fw.tf": "0.0.0.0/0\n"}, author=CAROL)
    approved = review("bob", when(repo, two) + timedelta(minutes=1), two)

    found = facts(repo, [pull(repo, 6, [one, two], merged=squash, reviews=[approved])])[squash]

    assert keys(found.authors) == ["login:bob", "login:carol"]
    assert [a.independent for a in found.approvals] == [False]
    assert found.independent_approvals == ()


def test_bot_author_with_human_approval(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    bot = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    repo.checkout("-b", "deps")
    head = repo.commit("Bump provider", {"versions.tf": "5.1\n"}, author=bot)
    repo.checkout("main")
    merge = forge_merge(repo, "deps", "Merge pull request #7 from acme/deps")
    approved = review("bob", when(repo, head) + timedelta(minutes=1), head)
    request = pull(repo, 7, [head], merged=merge, reviews=[approved], author_type=AccountType.BOT)

    found = facts(repo, [request])[merge]

    assert found.is_bot_change
    assert [(a.reviewer.is_bot, a.independent) for a in found.approvals] == [(False, True)]
    assert [(c.name, c.email) for c in found.contributors] == [bot]  # not Dave, who merged


def test_request_merged_inside_another_counts_its_authors(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "outer")
    outer = repo.commit("Outer work", {"outer.tf": "o\n"}, author=CAROL)
    repo.checkout("-b", "inner")
    inner = repo.commit("Inner work", {"inner.tf": "i\n"}, author=ERIN)
    repo.checkout("outer")
    inner_merge = forge_merge(repo, "inner", "Merge pull request #8 from acme/inner")
    repo.checkout("main")
    merge = forge_merge(repo, "outer", "Merge pull request #9 from acme/outer")
    by_erin = review("erin", when(repo, merge) - timedelta(minutes=1), outer)
    requests = [
        pull(repo, 8, [inner], merged=inner_merge, base_ref="outer"),
        pull(repo, 9, [outer], merged=merge, reviews=[by_erin]),
    ]

    found = facts(repo, requests)[merge]

    assert found.request_number == 9
    assert keys(found.authors) == ["login:carol", "login:erin"]
    assert [a.independent for a in found.approvals] == [False]
    assert any("#8" in note for note in found.notes)


def test_message_naming_a_request_missing_from_forge_data_is_missing(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    named = repo.commit("Open port 22 (#41)", {"fw.tf": "22\n"}, author=CAROL)
    direct = repo.commit("Tweak", {"fw.tf": "23\n"}, author=CAROL)

    found = facts(repo, [], request_url="https://github.com/acme/infra/pull/{number}")

    assert (found[named].evidence, found[named].request_number) == (ReviewEvidence.MISSING, 41)
    assert found[named].request_url.endswith("/pull/41")
    assert any("#41" in note for note in found[named].notes)
    assert (found[direct].evidence, found[direct].request_number) == (ReviewEvidence.FORGE, None)


def test_unlinked_change_is_missing_when_forge_data_is_incomplete(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    direct = repo.commit("Tweak", {"fw.tf": "23\n"}, author=CAROL)

    found = facts(repo, [], forge_complete=False)[direct]

    assert found.evidence is ReviewEvidence.MISSING


def test_message_naming_another_merged_request_does_not_borrow_its_review(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "feature")
    head = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    repo.checkout("main")
    merge = forge_merge(repo, "feature", "Merge pull request #1 from acme/feature")
    forged = repo.commit("Open everything (#1)", {"fw.tf": "0.0.0.0/0\n"}, author=CAROL)
    approved = review("bob", when(repo, head), head)

    found = facts(repo, [pull(repo, 1, [head], merged=merge, reviews=[approved])])[forged]

    # the number its message names travels with it, marked as not linked by the forge
    assert (found.evidence, found.request_number, found.request_linked, found.approvals) == (
        ReviewEvidence.FORGE,
        1,
        False,
        (),
    )


def test_approval_after_merge_is_kept_apart(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "hotfix")
    head = repo.commit("Hotfix", {"fw.tf": "x\n"}, author=CAROL)
    repo.checkout("main")
    merge = forge_merge(repo, "hotfix", "Merge pull request #10 from acme/hotfix")
    late = review("bob", when(repo, merge) + timedelta(hours=2), head)

    found = facts(repo, [pull(repo, 10, [head], merged=merge, reviews=[late])])[merge]

    assert found.approvals == ()
    assert [a.reviewer.key for a in found.post_merge_approvals] == ["login:bob"]


def test_unresolved_identity_is_reported(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"}, author=CAROL)
    direct = repo.commit("Tweak", {"fw.tf": "23\n"}, author=("Mallory", "mallory@example.net"))

    found = facts(repo, [])[direct]

    assert keys(found.authors) == ["email:mallory@example.net"]
    assert not found.authors[0].known
    assert "author: Mallory <mallory@example.net>" in found.unresolved


def test_reviewer_who_rebase_merges_stays_independent(repo: GitRepo) -> None:
    """GitHub's rebase merge re-creates the commits with the merger as committer: the forge
    acting for the merger, not a contribution that would void their approval."""
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "feature")
    one = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    two = repo.commit("Add subnet", {"subnet.tf": "s\n"}, author=CAROL)
    repo.checkout("main")
    repo.git("cherry-pick", "--no-gpg-sign", one, two,
             env={"GIT_COMMITTER_NAME": BOB[0], "GIT_COMMITTER_EMAIL": BOB[1]})  # fmt: skip
    copies = repo.git("rev-list", "-2", "HEAD").split()
    request = pull(repo, 4, [one, two], merged=copies[0],
                   reviews=[review("bob", when(repo, two), two)])  # fmt: skip
    request = replace(request, merged_by="bob", commits=tuple(
        replace(c, signed=c.sha == two) for c in request.commits
    ))  # fmt: skip

    found = facts(repo, [request])

    for sha in copies:
        assert keys(found[sha].committers) == ["login:carol"]
        assert [(a.reviewer.key, a.independent) for a in found[sha].approvals] == [
            ("login:bob", True)
        ]
    assert found[copies[0]].forge_copies == (ForgeCopy(CommitSha(copies[0]), two, True),)
    assert found[copies[1]].forge_copies == (ForgeCopy(CommitSha(copies[1]), one, False),)


def test_request_commits_resolve_through_the_mailmap(repo: GitRepo) -> None:
    """The forge reports a commit's identity raw; ``.mailmap`` ties a personal address to the
    work address, which the forge links to a login."""
    personal = ("carol", "carol@home.example")
    repo.commit("init", {".mailmap": f"{CAROL[0]} <{CAROL[1]}> <{personal[1]}>\n"})
    repo.checkout("-b", "feature")
    work = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    home = repo.commit("Tune VPC", {"vpc.tf": "vpc2\n"}, author=personal)
    repo.checkout("main")
    squash = repo.commit("Add VPC (#7)", {"vpc.tf": "vpc2\n"}, author=CAROL, committer=WEB_FLOW)

    found = facts(repo, [pull(repo, 7, [work, home], merged=squash)])[squash]

    assert keys(found.authors) == ["login:carol"]
    assert found.unresolved == ()


def test_whoever_opened_the_request_is_part_of_the_change(repo: GitRepo) -> None:
    repo.commit("init", {"README.md": "hi\n"})
    repo.checkout("-b", "feature")
    head = repo.commit("Add VPC", {"vpc.tf": "vpc\n"}, author=CAROL)
    repo.checkout("main")
    merge = forge_merge(repo, "feature", "Merge pull request #8 from acme/feature")
    request = replace(
        pull(repo, 8, [head], merged=merge, reviews=[review("erin", when(repo, merge), head)]),
        author_login="erin",
    )

    found = facts(repo, [request])[merge]

    assert keys(found.authors) == ["login:carol"]  # who wrote it; erin only opened it
    assert [a.independent for a in found.approvals] == [False]
    assert found.request_messages == ((head, "Add VPC"),)
