from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from auditor.evaluation.checks import CHECKS, ChangeCheck, CheckContext, Outcome, RepositoryCheck
from auditor.evaluation.checks.params import ParamError
from auditor.ledger.period import Period
from auditor.model import (
    Approval,
    BranchName,
    BranchWatch,
    Change,
    ChangeFacts,
    ChangeType,
    Commit,
    CommitSha,
    EventKind,
    FileChange,
    ForgeCopy,
    HistoryEvent,
    Identity,
    Person,
    ReviewEvidence,
    SignatureKind,
    Stamp,
    Status,
)

T0 = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)
SHA = "1a2b3c4d5e6f" + "0" * 28


def identity(name: str) -> Identity:
    email = f"{name.replace('[bot]', '')}@acme.example"
    return Identity(name, email, name, email)


def person(key: str, *, known: bool = True) -> Person:
    return Person(key, key, known, is_bot=key.endswith("[bot]"))


def commit(
    sha: str = SHA,
    *,
    author: str = "bob",
    committer: str | None = None,
    subject: str = "Open the VPC to the office",
    body: str = "",
    signature: SignatureKind = SignatureKind.NONE,
    when: datetime = T0,
) -> Commit:
    return Commit(
        sha=CommitSha(sha),
        parents=(CommitSha("f" * 40),),
        author=Stamp(identity(author), when),
        committer=Stamp(identity(committer or author), when),
        subject=subject,
        body=body,
        trailers=(),
        signature=signature,
        encoding="utf-8",
        is_bot=author.endswith("[bot]"),
    )


def approval(
    reviewer: str = "carol",
    *,
    at: datetime | None = T0 - timedelta(hours=1),
    independent: bool = True,
    covers: bool | None = True,
    known: bool = True,
) -> Approval:
    return Approval(person(reviewer, known=known), at, "9f8e7d6c5b4a", covers, independent)


def facts(
    *,
    repo: str = "infra",
    landing: Commit | None = None,
    paths: tuple[str, ...] = ("envs/dev/main.tf",),
    evidence: ReviewEvidence = ReviewEvidence.FORGE,
    request: int | None = 42,
    approvals: tuple[Approval, ...] = (approval(),),
    authors: tuple[str, ...] = ("bob",),
    merged_by: str | None = "dave",
    **extra: Any,
) -> ChangeFacts:
    landing = landing or commit(author=authors[0])
    files = tuple(FileChange(p, None, ChangeType.MODIFIED, 3, 1, False) for p in paths)
    return ChangeFacts(
        repo=repo,
        change=Change(landing, files, None, BranchName("main")),
        evidence=evidence,
        request_number=request,
        authors=tuple(person(a) for a in authors),
        committers=tuple(person(a) for a in authors),
        approvals=approvals,
        merged_by=person(merged_by) if merged_by else None,
        merged_at=landing.committer.when if request else None,
        commits=extra.pop("commits", (landing,)),
        **extra,
    )


CTX = CheckContext(as_of=T0 + timedelta(days=30))


def run(name: str, subject: ChangeFacts, ctx: CheckContext = CTX, **params: Any) -> Outcome:
    entry = CHECKS[name]
    assert isinstance(entry, ChangeCheck)
    return entry.fn(subject, entry.resolve(params), ctx)


def status(name: str, subject: ChangeFacts, **params: Any) -> Status:
    return run(name, subject, **params).status


NO_REVIEW = (ReviewEvidence.NONE, ReviewEvidence.MISSING)


# -- via-request


def test_via_request_passes_through_a_merged_request() -> None:
    assert "request #42" in run("via-request", facts()).reason


def test_via_request_fails_a_direct_push() -> None:
    outcome = run("via-request", facts(request=None))
    assert outcome.status is Status.FAIL
    assert outcome.reason == "pushed directly by bob <bob@acme.example>; no merged request"


def named_only(evidence: ReviewEvidence, number: int = 5117) -> ChangeFacts:
    """A change whose message names request ``number`` that no review data links it to."""
    return facts(evidence=evidence, request=number, request_unconfirmed=True, approvals=())


