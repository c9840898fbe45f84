"""Checks on the integrity and attribution of the history: signatures, rewrites, identities.

``signed-commits`` reports the *presence* of a signature (GPG, SSH or X.509) in each commit;
where the organisation's keys were given (``--allowed-signers``, ``--gpg-keys``), each signature
must also verify against them, and its reasons say "verified". A
forge's rebase merge re-creates a request's commits without signatures (GitHub cannot sign them
for the author); with ``forge_rebased`` such a copy counts when the forge reports its original,
listed in the request, as signed. A signature present but not verified (no keys given) is
``unknown``: its presence alone does not show who made it.

``identities-resolved`` fails an identity that maps to nobody only when a roster was given;
without one, such an identity cannot be judged (``unknown``), while identities the forge
resolves to accounts still pass.
"""

from __future__ import annotations

from auditor.evaluation.checks import evidence as ev
from auditor.evaluation.checks.params import Param, boolean, choice, list_of
from auditor.evaluation.checks.registry import (
    CheckContext,
    Outcome,
    Params,
    check,
    repository_check,
)
from auditor.model import (
    ChangeFacts,
    Commit,
    CommitSha,
    EventKind,
    HistoryEvent,
    Person,
    ReviewEvidence,
    SignatureKind,
    SignatureVerdict,
    Status,
)

REWRITES = tuple(kind.value for kind in EventKind)


