"""``--format xlsx``: the auditor's workbook, read back with openpyxl."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.escape import unescape
from reportfactory import CONTROL_CHAR_PATH, FORMULA_SUBJECT, GENERATED_AT, RLO_PATH, build_report

from auditor.evidence.columns import CHANGE_COLUMNS, CONTROL_COLUMNS, SAMPLE_COLUMNS
from auditor.model import Status
from auditor.render import Format, HeaderProfile, RenderOptions, verify_pack, write_pack
from auditor.render.xlsx import CELL_LIMIT

SHEETS = ["Summary", "Changes", "Exceptions", "Sample", "Waivers"]


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("xlsx")
    options = RenderOptions(formats=(Format.CSV, Format.XLSX))
    first = write_pack(build_report(changes=30), root / "one", options).path
    second = write_pack(build_report(changes=30), root / "two", options).path
    return first, second


def _rows(sheet: object) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_the_workbook_is_in_the_pack_and_byte_identical_for_the_same_report(
    packs: tuple[Path, Path],
) -> None:
    first, second = packs
    data = (first / "workbook.xlsx").read_bytes()
    assert data[:2] == b"PK" and data == (second / "workbook.xlsx").read_bytes()
    assert "workbook.xlsx" in (first / "MANIFEST.sha256").read_text()
    assert verify_pack(first) == []
    book = load_workbook(first / "workbook.xlsx")
    assert book.sheetnames == SHEETS
    assert book.properties.created == GENERATED_AT.replace(tzinfo=None)
    assert book.properties.creator == "auditor"


def test_each_sheet_has_its_columns_a_frozen_filtered_header_and_widths(
    packs: tuple[Path, Path],
) -> None:
    book = load_workbook(packs[0] / "workbook.xlsx")
    report = build_report(changes=30)
    expected = {
        "Summary": list(CONTROL_COLUMNS),
        "Changes": list(CHANGE_COLUMNS),
        "Sample": [*SAMPLE_COLUMNS, "tested_by", "tested_on", "result", "notes"],
        "Waivers": ["waiver_id", "control_id", "owner", "ticket", "reason", "approved_by",
                    "expires", "change", "change_request", "path"],
    }  # fmt: skip
    for name in SHEETS:
        sheet = book[name]
        rows = _rows(sheet)
        if name in expected:
            assert rows[0] == expected[name], name
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:"), name
        assert sheet.column_dimensions["A"].width >= len(str(rows[0][0])), name
    assert len(_rows(book["Changes"])) == 1 + len(report.changes)
    summary = _rows(book["Summary"])
    by_id = {row[0]: dict(zip(summary[0], row, strict=True)) for row in summary[1:]}
    for result in report.controls:
        row = by_id[result.control.id]
        assert (row["population"], row["passed"], row["failed"], row["unknown"]) == (
            result.population, result.passed, result.failed, result.unknown,
        )  # fmt: skip
        assert (row["not_applicable"], row["waived"], row["status"]) == (
            result.not_applicable, result.waived, result.status.value,
        )  # fmt: skip
    exceptions = _rows(book["Exceptions"])
    statuses = [row[exceptions[0].index("status")] for row in exceptions[1:]]
    wanted = sum(
        1 for f in report.findings if f.status in (Status.FAIL, Status.UNKNOWN, Status.WAIVED)
    )
    assert len(statuses) == wanted > 0
    order = {"fail": 0, "unknown": 1, "waived": 2}
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses)  # failures first
    sample = _rows(book["Sample"])
    assert len(sample) == 1 + len(report.sample) > 1
    assert all(row[-4:] == [None, None, None, None] for row in sample[1:])  # for the auditor
    waivers = _rows(book["Waivers"])
    assert len(waivers) == 1 + len(report.waivers) > 1


def test_dates_are_dates_numbers_numbers_and_text_never_a_formula(
    packs: tuple[Path, Path],
) -> None:
    book = load_workbook(packs[0] / "workbook.xlsx")
    changes = book["Changes"]
    header = [c.value for c in changes[1]]
    landed = changes.cell(row=2, column=header.index("landed_at") + 1)
    assert isinstance(landed.value, datetime) and landed.is_date
    assert landed.number_format == "yyyy-mm-dd hh:mm:ss"
    report = build_report(changes=30)
    first = report.changes[0].change
    assert landed.value == first.landed_at.astimezone(UTC).replace(tzinfo=None)
    lines = changes.cell(row=2, column=header.index("lines_added") + 1)
    assert lines.data_type == "n" and lines.value == first.lines_added
    expires = book["Waivers"].cell(row=2, column=7)
    assert isinstance(expires.value, datetime)
    # The hostile subject is there, as text: no formula, no prefix, the same characters.
    subjects = [
        c for c in changes.iter_rows(min_row=2, values_only=False)
        for c in [c[header.index("subject")]] if c.value == FORMULA_SUBJECT
    ]  # fmt: skip
    assert subjects and all(c.data_type == "s" for c in subjects)
    # Control characters and right-to-left overrides come back as they were (a control character
    # is stored as OOXML's _xHHHH_ escape, as Excel reads and writes it).
    column = changes[get_column_letter(header.index("paths") + 1)][1:]
    paths = {unescape(c.value) for c in column if c.value}
    assert any(RLO_PATH in p for p in paths) and any(CONTROL_CHAR_PATH in p for p in paths)
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def test_title_headers_and_a_text_too_long_for_a_cell(tmp_path: Path) -> None:
    report = build_report(changes=5)
    facts = report.changes[0]
    long_subject = "deploy " + "x" * (CELL_LIMIT + 500)
    commit = dataclasses.replace(facts.change.commit, subject=long_subject)
    changed = dataclasses.replace(facts, change=dataclasses.replace(facts.change, commit=commit))
    report = dataclasses.replace(report, changes=(changed, *report.changes[1:]))
    options = RenderOptions(formats=(Format.XLSX,), header_profile=HeaderProfile.TITLE)
    pack = write_pack(report, tmp_path / "pack", options).path
    book = load_workbook(pack / "workbook.xlsx")
    header = [c.value for c in book["Changes"][1]]
    assert header[:3] == ["Repo", "Change ID", "Commit"]
    cell = book["Changes"].cell(row=2, column=header.index("Subject") + 1).value
    assert isinstance(cell, str) and len(cell) == CELL_LIMIT
    assert cell.startswith("deploy xxx") and cell.endswith(
        f"of {len(long_subject)} characters: the CSVs and evidence.json hold the full text]"
    )


def test_report_and_run_write_the_workbook_byte_identical_from_a_repository(
    tmp_path: Path,
) -> None:
    from gitrepo import GitRepo

    from auditor.cli import run

    repo = GitRepo(tmp_path / "infra")
    for day in range(3):
        repo.commit(f"=HYPERLINK(\"http://evil\") {day}", {f"envs/prod/{day}.tf": f"{day}\n"},
                    when=1_782_864_000 + day * 86_400)  # fmt: skip
    packs = []
    for name in ("one", "two"):
        out = tmp_path / name
        code = run(
            ["report", str(repo.path), "--store", str(tmp_path / "store"), "--out", str(out),
             "--format", "xlsx", "--as-of", "2026-10-01T00:00:00Z", "-q"]
        )  # fmt: skip
        assert code in (0, 1)
        packs.append(out)
    assert sorted(p.name for p in packs[0].iterdir()) == ["MANIFEST.sha256", "workbook.xlsx"]
    assert (packs[0] / "workbook.xlsx").read_bytes() == (packs[1] / "workbook.xlsx").read_bytes()
    book = load_workbook(packs[0] / "workbook.xlsx")
    header = [c.value for c in book["Changes"][1]]
    subjects = [row[header.index("subject")] for row in book["Changes"].iter_rows(min_row=2)]
    assert sorted(c.value for c in subjects) == [f'=HYPERLINK("http://evil") {d}' for d in range(3)]
    assert all(c.data_type == "s" for c in subjects)
    # auditor run: formats = ["xlsx"] in the config.
    config = tmp_path / "auditor.toml"
    config.write_text(
        '[audit]\nperiod = "last-quarter"\nformats = ["xlsx"]\n'
        f'[[repository]]\npath = "{repo.path}"\n'
    )
    assert run(["run", "--config", str(config), "--as-of", "2026-10-01T02:00:00Z", "-q"]) in (0, 1)
    (written,) = (tmp_path / "audit-packs").iterdir()
    assert load_workbook(written / "workbook.xlsx").sheetnames == SHEETS