def test_via_request_says_what_is_known_of_a_named_request_without_review_data() -> None:
    outcome = run("via-request", named_only(ReviewEvidence.NONE))
    assert outcome.status is Status.UNKNOWN
    assert outcome.reason == "names #5117; no review data to confirm it landed through that request"
    assert "no merged request named" not in outcome.reason
    trailers = run("via-request", named_only(ReviewEvidence.TRAILERS))
    assert trailers.status is Status.UNKNOWN
    assert trailers.reason == (
        "names #5117; its review trailers do not show it landed through that request"
    )
    lacking = run("via-request", named_only(ReviewEvidence.MISSING))
    assert lacking.status is Status.UNKNOWN
    assert lacking.reason.startswith("the message names request #5117, which the review data lacks")


def test_via_request_fails_a_named_request_the_forge_did_not_merge() -> None:
    outcome = run("via-request", named_only(ReviewEvidence.FORGE))
    assert outcome.status is Status.FAIL
    assert outcome.reason == (
        "pushed directly by bob <bob@acme.example>; the message names request #5117, "
        "but the forge did not merge this commit through it"
    )


def test_review_checks_name_the_request_they_cannot_confirm() -> None:
    for name in ("independent-approvals", "approval-before-merge", "no-self-merge"):
        outcome = run(name, named_only(ReviewEvidence.NONE))
        assert outcome.status is Status.UNKNOWN, name
        assert outcome.reason == "names #5117; no review data to confirm it was reviewed", name


def test_no_self_merge_is_unknown_without_forge_data_not_inapplicable() -> None:
    merge = commit(subject="Merge branch 'feature'")
    for evidence in (ReviewEvidence.NONE, ReviewEvidence.TRAILERS):
        subject = facts(evidence=evidence, request=None, landing=merge, merged_by=None)
        assert status("no-self-merge", subject) is Status.UNKNOWN, evidence
    direct = run("no-self-merge", facts(request=None, merged_by=None))
    assert direct.status is Status.NOT_APPLICABLE  # the forge's data: no request merged it
    assert direct.reason == "no merged request; nothing was merged by anyone"


def test_via_request_allows_listed_automation() -> None:
    pushed = facts(request=None, authors=("release[bot]",))
    assert status("via-request", pushed, allow=[r"\[bot\]"]) is Status.PASS
    assert status("via-request", facts(request=None), allow=[r"\[bot\]"]) is Status.FAIL


@pytest.mark.parametrize("evidence", NO_REVIEW)
def test_via_request_is_unknown_without_forge_data(evidence: ReviewEvidence) -> None:
    assert status("via-request", facts(request=None, evidence=evidence)) is Status.UNKNOWN


# -- independent-approvals


def test_independent_approvals_pass_and_name_the_approver() -> None:
    outcome = run("independent-approvals", facts())
    assert outcome.status is Status.PASS
    assert "carol at 2025-03-02T09:00:00Z on head 9f8e7d6" in outcome.reason


def test_independent_approvals_fail_with_only_an_author_approval() -> None:
    outcome = run("independent-approvals", facts(approvals=(approval("bob", independent=False),)))
    assert outcome.status is Status.FAIL
    assert "approved by bob (not independent)" in outcome.reason


@pytest.mark.parametrize("evidence", NO_REVIEW)
def test_independent_approvals_unknown_without_review_data(evidence: ReviewEvidence) -> None:
    assert status("independent-approvals", facts(evidence=evidence)) is Status.UNKNOWN


def test_independent_approvals_path_rules_take_the_highest_match() -> None:
    rules = [
        {"paths": ["envs/prod/**"], "min_approvals": 2},
        {"paths": ["docs/**"], "min_approvals": 0},
    ]
    prod = facts(paths=("envs/prod/vpc.tf", "docs/x.md"))
    outcome = run("independent-approvals", prod, path_rules=rules)
    assert outcome.status is Status.FAIL
    assert "2 required by path rule envs/prod/**" in outcome.reason
    two = (approval("carol"), approval("erin"))
    assert status("independent-approvals", replace(prod, approvals=two), path_rules=rules) is (
        Status.PASS
    )
    docs = facts(paths=("docs/x.md",), approvals=())
    assert status("independent-approvals", docs, path_rules=rules) is Status.PASS


def test_independent_approvals_count_each_reviewer_once() -> None:
    twice = facts(approvals=(approval("carol"), approval("carol")))
    assert status("independent-approvals", twice, min_approvals=2) is Status.FAIL


