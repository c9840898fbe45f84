"""Attestations: per audited branch, an in-toto Statement (v1) of the controls' verdicts on the
branch's head, and a SLSA source verification summary (VSA) claiming only the source levels
the evidence supports.

Both are written after every other format but the PDF. The controls statement cites the
SHA-256 of the manifest of the files written before it (``MANIFEST.sha256`` without its
``attestations/`` and ``report.pdf`` lines); the PDF's cover then cites the evidence with the
attestations in it, and ``MANIFEST.sha256`` covers them all.

With a signing key (``--sign-key``, config ``signing_key``), each attestation gets its SSH
signature beside it, ``<file>.sig`` in the namespace ``auditor-attestation``
(:mod:`auditor.render.signing`), so that one attestation taken out of the pack can still be
checked on its own; the manifest lists the signatures like any other file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from auditor.evidence.report import BranchScope, Report, RepositoryScope
from auditor.evidence.tabular import iso_utc
from auditor.model import ChangeFacts, ControlResult, Finding, Status
from auditor.render import signing
from auditor.render.interface import Format, RenderContext, Renderer
from auditor.render.text import slug

ATTESTATIONS_DIR = "attestations"
ATTESTATION_SUFFIX = ".intoto.json"  # every attestation's file name ends so
SIGNATURE_SUFFIX = ".sig"  # an attestation's signature: its file name and this
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
CONTROLS_PREDICATE = "urn:auditor:predicate:control-verdicts:v1"
VSA_PREDICATE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "urn:auditor:verifier"
SLSA_VERSION = "1.2"
# The rules the VSA applies, stated once; its ``policy`` cites this text's SHA-256.
SOURCE_POLICY = """\
auditor source-level policy v1
SLSA_SOURCE_LEVEL_1: the branch is a Git branch whose history was mined (version controlled,
  revisions identified by their commit digest).
SLSA_SOURCE_LEVEL_2: level 1, and continuity through the period: CFG-01 (branch protection
  through the period) passed on the branch and INT-02 (history integrity: no force-push or
  rewrite observed) passed on the repository. Without branch-protection evidence (CFG-01 not
  evaluated, or not passed) level 1 is the level claimed.
Level 3 and above are never claimed: they need the source control system's own provenance
  and continuous enforcement of technical controls, which the history does not show.
SLSA_SOURCE_TWO_PARTY_REVIEWED: every change of the period on the branch went through a
  change request (CHG-01 passed) and was approved by someone other than its authors and
  committers (CHG-02 passed), with at least one change in the period.
A control that failed, could not be concluded or was not evaluated supports nothing.
"""
POLICY_URI = "urn:auditor:policy:slsa-source:v1"
_URI_SAFE = ":/@%?#=&+~!$'()*,;[]"  # RFC 3986's reserved characters, and % of an escape
LEVEL_RULES = (  # (what is claimed, the controls that must have passed, where)
    ("SLSA_SOURCE_LEVEL_2", ("CFG-01", "INT-02")),
    ("SLSA_SOURCE_TWO_PARTY_REVIEWED", ("CHG-01", "CHG-02")),
)


@dataclass(frozen=True)
class BranchVerdicts:
    """The controls' results restricted to one audited branch (and its repository)."""

    repository: RepositoryScope
    branch: BranchScope
    results: tuple[ControlResult, ...]
    changes: int  # changes of the period that landed on the branch

    @property
    def name(self) -> str:
        return f"{slug(self.repository.name)}/{slug(self.branch.name)}"

    @property
    def statement_file(self) -> str:
        return f"{ATTESTATIONS_DIR}/{self.name}.intoto.json"

    @property
    def vsa_file(self) -> str:
        return f"{ATTESTATIONS_DIR}/{self.name}.source-vsa.intoto.json"

    @property
    def files(self) -> tuple[str, str]:
        return self.statement_file, self.vsa_file

    @property
    def signature_files(self) -> tuple[str, str]:
        """Where the attestations' signatures are, when the pack is signed."""
        return self.statement_file + SIGNATURE_SUFFIX, self.vsa_file + SIGNATURE_SUFFIX

    def status(self, control_id: str) -> Status | None:
        for result in self.results:
            if result.control.id == control_id:
                return result.status
        return None


