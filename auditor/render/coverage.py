"""What the pack says about the evidence it rests on, in the same words in every format.

"Complete" covers only what was collected: the Git history always, review data where a forge,
a reviews file or review trailers gave some. Without review data the pack says so in words
("No review data was collected") and names the controls that therefore cannot be concluded;
without a roster it says once that identities are judged against forge accounts alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from auditor.evidence.report import Report, RepositoryScope
from auditor.evidence.words import counted
from auditor.model import NO_REVIEW_DATA as NO_DATA_REASON
from auditor.model import ControlResult, ReviewEvidence, Status

NO_REVIEW_DATA = "No review data was collected"


def chain_text(report: Report) -> str:
    """The run chain as the pack states it (HTML overview, PDF scope); empty for a pack that
    no scheduled run wrote."""
    chain = report.chain
    if chain is None:
        return ""
    if chain.previous_run is None:
        return (
            "Run chain: no earlier run with a pack is recorded in this store; this pack starts"
            " the chain."
        )
    return (
        f"Run chain: the previous run recorded in this store (run {chain.previous_run}) wrote"
        f" the pack {chain.previous_pack}, whose MANIFEST.sha256 has SHA-256"
        f" {chain.previous_manifest_sha256}."
    )


IDENTITY_CHECK = "identities-resolved"
_REVIEW_TRAILERS = "Reviewed-by, Approved-by, Acked-by"


@dataclass(frozen=True)
class Coverage:
    """The sentences about the evidence: the cover's, the scope's and the overview's."""

    complete_text: str  # "yes (Git history); review data: not collected"
    review_text: str  # "No review data was collected: …", or "" when every repository has some
    roster_text: str  # "No roster was given: …", or "" with a roster (or no identity control)

    @property
    def statements(self) -> tuple[str, ...]:
        return tuple(t for t in (self.review_text, self.roster_text) if t)


def review_source_text(source: str) -> str:
    """A repository's review source in words: ``none`` is "not collected"."""
    if source == "none":
        return "not collected"
    if source == "trailers":
        return "commit trailers"
    return ", ".join(
        f"reviews file {s.removeprefix('offline:')}" if s.startswith("offline:") else s
        for s in source.split(",")
    )


def coverage(report: Report) -> Coverage:
    without = [r for r in report.repositories if r.review_source == "none"]
    return Coverage(
        complete_text=_complete_text(report, without),
        review_text=_review_text(report, without),
        roster_text=_roster_text(report),
    )


def _complete_text(report: Report, without: Sequence[RepositoryScope]) -> str:
    verdict = "yes" if report.complete else "no — see Scope and method"
    sources = sorted(
        {review_source_text(r.review_source) for r in report.repositories if r not in without}
    )
    collected = "Git history" + "".join(f" and review data from {s}" for s in sources)
    text = f"{verdict} ({collected})"
    if without:
        partly = len(without) < len(report.repositories)
        text += "; review data: not collected" + (
            f" for {', '.join(r.name for r in without)}" if partly else ""
        )
    return text


def _review_text(report: Report, without: Sequence[RepositoryScope]) -> str:
    if not without:
        return ""
    names = {r.name for r in without}
    where = f" for {', '.join(sorted(names))}" if len(names) < len(report.repositories) else ""
    why = (
        f"{NO_REVIEW_DATA}{where}: no forge was queried, no reviews file was given, and no"
        f" commit of the period carries a review trailer ({_REVIEW_TRAILERS})."
    )
    blocked = _blocked_controls(report, names)
    if not blocked:
        return f"{why} No evaluated control needed it."
    listed = ", ".join(
        f"{r.control.id} ({r.control.title}: {count} of {counted(r.population, 'change')})"
        for r, count in blocked
    )
    return f"{why} These controls therefore cannot be concluded: {listed}."


def _blocked_controls(report: Report, repos: set[str]) -> tuple[tuple[ControlResult, int], ...]:
    """The controls left ``unknown`` on a change for want of review data (their reason says so:
    a control unknown for another reason, e.g. no roster, is not one of them), each with how
    many of its changes."""
    lacking = {
        c.change_id for c in report.changes if c.repo in repos and c.evidence is ReviewEvidence.NONE
    }
    counts = Counter(
        f.control_id
        for f in report.findings
        if f.status is Status.UNKNOWN and f.change_id in lacking and NO_DATA_REASON in f.reason
    )
    return tuple((r, counts[r.control.id]) for r in report.controls if counts[r.control.id])


def _roster_text(report: Report) -> str:
    if report.roster:
        return ""
    judged = [r for r in report.controls if r.control.check == IDENTITY_CHECK]
    if not judged:
        return ""
    ids = ", ".join(r.control.id for r in judged)
    return (
        f"No roster was given: identities are matched only to forge accounts, so {ids} cannot"
        " judge an identity no forge account resolves (unknown, not failed)."
    )