def test_parameters_are_validated() -> None:
    with pytest.raises(ParamError) as err:
        CHECKS["independent-approvals"].resolve({"path_rules": [{"paths": ["a"]}]})
    assert err.value.key == "path_rules[0].min_approvals"
    with pytest.raises(ParamError, match="expected an integer, got 'two'"):
        CHECKS["independent-approvals"].resolve({"min_approvals": "two"})


# -- approval-covers-content


def test_covers_content() -> None:
    assert status("approval-covers-content", facts()) is Status.PASS
    stale = facts(approvals=(approval(covers=False),))
    assert status("approval-covers-content", stale) is Status.FAIL
    assert status("approval-covers-content", facts(approvals=(approval(covers=None),))) is (
        Status.UNKNOWN
    )
    assert status("approval-covers-content", facts(approvals=())) is Status.NOT_APPLICABLE
    assert status("approval-covers-content", facts(evidence=ReviewEvidence.MISSING)) is (
        Status.UNKNOWN
    )


# -- no-self-merge


def test_no_self_merge() -> None:
    assert status("no-self-merge", facts()) is Status.PASS
    assert status("no-self-merge", facts(merged_by="bob")) is Status.PASS
    alone = run("no-self-merge", facts(merged_by="bob", approvals=()))
    assert alone.status is Status.FAIL
    assert alone.reason == "request #42 merged by its contributor bob with no independent approval"
    assert status("no-self-merge", facts(merged_by=None)) is Status.UNKNOWN
    assert status("no-self-merge", facts(evidence=ReviewEvidence.NONE)) is Status.UNKNOWN
    assert status("no-self-merge", facts(request=None)) is Status.NOT_APPLICABLE


# -- approval-before-merge


def test_approval_before_merge() -> None:
    assert status("approval-before-merge", facts()) is Status.PASS
    late = facts(approvals=(approval(at=T0 + timedelta(hours=1)),))
    assert status("approval-before-merge", late) is Status.FAIL
    assert status("approval-before-merge", facts(approvals=(approval(at=None),))) is (
        Status.UNKNOWN
    )
    assert status("approval-before-merge", facts(evidence=ReviewEvidence.MISSING)) is (
        Status.UNKNOWN
    )


def test_approval_only_after_the_merge_fails_approval_before_merge_alone() -> None:
    after = facts(approvals=(), post_merge_approvals=(approval(at=T0 + timedelta(hours=3)),))
    outcome = run("approval-before-merge", after)
    assert outcome.status is Status.FAIL
    assert outcome.reason == (
        "approved only after the merge at 2025-03-02T10:00:00Z: "
        "carol at 2025-03-02T13:00:00Z on head 9f8e7d6"
    )
    counted = run("independent-approvals", after)
    assert counted.status is Status.PASS
    assert "carol at 2025-03-02T13:00:00Z on head 9f8e7d6 (after the merge)" in counted.reason


def test_no_approval_at_all_is_left_to_independent_approvals() -> None:
    none = facts(approvals=())
    assert status("approval-before-merge", none) is Status.NOT_APPLICABLE
    assert status("independent-approvals", none) is Status.FAIL
    pushed = facts(request=None, approvals=())
    assert run("approval-before-merge", pushed).reason == (
        "no independent approval whose time to judge"
    )


def test_emergency_changes_may_be_approved_after_the_merge() -> None:
    after = (approval(at=T0 + timedelta(hours=3)),)
    hotfix = emergency(approvals=(), post_merge_approvals=after)
    outcome = run("approval-before-merge", hotfix)
    assert outcome.status is Status.NOT_APPLICABLE
    assert outcome.reason.startswith("emergency change (subject 'hotfix: reopen port 443')")
    labelled = facts(labels=("incident",), approvals=(), post_merge_approvals=after)
    assert status("approval-before-merge", labelled) is Status.FAIL
    assert status("approval-before-merge", labelled, emergency_labels=["incident"]) is (
        Status.NOT_APPLICABLE
    )


@pytest.mark.parametrize(
    "name", ["independent-approvals", "no-self-merge", "approval-before-merge"]
)
def test_bot_changes_are_left_to_the_bot_policy(name: str) -> None:
    bot = facts(authors=("renovate[bot]",), approvals=(), merged_by="renovate[bot]")
    outcome = run(name, bot)
    assert outcome.status is Status.NOT_APPLICABLE
    assert outcome.reason == "bot change by renovate[bot]; judged by the bot policy"
    assert status("bot-policy", bot) is Status.FAIL
    expected = Status.NOT_APPLICABLE if name == "approval-before-merge" else Status.FAIL
    assert status(name, bot, exempt_bots=False) is expected


