"""Checks on deployments: only approved changes are deployed (DEP-01), no drift (DEP-02).

Each yields one verdict per deployment of the period, judged on the deployments joined to the
ledger (:mod:`auditor.deployments.join`): the revision it deployed, the changes it brought since
the source's previous deployment, who started it, and what reads saw while it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from auditor.deployments.join import Placed, RepoDeployments
from auditor.evaluation.checks.params import Param, boolean, integer, list_of, text
from auditor.evaluation.checks.registry import (
    CheckContext,
    ItemOutcome,
    Outcome,
    Params,
    deployment_check,
)
from auditor.model import Status

NO_RECORDS = "no deployment records were given (--deployments, or deployments in the config)"


def _none(ctx: CheckContext) -> list[ItemOutcome] | None:
    """The verdict when there is nothing to judge, else None."""
    if ctx.deployments is None:
        return [ItemOutcome(Outcome(Status.NOT_APPLICABLE, NO_RECORDS))]
    return None


@deployment_check(
    "deployed-approved",
    approval_controls=Param(
        list_of(text), ("CHG-02",), "controls every change a deployment brings must pass"
    ),
    undeployed_fails=Param(
        boolean, False, "a change of the period never deployed by its end is a failure"
    ),
)
def deployed_approved(params: Params, ctx: CheckContext) -> list[ItemOutcome]:
    none = _none(ctx)
    if none is not None:
        return none
    deployments = ctx.deployments
    assert deployments is not None
    controls = tuple(params["approval_controls"])
    items = [_approved(p, controls, ctx) for p in deployments.placed]
    items += [
        ItemOutcome(
            Outcome(
                Status.UNKNOWN,
                f"deployments of {g.source} from {_stamp(g.after) if g.after else 'its beginning'}"
                f" to {_stamp(g.before)} are not known ({g.reason}): whether they deployed"
                " approved changes cannot be told",
            ),
            at=g.after or g.before,
        )
        for g in deployments.period_gaps
    ]
    if params["undeployed_fails"]:
        items += _undeployed(deployments, ctx)
    if not items:
        items.append(
            ItemOutcome(
                Outcome(Status.NOT_APPLICABLE, "no deployment of this repository in the period")
            )
        )
    return items


def _approved(p: Placed, controls: Sequence[str], ctx: CheckContext) -> ItemOutcome:
    d = p.deployment
    label = label_of(p)
    item = {"commit": p.commit or d.revision, "change": p.change, "at": d.deployed_at}
    if not p.commit:
        return ItemOutcome(
            Outcome(
                Status.FAIL,
                f"{label}: revision {d.revision[:40]!r} is no commit of the audited repository"
                " (a fork, or a branch the repository never held)",
            ),
            **item,  # type: ignore[arg-type]
        )
    if not p.on_branch:
        where = (
            f"a commit of a feature branch, brought in by change {_cid(ctx, p.feature_change)}"
            if p.feature_change
            else "a commit of a fork or feature branch"
        )
        return ItemOutcome(
            Outcome(
                Status.FAIL,
                f"{label}: {p.commit[:12]} is not on the audited branch's first-parent chain:"
                f" {where}, not an approved change",
            ),
            **item,  # type: ignore[arg-type]
        )
    judged = p.brought or (p.change,)
    failed, unknown, unjudged, outside = [], [], [], 0
    for sha in judged:
        verdicts = ctx.verdicts.get(sha)
        if verdicts is None:
            outside += 1
            continue
        statuses = [verdicts.get(c) for c in controls]
        if Status.FAIL in statuses:
            bad = [c for c, s in zip(controls, statuses, strict=True) if s is Status.FAIL]
            failed.append(f"{_cid(ctx, sha)} ({', '.join(bad)})")
        elif None in statuses:
            unjudged.append(_cid(ctx, sha))
        elif Status.UNKNOWN in statuses:
            unknown.append(_cid(ctx, sha))
    brought = "redeployed" if not p.brought else f"brought {len(p.brought)} change(s)"
    if p.rollback:
        brought = "rolled back"
    if failed:
        return ItemOutcome(
            Outcome(Status.FAIL, f"{label}: {brought}, not approved: {_listed(failed)}"),
            **item,  # type: ignore[arg-type]
        )
    if p.after_gap is not None:
        g = p.after_gap
        return ItemOutcome(
            Outcome(
                Status.UNKNOWN,
                f"{label}: the deployments of its source before it, to {_stamp(g.before)}, are"
                f" not known ({g.reason}), so which changes it brought cannot be told",
            ),
            **item,  # type: ignore[arg-type]
        )
    if unjudged:
        return ItemOutcome(
            Outcome(
                Status.UNKNOWN,
                f"{label}: {', '.join(controls)} not evaluated for {_listed(unjudged)}",
            ),
            **item,  # type: ignore[arg-type]
        )
    if unknown:
        return ItemOutcome(
            Outcome(
                Status.UNKNOWN,
                f"{label}: {brought}; approval could not be concluded for {_listed(unknown)}",
            ),
            **item,  # type: ignore[arg-type]
        )
    before = f"; {outside} landed before the period (outside this audit)" if outside else ""
    return ItemOutcome(
        Outcome(
            Status.PASS,
            f"{label}: {brought}, each passed {', '.join(controls)}{before}",
        ),
        **item,  # type: ignore[arg-type]
    )


def _undeployed(deployments: RepoDeployments, ctx: CheckContext) -> list[ItemOutcome]:
    return [
        ItemOutcome(
            Outcome(
                Status.FAIL,
                f"change {f.change_id} landed {_stamp(f.change.landed_at)} and was not deployed"
                " by the end of the period",
            ),
            commit=f.change.sha,
            change=f.change.sha,
            at=f.change.landed_at,
        )
        for f in ctx.changes
        if f.change.rewritten is None and f.change.sha not in deployments.by_change
    ]


@deployment_check(
    "no-drift",
    max_out_of_sync_minutes=Param(
        integer(0), 60, "the longest a system may run out of sync with its source"
    ),
    require_self_heal=Param(
        boolean, True, "self-heal (Argo CD selfHeal) switched off is drift allowed to stay"
    ),
)
def no_drift(params: Params, ctx: CheckContext) -> list[ItemOutcome]:
    none = _none(ctx)
    if none is not None:
        return none
    deployments = ctx.deployments
    assert deployments is not None
    longest = timedelta(minutes=params["max_out_of_sync_minutes"])
    items = [_drift(p, longest, params["require_self_heal"], ctx) for p in deployments.placed]
    if not items:
        items.append(
            ItemOutcome(
                Outcome(Status.NOT_APPLICABLE, "no deployment of this repository in the period")
            )
        )
    return items


def _drift(p: Placed, longest: timedelta, self_heal: bool, ctx: CheckContext) -> ItemOutcome:
    d = p.deployment
    person = d.automated is not True and bool(d.actor)
    problems = []
    if person and p.change != p.head:
        head = f"the branch's head {_cid(ctx, p.head)}" if p.head else "the branch's revision"
        problems.append(
            f"manual {d.kind} by {d.actor} of {(p.commit or d.revision)[:12]}, not {head}"
        )
    if d.forced and d.automated is not True:
        problems.append(f"forced or replacing {d.kind} by {d.actor or 'an unnamed person'}")
    for span in p.out_of_sync:
        if span.duration > longest:
            still = ", still out of sync at the last read" if span.ongoing else ""
            problems.append(
                f"out of sync from {_stamp(span.start)} to {_stamp(span.end)}"
                f" ({_duration(span.duration)}{still})"
            )
    off = [o for o in p.observations if o.automated is False]
    heal = [o for o in p.observations if o.automated and o.self_heal is False]
    if off:
        problems.append(f"automated sync off (read at {_times(o.observed_at for o in off)})")
    if heal and self_heal:
        problems.append(f"self-heal off (read at {_times(o.observed_at for o in heal)})")
    item = {"commit": p.commit or d.revision, "change": p.change, "at": d.deployed_at}
    if problems:
        return ItemOutcome(
            Outcome(Status.FAIL, f"{label_of(p)}: {'; '.join(problems)}"),
            **item,  # type: ignore[arg-type]
        )
    seen = len(p.observations)
    reads = f"{seen} read(s) while it ran saw no drift" if seen else "no read while it ran"
    return ItemOutcome(
        Outcome(Status.PASS, f"{label_of(p)}: no manual, forced or replacing sync; {reads}"),
        **item,  # type: ignore[arg-type]
    )


def label_of(p: Placed) -> str:
    """A deployment in a few words: kind, revision, system, time, and who started it."""
    d = p.deployment
    who = "automated" if d.automated else f"by {d.actor}" if d.actor else "by an unnamed starter"
    where = f"{d.system} ({d.environment})" if d.environment else d.system
    return (
        f"{d.kind} of {(p.commit or d.revision)[:12]} to {where} at {_stamp(d.deployed_at)}, {who}"
    )


def _cid(ctx: CheckContext, sha: str) -> str:
    return f"{ctx.repo}@{sha[:12]}"


def _listed(items: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def _times(whens: object) -> str:
    stamps = [_stamp(w) for w in whens]  # type: ignore[attr-defined]
    return _listed(stamps, 3)


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    return " ".join(p for p in parts if p)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
