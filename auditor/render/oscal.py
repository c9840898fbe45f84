"""OSCAL 1.1 assessment results: one result, an observation and a finding per control."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from auditor.evidence.report import Report
from auditor.evidence.tabular import iso_utc
from auditor.evidence.words import counted
from auditor.model import Control, ControlResult, Finding, Status
from auditor.render.interface import EVIDENCE_FILE, OSCAL_FILE, Format, RenderContext, Renderer
from auditor.render.text import safe_url
from auditor.render.views import EXCEPTION_STATUSES, ReportView, period, population_unit

OSCAL_VERSION = "1.1.2"
_NAMESPACE = uuid.UUID("6f1c9a52-3b0e-5c1e-9a57-0d6c2f1f4a10")
_TOKEN_START = re.compile(r"^[^A-Za-z_]")
_TOKEN_REST = re.compile(r"[^A-Za-z0-9_.-]")


def stable_uuid(*parts: str) -> str:
    """A UUID (version 5) derived from stable fields, the same on every run."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def token(text: str) -> str:
    """An OSCAL token (letters, digits, ``_.-``; no leading digit) made from ``text``."""
    cleaned = _TOKEN_REST.sub("_", text)
    return f"_{cleaned}" if _TOKEN_START.match(cleaned) else cleaned


def _evidence(view: ReportView, finding: Finding) -> dict[str, str]:
    facts = view.changes.get(finding.change_id)
    scope = view.scopes.get(finding.repo)
    href = facts.request_url if facts else ""
    if not href and scope and scope.commit_url:
        href = scope.commit_url.replace("{sha}", finding.commit)
    subject = finding.change_id or (
        f"{finding.repo}@{finding.commit[:12]}" if finding.commit else finding.repo
    )
    evidence = {"description": f"{subject}: {finding.status.value}: {finding.reason}"}
    if safe_url(href):
        evidence["href"] = safe_url(href)
    return evidence


def _observations(report: Report, view: ReportView, key: str) -> list[dict[str, Any]]:
    collected = iso_utc(report.generated_at)

    def unit(control: Control) -> str:
        return population_unit(control, view.findings_by_control)

    observations = []
    for result in report.controls:
        control = result.control
        exceptions = [
            f
            for f in view.findings_by_control.get(control.id, [])
            if f.status in EXCEPTION_STATUSES
        ]
        evidence = [_evidence(view, f) for f in exceptions] or [
            {"description": f"{EVIDENCE_FILE}: every result of {control.id}"}
        ]
        observations.append(
            {
                "uuid": stable_uuid(key, "observation", control.id),
                "title": f"{control.id} over {counted(result.population, unit(control))}",
                "description": (
                    f"{control.title}: {result.passed} passed, {result.failed} failed,"
                    f" {result.unknown} unknown, {result.not_applicable} not applicable,"
                    f" {result.waived} waived."
                ),
                "props": [{"name": "framework-ref", "value": str(r)} for r in control.frameworks]
                or [{"name": "framework-ref", "value": "none"}],
                "methods": ["TEST"],
                "types": ["control-objective"],
                "collected": collected,
                "relevant-evidence": evidence,
            }
        )
    return observations


def objective_status(result: ControlResult) -> dict[str, str]:
    """The OSCAL objective status of a control's result: ``satisfied``/``pass`` only when it
    passed, ``not-satisfied``/``fail`` when it failed; a result that is unknown or not
    applicable concludes nothing, so it is ``not-satisfied`` with reason ``other`` and remarks
    saying why (OSCAL's state has no third value, and untested must never read as passed)."""
    status = result.status
    if status is Status.PASS:
        return {"state": "satisfied", "reason": "pass"}
    if status is Status.FAIL:
        return {"state": "not-satisfied", "reason": "fail"}
    if status is Status.UNKNOWN:
        remarks = (
            f"Unknown: {result.unknown} of {result.population} results could not be concluded"
            " for want of evidence; see the observation's evidence for each reason."
        )
    else:
        remarks = (
            "Not applicable: no change of the period is in this control's population, so"
            " nothing was tested."
        )
    return {"state": "not-satisfied", "reason": "other", "remarks": remarks}


def _findings(report: Report, key: str) -> list[dict[str, Any]]:
    findings = []
    for result in report.controls:
        control = result.control
        findings.append(
            {
                "uuid": stable_uuid(key, "finding", control.id),
                "title": f"{control.id}: {result.status.value}",
                "description": control.description or control.title,
                "target": {
                    "type": "objective-id",
                    "target-id": token(control.id),
                    "status": objective_status(result),
                },
                "related-observations": [
                    {"observation-uuid": stable_uuid(key, "observation", control.id)}
                ],
            }
        )
    return findings


def assessment_results(report: Report) -> dict[str, Any]:
    """The OSCAL document; every identifier is derived from the report's stable fields."""
    heads = sorted(f"{r.name}:{b.name}:{b.head}" for r in report.repositories for b in r.branches)
    key = stable_uuid(report.organisation, iso_utc(report.since), iso_utc(report.until), *heads)
    view = ReportView(report)
    start = report.since or min(
        (c.change.landed_at for c in report.changes), default=report.generated_at
    )
    result: dict[str, Any] = {
        "uuid": stable_uuid(key, "result"),
        "title": f"Change management controls, {period(report)}",
        "description": (
            f"Controls evaluated by auditor {report.tool_version} over"
            f" {counted(len(report.changes), 'change')} of"
            f" {counted(len(report.repositories), 'repository')}."
        ),
        "start": iso_utc(start),
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": token(c.control.id)} for c in report.controls]}
                if report.controls
                else {"include-all": {}}
            ]
        },
        "observations": _observations(report, view, key),
        "findings": _findings(report, key),
    }
    if report.until is not None:
        result["end"] = iso_utc(report.until)
    if not report.controls:
        del result["observations"], result["findings"]
    return {
        "assessment-results": {
            "uuid": stable_uuid(key, "assessment-results", iso_utc(report.generated_at)),
            "metadata": {
                "title": f"{report.organisation}: change management assessment results",
                "last-modified": iso_utc(report.generated_at),
                "version": report.tool_version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {
                "href": f"../{EVIDENCE_FILE}",
                "remarks": "No separate assessment plan: scope and method are in the pack.",
            },
            "results": [result],
        }
    }


class OscalRenderer(Renderer):
    format = Format.OSCAL

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        path = out / OSCAL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(assessment_results(report), ensure_ascii=False, sort_keys=True, indent=2)
        path.write_text(text + "\n", encoding="utf-8", newline="\n")
