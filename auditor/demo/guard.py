"""The guard data GitHub would have given for the sample repository: branch protection snapshots
taken every two weeks by the organisation's scheduled runs, and the checks of each pull request.

Two violations are planted: one snapshot, in the middle of the history, shows ``main`` allowing
force pushes (someone loosened the protection between two runs and restored it by the next;
CFG-01 fails on it), and one pull request was merged although its tfsec scan failed (CHG-12).
Every other pull request passed checkov before its merge. A ruleset lets Argo CD Image Updater
bypass the pull request rule, which is how its write-backs reach ``main`` directly.

Payloads follow ``GET /repos/{o}/{r}/branches/{b}/protection``, ``.../rules/branches/{b}``,
``.../rulesets/{id}``, ``.../commits/{sha}/check-runs`` and ``.../commits/{sha}/status``, kept as
``auditor reviews export`` keeps them (``{"status": 200, "body": ...}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from auditor.demo.history import LandedPull
from auditor.demo.plan import Kind

REPOSITORY = "acme/infra-live"
API = "https://api.github.com"
WEB = "https://github.com"
EVERY = 14 * 86400
"""How often the organisation's scheduled run collects a snapshot."""
RULESET = 4_242
UPDATER_APP = 1_031_337
"""The app id of Argo CD Image Updater's GitHub App, a bypass actor of the ruleset."""


def _stamp(when: int) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(body: Any) -> dict[str, Any]:
    return {"status": 200, "body": body}


def snapshot_times(start: int, end: int) -> list[int]:
    return list(range(start, end + 1, EVERY))


def weakened_at(start: int, end: int) -> int:
    """The collection time of the planted snapshot that allows force pushes."""
    times = snapshot_times(start, end)
    return times[len(times) // 2]


def protection(start: int, end: int) -> list[dict[str, Any]]:
    """Raw snapshots of ``main`` from ``start`` to ``end``."""
    weak = weakened_at(start, end)
    return [_snapshot(at, force_pushes=at == weak) for at in snapshot_times(start, end)]


def _snapshot(at: int, *, force_pushes: bool) -> dict[str, Any]:
    url = f"{API}/repos/{REPOSITORY}/branches/main/protection"
    classic = {
        "url": url,
        "required_status_checks": {
            "url": f"{url}/required_status_checks",
            "strict": True,
            "contexts": ["checkov"],
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": "checkov", "app_id": 15368}],
        },
        "required_pull_request_reviews": {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": True,
            "required_approving_review_count": 1,
            "require_last_push_approval": False,
        },
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": True},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": force_pushes},
        "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": True},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }
    rule = {
        "type": "pull_request",
        "ruleset_source_type": "Repository",
        "ruleset_source": REPOSITORY,
        "ruleset_id": RULESET,
        "parameters": {
            "required_approving_review_count": 1,
            "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": False,
            "require_last_push_approval": False,
            "required_review_thread_resolution": False,
        },
    }
    ruleset = {
        "id": RULESET,
        "name": "main requires a pull request",
        "target": "branch",
        "source_type": "Repository",
        "source": REPOSITORY,
        "enforcement": "active",
        "bypass_actors": [
            {"actor_id": UPDATER_APP, "actor_type": "Integration", "bypass_mode": "always"}
        ],
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [{k: v for k, v in rule.items() if not k.startswith("ruleset_")}],
        "node_id": f"RRS_{RULESET}",
        "current_user_can_bypass": "never",
        "created_at": "2024-09-20T09:00:00Z",
        "updated_at": "2024-09-20T09:00:00Z",
    }
    return {
        "branch": "main",
        "collected_at": _stamp(at),
        "protection": _ok(classic),
        "rules": _ok([rule]),
        "rulesets": [_ok(ruleset)],
    }


def failing_pull(pulls: Sequence[LandedPull]) -> int:
    """The number of the pull request merged with its tfsec scan failed: the middle one of
    the people's pull requests that no other violation is planted on."""
    candidates = [p.plan.number for p in pulls if p.plan.kind is Kind.HUMAN and not p.plan.planted]
    return candidates[len(candidates) // 2]


def checks(pulls: Sequence[LandedPull]) -> list[dict[str, Any]]:
    """The raw checks of every pull request: checkov passed before the merge, but on
    :func:`failing_pull`, where tfsec failed."""
    failing = failing_pull(pulls)
    return [_checks(pull, failed=pull.plan.number == failing) for pull in pulls]


def _checks(pull: LandedPull, *, failed: bool) -> dict[str, Any]:
    head = pull.commits[-1].sha if pull.commits else pull.base
    done = max(pull.plan.opened_at, pull.plan.merged_at - 300)
    number = pull.plan.number
    name, conclusion = ("tfsec", "failure") if failed else ("checkov", "success")
    runs = [_run(number, name, head, conclusion, done - 240, done)]
    commits = [{"sha": head, "check_runs": _ok(_runs(runs)), "status": _ok(_status(head))}]
    if pull.merge_sha != head:
        commits.append(
            {
                "sha": pull.merge_sha,
                "check_runs": _ok(_runs([])),
                "status": _ok(_status(pull.merge_sha)),
            }
        )
    return {"number": number, "commits": commits}


def _runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"total_count": len(runs), "check_runs": runs}


def _run(
    number: int, name: str, sha: str, conclusion: str, started: int, done: int
) -> dict[str, Any]:
    run_id = 20_000_000_000 + number * 10
    return {
        "id": run_id,
        "head_sha": sha,
        "node_id": f"CR_{run_id}",
        "external_id": "",
        "url": f"{API}/repos/{REPOSITORY}/check-runs/{run_id}",
        "html_url": f"{WEB}/{REPOSITORY}/runs/{run_id}",
        "details_url": f"{WEB}/{REPOSITORY}/actions/runs/{run_id}/job/{run_id + 1}",
        "status": "completed",
        "conclusion": conclusion,
        "started_at": _stamp(started),
        "completed_at": _stamp(done),
        "output": {"title": f"{name} {conclusion}", "summary": "", "annotations_count": 0},
        "name": name,
        "check_suite": {"id": run_id + 1},
        "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
        "pull_requests": [],
    }


def _status(sha: str) -> dict[str, Any]:
    """A combined status with no status posted: GitHub says ``pending`` for it."""
    return {
        "state": "pending",
        "statuses": [],
        "sha": sha,
        "total_count": 0,
        "repository": {"full_name": REPOSITORY, "name": "infra-live"},
        "commit_url": f"{API}/repos/{REPOSITORY}/commits/{sha}",
        "url": f"{API}/repos/{REPOSITORY}/commits/{sha}/status",
    }
