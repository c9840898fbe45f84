"""The offline HTML site: overview, a page per control, a page per change, the changes table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from auditor.cores import available_cores
from auditor.evidence.report import Report
from auditor.evidence.words import counted, status_text
from auditor.forked import can_fork, forked_pool
from auditor.model import Status
from auditor.render.attestation import branch_verdicts
from auditor.render.changeview import ChangeViews
from auditor.render.coverage import chain_text, coverage
from auditor.render.csv import table_names
from auditor.render.grc import EVIDENCE_IMPORT, frameworks_of
from auditor.render.interface import (
    EVIDENCE_FILE,
    OSCAL_FILE,
    PDF_FILE,
    Format,
    RenderContext,
    Renderer,
)
from auditor.render.pictures import pictures
from auditor.render.templating import read_asset
from auditor.render.text import json_for_script, when
from auditor.render.views import Link, ReportView, change_page, control_page, period

ASSETS = ("site.css", "changes.js")
_STATUS_WORDS = {s.value: status_text(s) for s in Status}  # the table shows statuses in words


@dataclass(frozen=True)
class SiteView:
    """What every page of the site shows in its header."""

    organisation: str
    period: str
    generated_at: str
    tool_version: str
    complete: bool
    downloads: tuple[Link, ...]
    sample: bool = False  # the site has a sample page


@dataclass(frozen=True)
class SampleRow:
    """One drawn item on the sample page."""

    position: int  # 1-based rank by draw key; 0: unknown (drawn by an earlier version)
    change: Link  # to the change's page
    subject: str
    landed_at: str
    status: str
    reason: str
    waiver_id: str


@dataclass(frozen=True)
class SampleGroup:
    """A control's drawn items."""

    control: Link  # to the control's page
    title: str
    rows: tuple[SampleRow, ...]


SAMPLE_PAGE = "sample.html"


def _downloads(report: Report, context: RenderContext) -> tuple[Link, ...]:
    formats = context.options.formats
    links = [Link("PDF", PDF_FILE)] if Format.PDF in formats else []
    if Format.CSV in formats:
        links += [Link(Path(name).name, name) for name in table_names(report)]
    if Format.JSON in formats:
        links.append(Link(EVIDENCE_FILE, EVIDENCE_FILE))
    if Format.OSCAL in formats:
        links.append(Link("OSCAL", OSCAL_FILE))
    if Format.ATTESTATION in formats:
        for verdicts in branch_verdicts(report):
            links += [Link(Path(name).name, name) for name in verdicts.files]
            if context.options.sign_key is not None:
                links += [Link(Path(name).name, name) for name in verdicts.signature_files]
    if Format.GRC in formats:
        files = [f.file for f in frameworks_of(report)] + [EVIDENCE_IMPORT]
        links += [Link(Path(name).name, name) for name in files]
    return tuple(links)


