"""Branch protection and checks from the GitHub REST API.

Protection is read from classic branch protection (``GET /repos/{o}/{r}/branches/{b}/protection``,
which needs the token's Administration read permission; a branch without it answers 404 ``Branch
not protected``) and from the rules of the rulesets that apply to the branch (``GET
/repos/{o}/{r}/rules/branches/{b}``, active rulesets only), each ruleset read once more for its
``bypass_actors`` and ``enforcement`` (``GET /repos/{o}/{r}/rulesets/{id}``; bypass actors are
shown only to a token that may edit the ruleset). The checks of a request are the check runs
and the combined commit status of its head commit (``/commits/{sha}/check-runs``,
``/commits/{sha}/status``) and, where GitHub ran them, of its merge commit.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

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
from auditor.reviews.http import ForgeClient
from auditor.reviews.interface import ChangeRequest, Payload

PAGE_SIZE = 100
NOT_PROTECTED = "Branch not protected"
"""GitHub's message for a 404 on a branch without classic protection."""
ADMIN_ROLE = 5
"""The ``actor_id`` of the admin repository role in ruleset bypass lists."""


def collect_snapshot(client: ForgeClient, repository: str, branch: str, now: datetime) -> Raw:
    """The raw answers GitHub gives about ``branch``'s protection at ``now``."""
    base = f"/repos/{repository}"
    name = quote(branch, safe="")
    rules = answer(client, f"{base}/rules/branches/{name}", {"per_page": PAGE_SIZE}, pages="list")
    ids = sorted(
        {
            r["ruleset_id"]
            for r in rules.get("body") or []
            if isinstance(r, dict) and "ruleset_id" in r
        }
    )
    return {
        "branch": branch,
        "collected_at": stamp(now),
        "protection": answer(client, f"{base}/branches/{name}/protection"),
        "rules": rules,
        "rulesets": [answer(client, f"{base}/rulesets/{ruleset_id}") for ruleset_id in ids],
    }


def collect_checks(client: ForgeClient, repository: str, request: ChangeRequest) -> Raw:
    """The raw check runs and statuses of ``request``'s head commit (and merge commit)."""
    shas = [request.head_sha]
    if request.merge_commit_sha and request.merge_commit_sha != request.head_sha:
        shas.append(request.merge_commit_sha)
    base = f"/repos/{repository}/commits"
    params = {"per_page": PAGE_SIZE}
    return {
        "number": int(request.number),
        "commits": [
            {
                "sha": sha,
                "check_runs": answer(
                    client, f"{base}/{sha}/check-runs", params, pages="check_runs"
                ),
                "status": answer(client, f"{base}/{sha}/status", params, pages="statuses"),
            }
            for sha in shas
        ],
    }


def parse_snapshot(raw: Payload) -> ProtectionSnapshot:
    branch, collected_at = raw.text("branch"), raw.time("collected_at")
    protection, rules = Answer.of(raw, "protection"), Answer.of(raw, "rules")
    for what, got in (("branch protection", protection), ("rules for the branch", rules)):
        unprotected = got.status == 404 and got.message() == NOT_PROTECTED
        if not got.ok and not unprotected:
            collection, reason = got.failure(f"GitHub {what} of {branch}")
            if protection is got and got.refused:
                reason += " (the token needs read access to the repository's administration)"
            return ProtectionSnapshot(
                "github", branch, collected_at, collection, None, (), False, reason
            )
    rulesets = {}
    for index, item in enumerate(raw.items("rulesets")):
        ruleset = Answer.of(Payload.of({"r": item}, f"rulesets[{index}]"), "r")
        if ruleset.ok:
            detail = Payload.of(ruleset.body, f"rulesets[{index}].body")
            rulesets[detail.number("id")] = detail
    sources: list[str] = []
    bypass: list[BypassActor] = []
    known = True
    classic = _classic(protection, sources, bypass)
    rule_items = Payload.of({"rules": rules.body}, "rules.body").objs("rules") if rules.ok else []
    ruled = _rulesets(rule_items, rulesets, sources, bypass)
    for ruleset_id in sorted({r.number("ruleset_id") for r in rule_items}):
        if ruleset_id not in rulesets or "bypass_actors" not in rulesets[ruleset_id].data:
            known = False
    settings = ProtectionSettings(
        protected=classic.protected or ruled.protected,
        requires_request=_any(classic.requires_request, ruled.requires_request),
        required_approvals=_most(classic.required_approvals, ruled.required_approvals),
        blocks_force_push=_any(classic.blocks_force_push, ruled.blocks_force_push),
        blocks_deletion=_any(classic.blocks_deletion, ruled.blocks_deletion),
        applies_to_admins=_admins(classic, ruled, known),
        required_checks=tuple(sorted(set(classic.required_checks) | set(ruled.required_checks))),
        sources=tuple(sources),
        extras=classic.extras,
    )
    reason = "" if known else "who may bypass a ruleset is not shown to this token"
    return ProtectionSnapshot(
        "github", branch, collected_at, Collection.COLLECTED, settings,
        tuple(bypass), known, reason,
    )  # fmt: skip


