"""The column contract: every CSV auditor writes has unique headers, the columns of
:mod:`auditor.evidence.columns`, in either header profile, and the README lists the same columns."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from reportfactory import build_report

from auditor.evidence.columns import TABLES, title_header
from auditor.evidence.report import Report
from auditor.render.csv import tables
from auditor.render.interface import HeaderProfile

README = Path(__file__).resolve().parents[2] / "README.md"
# A row of the README's table of CSV layouts: | `csv/changes.csv` … | `repo, change_id, …` |
_README_ROW = re.compile(
    r"^\| `(?:csv/)?(?P<name>[a-z_]+)(?:\.csv)?`[^|]*\| `(?P<columns>[^`]+,[^`]+)` \|"
)


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(changes=60)


def _header(data: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_has_unique_headers_in_both_profiles(name: str) -> None:
    columns = TABLES[name]
    titles = [title_header(c) for c in columns]
    assert len(set(columns)) == len(columns), f"{name}: a column is repeated"
    assert len(set(titles)) == len(titles) == len(columns), f"{name}: titles collide"


@pytest.mark.parametrize("profile", list(HeaderProfile))
def test_every_csv_of_the_pack_has_the_documented_columns(
    report: Report, profile: HeaderProfile
) -> None:
    documents = tables(report, profile)
    assert documents, "the pack writes CSV files"
    for path, data in documents.items():
        name = path.removeprefix("csv/").removesuffix(".csv")
        header = _header(data)
        expected = list(TABLES[name])
        if profile is HeaderProfile.TITLE:
            expected = [title_header(c) for c in expected]
        assert header == expected, path
        assert len(set(header)) == len(header), f"{path}: repeated header"


def _readme_tables() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = _README_ROW.match(line)
        if match:
            found[match["name"]] = tuple(c.strip() for c in match["columns"].split(","))
    return found


def test_the_readme_lists_the_columns_of_every_table() -> None:
    assert _readme_tables() == TABLES