def _totals(control: Any, findings: Iterable[Finding]) -> ControlResult:
    counts = dict.fromkeys(Status, 0)
    for finding in findings:
        counts[finding.status] += 1
    return ControlResult(
        control=control,
        population=sum(counts.values()) - counts[Status.NOT_APPLICABLE],
        passed=counts[Status.PASS],
        failed=counts[Status.FAIL],
        unknown=counts[Status.UNKNOWN],
        not_applicable=counts[Status.NOT_APPLICABLE],
        waived=counts[Status.WAIVED],
    )


def _on_branch(
    finding: Finding,
    changes: dict[str, ChangeFacts],
    repository: RepositoryScope,
    branch: BranchScope,
) -> bool:
    """Whether ``finding`` concerns ``branch``: a repository-level result (INT-02, KNW-01) does,
    and so does every result when it is the repository's only audited branch."""
    if not finding.change_id or len(repository.branches) == 1:
        return True
    facts = changes.get(finding.change_id)
    return facts is not None and facts.change.branch == branch.name


def branch_verdicts(report: Report) -> Iterator[BranchVerdicts]:
    """Every audited branch with a head (a branch on which nothing landed by the end of the
    period has no commit to attest), with the results of its changes and of its repository."""
    changes: dict[str, ChangeFacts] = {c.change_id: c for c in report.changes}
    for repository in report.repositories:
        mine = [f for f in report.findings if f.repo == repository.name]
        for branch in repository.branches:
            if not branch.head:
                continue

            ours = [f for f in mine if _on_branch(f, changes, repository, branch)]
            results = tuple(
                _totals(r.control, (f for f in ours if f.control_id == r.control.id))
                for r in report.controls
            )
            if len(report.repositories) == 1 and len(repository.branches) == 1:
                results = report.controls  # the only branch: the report's own totals
            landed = sum(
                1
                for c in report.changes
                if c.repo == repository.name
                and (len(repository.branches) == 1 or c.change.branch == branch.name)
            )
            yield BranchVerdicts(repository, branch, results, landed)


def source_levels(verdicts: BranchVerdicts) -> tuple[list[str], list[str]]:
    """The SLSA source level and properties the evidence supports, and why each other one is
    not claimed (see :data:`SOURCE_POLICY`)."""
    levels = ["SLSA_SOURCE_LEVEL_1"]
    reasons = []
    for claim, needed in LEVEL_RULES:
        missing = []
        for cid in needed:
            status = verdicts.status(cid)
            if status is not Status.PASS:
                missing.append(f"{cid} {status.value if status else 'not evaluated'}")
        if claim == "SLSA_SOURCE_TWO_PARTY_REVIEWED" and not verdicts.changes:
            missing.append("no change in the period")
        if missing:
            reasons.append(f"{claim} not claimed: {', '.join(missing)}")
        elif claim.startswith("SLSA_SOURCE_LEVEL_"):
            levels[0] = claim
        else:
            levels.append(claim)
    return levels, reasons


def resource_uri(repository: RepositoryScope) -> str:
    """The repository as a VSA's ``resourceUri``: ``git+`` and its network URL, or, for a
    repository known only by a local path (which the pack never names), a URN of its name."""
    remote = quote(repository.remote, safe=_URI_SAFE)  # a space or non-ASCII, percent-encoded
    if remote.startswith(("https://", "http://", "ssh://")):
        return f"git+{remote}"
    host, colon, path = remote.partition(":")
    if colon and "@" in host and "/" not in host:  # scp-like git@host:path
        return f"git+ssh://{host}/{path}"
    return f"urn:auditor:repository:{quote(repository.name, safe='')}"