def _classic(got: Answer, sources: list[str], bypass: list[BypassActor]) -> ProtectionSettings:
    if not got.ok:
        return ProtectionSettings(False, None, None, None, None, None)
    body = Payload.of(got.body, "protection.body")
    sources.append("classic protection")
    reviews = body.opt_obj("required_pull_request_reviews")
    checks = body.opt_obj("required_status_checks")
    admins = _enabled(body, "enforce_admins")
    if admins is False:
        bypass.append(
            BypassActor(
                "repository administrators", "RepositoryRole", "admin", "classic protection"
            )
        )
    if reviews is not None:
        allowances = reviews.opt_obj("bypass_pull_request_allowances")
        for key, kind, field in (
            ("users", "User", "login"),
            ("teams", "Team", "slug"),
            ("apps", "Integration", "slug"),
        ):
            for who in allowances.objs(key) if allowances and key in allowances.data else []:
                bypass.append(
                    BypassActor(who.text(field), kind, "pull_request", "classic protection")
                )
    names: tuple[str, ...] = ()
    if checks is not None:
        names = checks.texts("contexts")
    extras = []
    for key in (
        "required_linear_history",
        "required_signatures",
        "lock_branch",
        "required_conversation_resolution",
    ):
        value = _enabled(body, key)
        if value is not None:
            extras.append((key, "true" if value else "false"))
    if reviews is not None:
        for key in (
            "dismiss_stale_reviews",
            "require_code_owner_reviews",
            "require_last_push_approval",
        ):
            if isinstance(reviews.data.get(key), bool):
                extras.append((key, "true" if reviews.data[key] else "false"))
    force, delete = _enabled(body, "allow_force_pushes"), _enabled(body, "allow_deletions")
    return ProtectionSettings(
        protected=True,
        requires_request=reviews is not None,
        required_approvals=reviews.opt_number("required_approving_review_count") if reviews else 0,
        blocks_force_push=None if force is None else not force,
        blocks_deletion=None if delete is None else not delete,
        applies_to_admins=admins,
        required_checks=names,
        extras=tuple(extras),
    )


def _rulesets(
    rules: list[Payload],
    rulesets: dict[int, Payload],
    sources: list[str],
    bypass: list[BypassActor],
) -> ProtectionSettings:
    if not rules:
        return ProtectionSettings(False, None, None, None, None, None)
    kinds = {r.text("type") for r in rules}
    approvals = [
        (r.opt_obj("parameters") or Payload({}, "")).opt_number("required_approving_review_count")
        or 0
        for r in rules
        if r.text("type") == "pull_request"
    ]
    checks = [
        check.text("context")
        for r in rules
        if r.text("type") == "required_status_checks"
        for check in (r.opt_obj("parameters") or Payload({}, "")).objs("required_status_checks")
    ]
    admin_bypass: bool | None = False
    for ruleset_id in sorted({r.number("ruleset_id") for r in rules}):
        detail = rulesets.get(ruleset_id)
        if detail is None:
            sources.append(f"ruleset #{ruleset_id}")
            admin_bypass = None if admin_bypass is False else admin_bypass
            continue
        label = f"ruleset {detail.text('name')!r} (#{ruleset_id}, {detail.text('enforcement')})"
        sources.append(label)
        if "bypass_actors" not in detail.data or detail.data["bypass_actors"] is None:
            admin_bypass = None if admin_bypass is False else admin_bypass
            continue
        for actor in detail.objs("bypass_actors"):
            kind = actor.text("actor_type")
            actor_id = actor.opt_number("actor_id")
            mode = actor.opt_text("bypass_mode") or "always"
            who = kind if actor_id is None or kind == "OrganizationAdmin" else f"{kind} #{actor_id}"
            if kind == "RepositoryRole" and actor_id == ADMIN_ROLE:
                who = "RepositoryRole #5 (admin)"
            bypass.append(BypassActor(who, kind, mode, label))
            if mode == "always" and (
                kind == "OrganizationAdmin" or (kind == "RepositoryRole" and actor_id == ADMIN_ROLE)
            ):
                admin_bypass = True
    return ProtectionSettings(
        protected=True,
        requires_request=True if "pull_request" in kinds else None,
        required_approvals=max(approvals) if approvals else None,
        blocks_force_push=True if "non_fast_forward" in kinds else None,
        blocks_deletion=True if "deletion" in kinds else None,
        applies_to_admins=None if admin_bypass is None else not admin_bypass,
        required_checks=tuple(checks),
    )


