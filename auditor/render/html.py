"""The offline HTML site: overview, a page per control, a page per change, the changes table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from auditor.model import Status
from auditor.render.changeview import ChangeViews
from auditor.render.interface import (
    EVIDENCE_FILE,
    OSCAL_FILE,
    PDF_FILE,
    Format,
    RenderContext,
    Renderer,
)
from auditor.render.templating import read_asset
from auditor.render.text import json_for_script, when
from auditor.render.views import Link, ReportView, period
from auditor.report import Report

ASSETS = ("site.css", "changes.js")


@dataclass(frozen=True)
class SiteView:
    """What every page of the site shows in its header."""

    organisation: str
    period: str
    generated_at: str
    tool_version: str
    complete: bool
    downloads: tuple[Link, ...]


def _downloads(context: RenderContext) -> tuple[Link, ...]:
    formats = context.options.formats
    links = [Link("PDF", PDF_FILE)] if Format.PDF in formats else []
    if Format.CSV in formats:
        links += [Link(Path(name).name, name) for name in context.tables]
    if Format.JSON in formats:
        links.append(Link(EVIDENCE_FILE, EVIDENCE_FILE))
    if Format.OSCAL in formats:
        links.append(Link("OSCAL", OSCAL_FILE))
    return tuple(links)


def _write(root: Path, name: str, text: str) -> None:
    with (root / name).open("w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)


class HtmlRenderer(Renderer):
    format = Format.HTML

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        for folder in ("assets", "changes", "controls"):
            (out / folder).mkdir(parents=True, exist_ok=True)
        for name, text in _pages(report, context):
            _write(out, name, text)


def _pages(report: Report, context: RenderContext) -> Iterator[tuple[str, str]]:
    """Every file of the site: its pack-relative path and its text, one at a time."""
    env = context.env
    view = ReportView(report)
    changes = ChangeViews(view)
    site = SiteView(
        organisation=report.organisation,
        period=period(report),
        generated_at=when(report.generated_at),
        tool_version=report.tool_version,
        complete=report.complete,
        downloads=_downloads(context),
    )
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
            data=Markup(json_for_script({"rows": rows})),
            total=len(rows),
            statuses=[s.value for s in Status],
            controls=view.controls,
            repos=[r.name for r in report.repositories],
            categories=sorted({c for facts in report.changes for c in facts.categories}),
        ),
    )
    page = {"root": "../", "site": site}
    control_template = env.get_template("html/control.html")
    for control in view.controls:
        yield control.page, control_template.render(**page, control=control)
    change_template = env.get_template("html/change.html")
    for facts in report.changes:
        change = changes.change(facts)
        yield change.page, change_template.render(**page, change=change)
    for name in ASSETS:
        yield f"assets/{name}", read_asset(env, f"html/{name}")
