"""The population CSVs: changes, commits, findings, controls, the sample and its populations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from auditor.evaluation.sampling import POPULATIONS_FILE, ranked
from auditor.evidence.columns import (
    BYPASS_COLUMNS,
    CHANGE_COLUMNS,
    CHECK_COLUMNS,
    COMMIT_COLUMNS,
    CONTROL_COLUMNS,
    DEPLOYMENT_COLUMNS,
    FINDING_COLUMNS,
    POPULATION_COLUMNS,
    PROTECTION_COLUMNS,
    SAMPLE_COLUMNS,
    title_header,
)
from auditor.evidence.deploys import deployment_cells, deployment_row, runs_by_change
from auditor.evidence.report import Report
from auditor.evidence.rows import commit_row, facts_row, finding_rows
from auditor.evidence.tabular import iso_utc, to_text, write_csv
from auditor.guard import SETTINGS
from auditor.model import CustodyLink
from auditor.render.interface import Format, HeaderProfile, RenderContext, Renderer

DEPLOYMENTS_FILE = "csv/deployments.csv"


def changes_rows(report: Report) -> Iterator[dict[str, Any]]:
    runs = runs_by_change(report.change_runs)
    given = set(report.deployment_repos)
    for facts in report.changes:
        row = facts_row(facts)
        if facts.repo in given:
            row.update(deployment_cells(runs.get(facts.change_id, [])))
        yield row


def deployments_rows(report: Report) -> Iterator[dict[str, Any]]:
    for item in report.deployments:
        yield deployment_row(item)


def commits_rows(report: Report) -> Iterator[dict[str, Any]]:
    for facts in report.changes:
        change = facts.change
        for commit in facts.commits or (change.commit,):
            yield commit_row(facts.repo, change.branch, commit, CustodyLink(commit.sha, change.sha))


def findings_rows(report: Report) -> Iterator[dict[str, Any]]:
    return finding_rows(report.findings, report.changes, report.controls)


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
            "position": item.position or None,  # 0: drawn by an earlier version, unknown
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


def populations_rows(report: Report) -> Iterator[dict[str, Any]]:
    """Every member of each control's population, ranked by draw key as the sample was drawn."""
    by_id = {f.change_id: f for f in report.changes}
    statuses = {(f.control_id, f.change_id): f.status for f in report.findings}
    drawn = {(item.control_id, item.change_id) for item in report.sample}
    for member in ranked(report.findings, seed=report.sample_seed, size=report.sample_size):
        facts = by_id.get(member.change_id)
        status = statuses.get((member.control_id, member.change_id))
        yield {
            "control_id": member.control_id,
            "change_id": member.change_id,
            "position": member.position,
            "draw_key": member.draw_key,
            "sampled": (member.control_id, member.change_id) in drawn,
            "status": status.value if status else "",
            "repo": facts.repo if facts else "",
            "commit": facts.change.sha if facts else "",
            "landed_at": iso_utc(facts.change.landed_at) if facts else "",
        }


def protection_rows(report: Report) -> Iterator[dict[str, Any]]:
    """One row per snapshot and setting; a snapshot the forge would not show, one row saying
    why."""
    for scope in report.repositories:
        for snapshot in scope.guard.snapshots:
            base = {
                "repo": scope.name,
                "branch": snapshot.branch,
                "collected_at": iso_utc(snapshot.collected_at),
                "collection": snapshot.collection.value,
                "reason": snapshot.reason,
            }
            settings = snapshot.settings
            if settings is None:
                yield base
                continue
            sources = list(settings.sources)
            for name in SETTINGS:
                yield {**base, "setting": name, "value": settings.value(name), "sources": sources}
            for name, value in settings.extras:
                yield {**base, "setting": name, "value": value, "sources": sources}


def bypass_rows(report: Report) -> Iterator[dict[str, Any]]:
    """Who may bypass each branch's rules, as each snapshot showed it."""
    for scope in report.repositories:
        for snapshot in scope.guard.snapshots:
            for actor in snapshot.bypass_actors:
                yield {
                    "repo": scope.name,
                    "branch": snapshot.branch,
                    "collected_at": iso_utc(snapshot.collected_at),
                    "actor": actor.actor,
                    "kind": actor.kind,
                    "mode": actor.mode,
                    "source": actor.source,
                }


