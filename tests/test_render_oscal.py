from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError
from reportfactory import build_report
from trestle.oscal.assessment_results import AssessmentResults

from auditor.render.oscal import assessment_results, stable_uuid, token


def test_validates_against_the_oscal_model() -> None:
    report = build_report(changes=60)
    document = assessment_results(report)["assessment-results"]
    parsed = AssessmentResults.model_validate(document)
    assert len(parsed.results[0].findings or []) == len(report.controls)
    findings = document["results"][0]["findings"]
    states = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in findings}
    assert states == {
        token(r.control.id): "not-satisfied" if r.failed or r.unknown else "satisfied"
        for r in report.controls
    }


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