def _verified(
    commits: tuple[Commit, ...],
    verdicts: dict[CommitSha, SignatureVerdict],
    originals: dict[CommitSha, str],
) -> Outcome:
    """The outcome once signatures were checked against the organisation's keys."""
    bad = [verdicts[c.sha] for c in commits if c.sha in verdicts and not verdicts[c.sha].verified]
    if bad:
        listed = "; ".join(f"{ev.short(v.commit)}: {v.detail}" for v in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        return Outcome(Status.FAIL, f"{len(bad)} signature(s) do not verify: {listed}{more}")
    signers = sorted({verdicts[c.sha].detail for c in commits if c.sha in verdicts})
    copied = [c for c in commits if c.sha in originals and c.sha not in verdicts]
    extra = f"; {len(copied)} rebased by the forge from signed originals" if copied else ""
    noun = "signature verified" if len(signers) == 1 else "signatures verified"
    return Outcome(Status.PASS, f"{noun}: {', '.join(signers)}{extra}")


@check(
    "signed-commits",
    require=Param(
        choice("all", "change"),
        "all",
        "all: every commit the change brought in; change: only the commit that landed",
    ),
    forge_rebased=Param(
        boolean, True, "a forge's rebased copy counts as signed when its original was signed"
    ),
)
def signed_commits(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    landing = facts.change.commit
    commits = facts.commits if params["require"] == "all" and facts.commits else (landing,)
    originals = {
        copy.commit: copy.original
        for copy in facts.forge_copies
        if params["forge_rebased"] and copy.original_signed
    }
    unsigned = [c for c in commits if c.signature is SignatureKind.NONE and c.sha not in originals]
    verdicts = {v.commit: v for v in facts.signatures}
    if verdicts and not unsigned:
        return _verified(commits, verdicts, originals)
    copied = [c for c in commits if c.signature is SignatureKind.NONE and c.sha in originals]
    if unsigned:
        if len(commits) == 1:
            return Outcome(Status.FAIL, f"commit {ev.short(unsigned[0].sha)} unsigned")
        listed = ", ".join(ev.short(c.sha) for c in unsigned[:5])
        more = f" and {len(unsigned) - 5} more" if len(unsigned) > 5 else ""
        return Outcome(
            Status.FAIL, f"{len(unsigned)} of {len(commits)} commits unsigned: {listed}{more}"
        )
    kinds = ", ".join(sorted({c.signature.value for c in commits if c not in copied}))
    signed = len(commits) - len(copied)
    parts = []
    if signed:
        noun = "commit carries" if signed == 1 else f"{signed} commits carry"
        parts.append(f"{noun} a signature ({kinds})")
    if copied:
        listed = ", ".join(f"{ev.short(c.sha)} of {ev.short(originals[c.sha])}" for c in copied)
        noun = "commit" if len(copied) == 1 else "commits"
        parts.append(f"{len(copied)} {noun} rebased by the forge from signed originals ({listed})")
    return Outcome(
        Status.UNKNOWN,
        "; ".join(parts) + "; not verified against the organisation's keys",
    )


@repository_check(
    "history-integrity",
    kinds=Param(list_of(choice(*REWRITES)), REWRITES, "history events that count as a rewrite"),
)
def history_integrity(params: Params, ctx: CheckContext) -> Outcome:
    since = ctx.period.since
    events = [
        e
        for e in ctx.events
        if e.kind in params["kinds"]
        and e.detected_at <= ctx.as_of
        and (since is None or e.detected_at >= since)
    ]
    if not events:
        return _watched(ctx)
    events.sort(key=lambda e: (e.detected_at, e.branch))
    reason = "; ".join(_event(e) for e in events)
    dropped = [f.change_id for f in ctx.changes if f.change.rewritten is not None]
    if dropped:
        listed = ", ".join(dropped[:5]) + (
            f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
        )
        reason += f"; changes of the period rewritten away (kept in the population): {listed}"
    return Outcome(Status.FAIL, reason)


def _watched(ctx: CheckContext) -> Outcome:
    """No rewrite was detected: a pass only when the store watched every audited branch from
    before the period began (a rewrite before a branch's first mining cannot be seen)."""
    since = ctx.period.since
    first_landed = min((f.change.landed_at for f in ctx.changes), default=None)
    start = since or first_landed
    began = (
        f"the period began {ev.when(start)}"
        if since is not None
        else f"the period's first change landed {ev.when(start)}"
    )
    if not ctx.watched:
        return Outcome(
            Status.UNKNOWN,
            "no rewrite detected, but the store records no mining of the audited branches, so "
            "none can be vouched for",
        )
    late = []
    for watch in sorted(ctx.watched, key=lambda w: w.branch):
        first = watch.first_mined
        if first is None:
            late.append(f"when auditor first mined {watch.branch} is not recorded")
        elif start is not None and first > start:
            late.append(
                f"auditor first mined {watch.branch} no earlier than this run's --as-of time"
                if first >= ctx.as_of
                else f"auditor first mined {watch.branch} at {ev.when(first)}"
            )
    if late:
        return Outcome(
            Status.UNKNOWN,
            f"no rewrite detected since auditor first mined the branch, but {began} and "
            f"{'; '.join(late)}: a rewrite before a branch's first mining cannot be seen "
            "(mine on a schedule from before the period's start)",
        )
    watched = ", ".join(
        f"{w.branch} since {ev.when(w.first_mined)}"
        for w in sorted(ctx.watched, key=lambda w: w.branch)
    )
    return Outcome(
        Status.PASS,
        f"no rewrite of an audited branch detected in the period; watched from before it began "
        f"({watched})",
    )


def _event(event: HistoryEvent) -> str:
    noun = "commit" if len(event.lost) == 1 else "commits"
    lost = f", {len(event.lost)} {noun} dropped" if event.lost else ""
    return (
        f"{event.kind} on {event.branch} detected at {ev.when(event.detected_at)} "
        f"({ev.short(event.old_tip)} -> {ev.short(event.new_tip)}{lost})"
    )


NO_ROSTER = "no roster given; identities without a forge account cannot be judged"


@check("identities-resolved")
def identities_resolved(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    people: list[tuple[str, Person]] = [("author", p) for p in facts.authors]
    people += [("committer", p) for p in facts.committers]
    people += [("approver", a.reviewer) for a in facts.approvals]
    if facts.merged_by is not None:
        people.append(("merger", facts.merged_by))
    unknown = list(facts.unresolved)
    unknown += [f"{role}: {p.display}" for role, p in people if not p.known]
    if unknown and not ctx.roster:
        return Outcome(Status.UNKNOWN, NO_ROSTER)
    if unknown:
        return Outcome(Status.FAIL, "unresolved identities: " + "; ".join(dict.fromkeys(unknown)))
    if facts.evidence is ReviewEvidence.MISSING:
        return Outcome(
            Status.UNKNOWN, "authors and committers resolved; approvers and merger missing"
        )
    count = len({p.key for _, p in people})
    noun = "identity maps" if count == 1 else "identities map"
    listed = ev.names(p for _, p in people)
    bots = {p.key for _, p in people if p.is_bot}
    if not bots:
        known = "known people"
    elif len(bots) == count:
        known = "a known bot" if count == 1 else "known bots"
    else:
        known = "known people and bots"
    return Outcome(Status.PASS, f"{count} {noun} to {known} ({listed})")
