"""Checks of the guard rails: branch protection through the period (CFG-01) and the automated
checks a change passed before its merge (CHG-12)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auditor.evaluation.checks import evidence as ev
from auditor.evaluation.checks.params import (
    Param,
    boolean,
    choice,
    integer,
    list_of,
    path_globs,
    regex,
    text,
)
from auditor.evaluation.checks.registry import (
    CheckContext,
    Outcome,
    Params,
    check,
    repository_check,
)
from auditor.guard import SNAPSHOT_GRACE, Collection, Conclusion, GuardData, ProtectionSnapshot
from auditor.guard.interface import CheckRun
from auditor.infra.model import FileKind
from auditor.model import ChangeFacts, Status

NO_FORGE = (
    "no forge configured, so branch protection was never collected "
    "(use --forge, or a --reviews-file exported with protection snapshots)"
)


def _when(moment: datetime) -> str:
    return ev.when(moment)


@dataclass(frozen=True)
class _Verdict:
    weak: tuple[str, ...]
    unread: tuple[str, ...]


def judge_snapshot(snapshot: ProtectionSnapshot, params: Params) -> _Verdict:
    """The settings of a collected snapshot that fall short of ``params``, and those it did
    not show."""
    settings = snapshot.settings
    if settings is None:
        return _Verdict((), ("no settings",))
    if not settings.protected:
        return _Verdict(("the branch is not protected",), ())
    weak: list[str] = []
    unread: list[str] = []
    wants = (
        ("require_request", settings.requires_request, "does not require a pull/merge request",
         "whether a request is required"),
        ("block_force_push", settings.blocks_force_push, "allows force pushes",
         "whether force pushes are blocked"),
        ("block_deletion", settings.blocks_deletion, "allows deletion",
         "whether deletion is blocked"),
        ("enforce_admins", settings.applies_to_admins, "does not apply to administrators",
         "whether administrators are held to it"),
    )  # fmt: skip
    for key, value, short, unknown in wants:
        if not params[key]:
            continue
        if value is None:
            unread.append(unknown)
        elif not value:
            weak.append(short)
    needed = params["required_approvals"]
    if needed:
        if settings.required_approvals is None:
            unread.append("how many approvals are required")
        elif settings.required_approvals < needed:
            weak.append(f"requires {settings.required_approvals} approval(s), not {needed}")
    return _Verdict(tuple(weak), tuple(unread))


def _period(ctx: CheckContext) -> tuple[datetime | None, datetime]:
    end = ctx.as_of if ctx.period.until is None else min(ctx.period.until, ctx.as_of)
    start = ctx.period.since
    if start is None:
        landed = [f.change.landed_at for f in ctx.changes if f.change.landed_at is not None]
        start = min(landed, default=None)
    return start, end


GUARD_CHECKS = frozenset({"branch-protection", "pre-merge-checks"})
"""The checks that judge the guard data (protection snapshots, request checks): only a catalog
holding one of them has the guard data collected, and its gaps leave the evidence incomplete."""


@repository_check(
    "branch-protection",
    required_approvals=Param(integer(0), 1, "approvals every snapshot must require"),
    require_request=Param(boolean, True, "changes must come through a pull/merge request"),
    block_force_push=Param(boolean, True, "force pushes must be blocked"),
    block_deletion=Param(boolean, True, "deletion of the branch must be blocked"),
    enforce_admins=Param(boolean, True, "administrators must be held to the protection"),
    max_gap_days=Param(
        integer(1), 35, "the longest time a snapshot stands for before the next must be taken"
    ),
)
def branch_protection(params: Params, ctx: CheckContext) -> Outcome:
    guard = ctx.guard
    if not guard.configured:
        return Outcome(Status.UNKNOWN, NO_FORGE)
    start, end = _period(ctx)
    outcomes = [_branch(guard, branch, start, end, params) for branch in guard.audited]
    if not outcomes:
        return Outcome(Status.UNKNOWN, "no audited branch had its protection collected")
    for status in (Status.FAIL, Status.UNKNOWN):
        picked = [o.reason for o in outcomes if o.status is status]
        if picked:
            return Outcome(status, "; ".join(picked))
    return Outcome(Status.PASS, "; ".join(o.reason for o in outcomes))


def _branch(
    guard: GuardData, branch: str, start: datetime | None, end: datetime, params: Params
) -> Outcome:
    # a snapshot taken just after the end (the run's own) shows the protection at the end
    timeline = [s for s in guard.branch(branch) if s.collected_at <= end + SNAPSHOT_GRACE]
    if not timeline:
        return Outcome(
            Status.UNKNOWN,
            f"{branch}: no protection snapshot collected by {_when(end)}; "
            "the protection during the period is unknown",
        )

    def at(snapshot: ProtectionSnapshot) -> datetime:
        return min(snapshot.collected_at, end)

    begin = start if start is not None else at(timeline[0])
    at_start = [s for s in timeline if at(s) <= begin]
    relevant = at_start[-1:] + [s for s in timeline if at(s) > begin]
    gap = timedelta(days=params["max_gap_days"])
    weak, unknown, covered_from = [], [], []
    for index, snapshot in enumerate(relevant):
        label = f"the snapshot of {_when(snapshot.collected_at)}"
        if snapshot.collection is not Collection.COLLECTED:
            unknown.append(f"{label} was not read ({snapshot.reason})")
            continue
        verdict = judge_snapshot(snapshot, params)
        if verdict.weak:
            weak.append(f"{label} {', '.join(verdict.weak)}")
        if verdict.unread:
            unknown.append(f"{label} does not show {', '.join(verdict.unread)}")
        if not verdict.weak and not verdict.unread:
            following = at(relevant[index + 1]) if index + 1 < len(relevant) else end
            covered_from.append((at(snapshot), min(following, at(snapshot) + gap)))
    if weak:
        return Outcome(Status.FAIL, f"{branch}: " + "; ".join(weak))
    holes = _holes(begin, end, covered_from)
    if holes or unknown:
        said = [f"no snapshot shows the protection from {_when(a)} to {_when(b)}" for a, b in holes]
        return Outcome(Status.UNKNOWN, f"{branch}: " + "; ".join(said + unknown))
    first, last = relevant[0].collected_at, relevant[-1].collected_at
    bypass = {(a.actor, a.mode) for s in relevant for a in s.bypass_actors}
    who = f"; {len(bypass)} bypass actor(s) listed" if bypass else ""
    shown = "is" if len(relevant) == 1 else "are"
    return Outcome(
        Status.PASS,
        f"{branch}: protected through the period: {len(relevant)} snapshot(s) from "
        f"{_when(first)} to {_when(last)} {shown} within {params['max_gap_days']} days of each "
        f"other and each requires what the control asks{who}",
    )


def _holes(
    begin: datetime, end: datetime, covered: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of [begin, end] no interval of ``covered`` spans."""
    holes = []
    cursor = begin
    for low, high in sorted(covered):
        if low > cursor:
            holes.append((cursor, min(low, end)))
        cursor = max(cursor, high)
        if cursor >= end:
            break
    if cursor < end:
        holes.append((cursor, end))
    return [(a, b) for a, b in holes if b > a and a < end]


