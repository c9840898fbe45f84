"""Checks on a change's review: independent approvals, their freshness, timing and the merger.

Changes whose contributors are all bots follow the bot policy (``bot-policy``); with
``exempt_bots`` the checks here leave them to it. Approvals given after the merge count towards
the number of approvals; ``approval-before-merge`` alone judges their timing.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditor.evaluation.checks import evidence as ev
from auditor.evaluation.checks.params import (
    CATEGORIES,
    EMERGENCY_PATTERN,
    Param,
    boolean,
    choice,
    integer,
    list_of,
    path_globs,
    record,
    regex,
    text,
)
from auditor.evaluation.checks.registry import CheckContext, Outcome, Params, check
from auditor.model import ChangeFacts, ReviewEvidence, Status

PATH_RULES = list_of(
    record(
        {
            "paths": Param(path_globs, (), "globs over the change's paths"),
            "min_approvals": Param(integer(0), 1, "approvals required when a path matches"),
        },
        required=("paths", "min_approvals"),
    )
)


def required_approvals(facts: ChangeFacts, base: int, rules: Sequence[Params]) -> tuple[int, str]:
    """The approvals a change needs: per path, the highest matching rule (else ``base``);
    for the change, the highest over its paths. Returns the number and where it comes from."""
    need, why = None, f"{base} required"
    for path in ev.change_paths(facts) or ("",):
        matched = [r for r in rules if ev.path_matches(r["paths"], path)]
        rule = max(matched, key=lambda r: int(r["min_approvals"]), default=None)
        count = base if rule is None else int(rule["min_approvals"])
        if need is None or count > need:
            need = count
            why = f"{count} required" + (
                f" by path rule {', '.join(rule['paths'])} ({path})" if rule else ""
            )
    return (base if need is None else need), why


def count_outcome(facts: ChangeFacts, need: int, why: str) -> Outcome:
    """Pass when ``need`` distinct independent reviewers approved (before or after the merge)."""
    independent = ev.distinct_reviewers(facts.all_independent_approvals)
    others = [a.reviewer for a in (*facts.approvals, *facts.post_merge_approvals)]
    others = [p for p in others if p.key not in {a.reviewer.key for a in independent}]
    also = f"; also approved by {ev.names(others)} (not independent)" if others else ""
    if not independent:
        found = "no independent approval"
    else:
        noun = "approval" if len(independent) == 1 else "approvals"
        late = {a.reviewer.key for a in facts.post_merge_approvals}
        listed = "; ".join(
            ev.approval(a) + (" (after the merge)" if a.reviewer.key in late else "")
            for a in independent
        )
        found = f"{len(independent)} independent {noun} ({listed})"
    status = Status.PASS if len(independent) >= need else Status.FAIL
    return Outcome(status, f"{found}, {why}{also}")


def bot_exempt(facts: ChangeFacts, params: Params) -> Outcome | None:
    """``not_applicable`` for a bot change when the check leaves bots to the bot policy."""
    if params["exempt_bots"] and facts.is_bot_change:
        return Outcome(
            Status.NOT_APPLICABLE,
            f"bot change by {ev.names(facts.authors)}; judged by the bot policy",
        )
    return None


EXEMPT_BOTS = Param(
    boolean, True, "leave changes whose contributors are all bots to the bot policy"
)


@check(
    "independent-approvals",
    min_approvals=Param(integer(0), 1, "independent approvals every change needs"),
    path_rules=Param(PATH_RULES, (), "per-path approval counts; the highest matching wins"),
    exempt_bots=EXEMPT_BOTS,
)
def independent_approvals(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    exempt = bot_exempt(facts, params)
    if exempt:
        return exempt
    need, why = required_approvals(facts, params["min_approvals"], params["path_rules"])
    return count_outcome(facts, need, why)


@check(
    "sensitive-change-review",
    categories=Param(
        list_of(choice(*CATEGORIES)),
        ("network", "identity-access", "secrets", "policy"),
        "change categories that make a change sensitive",
    ),
    paths=Param(path_globs, (), "globs over paths that make a change sensitive"),
    min_approvals=Param(integer(0), 2, "independent approvals a sensitive change needs"),
)
def sensitive_change_review(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    categories = sorted(facts.categories & set(params["categories"]))
    paths = ev.matching_paths(params["paths"], ev.change_paths(facts))
    if not categories and not paths:
        return Outcome(Status.NOT_APPLICABLE, "not a sensitive change (categories and paths)")
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    what = ", ".join(categories) if categories else f"path {paths[0]}"
    return count_outcome(
        facts, params["min_approvals"], f"{params['min_approvals']} required for {what}"
    )


@check("approval-covers-content")
def approval_covers_content(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    independent = facts.independent_approvals
    if not independent:
        return Outcome(Status.NOT_APPLICABLE, "no independent approval to assess")
    covering = [a for a in independent if a.covers_merged_content]
    if covering:
        return Outcome(
            Status.PASS, f"approval by {ev.approval(covering[0])} covers the merged content"
        )
    if any(a.covers_merged_content is None for a in independent):
        return Outcome(
            Status.UNKNOWN,
            "cannot tell whether the approvals cover the merged content "
            f"({ev.approvals(independent)})",
        )
    return Outcome(
        Status.FAIL,
        f"stale approvals only: {ev.approvals(independent)}; the merged content "
        f"{ev.short(facts.change.sha)} was changed after them",
    )


@check("no-self-merge", exempt_bots=EXEMPT_BOTS)
def no_self_merge(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    if not facts.request_linked:
        if facts.evidence is not ReviewEvidence.FORGE:
            return Outcome(
                Status.UNKNOWN,
                "no forge data records whether or by whom the change was merged "
                f"(review evidence: {facts.evidence.value})",
            )
        return Outcome(Status.NOT_APPLICABLE, "no merged request; nothing was merged by anyone")
    exempt = bot_exempt(facts, params)
    if exempt:
        return exempt
    merger = facts.merged_by
    if merger is None:
        return Outcome(Status.UNKNOWN, f"the merger of {ev.request(facts)} is not recorded")
    what = ev.request(facts)
    if merger.key not in {p.key for p in facts.authors}:  # the contributors, as persons
        return Outcome(Status.PASS, f"{what} merged by {merger.display}, not a contributor")
    independent = ev.distinct_reviewers(facts.independent_approvals)
    if independent:
        return Outcome(
            Status.PASS,
            f"{what} merged by its contributor {merger.display} after independent "
            f"approval by {ev.approvals(independent)}",
        )
    return Outcome(
        Status.FAIL,
        f"{what} merged by its contributor {merger.display} with no independent approval",
    )


@check(
    "approval-before-merge",
    exempt_bots=EXEMPT_BOTS,
    emergency_labels=Param(
        list_of(text), ("emergency", "hotfix"), "request labels of emergency changes, exempt"
    ),
    emergency_pattern=Param(
        regex, EMERGENCY_PATTERN, "regex over the subject or request title of emergency changes"
    ),
)
def approval_before_merge(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    exempt = bot_exempt(facts, params)
    if exempt:
        return exempt
    marker = ev.emergency_marker(facts, params["emergency_labels"], params["emergency_pattern"])
    if marker:
        return Outcome(
            Status.NOT_APPLICABLE,
            f"emergency change ({marker}); may be approved retrospectively",
        )
    merged = facts.merged_at or facts.change.landed_at
    at = f"{'the merge' if facts.merged_at else 'landing'} at {ev.when(merged)}"
    standing = facts.independent_approvals
    before = [a for a in standing if a.at is not None and a.at <= merged]
    if before:
        return Outcome(Status.PASS, f"approved by {ev.approval(before[0])}, before {at}")
    if any(a.at is None for a in standing):
        return Outcome(Status.UNKNOWN, f"approval times not recorded ({ev.approvals(standing)})")
    late = [a for a in standing if a.at is not None and a.at > merged]
    late += [a for a in facts.post_merge_approvals if a.independent]
    if not late:
        return Outcome(Status.NOT_APPLICABLE, "no independent approval whose time to judge")
    return Outcome(Status.FAIL, f"approved only after {at}: {ev.approvals(late)}")
