"""The view model of the PDF audit binder: every sentence and table precomputed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditor.evaluation.sampling import pipeline_lines, ranked
from auditor.evidence.deploys import DEPLOYMENT_CHECKS
from auditor.evidence.report import Report
from auditor.evidence.words import counted, noun
from auditor.model import ReviewEvidence, Status
from auditor.render.changeview import ChangeView, ChangeViews, FileView
from auditor.render.coverage import Coverage, chain_text, coverage, review_source_text
from auditor.render.interface import CONFIG_FILE, MANIFEST_FILE, PDF_FILE, RenderContext
from auditor.render.pictures import Picture, pictures
from auditor.render.text import when
from auditor.render.views import (
    ControlView,
    FrameworkView,
    ReportView,
    RepositoryView,
    WaiverView,
    identities_text,
    period,
)


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class SourceView:
    name: str
    remote: str
    path: str
    review_source: str
    changes: int
    complete: bool
    identities: str


@dataclass(frozen=True)
class SampleView:
    number: int
    control_id: str
    position: int  # 1-based rank by draw key; 0: unknown (drawn by an earlier version)
    change: ChangeView
    status: str
    reason: str
    waiver_id: str
    files: tuple[FileView, ...]  # the first SAMPLE_FILES of the change's files
    hidden_files: int

    @property
    def files_total(self) -> int:
        return len(self.files) + self.hidden_files


@dataclass(frozen=True)
class RewrittenView:
    """A change of the population that a later rewrite made unreachable from its branch."""

    change_id: str
    branch: str
    landed_at: str
    rewritten: str
    subject: str


@dataclass(frozen=True)
class DrawView:
    """How to redo one control's draw: its population, sample size and the shell pipeline."""

    control_id: str
    population: int
    size: int
    pipeline: tuple[str, ...]  # lines, each ending where the shell takes a line break as a space


@dataclass(frozen=True)
class CoverageView:
    """What one source's deployment records cover, and the spans no read holds."""

    repo: str
    source: str
    first: str
    last: str
    count: int
    gaps: tuple[str, ...]


def _coverage(report: Report) -> tuple[CoverageView, ...]:
    return tuple(
        CoverageView(
            c.repo,
            c.source,
            when(c.first),
            when(c.last),
            c.count,
            tuple(
                f"{when(after) if after else 'its beginning'} to {when(before)}: {reason}"
                for after, before, reason in c.gaps
            ),
        )
        for c in report.deployment_coverage
    )


@dataclass(frozen=True)
class BinderView:
    organisation: str
    period: str
    frameworks_text: str
    generated_at: str
    tool_version: str
    command: str
    complete: bool
    coverage: Coverage
    evidence_digest: str
    digest_note: str
    repositories: tuple[RepositoryView, ...]
    toc: tuple[TocEntry, ...]
    summary_text: str
    population_text: str
    empty_populations: tuple[str, ...]
    rewritten: tuple[RewrittenView, ...]
    config_text: str
    chain_text: str
    source_text: str
    method_text: str
    sources: tuple[SourceView, ...]
    gaps: tuple[str, ...]
    notes: tuple[str, ...]
    controls: tuple[ControlView, ...]
    frameworks: tuple[FrameworkView, ...]
    waivers: tuple[WaiverView, ...]
    sample: tuple[SampleView, ...]
    sample_text: str
    draws: tuple[DrawView, ...]
    evidence: tuple[tuple[str, str], ...]
    evidence_pages: str
    attachments: tuple[tuple[str, str], ...]
    deployment_coverage: tuple[CoverageView, ...] = ()
    deployment_repos: tuple[str, ...] = ()
    deployment_checks: tuple[str, ...] = DEPLOYMENT_CHECKS
    pictures: tuple[Picture, ...] = ()


SITE_PAGES = ("assets/", "changes/", "controls/")
SAMPLE_FILES = 3  # files listed per sample item; every file is on the change's page
METHOD = (
    "Each control is a named check applied to every change of its population. A result is pass,"
    " fail, unknown (the evidence needed to conclude is missing), not applicable (the change is"
    " outside the control's scope) or waived (an accepted exception recorded with an owner and an"
    " expiry). The exceptions listed for each control are every result other than pass and not"
    " applicable. The full populations are attached to this PDF as CSV files and written beside"
    " it in the audit pack."
)