# -- CHG-12 -----------------------------------------------------------------------------------

SCANNERS = (
    "checkov", "tfsec", "trivy", "kics", "terrascan", "conftest", "tflint", "kubeconform",
    "kubescape", "kube-linter", "kube-score", "polaris", "opa", "gator", "semgrep", "snyk",
    "policy", "sast", "iac-scan",
)  # fmt: skip
"""Names of common IaC and policy scanners (matched as words, case-insensitive)."""
_EPOCH = datetime.min.replace(tzinfo=UTC)
_INFRA = frozenset(kind for kind in FileKind if kind is not FileKind.OTHER)


def _patterns(params: Params) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in params["required"]]


def _matches(run: CheckRun, patterns: Sequence[re.Pattern[str]]) -> bool:
    return any(p.search(run.name) or (run.app and p.search(run.app)) for p in patterns)


def _applies(facts: ChangeFacts, params: Params) -> bool:
    if params["paths"] and ev.any_path_matches(params["paths"], ev.change_paths(facts)):
        return True
    if params["categories"] and facts.categories & set(params["categories"]):
        return True
    return any(f.kind in _INFRA for f in facts.infra_files)


def _run(run: CheckRun) -> str:
    app = f" ({run.app})" if run.app and run.app != run.name else ""
    return f"{run.name}{app}"


