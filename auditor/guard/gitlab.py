"""Branch protection and pipelines from the GitLab REST API (v4).

Protection is read from the project's protected branches (``GET /projects/:id/protected_branches``,
names may be wildcards), its merge request approval settings (``GET /projects/:id/approvals``)
and approval rules (``GET /projects/:id/approval_rules``), and its push rule (``GET
/projects/:id/push_rule``, Premium; absent or refused elsewhere). Reading protected branches
needs the Maintainer role. The checks of a merge request are the jobs of its pipelines
(``GET /projects/:id/merge_requests/:iid/pipelines``, then ``GET
/projects/:id/pipelines/:pipeline_id/jobs``).

GitLab maps onto the settings this way: a request is required and administrators are held when
no role, user, group or deploy key may push (``push_access_levels`` only "No one"), since a
project's maintainers and owners, and instance administrators, are otherwise among those who
may; force pushes are blocked unless ``allow_force_push``; a protected branch cannot be deleted
by a push. Whoever may push, force push or unprotect is listed as a bypass actor.
"""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatchcase

from auditor.guard.answers import Answer, Raw, answer
from auditor.guard.interface import (
    BypassActor,
    CheckKind,
    CheckRun,
    Collection,
    Conclusion,
    ProtectionSettings,
    ProtectionSnapshot,
    RequestChecks,
    stamp,
)
from auditor.reviews.gitlab import project_id
from auditor.reviews.http import ForgeClient
from auditor.reviews.interface import ChangeRequest, Payload

PAGE_SIZE = 100
NO_ONE = 0


def collect_snapshot(client: ForgeClient, repository: str, branch: str, now: datetime) -> Raw:
    base = f"/projects/{project_id(repository)}"
    per_page = {"per_page": PAGE_SIZE}
    return {
        "branch": branch,
        "collected_at": stamp(now),
        "protected_branches": answer(client, f"{base}/protected_branches", per_page, pages="list"),
        "approvals": answer(client, f"{base}/approvals"),
        "approval_rules": answer(client, f"{base}/approval_rules", per_page, pages="list"),
        "push_rule": answer(client, f"{base}/push_rule"),
    }


def collect_checks(client: ForgeClient, repository: str, request: ChangeRequest) -> Raw:
    base = f"/projects/{project_id(repository)}"
    per_page = {"per_page": PAGE_SIZE}
    path = f"{base}/merge_requests/{int(request.number)}/pipelines"
    pipelines = answer(client, path, per_page, pages="list")
    jobs = []
    for item in pipelines.get("body") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), int):
            jobs.append(
                {
                    "pipeline": item["id"],
                    "jobs": answer(
                        client, f"{base}/pipelines/{item['id']}/jobs", per_page, pages="list"
                    ),
                }
            )
    return {"number": int(request.number), "pipelines": pipelines, "jobs": jobs}


def parse_snapshot(raw: Payload) -> ProtectionSnapshot:
    branch, collected_at = raw.text("branch"), raw.time("collected_at")
    protected = Answer.of(raw, "protected_branches")
    if not protected.ok:
        collection, reason = protected.failure(f"GitLab protected branches for {branch}")
        if protected.refused:
            reason += " (reading protected branches needs the Maintainer role)"
        return ProtectionSnapshot(
            "gitlab", branch, collected_at, collection, None, (), False, reason
        )
    rules = [
        rule
        for rule in Payload.of({"r": protected.body}, "protected_branches").objs("r")
        if fnmatchcase(branch, rule.text("name"))
    ]
    approvals, approval_rules = Answer.of(raw, "approvals"), Answer.of(raw, "approval_rules")
    push_rule = Answer.of(raw, "push_rule")
    required = _approvals(branch, approvals, approval_rules)
    extras = _extras(approvals, push_rule)
    if not rules:
        settings = ProtectionSettings(
            False, False, required, False, False, False, (), (), tuple(extras)
        )
        return ProtectionSnapshot("gitlab", branch, collected_at, Collection.COLLECTED, settings)
    bypass: list[BypassActor] = []
    pushers = force = False
    for rule in rules:
        source = f"protected branch {rule.text('name')!r}"
        allowed = [a for a in rule.objs("push_access_levels") if _grants(a)]
        pushers = pushers or bool(allowed)
        force = force or rule.flag("allow_force_push")
        for level in allowed:
            who, kind = _who(level)
            bypass.append(BypassActor(who, kind, "push", source))
            if rule.flag("allow_force_push"):
                bypass.append(BypassActor(who, kind, "force push", source))
        for level in (
            rule.objs("unprotect_access_levels") if "unprotect_access_levels" in rule.data else []
        ):
            who, kind = _who(level)
            bypass.append(BypassActor(who, kind, "unprotect", source))
    settings = ProtectionSettings(
        protected=True,
        requires_request=not pushers,
        required_approvals=required,
        blocks_force_push=not force,
        blocks_deletion=True,
        applies_to_admins=not pushers,
        required_checks=(),
        sources=tuple(f"protected branch {r.text('name')!r}" for r in rules),
        extras=tuple(extras),
    )
    return ProtectionSnapshot(
        "gitlab", branch, collected_at, Collection.COLLECTED, settings, tuple(bypass)
    )


