"""GRC imports: a CISO Assistant compliance-assessment (audit) import per framework, and the
pack's evidence files with their SHA-256, for the same tool's evidence import.

CISO Assistant's import of an audit reads one row per requirement, matched by ``ref_id``
within the chosen framework and by ``urn`` otherwise; rows not ``assessable`` are skipped. Its
columns are ``urn, assessable, ref_id, name, description, compliance_result,
requirement_progress, score, observations``. A requirement's result is drawn from every
control mapping to it: one failed control makes it ``non_compliant``; otherwise one control
that could not be concluded makes it ``not_assessed`` (missing evidence is never read as
compliance); otherwise a passed control makes it ``compliant``; a requirement whose controls
had nothing to test is ``not_applicable``. ``partially_compliant`` is never written: the tool
does not judge degrees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.evidence.report import Report
from auditor.evidence.tabular import iso_utc, to_text, write_csv
from auditor.evidence.words import counted, status_text
from auditor.model import ControlResult, Status
from auditor.render.interface import Format, RenderContext, Renderer

GRC_DIR = "grc"
EVIDENCE_IMPORT = f"{GRC_DIR}/ciso-assistant-evidence.csv"
AUDIT_COLUMNS = (
    "urn",
    "assessable",
    "ref_id",
    "name",
    "description",
    "compliance_result",
    "requirement_progress",
    "score",
    "observations",
)
# CISO Assistant's evidence import reads name, description, ref_id (and domain, labels); the
# columns after them say the same facts one per cell, for the people and scripts reading them.
EVIDENCE_COLUMNS = (
    "ref_id",
    "name",
    "description",
    "filtering_labels",
    "path",
    "sha256",
    "effective_date",
    "collected_at",
)


@dataclass(frozen=True)
class CisoFramework:
    """A framework as CISO Assistant's library names it."""

    key: str  # ours: the catalog's name (soc2)
    slug: str  # CISO Assistant's: soc2-2017; its framework is urn:intuitem:risk:framework:<slug>
    title: str

    @property
    def urn(self) -> str:
        return f"urn:intuitem:risk:framework:{self.slug}"

    def requirement_urn(self, ref_id: str) -> str:
        """The requirement node's URN: the library's ``urn:intuitem:risk:req_node:<slug>:``
        followed by the ``ref_id`` in lower case (``CC8.1`` → ``…:soc2-2017:cc8.1``,
        ``SA-10(1)`` → ``…:nist-sp-800-53-rev5:sa-10(1)``)."""
        return f"urn:intuitem:risk:req_node:{self.slug}:{ref_id.lower()}"

    @property
    def file(self) -> str:
        return f"{GRC_DIR}/ciso-assistant-{self.slug}.csv"


CISO_FRAMEWORKS: Mapping[str, CisoFramework] = {
    f.key: f
    for f in (
        CisoFramework("soc2", "soc2-2017", "SOC2-2017 Trust Services Criteria"),
        CisoFramework("iso27001", "iso27001-2022", "ISO/IEC 27001:2022"),
        CisoFramework("pci-dss", "pcidss-4_0", "PCI DSS 4.0.1"),
        CisoFramework("nist-800-53", "nist-sp-800-53-rev5", "NIST SP 800-53 revision 5"),
    )
}
_PIECES = re.compile(r"(\d+)")


def _natural(ref_id: str) -> tuple[Any, ...]:
    """``CC6.1`` before ``CC6.10``, ``A.5.3`` before ``A.5.15``."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in _PIECES.split(ref_id))


def requirement_result(results: Iterable[ControlResult]) -> str:
    """CISO Assistant's ``compliance_result`` of a requirement, from the controls mapping to
    it (see the module's description)."""
    statuses = {r.status for r in results}
    if Status.FAIL in statuses:
        return "non_compliant"
    if Status.UNKNOWN in statuses or not statuses:
        return "not_assessed"
    if Status.PASS in statuses:
        return "compliant"
    return "not_applicable"


def _totals(result: ControlResult) -> str:
    parts = [
        f"{result.passed} passed",
        f"{result.failed} failed",
        f"{result.unknown} unknown",
        f"{result.not_applicable} not applicable",
        f"{result.waived} waived",
    ]
    return f"{', '.join(parts)} of {counted(result.population, 'result')}"


def _observation(result: ControlResult) -> str:
    control = result.control
    return f"{control.id} {control.title}: {status_text(result.status)} ({_totals(result)})."


def period_end(report: Report) -> str:
    """The day the audited period ends (``--until``, else the time the pack describes), as
    the evidence's effective date."""
    end = report.until or report.generated_at
    return iso_utc(end)[:10]


def _period_text(report: Report) -> str:
    since = iso_utc(report.since)[:10] or "the first commit"
    return f"{since} to {period_end(report)}"


def frameworks_of(report: Report) -> tuple[CisoFramework, ...]:
    """The frameworks asked for, or else every framework a control of the report maps to."""
    named = set(report.frameworks) or {
        ref.framework for r in report.controls for ref in r.control.frameworks
    }
    return tuple(f for key, f in CISO_FRAMEWORKS.items() if key in named)


def audit_rows(report: Report, framework: CisoFramework) -> Iterator[dict[str, Any]]:
    """One row per requirement of ``framework`` that a control of the report maps to."""
    mapped: dict[str, list[ControlResult]] = {}
    for result in report.controls:
        for ref in result.control.frameworks:
            if ref.framework == framework.key:
                mapped.setdefault(ref.ref, []).append(result)
    period = _period_text(report)
    for ref_id in sorted(mapped, key=_natural):
        results = mapped[ref_id]
        verdict = requirement_result(results)
        lines = [_observation(r) for r in results]
        lines.append(
            f"Evaluated by auditor {report.tool_version} over {period}"
            f" for {report.organisation}; every result is in csv/findings.csv."
        )
        yield {
            "urn": framework.requirement_urn(ref_id),
            "assessable": True,
            "ref_id": ref_id,
            "name": "",
            "description": "Controls: "
            + "; ".join(f"{r.control.id} {r.control.title}" for r in results),
            "compliance_result": verdict,
            "requirement_progress": "to_do" if verdict == "not_assessed" else "done",
            "score": "",
            "observations": "\n".join(lines),
        }


def evidence_rows(report: Report, files: Iterable[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    """One row per pack file written before the import, with its SHA-256; its effective date
    is the end of the audited period, its collection the time the pack describes."""
    effective = period_end(report)
    collected = iso_utc(report.generated_at)
    for path, digest in sorted(files):
        yield {
            "ref_id": f"auditor:{effective}:{path}",
            "name": f"{report.organisation} audit pack {_period_text(report)}: {path}",
            "description": (
                f"{path} of the audit pack; SHA-256 {digest}; effective {effective} (end of"
                f" the audited period); collected {collected} by auditor {report.tool_version}."
            ),
            "filtering_labels": "auditor",
            "path": path,
            "sha256": digest,
            "effective_date": effective,
            "collected_at": collected,
        }


class GrcRenderer(Renderer):
    format = Format.GRC

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        folder = out / GRC_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for framework in frameworks_of(report):
            text = to_text(write_csv, AUDIT_COLUMNS, audit_rows(report, framework))
            (out / framework.file).write_bytes(text.encode("utf-8"))
        rows = evidence_rows(report, context.evidence)
        text = to_text(write_csv, EVIDENCE_COLUMNS, rows)
        (out / EVIDENCE_IMPORT).write_bytes(text.encode("utf-8"))
