from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from test_checks import SHA, T0, approval, commit, facts, rewrite

from auditor.evaluation.catalog import Overrides, load_catalog, parse_overrides
from auditor.evaluation.evaluate import (
    Evaluation,
    compact,
    evaluate,
    expand,
    run_controls,
    settle,
    verdict,
)
from auditor.model import (
    BranchName,
    BranchWatch,
    ChangeFacts,
    Control,
    ReviewEvidence,
    Severity,
    Status,
    Waiver,
)
from auditor.outcome import Outcome

AS_OF = T0 + timedelta(days=30)
CATALOG = load_catalog()
DIRECT = facts(landing=commit("2" * 40, when=T0 - timedelta(days=1)), request=None, approvals=())
MERGED = facts()


def control(control_id: str) -> Control:
    return next(c for c in CATALOG if c.id == control_id)


def run(
    *changes: ChangeFacts,
    ids: tuple[str, ...] = ("CHG-01", "CHG-02"),
    waivers: Sequence[Waiver] = (),
    overrides: Overrides | None = None,
) -> Evaluation:
    return evaluate(
        [control(i) for i in ids],
        {"infra": changes},
        {},
        as_of=AS_OF,
        waivers=waivers,
        overrides=overrides,
    )


def waiver(waiver_id: str, **target: Any) -> Waiver:
    expires = AS_OF + timedelta(days=1)
    return Waiver(waiver_id, "CHG-01", "ops", "SEC-1", "known", "ciso", expires, **target)


def test_findings_are_sorted_and_totalled() -> None:
    result = run(MERGED, DIRECT)
    keys = [(f.control_id, f.commit[:1], f.status) for f in result.findings]
    assert keys == [
        ("CHG-01", "2", Status.FAIL),
        ("CHG-01", "1", Status.PASS),
        ("CHG-02", "2", Status.FAIL),
        ("CHG-02", "1", Status.PASS),
    ]
    first = result.findings[0]
    assert (first.repo, first.change_id, first.change_request) == (
        "infra",
        "infra@222222222222",
        None,
    )
    assert first.severity is Severity.HIGH
    totals = {r.control.id: r for r in result.results}
    assert (totals["CHG-01"].population, totals["CHG-01"].passed, totals["CHG-01"].failed) == (
        2,
        1,
        1,
    )
    assert totals["CHG-01"].status is Status.FAIL


def test_scope_makes_changes_not_applicable() -> None:
    prod_only = replace(control("CHG-02"), scope={"paths": ("envs/prod/**",)})
    result = evaluate([prod_only], {"infra": [MERGED]}, {}, as_of=AS_OF)
    assert result.findings[0].status is Status.NOT_APPLICABLE
    assert result.results[0].population == 0
    assert result.results[0].status is Status.NOT_APPLICABLE
    other_repo = replace(control("CHG-02"), scope={"repositories": ("apps-*",)})
    assert evaluate([other_repo], {"infra": [MERGED]}, {}, as_of=AS_OF).findings[0].reason == (
        "repository infra out of scope"
    )


def test_framework_filter_keeps_mapped_controls_and_their_refs() -> None:
    result = evaluate(CATALOG, {"infra": [MERGED]}, {}, as_of=AS_OF, frameworks=["pci-dss"])
    assert "INT-01" not in {r.control.id for r in result.results}
    assert {ref.framework for f in result.findings for ref in f.framework_refs} == {"pci-dss"}


def test_waivers_waive_failures_only_and_report_unmatched_and_expired() -> None:
    unknown = replace(DIRECT, evidence=ReviewEvidence.MISSING)
    old = replace(waiver("W-old", change="2222222"), expires=T0)
    waivers = [
        waiver("W-1", change="2222222"),
        waiver("W-2", request=99),
        waiver("W-3", change=unknown.change_id),
        old,
    ]
    result = run(DIRECT, ids=("CHG-01",), waivers=waivers)
    assert result.findings[0].status is Status.WAIVED
    assert result.findings[0].waiver_id == "W-1"
    assert result.findings[0].reason.startswith("pushed directly by bob")
    assert result.results[0].waived == 1
    assert result.results[0].status is Status.PASS
    assert result.unmatched_waivers == ("W-2", "W-3")
    assert result.expired_waivers == ("W-old",)
    unknown_result = run(unknown, ids=("CHG-01",), waivers=waivers[2:3])
    assert unknown_result.findings[0].status is Status.UNKNOWN
    assert unknown_result.unmatched_waivers == ("W-3",)