# -- signed-commits


def test_signed_commits() -> None:
    signed = commit(signature=SignatureKind.SSH)
    unsigned = commit("2" * 40)
    present = run("signed-commits", facts(landing=signed))
    assert present.status is Status.UNKNOWN  # present, but no keys to verify it against
    assert present.reason == (
        "commit carries a signature (ssh); not verified against the organisation's keys"
    )
    both = facts(landing=signed, commits=(unsigned, signed))
    failed = run("signed-commits", both)
    assert failed.status is Status.FAIL
    assert failed.reason == "1 of 2 commits unsigned: 2222222"
    assert status("signed-commits", both, require="change") is Status.UNKNOWN
    assert run("signed-commits", facts()).reason == "commit 1a2b3c4 unsigned"


def test_forge_rebased_copy_counts_when_its_original_was_signed() -> None:
    signed, copy = commit(signature=SignatureKind.SSH), commit("2" * 40)
    rebased = (ForgeCopy(CommitSha("2" * 40), "7" * 40, True),)
    both = facts(landing=signed, commits=(copy, signed), forge_copies=rebased)
    outcome = run("signed-commits", both)
    assert outcome.status is Status.UNKNOWN
    assert outcome.reason == (
        "commit carries a signature (ssh); 1 commit rebased by the forge from signed originals "
        "(2222222 of 7777777); not verified against the organisation's keys"
    )
    assert status("signed-commits", both, forge_rebased=False) is Status.FAIL
    unsigned_original = (ForgeCopy(CommitSha("2" * 40), "7" * 40, None),)
    assert status("signed-commits", replace(both, forge_copies=unsigned_original)) is Status.FAIL


# -- history-integrity


def rewrite(branch: str = "main", *, at: datetime = T0) -> HistoryEvent:
    return HistoryEvent(
        EventKind.HISTORY_REWRITTEN,
        BranchName(branch),
        at,
        CommitSha("a" * 40),
        CommitSha("b" * 40),
        (CommitSha("c" * 40),),
    )


def repo_run(ctx: CheckContext, **params: Any) -> Outcome:
    entry = CHECKS["history-integrity"]
    assert isinstance(entry, RepositoryCheck)
    return entry.fn(entry.resolve(params), ctx)


def watch(first: datetime | None, branch: str = "main") -> BranchWatch:
    return BranchWatch(BranchName(branch), first)


WATCHED = replace(CTX, watched=(watch(T0 - timedelta(days=90)),))


def test_history_integrity() -> None:
    assert repo_run(WATCHED).status is Status.PASS
    failed = repo_run(replace(WATCHED, events=(rewrite(),)))
    assert failed.status is Status.FAIL
    assert failed.reason == (
        "history-rewritten on main detected at 2025-03-02T10:00:00Z "
        "(aaaaaaa -> bbbbbbb, 1 commit dropped)"
    )
    before = replace(WATCHED, events=(rewrite(),), period=Period(since=T0 + timedelta(days=1)))
    assert repo_run(before).status is Status.PASS
    assert (
        repo_run(replace(WATCHED, events=(rewrite(),)), kinds=["first-parent-rewritten"]).status
        is Status.PASS
    )


