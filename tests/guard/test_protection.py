"""Branch protection snapshots from GitHub and GitLab (served locally, shaped as documented),
kept as a timeline, and judged by CFG-01 over the period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from forge_server import (
    Episode,
    ForgeServer,
    github_bypass_actor,
    github_protection,
    github_pull_request_rule,
    github_rule,
    github_ruleset,
    gitlab_approval_rule,
    gitlab_protected_branch,
)

from auditor.evaluation.checks import CHECKS, CheckContext
from auditor.guard import Collection, GuardData, ProtectionSnapshot
from auditor.guard import github as guard_github
from auditor.guard import gitlab as guard_gitlab
from auditor.guard.collect import collect_guard
from auditor.guard.sources import parse_snapshot
from auditor.ledger.period import Period
from auditor.ledger.store import Store
from auditor.model import Status
from auditor.reviews.http import ForgeClient
from auditor.reviews.interface import Forge

REPO = "acme/infra-live"
PROJECT = "acme/platform/infra-live"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    with ForgeServer(page_size=1) as served:
        served.github[REPO] = []
        served.gitlab[PROJECT] = []
        yield served


def github(server: ForgeServer, at: datetime = T0) -> ProtectionSnapshot:
    with ForgeClient(server.url, name="GitHub", token=None) as client:
        raw = guard_github.collect_snapshot(client, REPO, "main", at)
    return parse_snapshot(Forge.GITHUB, raw)


def gitlab(server: ForgeServer, at: datetime = T0) -> ProtectionSnapshot:
    with ForgeClient(server.gitlab_url, name="GitLab", token=None) as client:
        raw = guard_gitlab.collect_snapshot(client, PROJECT, "main", at)
    return parse_snapshot(Forge.GITLAB, raw)


def cfg01(guard: GuardData, since: datetime, until: datetime, **params: Any) -> tuple[Status, str]:
    entry = CHECKS["branch-protection"]
    resolved = entry.resolve(params)
    ctx = CheckContext(until, Period(since, until), "acme/infra-live", guard=guard)
    outcome = entry.fn(resolved, ctx)  # type: ignore[call-arg]
    return outcome.status, outcome.reason


def timeline(*snapshots: ProtectionSnapshot) -> GuardData:
    return GuardData("github", snapshots, audited=("main",))


def test_classic_protection_is_read_with_its_settings(server: ForgeServer) -> None:
    server.protection[(REPO, "main")] = github_protection(approvals=2, contexts=("checkov",))
    snapshot = github(server)
    assert snapshot.collection is Collection.COLLECTED and snapshot.settings is not None
    settings = snapshot.settings
    assert settings.protected and settings.requires_request and settings.applies_to_admins
    assert settings.required_approvals == 2 and settings.required_checks == ("checkov",)
    assert settings.blocks_force_push and settings.blocks_deletion
    assert settings.sources == ("classic protection",)
    assert cfg01(timeline(snapshot), T0, T0 + DAY)[0] is Status.PASS


def test_a_branch_that_allows_force_pushes_fails_naming_the_setting_and_snapshot(
    server: ForgeServer,
) -> None:
    server.protection[(REPO, "main")] = github_protection(force_pushes=True)
    status, reason = cfg01(timeline(github(server)), T0, T0 + DAY)
    assert status is Status.FAIL
    assert reason == "main: the snapshot of 2026-01-01T00:00:00Z allows force pushes"


def test_an_unprotected_branch_is_said_so_not_a_gap(server: ForgeServer) -> None:
    snapshot = github(server)  # the server answers 404 "Branch not protected"
    assert snapshot.collection is Collection.COLLECTED
    assert snapshot.settings is not None and not snapshot.settings.protected
    status, reason = cfg01(timeline(snapshot), T0, T0 + DAY)
    assert status is Status.FAIL and "the branch is not protected" in reason


def test_a_token_without_admin_read_is_a_named_gap_never_unprotected(
    server: ForgeServer,
) -> None:
    message = "Resource not accessible by personal access token"
    server.script(r"/protection$", Episode(403, body={"message": message, "status": "403"}))
    snapshot = github(server)
    assert snapshot.collection is Collection.DENIED and snapshot.settings is None
    assert "denied access (403)" in snapshot.reason and message in snapshot.reason
    assert "administration" in snapshot.reason
    status, reason = cfg01(timeline(snapshot), T0, T0 + DAY)
    assert status is Status.UNKNOWN and "was not read" in reason and "403" in reason


def test_a_not_found_that_hides_the_repository_is_a_gap(server: ForgeServer) -> None:
    server.script(r"/protection$", Episode(404, body={"message": "Not Found"}))
    snapshot = github(server)
    assert snapshot.collection is Collection.DENIED and "(404)" in snapshot.reason


def test_rulesets_protect_the_branch_and_list_who_may_bypass(server: ForgeServer) -> None:
    rules = [
        github_rule("deletion", 42),
        github_rule("non_fast_forward", 42),
        github_pull_request_rule(42, approvals=2),
        github_rule("required_status_checks", 7, required_status_checks=[{"context": "tfsec"}],
                    strict_required_status_checks_policy=False, do_not_enforce_on_create=False),
    ]  # fmt: skip
    server.rules[(REPO, "main")] = rules
    server.rulesets[(REPO, 42)] = github_ruleset(
        42, "main protection", rules[:3],
        bypass_actors=[github_bypass_actor("Team", 9, "pull_request"),
                       github_bypass_actor("Integration", 311, "always")],
    )  # fmt: skip
    server.rulesets[(REPO, 7)] = github_ruleset(7, "scanners", rules[3:], bypass_actors=[])
    snapshot = github(server)
    settings = snapshot.settings
    assert settings is not None and settings.protected and settings.requires_request
    assert settings.required_approvals == 2 and settings.required_checks == ("tfsec",)
    assert settings.blocks_force_push and settings.blocks_deletion and settings.applies_to_admins
    assert settings.sources == (
        "ruleset 'scanners' (#7, active)", "ruleset 'main protection' (#42, active)",
    )  # fmt: skip
    assert snapshot.bypass_known
    assert {(a.actor, a.mode) for a in snapshot.bypass_actors} == {
        ("Team #9", "pull_request"), ("Integration #311", "always"),
    }  # fmt: skip
    # paginated one rule a page: every page was read
    assert len(server.requests_to(r"/rules/branches/main$")) == 4
    status, reason = cfg01(timeline(snapshot), T0, T0 + DAY)
    assert status is Status.PASS and "2 bypass actor(s) listed" in reason


def test_an_admin_bypass_means_the_rules_do_not_bind_administrators(
    server: ForgeServer,
) -> None:
    rules = [github_rule("deletion", 1), github_rule("non_fast_forward", 1),
             github_pull_request_rule(1)]  # fmt: skip
    server.rules[(REPO, "main")] = rules
    server.rulesets[(REPO, 1)] = github_ruleset(
        1, "main", rules, bypass_actors=[github_bypass_actor("RepositoryRole", 5)]
    )
    status, reason = cfg01(timeline(github(server)), T0, T0 + DAY)
    assert status is Status.FAIL and "does not apply to administrators" in reason


def test_bypass_actors_hidden_from_the_token_leave_administrators_unknown(
    server: ForgeServer,
) -> None:
    rules = [github_rule("deletion", 1), github_rule("non_fast_forward", 1),
             github_pull_request_rule(1)]  # fmt: skip
    server.rules[(REPO, "main")] = rules
    server.rulesets[(REPO, 1)] = github_ruleset(1, "main", rules, bypass_actors=None)
    snapshot = github(server)
    assert not snapshot.bypass_known and "not shown" in snapshot.reason
    status, reason = cfg01(timeline(snapshot), T0, T0 + DAY)
    assert status is Status.UNKNOWN and "whether administrators are held to it" in reason


def test_gitlab_protected_branch_where_no_one_pushes_passes(server: ForgeServer) -> None:
    server.protected_branches[PROJECT] = [gitlab_protected_branch("main")]
    server.approval_rules[PROJECT] = [gitlab_approval_rule(1, "infra", 2, branches=("main",))]
    snapshot = gitlab(server)
    settings = snapshot.settings
    assert settings is not None and settings.protected and settings.requires_request
    assert settings.required_approvals == 2 and settings.blocks_force_push
    assert ("reset_approvals_on_push", "true") in settings.extras
    assert cfg01(GuardData("gitlab", (snapshot,), audited=("main",)), T0, T0 + DAY)[0] is (
        Status.PASS
    )


def test_gitlab_maintainers_who_may_push_and_force_push_are_bypass_actors(
    server: ForgeServer,
) -> None:
    server.protected_branches[PROJECT] = [
        gitlab_protected_branch("release/*"),
        gitlab_protected_branch("ma*", push=((40, "Maintainers"),), allow_force_push=True),
    ]
    snapshot = gitlab(server)
    assert snapshot.settings is not None and snapshot.settings.sources == (
        "protected branch 'ma*'",
    )
    assert {(a.actor, a.mode) for a in snapshot.bypass_actors} == {
        ("Maintainers", "push"), ("Maintainers", "force push"),
    }  # fmt: skip
    status, reason = cfg01(GuardData("gitlab", (snapshot,), audited=("main",)), T0, T0 + DAY)
    assert status is Status.FAIL
    assert "does not require a pull/merge request" in reason and "allows force pushes" in reason
    assert "requires 0 approval(s), not 1" in reason


def test_gitlab_refusing_protected_branches_is_a_named_gap(server: ForgeServer) -> None:
    server.script(r"/protected_branches", Episode(403, body={"message": "403 Forbidden"}))
    snapshot = gitlab(server)
    assert snapshot.collection is Collection.DENIED and "Maintainer role" in snapshot.reason


def test_protection_switched_off_between_two_runs_fails_naming_that_snapshot(
    server: ForgeServer, tmp_path: Path
) -> None:
    """Each collection adds a snapshot; the store keeps the timeline."""
    store = Store.open(tmp_path / "store")
    repo_id = 1
    with ForgeClient(server.url, name="GitHub", token=None) as client:
        for day, protected in ((0, True), (10, False), (20, True)):
            if protected:
                server.protection[(REPO, "main")] = github_protection()
            else:
                server.protection.pop((REPO, "main"))
            guard = collect_guard(
                store, repo_id, Forge.GITHUB, client, REPO, "main", (), T0 + day * DAY
            )
    assert [s.collected_at for s in guard.snapshots] == [T0, T0 + 10 * DAY, T0 + 20 * DAY]
    status, reason = cfg01(guard, T0, T0 + 25 * DAY)
    assert status is Status.FAIL
    assert reason == "main: the snapshot of 2026-01-11T00:00:00Z the branch is not protected"


def test_before_the_first_snapshot_and_across_long_gaps_is_unknown_with_dates(
    server: ForgeServer,
) -> None:
    server.protection[(REPO, "main")] = github_protection()
    first, second = github(server, T0 + 5 * DAY), github(server, T0 + 60 * DAY)
    status, reason = cfg01(timeline(first, second), T0, T0 + 70 * DAY)
    assert status is Status.UNKNOWN
    assert reason == (
        "main: no snapshot shows the protection from 2026-01-01T00:00:00Z to "
        "2026-01-06T00:00:00Z; no snapshot shows the protection from 2026-02-10T00:00:00Z to "
        "2026-03-02T00:00:00Z"
    )
    # a longer allowed gap covers it; the part before the first snapshot stays unknown
    status, reason = cfg01(timeline(first, second), T0 + 5 * DAY, T0 + 70 * DAY, max_gap_days=60)
    assert status is Status.PASS, reason


def test_snapshots_after_the_period_are_not_judged(server: ForgeServer) -> None:
    server.protection[(REPO, "main")] = github_protection()
    good = github(server, T0)
    server.protection[(REPO, "main")] = github_protection(deletions=True)
    later = github(server, T0 + 30 * DAY)
    assert cfg01(timeline(good, later), T0, T0 + 20 * DAY)[0] is Status.PASS
    assert cfg01(timeline(good, later), T0, T0 + 40 * DAY)[0] is Status.FAIL


def test_without_a_forge_protection_is_unknown() -> None:
    status, reason = cfg01(GuardData(), T0, T0 + DAY)
    assert status is Status.UNKNOWN and "no forge configured" in reason
