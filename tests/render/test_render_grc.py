"""The GRC import (CISO Assistant audits per framework, and the pack's evidence files)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest
from forgerepo import PERIOD_START, build
from gitrepo import GitRepo
from jsonschema import Draft202012Validator
from reportfactory import UNTIL, build_report

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.evaluation.frameworks import known_frameworks
from auditor.evidence.report import Report
from auditor.model import ControlResult, FrameworkRef, Status
from auditor.render import Format, RenderOptions, parse_formats, verify_pack, write_pack
from auditor.render.grc import (
    AUDIT_COLUMNS,
    CISO_FRAMEWORKS,
    EVIDENCE_COLUMNS,
    EVIDENCE_IMPORT,
    requirement_result,
)

SCHEMAS = Path(__file__).parent / "schemas"
RESULT_OF = {  # a requirement mapped by one control reads as that control's status
    Status.PASS: "compliant",
    Status.FAIL: "non_compliant",
    Status.UNKNOWN: "not_assessed",
    Status.NOT_APPLICABLE: "not_applicable",
}


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        return list(reader.fieldnames or []), list(reader)


def _pack(tmp_path: Path, report: Report, formats: str = "grc,csv,json") -> Path:
    return write_pack(report, tmp_path / "pack", RenderOptions(formats=parse_formats(formats))).path


def test_every_catalog_framework_has_its_ciso_assistant_framework() -> None:
    assert set(CISO_FRAMEWORKS) == set(known_frameworks())


@pytest.mark.parametrize(
    ("framework", "ref_id", "urn"),
    [  # as CISO Assistant's library files name them (backend/library/libraries/*.yaml)
        ("soc2", "CC1.1", "urn:intuitem:risk:req_node:soc2-2017:cc1.1"),
        ("iso27001", "A.8.9", "urn:intuitem:risk:req_node:iso27001-2022:a.8.9"),
        ("pci-dss", "1.2.2", "urn:intuitem:risk:req_node:pcidss-4_0:1.2.2"),
        ("nist-800-53", "AC-2(1)", "urn:intuitem:risk:req_node:nist-sp-800-53-rev5:ac-2(1)"),
    ],
)
def test_requirement_urns_are_the_librarys(framework: str, ref_id: str, urn: str) -> None:
    assert CISO_FRAMEWORKS[framework].requirement_urn(ref_id) == urn


def test_audit_imports_validate_and_cover_every_mapped_requirement(tmp_path: Path) -> None:
    report = build_report(changes=60)
    pack = _pack(tmp_path, report)
    validator = _validator("ciso-assistant-audit-import.schema.json")
    for key, framework in CISO_FRAMEWORKS.items():
        columns, rows = _rows(pack / framework.file)
        assert tuple(columns) == AUDIT_COLUMNS
        for row in rows:
            errors = [e.message for e in validator.iter_errors(row)]
            assert not errors, (framework.file, row["ref_id"], errors)
        expected = {
            ref.ref for r in report.controls for ref in r.control.frameworks if ref.framework == key
        }
        assert [row["ref_id"] for row in rows] == sorted(
            expected, key=lambda ref: [int(p) if p.isdigit() else p for p in _split(ref)]
        )
        assert all(row["urn"] == framework.requirement_urn(row["ref_id"]) for row in rows)


def _split(ref: str) -> list[str]:
    import re

    return [p.lower() for p in re.split(r"(\d+)", ref)]


def test_a_requirement_reads_as_the_controls_in_controls_csv(tmp_path: Path) -> None:
    report = build_report(changes=60)
    pack = _pack(tmp_path, report)
    _, controls = _rows(pack / "csv" / "controls.csv")
    status = {row["control_id"]: Status(row["status"]) for row in controls}
    for key, framework in CISO_FRAMEWORKS.items():
        _, rows = _rows(pack / framework.file)
        for row in rows:
            mapped = [
                r.control.id
                for r in report.controls
                if any(ref == FrameworkRef(key, row["ref_id"]) for ref in r.control.frameworks)
            ]
            assert row["compliance_result"] == requirement_result(
                r for r in report.controls if r.control.id in mapped
            )
            for control_id in mapped:
                assert f"{control_id} " in row["observations"]
                assert f": {status[control_id].value.replace('_', ' ')} (" in row["observations"]
            if len(mapped) == 1:
                assert row["compliance_result"] == RESULT_OF[status[mapped[0]]]


def _result(report: Report, **counts: int) -> ControlResult:
    totals = {"passed": 0, "failed": 0, "unknown": 0, "not_applicable": 0, "waived": 0} | counts
    return ControlResult(report.controls[0].control, sum(totals.values()), **totals)


@pytest.mark.parametrize(
    ("controls", "expected"),
    [
        ([{"passed": 3}, {"failed": 1, "passed": 2}], "non_compliant"),
        ([{"failed": 1}, {"unknown": 1}], "non_compliant"),
        ([{"passed": 3}, {"unknown": 1, "passed": 2}], "not_assessed"),
        ([{"passed": 3}, {"not_applicable": 2}], "compliant"),
        ([{"passed": 1, "waived": 2}], "compliant"),
        ([{"not_applicable": 2}], "not_applicable"),
    ],
    ids=["fail-wins", "fail-over-unknown", "unknown-not-compliant", "na-ignored", "waived", "na"],
)
def test_requirement_result(controls: list[dict[str, int]], expected: str) -> None:
    report = build_report(changes=5)
    assert requirement_result(_result(report, **c) for c in controls) == expected


def test_more_evidence_never_makes_a_requirement_milder() -> None:
    report = build_report(changes=5)
    order = ["non_compliant", "not_assessed", "compliant", "not_applicable"]
    kinds = [{"passed": 1}, {"failed": 1}, {"unknown": 1}, {"not_applicable": 1}]
    for first in kinds:
        for second in kinds:
            alone = requirement_result([_result(report, **first)])
            both = requirement_result([_result(report, **first), _result(report, **second)])
            if alone != "not_applicable":
                assert order.index(both) <= order.index(alone), (first, second)


def test_evidence_import_lists_the_packs_files_with_their_digests(tmp_path: Path) -> None:
    report = build_report(changes=40)
    pack = _pack(tmp_path, report, "grc,csv,json,oscal,html,pdf")
    assert verify_pack(pack) == []  # the PDF's cover still cites every file before it
    lines = (pack / "MANIFEST.sha256").read_text().splitlines()
    manifest = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    columns, rows = _rows(pack / EVIDENCE_IMPORT)
    assert tuple(columns) == EVIDENCE_COLUMNS
    validator = _validator("ciso-assistant-evidence-import.schema.json")
    for row in rows:
        assert not [e.message for e in validator.iter_errors(row)], row
        assert manifest[row["path"]] == row["sha256"]
        assert row["sha256"] in row["description"]
        assert row["effective_date"] == UNTIL.date().isoformat() == "2026-03-31"
        assert row["collected_at"] == "2026-04-01T09:30:00Z"  # --as-of, not the period's end
    listed = {row["path"] for row in rows}
    assert {"csv/findings.csv", "evidence.json", "oscal/assessment-results.json"} <= listed
    assert "index.html" in listed
    # Written before the PDF, after everything else: itself, the PDF and the manifest are not
    # in it (their digests are in MANIFEST.sha256).
    grc_files = {name for name in manifest if name.startswith("grc/")}
    assert listed == set(manifest) - grc_files - {"report.pdf"}


def test_whole_history_takes_the_as_of_day_as_effective_date(tmp_path: Path) -> None:
    report = dataclasses.replace(build_report(changes=10), since=None, until=None)
    _, rows = _rows(_pack(tmp_path, report) / EVIDENCE_IMPORT)
    assert {row["effective_date"] for row in rows} == {"2026-04-01"}


def test_only_the_frameworks_asked_for(tmp_path: Path) -> None:
    report = build_report(changes=10)
    report = dataclasses.replace(report, frameworks=("pci-dss",))
    files = sorted(p.name for p in (_pack(tmp_path, report) / "grc").iterdir())
    assert files == ["ciso-assistant-evidence.csv", "ciso-assistant-pcidss-4_0.csv"]


def test_cells_that_would_evaluate_are_neutralised(tmp_path: Path) -> None:
    report = dataclasses.replace(build_report(changes=10), organisation="=HYPERLINK(evil)")
    text = (_pack(tmp_path, report) / EVIDENCE_IMPORT).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(row["name"].startswith("'=HYPERLINK") for row in rows)


def test_two_renders_are_byte_identical(tmp_path: Path) -> None:
    options = RenderOptions(formats=(Format.GRC, Format.CSV))
    one = write_pack(build_report(changes=30), tmp_path / "one", options).path
    two = write_pack(build_report(changes=30), tmp_path / "two", options).path
    names = sorted(p.relative_to(one).as_posix() for p in (one / "grc").rglob("*"))
    assert names and all((one / n).read_bytes() == (two / n).read_bytes() for n in names)
    assert (one / "MANIFEST.sha256").read_bytes() == (two / "MANIFEST.sha256").read_bytes()


def test_the_site_links_the_imports(tmp_path: Path) -> None:
    pack = _pack(tmp_path, build_report(changes=10), "grc,html")
    index = (pack / "index.html").read_text(encoding="utf-8")
    for name in ("ciso-assistant-soc2-2017.csv", "ciso-assistant-evidence.csv"):
        assert f'href="grc/{name}"' in index
        assert (pack / "grc" / name).is_file()


def test_report_of_a_real_history_with_the_shipped_catalog(repo: GitRepo, tmp_path: Path) -> None:
    history = build(repo, "github")
    export = history.write_export(tmp_path / "reviews.json")
    out = tmp_path / "pack"
    args = [history.path, "--store", tmp_path / "store", "--since", PERIOD_START,
            "--reviews-file", export, "--as-of", "2026-04-01T00:00:00Z", "--format", "grc,csv",
            "--out", out, "-q"]  # fmt: skip
    code = run(["report", *map(str, args)])
    assert code == ExitCode.CONTROLS_FAILED  # the history plants violations
    assert verify_pack(out) == []
    _, controls = _rows(out / "csv" / "controls.csv")
    status = {row["control_id"]: row["status"] for row in controls}
    validator = _validator("ciso-assistant-audit-import.schema.json")
    seen = set()
    for framework in CISO_FRAMEWORKS.values():
        _, rows = _rows(out / framework.file)
        for row in rows:
            assert not list(validator.iter_errors(row)), row
            mapped = [c for c in status if f"{c} " in row["description"]]
            assert mapped, row
            if any(status[c] == "fail" for c in mapped):
                assert row["compliance_result"] == "non_compliant"
            elif any(status[c] == "unknown" for c in mapped):
                assert row["compliance_result"] == "not_assessed"
            seen.add(row["ref_id"])
    assert {"CC8.1", "A.8.32", "6.5.1", "CM-3", "SA-10(1)", "IA-5(7)"} <= seen