def checks_rows(report: Report) -> Iterator[dict[str, Any]]:
    """One row per check of each merged request of the period; a request whose checks could
    not be read, one row saying why."""
    changes = {(f.repo, f.request_number): f.change_id for f in report.changes if f.request_linked}
    for scope in report.repositories:
        for checks in scope.guard.checks:
            base = {
                "repo": scope.name,
                "change_request": int(checks.number),
                "change_id": changes.get((scope.name, int(checks.number)), ""),
                "collection": checks.collection.value,
                "reason": checks.reason,
            }
            if not checks.runs:
                yield base
            for run in checks.runs:
                yield {
                    **base,
                    "commit": run.commit,
                    "name": run.name,
                    "kind": run.kind.value,
                    "app": run.app,
                    "conclusion": run.conclusion.value,
                    "started_at": iso_utc(run.started_at),
                    "completed_at": iso_utc(run.completed_at),
                    "on_merge_commit": run.on_merge_commit,
                    "url": run.url,
                }


def _guarded(report: Report) -> bool:
    """Whether a forge (or a reviews file) gave guard data: the pack then has its CSVs."""
    return any(scope.guard.configured for scope in report.repositories)


GUARD_TABLES = ("csv/protection.csv", "csv/bypass_actors.csv", "csv/checks.csv")


def _ranked_sample(report: Report) -> bool:
    """Whether the sample was drawn by draw key (a pack of schema 2 or earlier read back with
    ``--from-evidence`` holds a sample drawn otherwise, without positions)."""
    return bool(report.sample) and all(item.position > 0 for item in report.sample)


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
    names: tuple[str, ...] = (
        "csv/changes.csv", "csv/commits.csv", "csv/findings.csv", "csv/controls.csv"
    )  # fmt: skip
    if report.deployment_repos:
        names = (*names, DEPLOYMENTS_FILE)
    if _guarded(report):
        names += GUARD_TABLES
    if _ranked_sample(report):
        return (*names, "csv/sample.csv", POPULATIONS_FILE)
    return (*names, "csv/sample.csv") if report.sample else names


def tables(report: Report, profile: HeaderProfile = HeaderProfile.SNAKE) -> dict[str, bytes]:
    """Every CSV of the pack: pack-relative path → bytes (``sample.csv`` and ``populations.csv``
    only with a sample)."""
    documents = {
        "csv/changes.csv": _csv_bytes(CHANGE_COLUMNS, changes_rows(report), profile),
        "csv/commits.csv": _csv_bytes(COMMIT_COLUMNS, commits_rows(report), profile),
        "csv/findings.csv": _csv_bytes(FINDING_COLUMNS, findings_rows(report), profile),
        "csv/controls.csv": _csv_bytes(CONTROL_COLUMNS, controls_rows(report), profile),
    }
    if report.deployment_repos:
        rows = deployments_rows(report)
        documents[DEPLOYMENTS_FILE] = _csv_bytes(DEPLOYMENT_COLUMNS, rows, profile)
    if _guarded(report):
        documents |= {
            "csv/protection.csv": _csv_bytes(PROTECTION_COLUMNS, protection_rows(report), profile),
            "csv/bypass_actors.csv": _csv_bytes(BYPASS_COLUMNS, bypass_rows(report), profile),
            "csv/checks.csv": _csv_bytes(CHECK_COLUMNS, checks_rows(report), profile),
        }
    if report.sample:
        documents["csv/sample.csv"] = _csv_bytes(SAMPLE_COLUMNS, sample_rows(report), profile)
    if _ranked_sample(report):
        rows = populations_rows(report)
        documents[POPULATIONS_FILE] = _csv_bytes(POPULATION_COLUMNS, rows, profile)
    return documents


class CsvRenderer(Renderer):
    format = Format.CSV

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        for name, data in context.tables.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
