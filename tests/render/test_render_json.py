from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date
from pathlib import Path

import pytest
from reportfactory import build_report

from auditor.errors import RenderError
from auditor.evidence.report import REPORT_SCHEMA_VERSION, Report
from auditor.model import Finding
from auditor.render.csv import tables
from auditor.render.json import encode, evidence_bytes, load_evidence


def test_round_trip(tmp_path: Path) -> None:
    report = build_report(changes=80)
    path = tmp_path / "evidence.json"
    path.write_bytes(evidence_bytes(report))
    assert load_evidence(path) == report
    document = json.loads(path.read_bytes())
    assert document["schema_version"] == REPORT_SCHEMA_VERSION
    assert document["changes"][0]["change_id"] == report.changes[0].change_id
    assert document["controls"][0]["status"] == report.controls[0].status.value
    assert document["generated_at"] == "2026-04-01T09:30:00+00:00"


def test_output_is_stable() -> None:
    assert evidence_bytes(build_report(changes=30)) == evidence_bytes(build_report(changes=30))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "cannot read evidence"),
        ('{"schema_version": 999}', "schema_version 999 is not supported"),
        ("[]", "schema_version None"),
        ('{"schema_version": 1}', "missing key 'organisation'"),
    ],
)
def test_bad_evidence_is_a_render_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "evidence.json"
    path.write_text(text)
    with pytest.raises(RenderError, match=message):
        load_evidence(path)


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    document = json.loads(evidence_bytes(build_report(changes=3)))
    document["changes"][1]["change"]["files"] = "oops"
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document))
    with pytest.raises(RenderError, match=r"changes\[1\]\.change\.files: expected a list"):
        load_evidence(path)


def test_streamed_document_is_json_dumps_of_the_encoded_report() -> None:
    report = build_report(changes=12)
    expected = json.dumps(encode(report), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert evidence_bytes(report) == (expected + "\n").encode("utf-8")


def test_analysis_handles_and_messages_round_trip_codeowners_left_out(tmp_path: Path) -> None:
    from auditor.infra.codeowners import CodeOwners
    from auditor.infra.model import (
        AttributeChange,
        Category,
        FileAnalysis,
        FileKind,
        Operation,
        ResourceChange,
        ResourceKind,
    )

    report = build_report(changes=4)
    analysis = FileAnalysis(
        path="network/vpc.tf",
        old_path=None,
        kind=FileKind.TERRAFORM,
        categories=frozenset({Category.NETWORK}),
        changes=(
            ResourceChange(
                address="aws_vpc.main",
                kind=next(iter(ResourceKind)),
                operation=next(iter(Operation)),
                changed_attributes=(AttributeChange("cidr_block", "10.0.0.0/16", "10.1.0.0/16"),),
            ),
        ),
    )
    richer = dataclasses.replace(
        report.changes[0],
        infra_files=(analysis,),
        handles=(("p0", frozenset({"@alice", "alice@acme.example"})),),
        request_messages=(("a" * 40, "first draft"),),
    )
    report = dataclasses.replace(report, changes=(richer, *report.changes[1:]))
    path = tmp_path / "evidence.json"
    path.write_bytes(evidence_bytes(report))
    assert load_evidence(path) == report
    owned = dataclasses.replace(richer, codeowners=CodeOwners.parse("* @acme/platform\n"))
    path.write_bytes(evidence_bytes(dataclasses.replace(report, changes=(owned,))))
    assert "codeowners" not in json.loads(path.read_bytes())["changes"][0]
    assert load_evidence(path).changes == (richer,)


def _reference_bytes(report: Report) -> bytes:
    """The document as :func:`encode` spells it, through the pure-Python path."""
    text = json.dumps(encode(report), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def test_odd_parameters_keep_the_bytes_and_findings_leave_references_to_controls() -> None:
    report = build_report(changes=20)
    # Parameters JSON has no spelling of: number keys (sorted as text), sets, dates, nesting.
    odd = {10: "ten", 9: "nine", "when": date(2026, 1, 2), "set": frozenset({"b", "a"})}
    first = report.controls[0]
    control = dataclasses.replace(first.control, parameters={**first.control.parameters, **odd})
    controls = (dataclasses.replace(first, control=control), *report.controls[1:])
    changed = dataclasses.replace(report, controls=controls)
    assert evidence_bytes(changed) == _reference_bytes(changed)
    document = json.loads(evidence_bytes(changed))
    parameters = document["controls"][0]["control"]["parameters"]
    assert parameters["10"] == "ten" and parameters["set"] == ["a", "b"]
    assert parameters["when"] == "2026-01-02"
    assert document["schema_version"] == REPORT_SCHEMA_VERSION == 5
    assert all("framework_refs" not in f for f in document["findings"])
    assert document["controls"][0]["control"]["frameworks"]


def test_findings_read_back_with_the_references_of_the_report_frameworks(
    tmp_path: Path,
) -> None:
    report = build_report(changes=20)
    only = ("soc2",)
    framed = dataclasses.replace(
        report,
        frameworks=only,
        findings=tuple(
            dataclasses.replace(
                f, framework_refs=tuple(r for r in f.framework_refs if r.framework in only)
            )
            for f in report.findings
        ),
    )
    assert any(f.framework_refs for f in framed.findings)
    path = tmp_path / "evidence.json"
    path.write_bytes(evidence_bytes(framed))
    assert load_evidence(path) == framed


def test_a_schema_1_document_with_references_in_every_finding_is_read(tmp_path: Path) -> None:
    report = build_report(changes=10)
    document = json.loads(evidence_bytes(report))
    document["schema_version"] = 1
    refs = {r["control"]["id"]: r["control"]["frameworks"] for r in document["controls"]}
    for finding in document["findings"]:
        finding["framework_refs"] = refs[finding["control_id"]]
    for item in document["sample"]:
        item["index"] = item.pop("position") - 1
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    unranked = tuple(dataclasses.replace(item, position=0) for item in report.sample)
    assert load_evidence(path) == dataclasses.replace(report, sample=unranked)


def test_a_schema_2_sample_is_kept_as_drawn_without_positions(tmp_path: Path) -> None:
    report = build_report(changes=20, sample=3)
    document = json.loads(evidence_bytes(report))
    document["schema_version"] = 2
    for item in document["sample"]:
        item["index"] = item.pop("position") - 1  # as version 2 spelled it
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = load_evidence(path)
    assert [i.change_id for i in loaded.sample] == [i.change_id for i in report.sample]
    assert {i.position for i in loaded.sample} == {0}, "its positions were of another draw"
    assert "csv/populations.csv" not in tables(loaded)
    sample = tables(loaded)["csv/sample.csv"].decode()
    assert {r["position"] for r in csv.DictReader(io.StringIO(sample))} == {""}


def test_loaded_references_are_one_object_per_value(tmp_path: Path) -> None:
    report = build_report(changes=30)
    path = tmp_path / "evidence.json"
    path.write_bytes(evidence_bytes(report))
    loaded = load_evidence(path)
    assert loaded == report
    by_control: dict[str, list[Finding]] = {}
    for finding in loaded.findings:
        by_control.setdefault(finding.control_id, []).append(finding)
    for findings in by_control.values():
        first = findings[0].framework_refs
        assert first
        assert all(f.framework_refs[0] is first[0] for f in findings)
    assert evidence_bytes(loaded) == path.read_bytes()
