from __future__ import annotations

import csv
import io

import pytest
from contract import CONTRACT_CHANGE_COLUMNS
from reportfactory import FORMULA_SUBJECT, XSS_AUTHOR, build_report

from auditor.evidence.columns import (
    CHANGE_COLUMNS,
    COMMIT_COLUMNS,
    CONTROL_COLUMNS,
    FINDING_COLUMNS,
    title_header,
)
from auditor.evidence.report import Report
from auditor.evidence.tabular import csv_cell
from auditor.model import Status
from auditor.render.csv import tables
from auditor.render.interface import HeaderProfile

CONTRACT_FINDINGS = [
    "control_id",
    "framework_refs",
    "repo",
    "change_id",
    "commit",
    "change_request",
    "status",
    "reason",
    "waiver_id",
]
CONTRACT_CONTROLS = [
    "control_id",
    "title",
    "framework_refs",
    "population",
    "passed",
    "failed",
    "unknown",
    "not_applicable",
    "waived",
    "status",
]


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(changes=120)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_contract_columns_are_present(report: Report) -> None:
    documents = tables(report)
    assert set(documents) == {
        f"csv/{n}.csv"
        for n in ("changes", "commits", "findings", "controls", "sample", "populations")
    }
    headers = {
        name: data.split(b"\r\n", 1)[0].decode().split(",") for name, data in documents.items()
    }
    assert set(CONTRACT_CHANGE_COLUMNS) <= set(headers["csv/changes.csv"])
    assert set(CONTRACT_FINDINGS) <= set(headers["csv/findings.csv"])
    assert set(CONTRACT_CONTROLS) <= set(headers["csv/controls.csv"])
    assert headers["csv/changes.csv"] == list(CHANGE_COLUMNS)
    assert headers["csv/commits.csv"] == list(COMMIT_COLUMNS)
    assert headers["csv/findings.csv"] == list(FINDING_COLUMNS)
    assert headers["csv/controls.csv"] == list(CONTROL_COLUMNS)


def test_changes_rows_carry_review_facts(report: Report) -> None:
    rows = _rows(tables(report)["csv/changes.csv"])
    assert len(rows) == len(report.changes)
    by_id = {r["change_id"]: r for r in rows}
    facts = next(f for f in report.changes if f.approvals and f.merged_by)
    row = by_id[facts.change_id]
    assert row["approvers"] == ";".join(a.reviewer.display for a in facts.approvals)
    assert row["merged_by"] == facts.merged_by.display if facts.merged_by else ""
    assert row["change_request"] == str(facts.request_number)
    assert row["change_request_url"] == facts.request_url
    assert row["categories"] == ";".join(sorted(facts.categories))
    assert row["landed_at"].endswith("Z")
    direct = next(f for f in report.changes if f.request_number is None)
    assert by_id[direct.change_id]["change_request"] == ""


def test_formulas_are_neutralised_and_markup_kept_as_text(report: Report) -> None:
    data = tables(report)
    subjects = [r["subject"] for r in _rows(data["csv/changes.csv"])]
    assert "'" + FORMULA_SUBJECT in subjects
    assert FORMULA_SUBJECT not in subjects
    assert all(not s.startswith(("=", "+", "-", "@")) for s in subjects)
    assert any(
        XSS_AUTHOR in r["approvers"] or r["author_name"] == XSS_AUTHOR
        for r in _rows(data["csv/changes.csv"])
    )


def test_findings_and_controls_agree(report: Report) -> None:
    documents = tables(report)
    findings = _rows(documents["csv/findings.csv"])
    controls = {r["control_id"]: r for r in _rows(documents["csv/controls.csv"])}
    assert len(findings) == len(report.findings)
    assert {r["status"] for r in findings} == {s.value for s in Status}
    for result in report.controls:
        row = controls[result.control.id]
        failed = sum(
            1 for f in findings if f["control_id"] == result.control.id and f["status"] == "fail"
        )
        assert int(row["failed"]) == result.failed == failed
        assert row["status"] == result.status.value
    waived = [f for f in findings if f["status"] == "waived"]
    assert waived and all(f["waiver_id"] for f in waived)