def test_history_integrity_vouches_only_for_what_the_store_watched() -> None:
    """No rewrite detected is a pass only when the store mined every audited branch before the
    period began: a force-push before the first mining cannot have been seen."""
    period = Period(since=T0 - timedelta(days=30), until=T0 + timedelta(days=1))
    ok = repo_run(replace(WATCHED, period=period))
    assert ok.reason == (
        "no rewrite of an audited branch detected in the period; watched from before it began "
        "(main since 2024-12-02T10:00:00Z)"
    )
    late = repo_run(replace(WATCHED, period=period, watched=(watch(T0), watch(T0, "release"))))
    assert late.status is Status.UNKNOWN
    assert late.reason == (
        "no rewrite detected since auditor first mined the branch, but the period began "
        "2025-01-31T10:00:00Z and auditor first mined main at 2025-03-02T10:00:00Z; auditor "
        "first mined release at 2025-03-02T10:00:00Z: a rewrite before a branch's first mining "
        "cannot be seen (mine on a schedule from before the period's start)"
    )
    # mined by this run (or after its --as-of): said without the clock, the same every time
    now = repo_run(
        replace(WATCHED, period=period, watched=(watch(CTX.as_of + timedelta(hours=3)),))
    )
    assert now.status is Status.UNKNOWN
    assert "first mined main no earlier than this run's --as-of time:" in now.reason
    unrecorded = repo_run(replace(WATCHED, period=period, watched=(watch(None),)))
    assert unrecorded.status is Status.UNKNOWN
    assert "when auditor first mined main is not recorded" in unrecorded.reason
    assert repo_run(replace(CTX, period=period)).status is Status.UNKNOWN  # no mining recorded
    # a whole-history audit starts with its first change
    whole = replace(WATCHED, watched=(watch(T0 + timedelta(days=1)),), changes=(facts(),))
    assert repo_run(whole).status is Status.UNKNOWN
    assert "the period's first change landed 2025-03-02T10:00:00Z" in repo_run(whole).reason
    assert repo_run(replace(whole, watched=(watch(T0),))).status is Status.PASS
    # a rewrite detected fails, watched or not
    assert repo_run(replace(CTX, period=period, events=(rewrite(),))).status is Status.FAIL


# -- identities-resolved


def test_identities_resolved() -> None:
    rostered = replace(CTX, roster=True)
    ok = run("identities-resolved", facts(), rostered)
    assert ok.status is Status.PASS
    assert ok.reason == "3 identities map to known people (bob, carol, dave)"
    # a bot is known by the bot list, not as a person: the reason says which it is
    released = facts(authors=("release[bot]",), approvals=(), merged_by=None)
    assert run("identities-resolved", released, rostered).reason == (
        "1 identity maps to a known bot (release[bot])"
    )
    mixed = facts(authors=("release[bot]",), approvals=(approval(),), merged_by=None)
    assert run("identities-resolved", mixed, rostered).reason == (
        "2 identities map to known people and bots (carol, release[bot])"
    )
    stranger = facts(approvals=(approval("zed", known=False),))
    failed = run("identities-resolved", stranger, rostered)
    assert failed.status is Status.FAIL
    assert failed.reason == "unresolved identities: approver: zed"
    raw = facts(unresolved=("author: Bob <bob@laptop.local>",))
    assert run("identities-resolved", raw, rostered).status is Status.FAIL
    missing = facts(evidence=ReviewEvidence.MISSING)
    assert run("identities-resolved", missing, rostered).status is Status.UNKNOWN


def test_identities_cannot_be_judged_without_a_roster() -> None:
    stranger = facts(approvals=(approval("zed", known=False),))
    outcome = run("identities-resolved", stranger)
    assert outcome.status is Status.UNKNOWN
    assert outcome.reason == "no roster given; identities without a forge account cannot be judged"
    # identities the forge resolved to accounts still pass without a roster
    assert status("identities-resolved", facts()) is Status.PASS


# -- emergency-retro-approval


def emergency(**extra: Any) -> ChangeFacts:
    return facts(landing=commit(subject="hotfix: reopen port 443"), **extra)


def test_emergency_retro_approval() -> None:
    assert status("emergency-retro-approval", facts()) is Status.NOT_APPLICABLE
    late = approval(at=T0 + timedelta(days=1))
    assert status("emergency-retro-approval", emergency(approvals=(late,))) is Status.PASS
    labelled = facts(labels=("Emergency",), approvals=(late,))
    assert "label Emergency" in run("emergency-retro-approval", labelled).reason
    too_late = approval(at=T0 + timedelta(days=3))
    assert status("emergency-retro-approval", emergency(approvals=(too_late,))) is Status.FAIL
    assert status("emergency-retro-approval", emergency(evidence=ReviewEvidence.NONE)) is (
        Status.UNKNOWN
    )
    pending = run("emergency-retro-approval", emergency(approvals=()), CheckContext(as_of=T0))
    assert pending.status is Status.UNKNOWN
    assert "possible until 2025-03-04T10:00:00Z" in pending.reason


# -- ticket-linked


