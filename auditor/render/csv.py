"""The population CSVs: changes, commits, findings, controls and the sample."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from auditor.model import CustodyLink
from auditor.render.interface import Format, HeaderProfile, RenderContext, Renderer
from auditor.report import Report
from auditor.columns import (
    CHANGES_COLUMNS,
    COMMIT_COLUMNS,
    CONTROL_COLUMNS,
    FINDING_COLUMNS,
    SAMPLE_COLUMNS,
    title_header,
)
from auditor.rows import commit_row, facts_row
from auditor.tabular import iso_utc, to_text, write_csv



def changes_rows(report: Report) -> Iterator[dict[str, Any]]:
    for facts in report.changes:
        yield facts_row(facts)


def commits_rows(report: Report) -> Iterator[dict[str, Any]]:
    for facts in report.changes:
        change = facts.change
        for commit in facts.commits or (change.commit,):
            yield commit_row(facts.repo, change.branch, commit, CustodyLink(commit.sha, change.sha))


def findings_rows(report: Report) -> Iterator[dict[str, Any]]:
    by_id = {f.change_id: f for f in report.changes}
    titles = {c.control.id: c.control.title for c in report.controls}
    # A control's references, spelled once: found by the identity of the reference records
    # (shared by a control's findings), each entry keeping its tuple so the ids stay theirs.
    refs: dict[tuple[int, ...], tuple[tuple[Any, ...], str]] = {}
    landed: dict[str, tuple[str, str]] = {}  # change id → (landed_at, request URL), once
    for finding in report.findings:
        key = tuple(map(id, finding.framework_refs))
        known = refs.get(key)
        if known is None:
            spelled = ";".join(str(r) for r in finding.framework_refs)
            known = refs[key] = (finding.framework_refs, spelled)
        change = landed.get(finding.change_id)
        if change is None:
            facts = by_id.get(finding.change_id)
            change = landed[finding.change_id] = (
                (iso_utc(facts.change.landed_at), facts.request_url) if facts else ("", "")
            )
        yield {
            "control_id": finding.control_id,
            "framework_refs": known[1],  # joined as csv_cell joins a list
            "repo": finding.repo,
            "change_id": finding.change_id,
            "commit": finding.commit,
            "change_request": finding.change_request,
            "status": finding.status.value,
            "reason": finding.reason,
            "waiver_id": finding.waiver_id,
            "severity": finding.severity.value,
            "landed_at": change[0],
            "change_request_url": change[1],
            "control_title": titles.get(finding.control_id, ""),
        }


def controls_rows(report: Report) -> Iterator[dict[str, Any]]:
    for result in report.controls:
        control = result.control
        yield {
            "control_id": control.id,
            "title": control.title,
            "framework_refs": [str(r) for r in control.refs(report.frameworks)],
            "population": result.population,
            "passed": result.passed,
            "failed": result.failed,
            "unknown": result.unknown,
            "not_applicable": result.not_applicable,
            "waived": result.waived,
            "status": result.status.value,
            "severity": control.severity.value,
            "check": control.check,
        }


def sample_rows(report: Report) -> Iterator[dict[str, Any]]:
    by_id = {f.change_id: f for f in report.changes}
    results = {(f.control_id, f.change_id): f for f in report.findings}
    for item in report.sample:
        facts = by_id.get(item.change_id)
        finding = results.get((item.control_id, item.change_id))
        yield {
            "control_id": item.control_id,
            "index": item.index,
            "change_id": item.change_id,
            "repo": facts.repo if facts else "",
            "commit": facts.change.sha if facts else "",
            "landed_at": iso_utc(facts.change.landed_at) if facts else "",
            "subject": facts.change.commit.subject if facts else "",
            "change_request": facts.request_number if facts else None,
            "change_request_url": facts.request_url if facts else "",
            "status": finding.status.value if finding else "",
            "reason": finding.reason if finding else "",
            "waiver_id": finding.waiver_id if finding else "",
        }


def _csv_bytes(
    columns: Sequence[str], rows: Iterable[Mapping[str, Any]], profile: HeaderProfile
) -> bytes:
    if profile is HeaderProfile.SNAKE:
        return to_text(write_csv, columns, rows).encode("utf-8")
    names = {column: title_header(column) for column in columns}
    titled = ({names[c]: row.get(c) for c in columns} for row in rows)
    return to_text(write_csv, list(names.values()), titled).encode("utf-8")


def table_names(report: Report) -> tuple[str, ...]:
    """The pack-relative paths of :func:`tables`, without making them."""
    names = ("csv/changes.csv", "csv/commits.csv", "csv/findings.csv", "csv/controls.csv")
    return (*names, "csv/sample.csv") if report.sample else names


def tables(report: Report, profile: HeaderProfile = HeaderProfile.SNAKE) -> dict[str, bytes]:
    """Every CSV of the pack: pack-relative path → bytes (``sample.csv`` only with a sample)."""
    documents = {
        "csv/changes.csv": _csv_bytes(CHANGES_COLUMNS, changes_rows(report), profile),
        "csv/commits.csv": _csv_bytes(COMMIT_COLUMNS, commits_rows(report), profile),
        "csv/findings.csv": _csv_bytes(FINDING_COLUMNS, findings_rows(report), profile),
        "csv/controls.csv": _csv_bytes(CONTROL_COLUMNS, controls_rows(report), profile),
    }
    if report.sample:
        documents["csv/sample.csv"] = _csv_bytes(SAMPLE_COLUMNS, sample_rows(report), profile)
    return documents


class CsvRenderer(Renderer):
    format = Format.CSV

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        for name, data in context.tables.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