@check(
    "pre-merge-checks",
    required=Param(
        list_of(regex),
        tuple(rf"(?<![a-z]){re.escape(s)}(?![a-z])" for s in SCANNERS),
        "regexes (case-insensitive) over check names and apps: the checks that must pass",
    ),
    mode=Param(
        choice("any", "all"),
        "any",
        "any: at least one matching check ran and every one passed; all: each pattern matched",
    ),
    paths=Param(path_globs, (), "globs of paths that bring a change in scope besides IaC files"),
    categories=Param(list_of(text), (), "categories that bring a change in scope"),
    allow=Param(
        list_of(regex),
        (),
        "regexes (case-insensitive) over name and email of automation allowed to push directly:"
        " its pushes have no request to check (not applicable)",
    ),
)
def pre_merge_checks(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    if facts.change.files and not facts.infra_files:
        return Outcome(
            Status.UNKNOWN, "the change's file contents are missing, so its scope is unknown"
        )
    if not _applies(facts, params):
        return Outcome(Status.NOT_APPLICABLE, "no infrastructure code or pipeline changed")
    if not facts.request_linked:
        missing = ev.review_data_missing(facts)
        if facts.request_number is not None or missing is not None:
            why = missing.reason if missing else f"request #{facts.request_number} is not linked"
            return Outcome(Status.UNKNOWN, f"no merged request confirmed ({why})")
        commit = facts.change.commit
        pusher = ev.ident(commit.committer.identity)
        for pattern in params["allow"]:
            allowed = re.compile(pattern, re.IGNORECASE)
            people = (commit.author.identity, commit.committer.identity)
            if all(allowed.search(p.name) or allowed.search(p.email) for p in people):
                return Outcome(
                    Status.NOT_APPLICABLE,
                    f"pushed directly by {pusher}, an automation allowed by {pattern!r}: "
                    "no request, so no pre-merge check to judge",
                )
        return Outcome(
            Status.FAIL,
            f"pushed directly by {pusher}: no request, so no check ran before it landed",
        )
    request = ev.request(facts)
    if not ctx.guard.configured:
        return Outcome(
            Status.UNKNOWN, f"no forge configured: the checks of {request} were not collected"
        )
    checks = ctx.guard.by_request.get(int(facts.request_number or 0))
    if checks is None:
        return Outcome(Status.UNKNOWN, f"the checks of {request} were not collected")
    if checks.collection is not Collection.COLLECTED:
        return Outcome(
            Status.UNKNOWN, f"the checks of {request} could not be read: {checks.reason}"
        )
    merged_at = facts.merged_at or facts.change.landed_at
    patterns = _patterns(params)
    before = [r for r in checks.runs if not r.on_merge_commit]
    latest: dict[tuple[str, str], CheckRun] = {}
    for run in sorted(before, key=lambda r: (r.started_at or r.completed_at or _EPOCH, r.name)):
        latest[(run.name, run.app)] = run  # a re-run replaces the run before it
    required = [r for r in latest.values() if _matches(r, patterns)]
    if not required:
        seen = ", ".join(sorted({_run(r) for r in before})) or "none"
        return Outcome(
            Status.FAIL,
            f"no required check ran on {request} before its merge (checks seen: {seen})",
        )
    if params["mode"] == "all":
        unmatched = [p.pattern for p in patterns if not any(_matches(r, [p]) for r in required)]
        if unmatched:
            return Outcome(Status.FAIL, f"{request}: no check matched {', '.join(unmatched)}")
    bad, unsure = [], []
    for run in sorted(required, key=lambda r: r.name):
        if run.conclusion is Conclusion.PENDING:
            bad.append(f"{_run(run)} had not finished when collected")
        elif run.conclusion is not Conclusion.SUCCESS:
            bad.append(f"{_run(run)} concluded {run.conclusion.value}")
        elif run.completed_at is None or merged_at is None:
            unsure.append(f"{_run(run)} passed at an unrecorded time")
        elif run.completed_at > merged_at:
            bad.append(
                f"{_run(run)} finished at {_when(run.completed_at)}, after the merge at "
                f"{_when(merged_at)}"
            )
    if bad:
        return Outcome(Status.FAIL, f"{request}: " + "; ".join(bad))
    if unsure:
        return Outcome(Status.UNKNOWN, f"{request}: " + "; ".join(unsure))
    passed = ", ".join(
        f"{_run(r)} at {_when(r.completed_at)}"
        for r in sorted(required, key=lambda r: r.name)
        if r.completed_at
    )
    return Outcome(
        Status.PASS, f"{request}: passed before the merge at {_when(merged_at)}: {passed}"
    )