def test_ticket_linked() -> None:
    assert status("ticket-linked", facts()) is Status.FAIL
    titled = facts(request_title="NET-42 open the VPC")
    assert run("ticket-linked", titled).reason == "ticket NET-42 in the request title"
    inner = commit("3" * 40, subject="Refs OPS-7")
    assert "OPS-7 in the message of 3333333" in run("ticket-linked", facts(commits=(inner,))).reason
    squashed = facts(request_messages=(("4" * 40, "Tidy\n\nRefs: OPS-9"),))
    assert run("ticket-linked", squashed).reason == (
        "ticket OPS-9 in the message of 4444444 in request #42"
    )
    bot = facts(authors=("renovate[bot]",))
    assert status("ticket-linked", bot) is Status.NOT_APPLICABLE
    assert status("ticket-linked", bot, exempt_bots=False) is Status.FAIL
    assert status("ticket-linked", facts(evidence=ReviewEvidence.MISSING)) is Status.UNKNOWN


def test_ticket_linked_without_review_data_is_unknown_not_failed() -> None:
    """Without forge data a change whose messages name no ticket cannot fail CHG-07: the
    request's title and body, where tickets are usually named, were not collected."""
    uncollected = (
        "the request's title and body, where tickets are usually named, were not collected"
    )
    direct = facts(evidence=ReviewEvidence.NONE, request=None, approvals=())
    outcome = run("ticket-linked", direct)
    assert (outcome.status, outcome.reason) == (Status.UNKNOWN, f"no review data: {uncollected}")
    trailers = run("ticket-linked", facts(evidence=ReviewEvidence.TRAILERS, request=None))
    assert trailers.status is Status.UNKNOWN
    assert trailers.reason.endswith(f"no forge data (only trailers): {uncollected}")
    incomplete = run("ticket-linked", facts(evidence=ReviewEvidence.MISSING, request=None))
    assert incomplete.status is Status.UNKNOWN and "review data of this change" in incomplete.reason
    truncated = facts(evidence=ReviewEvidence.MISSING, request_title="Open the VPC")
    assert "listed only part of its commits" in run("ticket-linked", truncated).reason
    # a ticket in a message still passes without review data; with forge data: judged as ever
    ticketed = facts(evidence=ReviewEvidence.NONE, request=None, landing=commit(subject="OPS-1 x"))
    assert status("ticket-linked", ticketed) is Status.PASS
    assert status("ticket-linked", facts(request=None, approvals=())) is Status.FAIL


# -- freeze-window


def test_freeze_window() -> None:
    windows = [{"start": "2025-03-01", "end": "2025-03-02", "name": "migration freeze"}]
    assert status("freeze-window", facts()) is Status.NOT_APPLICABLE
    inside = run("freeze-window", facts(), windows=windows)
    assert inside.status is Status.FAIL
    assert "inside migration freeze" in inside.reason
    later = [{"start": "2025-12-22", "end": "2026-01-02"}]
    assert status("freeze-window", facts(), windows=later) is Status.PASS


# -- bot-policy


def test_bot_policy() -> None:
    bot = facts(authors=("renovate[bot]",))
    assert status("bot-policy", facts()) is Status.NOT_APPLICABLE
    assert status("bot-policy", bot) is Status.PASS
    by_bot = replace(bot, approvals=(approval("approver[bot]"),))
    assert status("bot-policy", by_bot) is Status.FAIL
    assert status("bot-policy", by_bot, policy="auto-merge-allowed") is Status.PASS
    assert status("bot-policy", replace(bot, evidence=ReviewEvidence.MISSING)) is Status.UNKNOWN


# -- sensitive-change-review


def test_sensitive_change_review() -> None:
    assert status("sensitive-change-review", facts()) is Status.NOT_APPLICABLE
    network = facts(categories=frozenset({"network", "compute"}))
    outcome = run("sensitive-change-review", network)
    assert outcome.status is Status.FAIL
    assert "2 required for network" in outcome.reason
    two = replace(network, approvals=(approval("carol"), approval("erin")))
    assert status("sensitive-change-review", two) is Status.PASS
    iam = facts(paths=("modules/iam/roles.tf",), approvals=())
    assert status("sensitive-change-review", iam, paths=["**/iam/**"]) is Status.FAIL
    missing = replace(network, evidence=ReviewEvidence.NONE)
    assert status("sensitive-change-review", missing) is Status.UNKNOWN
