"""Checks on how a change reached the branch: a merged request, emergencies, bots."""

from __future__ import annotations

import re
from datetime import timedelta

from auditor.evaluation.checks import evidence as ev
from auditor.evaluation.checks.params import (
    EMERGENCY_PATTERN,
    Param,
    choice,
    integer,
    list_of,
    regex,
    text,
)
from auditor.evaluation.checks.registry import CheckContext, Outcome, Params, check
from auditor.model import NO_REVIEW_DATA, ChangeFacts, Identity, ReviewEvidence, Status


@check(
    "via-request",
    allow=Param(
        list_of(regex),
        (),
        "regexes (case-insensitive) over name and email of identities allowed to push directly",
    ),
)
def via_request(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    if facts.request_linked:
        if facts.evidence is ReviewEvidence.MISSING and facts.merged_at is None:
            return Outcome(
                Status.UNKNOWN,
                f"the message names {ev.request(facts)}, which the review data lacks; "
                "its merge cannot be confirmed",
            )
        url = f" ({facts.request_url})" if facts.request_url else ""
        return Outcome(Status.PASS, f"landed through merged {ev.request(facts)}{url}")
    commit = facts.change.commit
    pusher = ev.ident(commit.committer.identity)
    allowed = _allowed_by(params["allow"], commit.author.identity, commit.committer.identity)
    if allowed:
        return Outcome(
            Status.PASS, f"pushed directly by {pusher}, an automation allowed by {allowed!r}"
        )
    if facts.request_number is not None:
        return _named_only(facts, facts.request_number, pusher)
    missing = ev.review_data_missing(facts)
    if missing:
        return Outcome(
            Status.UNKNOWN,
            f"no merged request named in the message of {ev.short(facts.change.sha)} and "
            f"{missing.reason}, so a rebase merge cannot be ruled out",
        )
    return Outcome(
        Status.FAIL, f"pushed directly by {pusher}; no merged request{_contradiction(facts, ctx)}"
    )


def _contradiction(facts: ChangeFacts, ctx: CheckContext) -> str:
    """What the branch's protection snapshot in force when a direct push landed says against
    it: a push the protection blocked came through a bypass, a settings change between
    snapshots, or a rewritten history."""
    landed, branch = facts.change.landed_at, facts.change.branch
    if landed is None or not branch:
        return ""
    snapshot = ctx.guard.in_force(branch, landed)
    if snapshot is None or snapshot.settings is None or not snapshot.settings.requires_request:
        return ""
    return (
        f"; yet the branch protection snapshot of {ev.when(snapshot.collected_at)} says direct "
        "pushes to it were blocked: a bypass, a settings change or a rewritten history"
    )


def _named_only(facts: ChangeFacts, number: int, pusher: str) -> Outcome:
    """A change whose message names request ``number`` that no review data links it to."""
    if facts.evidence is ReviewEvidence.MISSING:
        return Outcome(
            Status.UNKNOWN,
            f"the message names request #{number}, which the review data lacks; "
            "its merge cannot be confirmed",
        )
    if facts.evidence is ReviewEvidence.FORGE:
        return Outcome(
            Status.FAIL,
            f"pushed directly by {pusher}; the message names request #{number}, "
            "but the forge did not merge this commit through it",
        )
    if facts.evidence is ReviewEvidence.TRAILERS:
        return Outcome(
            Status.UNKNOWN,
            f"names #{number}; its review trailers do not show it landed through that request",
        )
    return Outcome(
        Status.UNKNOWN,
        f"names #{number}; {NO_REVIEW_DATA} to confirm it landed through that request",
    )


def _allowed_by(patterns: tuple[str, ...], *identities: Identity) -> str:
    """The first pattern matching every identity (by name or email), or ``""``."""
    for pattern in patterns:
        compiled = re.compile(pattern, re.IGNORECASE)
        if all(compiled.search(i.name) or compiled.search(i.email) for i in identities):
            return pattern
    return ""


@check(
    "emergency-retro-approval",
    labels=Param(list_of(text), ("emergency", "hotfix"), "request labels marking an emergency"),
    pattern=Param(regex, EMERGENCY_PATTERN, "regex over the subject or request title"),
    within_days=Param(integer(0), 2, "days after landing by which an approval must exist"),
)
def emergency_retro_approval(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    marker = ev.emergency_marker(facts, params["labels"], params["pattern"])
    if not marker:
        return Outcome(Status.NOT_APPLICABLE, "not an emergency change")
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    landed = facts.change.landed_at
    deadline = landed + timedelta(days=params["within_days"])
    independent = facts.independent_approvals
    timely = [a for a in independent if a.at is not None and a.at <= deadline]
    window = f"within {params['within_days']} days of landing at {ev.when(landed)}"
    if timely:
        return Outcome(
            Status.PASS, f"emergency ({marker}) approved by {ev.approval(timely[0])}, {window}"
        )
    if any(a.at is None for a in independent):
        return Outcome(Status.UNKNOWN, f"emergency ({marker}); approval times not recorded")
    if ctx.as_of < deadline:
        return Outcome(
            Status.UNKNOWN,
            f"emergency ({marker}); retrospective approval possible until {ev.when(deadline)}",
        )
    return Outcome(Status.FAIL, f"emergency ({marker}) with no independent approval {window}")


@check(
    "bot-policy",
    policy=Param(
        choice("human-approval", "auto-merge-allowed"),
        "human-approval",
        "what a change whose contributors are all bots needs",
    ),
)
def bot_policy(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    if not facts.is_bot_change:
        return Outcome(Status.NOT_APPLICABLE, "not a bot change")
    bots = ev.names(facts.authors)
    if params["policy"] == "auto-merge-allowed":
        return Outcome(Status.PASS, f"bot change by {bots}; auto-merge allowed by policy")
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    humans = [a for a in facts.independent_approvals if not a.reviewer.is_bot]
    if humans:
        return Outcome(Status.PASS, f"bot change by {bots} approved by {ev.approvals(humans[:1])}")
    return Outcome(Status.FAIL, f"bot change by {bots} with no independent human approval")