def _write(root: Path, name: str, text: str) -> None:
    with (root / name).open("w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)


class HtmlRenderer(Renderer):
    format = Format.HTML

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        for folder in ("assets", "changes", "controls"):
            (out / folder).mkdir(parents=True, exist_ok=True)
        view = ReportView(report)
        for name, text in _pages(report, view, context):
            _write(out, name, text)
        _write_change_pages(report, view, context, out)


PARALLEL_MIN_CHANGES = 400  # below this, worker processes cost more than they save


def _write_change_pages(
    report: Report, view: ReportView, context: RenderContext, out: Path
) -> None:
    """A page per change (most of the site): shared out to forked worker processes, each
    writing every n-th page, when there are many and the platform forks (Linux)."""
    workers = min(available_cores(), len(report.changes) // PARALLEL_MIN_CHANGES)
    if workers < 2 or not can_fork():
        _change_slice(report, view, context, out, 0, 1)
        return
    with forked_pool((report, view, context, out), workers) as submit:
        for done in [submit(_forked_slice, i, workers) for i in range(workers)]:
            done.result()


def _forked_slice(
    shared: tuple[Report, ReportView, RenderContext, Path], start: int, step: int
) -> None:
    _change_slice(*shared, start, step)


def _change_slice(
    report: Report, view: ReportView, context: RenderContext, out: Path, start: int, step: int
) -> None:
    site = _site(report, context)
    changes = ChangeViews(view)
    template = context.env.get_template("html/change.html")
    for facts in report.changes[start::step]:
        change = changes.change(facts)
        _write(out, change.page, template.render(root="../", site=site, change=change))


def _site(report: Report, context: RenderContext) -> SiteView:
    return SiteView(
        organisation=report.organisation,
        period=period(report),
        generated_at=when(report.generated_at),
        tool_version=report.tool_version,
        complete=report.complete,
        downloads=_downloads(report, context),
        sample=bool(report.sample),
    )


def _sample_groups(report: Report, view: ReportView) -> tuple[SampleGroup, ...]:
    """The sample per control, in the catalog's order, each control's items as drawn."""
    results = {(f.control_id, f.change_id): f for f in report.findings}
    drawn: dict[str, list[SampleRow]] = {r.control.id: [] for r in report.controls}
    for item in report.sample:
        facts = view.changes.get(item.change_id)
        finding = results.get((item.control_id, item.change_id))
        drawn.setdefault(item.control_id, []).append(
            SampleRow(
                position=item.position,
                change=Link(item.change_id, change_page(item.change_id) if facts else ""),
                subject=facts.change.commit.subject if facts else "",
                landed_at=when(facts.change.landed_at) if facts else "",
                status=finding.status.value if finding else Status.NOT_APPLICABLE.value,
                reason=finding.reason if finding else "no result for this control",
                waiver_id=finding.waiver_id if finding else "",
            )
        )
    titles = {r.control.id: r.control.title for r in report.controls}
    return tuple(
        SampleGroup(Link(cid, control_page(cid)), titles.get(cid, ""), tuple(rows))
        for cid, rows in drawn.items()
        if rows
    )


def _pages(report: Report, view: ReportView, context: RenderContext) -> Iterator[tuple[str, str]]:
    """Every file of the site but the change pages: its pack-relative path and its text."""
    env = context.env
    changes = ChangeViews(view)
    site = _site(report, context)
    top: dict[str, Any] = {"root": "", "site": site}
    yield (
        "index.html",
        env.get_template("html/index.html").render(
            **top,
            controls=view.controls,
            frameworks=view.frameworks,
            repositories=view.repositories,
            waivers=tuple(view.waiver(w) for w in report.waivers),
            notes=report.notes,
            coverage=coverage(report),
            chain_text=chain_text(report),
            source_text=context.options.source,
            pictures=pictures(report),
            empty_populations=report.empty_populations,
            totals={
                "changes": len(report.changes),
                "commits": sum(len(c.commits) or 1 for c in report.changes),
                "controls": len(report.controls),
                "exceptions": sum(c.exception_total for c in view.controls),
            },
        ),
    )
    rows = [changes.table_row(facts) for facts in report.changes]
    yield (
        "changes.html",
        env.get_template("html/changes.html").render(
            **top,
            data=Markup(
                json_for_script(
                    {"rows": rows, "words": _STATUS_WORDS, "total": counted(len(rows), "change")}
                )
            ),
            total=len(rows),
            status_note=view.table_status_note,
            statuses=[s.value for s in Status],
            controls=[c for c in view.controls if c.population_unit != "repository"],
            repository_controls=[c for c in view.controls if c.population_unit == "repository"],
            repos=[r.name for r in report.repositories],
            categories=sorted({c for facts in report.changes for c in facts.categories}),
        ),
    )
    if report.sample:
        yield (
            SAMPLE_PAGE,
            env.get_template("html/sample.html").render(
                **top,
                groups=_sample_groups(report, view),
                total=len(report.sample),
                seed=report.sample_seed or "",
            ),
        )
    page = {"root": "../", "site": site}
    control_template = env.get_template("html/control.html")
    for control in view.controls:
        yield control.page, control_template.render(**page, control=control)
    for name in ASSETS:
        yield f"assets/{name}", read_asset(env, f"html/{name}")