def _subject(verdicts: BranchVerdicts) -> list[dict[str, Any]]:
    ref = f"refs/heads/{verdicts.branch.name}"
    return [
        {
            "name": f"{verdicts.repository.name}@{ref}",
            "digest": {"gitCommit": verdicts.branch.head},
            "annotations": {"source_refs": [ref]},
        }
    ]


def _control(result: ControlResult) -> dict[str, Any]:
    control = result.control
    return {
        "id": control.id,
        "title": control.title,
        "status": result.status.value,
        "population": result.population,
        "passed": result.passed,
        "failed": result.failed,
        "unknown": result.unknown,
        "notApplicable": result.not_applicable,
        "waived": result.waived,
        "frameworkRefs": [str(ref) for ref in control.frameworks],
    }


def controls_statement(
    report: Report, verdicts: BranchVerdicts, manifest_digest: str, evidence_files: int
) -> dict[str, Any]:
    """The in-toto Statement of the controls' verdicts on the branch's head."""
    levels, reasons = source_levels(verdicts)
    return {
        "_type": STATEMENT_TYPE,
        "subject": _subject(verdicts),
        "predicateType": CONTROLS_PREDICATE,
        "predicate": {
            "organisation": report.organisation,
            "repository": verdicts.repository.name,
            "branch": verdicts.branch.name,
            "head": verdicts.branch.head,
            "headLandedAt": iso_utc(verdicts.branch.head_landed_at),
            "period": {"since": iso_utc(report.since), "until": iso_utc(report.until)},
            "asOf": iso_utc(report.generated_at),
            "tool": {"name": "auditor", "version": report.tool_version},
            "frameworks": list(report.frameworks),
            "evidenceComplete": verdicts.repository.complete,
            "changes": verdicts.changes,
            "controls": [_control(r) for r in verdicts.results],
            "sourceLevels": {"claimed": levels, "notClaimed": reasons},
            "manifest": {
                "name": "MANIFEST.sha256 without its attestations/ and report.pdf lines",
                "files": evidence_files,
                "digest": {"sha256": manifest_digest},
            },
        },
    }


def source_vsa(
    report: Report, verdicts: BranchVerdicts, statement_name: str, statement_sha256: str
) -> dict[str, Any]:
    """The SLSA source verification summary of the branch's head."""
    levels, _ = source_levels(verdicts)
    return {
        "_type": STATEMENT_TYPE,
        "subject": _subject(verdicts),
        "predicateType": VSA_PREDICATE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": {"auditor": report.tool_version}},
            "timeVerified": iso_utc(report.generated_at),
            "resourceUri": resource_uri(verdicts.repository),
            "policy": {
                "uri": POLICY_URI,
                "digest": {"sha256": hashlib.sha256(SOURCE_POLICY.encode()).hexdigest()},
            },
            "inputAttestations": [{"name": statement_name, "digest": {"sha256": statement_sha256}}],
            "verificationResult": "PASSED",
            "verifiedLevels": levels,
            "slsaVersion": SLSA_VERSION,
        },
    }


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()


class AttestationRenderer(Renderer):
    format = Format.ATTESTATION

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        key = context.options.sign_key
        for verdicts in branch_verdicts(report):
            statement = controls_statement(
                report, verdicts, context.evidence_digest, len(context.evidence)
            )
            data = _json_bytes(statement)
            path = out / verdicts.statement_file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            vsa = source_vsa(
                report,
                verdicts,
                Path(verdicts.statement_file).name,
                hashlib.sha256(data).hexdigest(),
            )
            vsa_data = _json_bytes(vsa)
            (out / verdicts.vsa_file).write_bytes(vsa_data)
            if key is None:
                continue
            for sig, signed in zip(verdicts.signature_files, (data, vsa_data), strict=True):
                (out / sig).write_bytes(signing.sign(signed, key, signing.ATTESTATION_NAMESPACE))
