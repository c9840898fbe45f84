from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError
from reportfactory import build_report
from trestle.oscal.assessment_results import AssessmentResults

from auditor.model import ControlResult, Status
from auditor.render.oscal import assessment_results, objective_status, stable_uuid, token


def test_validates_against_the_oscal_model() -> None:
    report = build_report(changes=60)
    document = assessment_results(report)["assessment-results"]
    parsed = AssessmentResults.model_validate(document)
    assert len(parsed.results[0].findings or []) == len(report.controls)
    findings = document["results"][0]["findings"]
    states = {
        f["target"]["target-id"]: (f["target"]["status"]["state"], f["target"]["status"]["reason"])
        for f in findings
    }
    expected = {
        Status.PASS: ("satisfied", "pass"),
        Status.FAIL: ("not-satisfied", "fail"),
        Status.UNKNOWN: ("not-satisfied", "other"),
        Status.NOT_APPLICABLE: ("not-satisfied", "other"),
    }
    assert states == {token(r.control.id): expected[r.status] for r in report.controls}


@pytest.mark.parametrize(
    ("counts", "state", "reason", "remark"),
    [
        ({"passed": 3}, "satisfied", "pass", None),
        ({"passed": 2, "failed": 1}, "not-satisfied", "fail", None),
        ({"passed": 2, "unknown": 1}, "not-satisfied", "other", "Unknown: 1 of 3 results"),
        ({"not_applicable": 3}, "not-satisfied", "other", "Not applicable: no change"),
    ],
    ids=["pass", "fail", "unknown", "not-applicable"],
)
def test_only_a_passed_control_is_satisfied(
    counts: dict[str, int], state: str, reason: str, remark: str | None
) -> None:
    control = build_report(changes=5).controls[0].control
    totals = {"passed": 0, "failed": 0, "unknown": 0, "not_applicable": 0, "waived": 0} | counts
    population = sum(totals.values()) - totals["not_applicable"]
    status = objective_status(ControlResult(control, population, **totals))
    assert (status["state"], status["reason"]) == (state, reason)
    assert (status.get("remarks") or "").startswith(remark or "")
    assert ("remarks" in status) is (remark is not None)


def test_model_rejects_an_incomplete_document() -> None:
    document = assessment_results(build_report(changes=5))["assessment-results"]
    del document["import-ap"]
    with pytest.raises(ValidationError):
        AssessmentResults.model_validate(document)


def test_uuids_are_deterministic_and_unique() -> None:
    first = assessment_results(build_report(changes=20))
    second = assessment_results(build_report(changes=20))
    assert first == second
    root = first["assessment-results"]
    result = root["results"][0]
    ids = [root["uuid"], result["uuid"]] + [o["uuid"] for o in result["observations"]]
    ids += [f["uuid"] for f in result["findings"]]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 5 for i in ids)
    assert stable_uuid("a", "b") != stable_uuid("ab")


def test_token() -> None:
    assert token("CHG-01") == "CHG-01"
    assert token("1 bad id/x") == "_1_bad_id_x"