def test_repository_level_control() -> None:
    events = {"infra": [rewrite()]}
    result = evaluate([control("INT-02")], {"infra": [MERGED]}, events, as_of=AS_OF)
    (finding,) = result.findings
    assert (finding.change_id, finding.commit, finding.status) == ("", "b" * 40, Status.FAIL)
    assert result.results[0].population == 1
    tip = Waiver("W-9", "INT-02", "ops", "INC-4", "restored", "ciso", AS_OF, change="bbbbbbb")
    waived = evaluate([control("INT-02")], {}, events, as_of=AS_OF, waivers=[tip])
    assert waived.findings[0].status is Status.WAIVED
    watched = {"infra": [BranchWatch(BranchName("main"), T0 - timedelta(days=1))]}
    clean = evaluate(
        [control("INT-02")], {"infra": [MERGED]}, {}, as_of=AS_OF, watched_by_repo=watched
    )
    assert clean.findings[0].status is Status.PASS
    unwatched = evaluate([control("INT-02")], {"infra": [MERGED]}, {}, as_of=AS_OF)
    assert unwatched.findings[0].status is Status.UNKNOWN


def test_overrides_apply_per_path() -> None:
    overrides = parse_overrides(
        {"CHG-02": [{"paths": ["envs/prod/**"], "parameters": {"min_approvals": 2}}]},
        CATALOG,
        source="auditor.toml",
    )
    prod = facts(paths=("envs/prod/vpc.tf",))
    result = run(MERGED, prod, ids=("CHG-02",), overrides=overrides)
    assert [f.status for f in result.findings] == [Status.PASS, Status.FAIL]
    both = replace(prod, approvals=(approval("carol"), approval("erin")))
    assert run(both, ids=("CHG-02",), overrides=overrides).findings[0].status is Status.PASS


def test_verdict() -> None:
    failed = run(DIRECT).results
    passed = run(MERGED).results
    assert verdict(passed) is Outcome.PASSED
    assert verdict(failed) is Outcome.CONTROLS_FAILED
    assert verdict(failed, {Severity.CRITICAL}) is Outcome.PASSED
    assert verdict(passed, complete=False) is Outcome.INCOMPLETE
    assert verdict(failed, complete=False) is Outcome.INCOMPLETE


def test_landing_order_is_by_time_across_offsets() -> None:
    tokyo = timezone(timedelta(hours=9))
    east = commit("3" * 40, when=datetime(2025, 3, 2, 19, 0, tzinfo=tokyo))
    early = facts(landing=east)
    late = facts(landing=commit(SHA, when=T0 + timedelta(hours=5)))
    assert [f.commit[:1] for f in run(late, early, ids=("CHG-01",)).findings] == ["3", "1"]


def test_per_repository_items_settled_together_are_the_evaluation() -> None:
    events = {"ops": [rewrite()]}
    by_repo = {"infra": [MERGED, DIRECT], "ops": [MERGED]}
    whole = evaluate(CATALOG, by_repo, events, as_of=AS_OF, frameworks=["soc2"])
    items = [
        item
        for repo in ("ops", "infra")  # any order: settling sorts
        for item in expand(
            compact(
                run_controls(
                    CATALOG,
                    repo,
                    by_repo[repo],
                    events.get(repo, ()),
                    as_of=AS_OF,
                    frameworks=["soc2"],
                )
            ),
            CATALOG,
            ["soc2"],
        )
    ]
    assert items and all(i.finding.framework_refs for i in items)
    assert settle(CATALOG, items, as_of=AS_OF, frameworks=["soc2"]) == whole