def digest_note(context: RenderContext) -> str:
    if not context.evidence:
        return "No other files were written with this PDF; the digest is of an empty manifest."
    return (
        f"The evidence manifest is {MANIFEST_FILE} without its {PDF_FILE} line: one"
        " '<sha256>  <path>' line per file of the pack, sorted by path. Recompute its digest with"
        f" grep -v '  {PDF_FILE}$' {MANIFEST_FILE} | sha256sum"
    )


def _site_pages(context: RenderContext) -> str:
    count = sum(1 for path, _ in context.evidence if path.startswith(SITE_PAGES))
    if not count:
        return ""
    return (
        f"The {count} further {noun(count, 'file')} of the HTML site ({', '.join(SITE_PAGES)})"
        f" {noun(count, 'is', 'are')} listed in {MANIFEST_FILE}."
    )


def _gaps(report: Report, said: Coverage) -> tuple[str, ...]:
    gaps = list(said.statements)
    gaps += [f"{r.name}: {reason}" for r in report.repositories for reason in r.incomplete_reasons]
    gaps += [
        f"{r.name}: {e.kind} on {e.branch} at {when(e.detected_at)},"
        f" {counted(len(e.lost), 'commit')} lost"
        for r in report.repositories
        for e in r.events
    ]
    missing = sum(1 for c in report.changes if c.evidence is ReviewEvidence.MISSING)
    if missing:
        gaps.append(
            f"{counted(missing, 'change')} {noun(missing, 'lacks', 'lack')} review data that was"
            " expected from the forge"
        )
    unresolved = sum(1 for c in report.changes if c.unresolved)
    if unresolved and report.roster:
        gaps.append(
            f"{counted(unresolved, 'change')} {noun(unresolved, 'involves', 'involve')} identities"
            " that map to nobody in the roster"
        )
    gaps += [f"waiver {w} has expired" for w in report.expired_waivers]
    gaps += [f"waiver {w} matched nothing" for w in report.unmatched_waivers]
    return tuple(gaps)


def _summary(report: Report) -> str:
    statuses = Counter(r.status for r in report.controls)
    return (
        f"{counted(len(report.controls), 'control')}"
        f" {noun(len(report.controls), 'was', 'were')} evaluated over"
        f" {counted(len(report.changes), 'change')}:"
        f" {statuses[Status.FAIL]} failed, {statuses[Status.UNKNOWN]} could not be concluded,"
        f" {statuses[Status.PASS]} passed and {statuses[Status.NOT_APPLICABLE]} had nothing"
        " to test."
    )


def _population(report: Report) -> str:
    commits = sum(len(c.commits) or 1 for c in report.changes)
    return (
        "Every change that landed on an audited branch of"
        f" {counted(len(report.repositories), 'repository')} during {period(report)}: a merged"
        " change request or a commit pushed directly, counted once at the time it landed (the"
        " merge time for merged requests, the commit time for direct pushes)."
        f" {counted(len(report.changes), 'change')} brought in {counted(commits, 'commit')}."
    )


def _config(report: Report) -> str:
    overridden = Counter(o.control_id for o in report.overrides)
    listed = ", ".join(f"{control} ({n})" for control, n in sorted(overridden.items()))
    overrides = (
        f" Parameter overrides in force, per control: {listed}; each control's section gives its"
        " defaults and every override with the repositories and paths it concerns."
        if overridden
        else " No control parameter was overridden: every control ran with its defaults."
    )
    config = report.config
    if config is None:
        return f"No config file was read.{overrides}"
    removed = ", credentials removed" if config.redacted else ""
    return (
        f"Config file {config.name}, SHA-256 {config.sha256} (of the file as read), copied into"
        f" the pack as {CONFIG_FILE}{removed}.{overrides}"
    )


def _sample(report: Report, view: ReportView) -> tuple[SampleView, ...]:
    changes = ChangeViews(view)
    results = {(f.control_id, f.change_id): f for f in report.findings}
    items = []
    for number, item in enumerate(report.sample, start=1):
        facts = view.changes.get(item.change_id)
        if facts is None:
            continue
        finding = results.get((item.control_id, item.change_id))
        change = changes.change(facts)
        items.append(
            SampleView(
                number=number,
                control_id=item.control_id,
                position=item.position,
                change=change,
                status=finding.status.value if finding else Status.NOT_APPLICABLE.value,
                reason=finding.reason if finding else "no result for this control",
                waiver_id=finding.waiver_id if finding else "",
                files=change.files[:SAMPLE_FILES],
                hidden_files=max(0, len(change.files) - SAMPLE_FILES),
            )
        )
    return tuple(items)