def test_commits_and_sample(report: Report) -> None:
    documents = tables(report)
    commits = _rows(documents["csv/commits.csv"])
    assert len(commits) == sum(len(f.commits) for f in report.changes)
    sample = _rows(documents["csv/sample.csv"])
    assert [r["change_id"] for r in sample] == [s.change_id for s in report.sample]
    assert all(r["status"] for r in sample)


def test_no_sample_no_sample_csv() -> None:
    documents = tables(build_report(changes=20, sample=0))
    assert "csv/sample.csv" not in documents and "csv/populations.csv" not in documents


def test_title_header_profile(report: Report) -> None:
    data = tables(report, HeaderProfile.TITLE)["csv/findings.csv"]
    header = data.split(b"\r\n", 1)[0].decode()
    assert header.startswith("Control ID,Framework Refs,Repo,Change ID,Commit,Change Request,")
    rows = _rows(data)
    assert rows[0]["Control ID"] == report.findings[0].control_id
    assert title_header("change_request_url") == "Change Request URL"


class _Spelled:
    """Any other value is written as its text, and neutralised like text."""

    def __str__(self) -> str:
        return "=x"


class _Text(str):
    pass


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("plain", "plain"),
        ("", ""),
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        (" =x", "' =x"),  # a spreadsheet that trims spaces would read a formula
        ("\n\t+1", "'\n\t+1"),
        ("\u00a0@cmd", "'\u00a0@cmd"),
        ("\u3000\u200b-1", "'\u3000\u200b-1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # fullwidth forms
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20x", "'\uff20x"),
        ("  ", "  "),
        (" x=1", " x=1"),
        (["  =a", "b"], "'  =a;b"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-3, "-3"),  # a number is a number: nothing to neutralise
        (1.5, "1.5"),
        (["=a", "b"], "'=a;b"),
        (("b", "-c"), "b;-c"),
        ([], ""),
        (_Spelled(), "'=x"),
        (_Text("-x"), "'-x"),
    ],
)
def test_csv_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


FORMULA_STARTS = "=+-@\uff1d\uff0b\uff0d\uff20"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def test_csv_cell_neutralises_exactly_the_formula_starts() -> None:
    for code in range(0x10000):
        char = chr(code)
        text = char + "tail"
        expected = "'" + text if char in FORMULA_STARTS or char in "\t\r" else text
        assert csv_cell(text) == expected
        leading = char.isspace() or char in INVISIBLE
        behind = char + " =2+2"  # the attack of a login, URL or file name, behind any character
        assert csv_cell(behind) == ("'" + behind if leading or char in FORMULA_STARTS else behind)


def test_write_csv_spells_rows_as_the_csv_module_does() -> None:
    """write_csv joins rows itself; the bytes must be those of csv.writer (minimal quoting)."""
    import random

    from auditor.evidence.tabular import write_csv

    rng = random.Random(7)
    alphabet = ["a", " ", ",", '"', "\r", "\n", "\t", "=", "é", "", "'", "\u2028", ";", "\\"]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))

    def value() -> object:
        return rng.choice([None, True, 3, 2.5, ["x", "y,z"], text()])

    for _ in range(3000):
        columns = list(dict.fromkeys(text() for _ in range(rng.choice([1, 1, 2, 3, 5]))))
        rows = [{c: value() for c in columns} for _ in range(rng.randint(0, 3))]
        expected = io.StringIO(newline="")
        writer = csv.writer(expected, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([csv_cell(row[c]) for c in columns] for row in rows)
        written = io.StringIO(newline="")
        assert write_csv(written, columns, rows) == len(rows)
        assert written.getvalue() == expected.getvalue(), (columns, rows)