def _grants(level: Payload) -> bool:
    """Whether an access level entry lets someone push (anything but "No one")."""
    if any(level.opt_number(key) is not None for key in ("user_id", "group_id", "deploy_key_id")):
        return True
    return (level.opt_number("access_level") or NO_ONE) != NO_ONE


def _who(level: Payload) -> tuple[str, str]:
    description = level.opt_text("access_level_description") or ""
    for key, kind in (("user_id", "user"), ("group_id", "group"), ("deploy_key_id", "deploy key")):
        if level.opt_number(key) is not None:
            return description or f"{kind} #{level.number(key)}", kind
    return description or f"access level {level.opt_number('access_level')}", "access level"


def _approvals(branch: str, approvals: Answer, rules: Answer) -> int | None:
    """The approvals a merge request into ``branch`` needs: the most any rule that applies
    asks (a rule naming no branch applies to all), else the project setting; None if unread."""
    if rules.ok:
        counts = []
        for rule in Payload.of({"r": rules.body}, "approval_rules").objs("r"):
            if rule.opt_text("rule_type") not in (None, "regular", "any_approver"):
                continue
            branches = (
                rule.objs("protected_branches") if rule.data.get("protected_branches") else []
            )
            applies = (
                rule.flag("applies_to_all_protected_branches")
                or not branches
                or any(fnmatchcase(branch, b.text("name")) for b in branches)
            )
            if applies:
                counts.append(rule.opt_number("approvals_required") or 0)
        if counts:
            return max(counts)
    if approvals.ok:
        value = Payload.of(approvals.body, "approvals").opt_number("approvals_before_merge")
        if value is not None:
            return value
        return 0 if rules.ok else None
    return None


def _extras(approvals: Answer, push_rule: Answer) -> list[tuple[str, str]]:
    extras = []
    if approvals.ok:
        body = Payload.of(approvals.body, "approvals")
        for key in (
            "reset_approvals_on_push",
            "merge_requests_author_approval",
            "merge_requests_disable_committers_approval",
            "disable_overriding_approvers_per_merge_request",
        ):
            if isinstance(body.data.get(key), bool):
                extras.append((key, "true" if body.data[key] else "false"))
    if push_rule.ok and isinstance(push_rule.body, dict):
        body = Payload.of(push_rule.body, "push_rule")
        for key in (
            "reject_unsigned_commits",
            "commit_committer_check",
            "member_check",
            "prevent_secrets",
            "deny_delete_tag",
        ):
            if isinstance(body.data.get(key), bool):
                extras.append((f"push_rule.{key}", "true" if body.data[key] else "false"))
    return extras


_JOB_STATES = {
    "success": Conclusion.SUCCESS,
    "failed": Conclusion.FAILURE,
    "canceled": Conclusion.CANCELLED,
    "canceling": Conclusion.CANCELLED,
    "skipped": Conclusion.SKIPPED,
    "manual": Conclusion.ACTION_REQUIRED,
}


def _state(status: str) -> Conclusion:
    return _JOB_STATES.get(status, Conclusion.PENDING)


def parse_checks(raw: Payload) -> RequestChecks:
    number = raw.number("number")
    pipelines = Answer.of(raw, "pipelines")
    if not pipelines.ok:
        collection, reason = pipelines.failure(f"GitLab pipelines of !{number}")
        return RequestChecks(number, collection, (), reason)
    jobs = {entry.number("pipeline"): Answer.of(entry, "jobs") for entry in raw.objs("jobs")}
    runs: list[CheckRun] = []
    for pipeline in Payload.of({"p": pipelines.body}, "pipelines.body").objs("p"):
        pipeline_id = pipeline.number("id")
        listed = jobs.get(pipeline_id)
        if listed is None or not listed.ok:
            if listed is not None and listed.refused:
                collection, reason = listed.failure(f"GitLab jobs of pipeline {pipeline_id}")
                return RequestChecks(number, collection, (), reason)
            status = pipeline.text("status")
            runs.append(
                CheckRun(
                    name=f"pipeline {pipeline_id}",
                    kind=CheckKind.PIPELINE,
                    app=f"pipeline {pipeline_id}",
                    commit=pipeline.text("sha"),
                    conclusion=_state(status),
                    started_at=pipeline.opt_time("created_at"),
                    completed_at=pipeline.opt_time("updated_at")
                    if _state(status) is not Conclusion.PENDING
                    else None,
                    url=pipeline.opt_text("web_url") or "",
                )
            )
            continue
        for job in Payload.of({"j": listed.body}, f"jobs[{pipeline_id}]").objs("j"):
            conclusion = _state(job.text("status"))
            if conclusion is Conclusion.FAILURE and job.flag("allow_failure"):
                conclusion = Conclusion.NEUTRAL
            commit = job.opt_obj("commit")
            runs.append(
                CheckRun(
                    name=job.text("name"),
                    kind=CheckKind.JOB,
                    app=f"pipeline {pipeline_id} / {job.opt_text('stage') or ''}".rstrip(" /"),
                    commit=(commit.opt_text("id") if commit else None) or pipeline.text("sha"),
                    conclusion=conclusion,
                    started_at=job.opt_time("started_at"),
                    completed_at=job.opt_time("finished_at"),
                    url=job.opt_text("web_url") or "",
                )
            )
    return RequestChecks(number, Collection.COLLECTED, tuple(runs))