def _enabled(body: Payload, key: str) -> bool | None:
    item = body.opt_obj(key)
    if item is None:
        return None
    value = item.data.get("enabled")
    return value if isinstance(value, bool) else None


def _any(classic: bool | None, ruled: bool | None) -> bool | None:
    """A safeguard either layer enforces is in force; unknown only when neither says."""
    if classic or ruled:
        return True
    if classic is None and ruled is None:
        return None
    return False


def _most(classic: int | None, ruled: int | None) -> int | None:
    values = [v for v in (classic, ruled) if v is not None]
    return max(values) if values else None


def _admins(classic: ProtectionSettings, ruled: ProtectionSettings, known: bool) -> bool | None:
    """Admins are held when a protection that binds them is in force."""
    if classic.applies_to_admins or ruled.applies_to_admins:
        return True
    if ruled.protected and ruled.applies_to_admins is None:
        return None
    if not classic.protected and not ruled.protected:
        return None
    return False


_CONCLUSIONS = {c.value: c for c in Conclusion}
_STATUS_STATES = {
    "success": Conclusion.SUCCESS,
    "failure": Conclusion.FAILURE,
    "error": Conclusion.ERROR,
    "pending": Conclusion.PENDING,
}


def parse_checks(raw: Payload) -> RequestChecks:
    number = raw.number("number")
    runs: list[CheckRun] = []
    for index, commit in enumerate(raw.objs("commits")):
        sha = commit.text("sha")
        after = index > 0  # the first is the head commit, a second the merge commit
        for key, what in (("check_runs", "check runs"), ("status", "commit statuses")):
            got = Answer.of(commit, key)
            if not got.ok:
                collection, reason = got.failure(f"GitHub {what} of {sha[:12]}")
                return RequestChecks(number, collection, (), reason)
            body = Payload.of(got.body, commit.key(f"{key}.body"))
            if key == "check_runs":
                runs += [_check_run(item, sha, after) for item in body.objs("check_runs")]
            else:
                runs += [_status(item, sha, after) for item in body.objs("statuses")]
    return RequestChecks(number, Collection.COLLECTED, tuple(runs))


def _check_run(item: Payload, sha: str, after: bool) -> CheckRun:
    app = item.opt_obj("app")
    conclusion = item.opt_text("conclusion")
    if item.text("status") != "completed" or conclusion is None:
        verdict = Conclusion.PENDING
    else:
        verdict = _CONCLUSIONS.get(conclusion, Conclusion.FAILURE)
    return CheckRun(
        name=item.text("name"),
        kind=CheckKind.CHECK_RUN,
        app=(app.opt_text("slug") or app.opt_text("name") or "") if app else "",
        commit=item.opt_text("head_sha") or sha,
        conclusion=verdict,
        started_at=item.opt_time("started_at"),
        completed_at=item.opt_time("completed_at") if verdict is not Conclusion.PENDING else None,
        url=item.opt_text("html_url") or "",
        on_merge_commit=after,
    )


def _status(item: Payload, sha: str, after: bool) -> CheckRun:
    state = _STATUS_STATES.get(item.text("state"), Conclusion.FAILURE)
    creator = item.opt_obj("creator")
    return CheckRun(
        name=item.text("context"),
        kind=CheckKind.STATUS,
        app=creator.opt_text("login") or "" if creator else "",
        commit=sha,
        conclusion=state,
        started_at=item.opt_time("created_at"),
        completed_at=None if state is Conclusion.PENDING else item.opt_time("updated_at"),
        url=item.opt_text("target_url") or "",
        on_merge_commit=after,
    )
