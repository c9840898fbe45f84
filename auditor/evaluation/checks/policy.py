"""Checks of organisational policy: tickets linked to changes, freeze windows."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.evaluation.checks import evidence as ev
from auditor.evaluation.checks.params import (
    Param,
    boolean,
    day_end,
    day_start,
    list_of,
    record,
    regex,
    text,
)
from auditor.evaluation.checks.registry import CheckContext, Outcome, Params, check
from auditor.model import NO_REVIEW_DATA, ChangeFacts, ReviewEvidence, Status

_UNCOLLECTED = "the request's title and body, where tickets are usually named, were not collected"
WINDOWS = list_of(
    record(
        {
            "start": Param(day_start, None, "first day (or timestamp) of the window"),
            "end": Param(day_end, None, "last day (or timestamp) of the window, inclusive"),
            "name": Param(text, "freeze window", "what the window is called"),
        },
        required=("start", "end"),
    )
)


@check(
    "ticket-linked",
    pattern=Param(regex, r"\b[A-Z][A-Z0-9]+-\d+\b", "regex of a ticket key"),
    exempt_bots=Param(boolean, True, "changes whose contributors are all bots need no ticket"),
)
def ticket_linked(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    if params["exempt_bots"] and facts.is_bot_change:
        return Outcome(Status.NOT_APPLICABLE, f"bot change by {ev.names(facts.authors)}; exempt")
    compiled = re.compile(params["pattern"])
    for where, value in _texts(facts):
        found = compiled.search(value)
        if found:
            return Outcome(Status.PASS, f"ticket {found.group(0)} in the {where}")
    if facts.evidence is not ReviewEvidence.FORGE:
        return Outcome(Status.UNKNOWN, _uncollected(facts))
    return Outcome(
        Status.FAIL, f"no ticket matching '{params['pattern']}' in the messages or request"
    )


def _uncollected(facts: ChangeFacts) -> str:
    """Why a change without a ticket in its messages cannot be judged: where tickets are
    usually named was not collected (no forge data), or only in part."""
    if facts.evidence is ReviewEvidence.NONE:
        return f"{NO_REVIEW_DATA}: {_UNCOLLECTED}"
    if facts.evidence is ReviewEvidence.TRAILERS:
        return f"no ticket in the commit messages; no forge data (only trailers): {_UNCOLLECTED}"
    if facts.request_title or facts.request_body:
        return (
            f"no ticket in the messages or in {ev.request(facts)}; the forge listed only part of"
            " its commits, whose messages may name one"
        )
    what = ev.request(facts) if facts.request_number is not None else "this change"
    return f"no ticket in the commit messages; the review data of {what} is missing: {_UNCOLLECTED}"


def _texts(facts: ChangeFacts) -> Iterator[tuple[str, str]]:
    landing = facts.change.commit
    yield "subject", landing.subject
    yield "request title", facts.request_title
    yield "message body", landing.body
    yield "request description", facts.request_body
    seen: set[str] = {landing.sha}
    for commit in facts.commits:
        if commit.sha not in seen:
            seen.add(commit.sha)
            yield f"message of {ev.short(commit.sha)}", f"{commit.subject}\n{commit.body}"
    for sha, message in facts.request_messages:
        if sha not in seen:
            seen.add(sha)
            yield f"message of {ev.short(sha)} in {ev.request(facts)}", message


@check(
    "freeze-window",
    windows=Param(WINDOWS, (), "periods in which nothing may land: start, end, name"),
)
def freeze_window(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    windows = params["windows"]
    if not windows:
        return Outcome(Status.NOT_APPLICABLE, "no freeze window configured")
    landed = facts.change.landed_at
    for window in windows:
        if window["start"] <= landed <= window["end"]:
            span = f"{ev.when(window['start'])}..{ev.when(window['end'])}"
            return Outcome(
                Status.FAIL, f"landed at {ev.when(landed)} inside {window['name']} ({span})"
            )
    return Outcome(Status.PASS, f"landed at {ev.when(landed)}, outside every freeze window")