DRAW_TEXT = (
    "The draw can be re-performed with standard tools. Each member of a control's population"
    " (every change with a result other than not applicable, listed in csv/populations.csv, also"
    " attached) has a draw key: the SHA-256 of the text seed:control_id:change_id. Members are"
    " ranked by draw key, lowest first; an item's position (#) is its 1-based rank, and the"
    " sample is positions 1 to the sample size. Each pipeline below, run in the pack's directory"
    " (sha256sum from GNU coreutils; elsewhere shasum -a 256), prints the draw key and change id"
    " of one control's sample, in position order."
)


def _sample_text(report: Report) -> str:
    seed = f"“{report.sample_seed}”" if report.sample_seed else "“” (empty)"
    size = (
        f"{report.sample_size} per control, or the whole population where smaller"
        if report.sample_size is not None
        else "per control by the size table for the population (see the README)"
    )
    drawn = f"{counted(len(report.sample), 'item')} drawn with seed {seed}, {size}."
    if any(item.position < 1 for item in report.sample):
        return (
            f"{drawn} This sample was drawn by an earlier version of auditor, whose method its"
            " README describes; it is reproduced here as recorded, without positions."
        )
    return f"{drawn} {DRAW_TEXT}"


def _draws(report: Report) -> tuple[DrawView, ...]:
    if not report.sample or any(item.position < 1 for item in report.sample):
        return ()
    members = Counter(m.control_id for m in ranked(report.findings, seed=report.sample_seed))
    sizes = Counter(item.control_id for item in report.sample)
    return tuple(
        DrawView(
            control_id,
            members[control_id],
            size,
            pipeline_lines(report.sample_seed, control_id, size),
        )
        for control_id, size in sorted(sizes.items())
    )


def _toc(controls: tuple[ControlView, ...], report: Report) -> tuple[TocEntry, ...]:
    entries = [
        TocEntry(1, "scope", "Scope and method"),
        TocEntry(1, "summary", "Executive summary"),
    ]
    entries += [TocEntry(2, c.anchor, f"{c.id} — {c.title}") for c in controls]
    if report.waivers:
        entries.append(TocEntry(1, "waivers", "Waivers"))
    entries += [
        TocEntry(1, "sample", "Sample"),
        TocEntry(1, "evidence", "Evidence files"),
        TocEntry(1, "signoff", "Sign-off"),
    ]
    return tuple(entries)


def binder(
    report: Report, context: RenderContext, attachments: tuple[tuple[str, str], ...]
) -> BinderView:
    view = ReportView(report)
    limit = context.options.pdf_exception_limit
    controls = tuple(view.control(r, limit) for r in report.controls)
    said = coverage(report)
    return BinderView(
        organisation=report.organisation,
        period=period(report),
        frameworks_text=", ".join(report.frameworks) or "all in the catalog",
        generated_at=when(report.generated_at),
        tool_version=report.tool_version,
        command=report.command,
        complete=report.complete,
        coverage=said,
        evidence_digest=context.evidence_digest,
        digest_note=digest_note(context),
        repositories=view.repositories,
        toc=_toc(controls, report),
        summary_text=_summary(report),
        population_text=_population(report),
        empty_populations=report.empty_populations,
        rewritten=tuple(
            RewrittenView(
                change_id=c.change_id,
                branch=c.change.branch,
                landed_at=when(c.change.landed_at),
                rewritten=when(c.change.rewritten),
                subject=c.change.commit.subject,
            )
            for c in report.changes
            if c.change.rewritten is not None
        ),
        config_text=_config(report),
        chain_text=chain_text(report),
        source_text=context.options.source,
        method_text=METHOD,
        sources=tuple(
            SourceView(
                name=r.name,
                remote=r.remote,
                path=r.path,
                review_source=review_source_text(r.review_source),
                changes=sum(1 for c in report.changes if c.repo == r.name),
                complete=r.complete,
                identities=identities_text(r),
            )
            for r in report.repositories
        ),
        gaps=_gaps(report, said),
        notes=report.notes,
        controls=controls,
        frameworks=view.frameworks,
        waivers=tuple(view.waiver(w) for w in report.waivers),
        sample=_sample(report, view),
        sample_text=_sample_text(report),
        draws=_draws(report),
        evidence=tuple((p, d) for p, d in context.evidence if not p.startswith(SITE_PAGES)),
        evidence_pages=_site_pages(context),
        attachments=attachments,
        deployment_coverage=_coverage(report),
        deployment_repos=report.deployment_repos,
        pictures=pictures(report),
    )
