"""Huge texts: a table cell shows the first characters, the change's page all of them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from reportfactory import build_report
from test_render_html import CHROMIUM, CHROMIUM_ARGS

from auditor.evidence.report import Report
from auditor.model import Status
from auditor.render import Format, RenderOptions, write_pack
from auditor.render.text import CELL_LIMIT, LONG_CELL_LIMIT
from auditor.render.views import change_page, control_page

HUGE = "A" * 2_000_000  # one 2 MB line without a break opportunity
LOAD_BOUND_MS = 30_000  # a page took over 120 s before the cap; now well under a second


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path, str]:
    report = build_report(changes=40)
    failing = {f.change_id for f in report.findings if f.status is Status.FAIL}
    index = next(i for i, f in enumerate(report.changes) if f.change_id in failing)
    facts = report.changes[index]
    commit = replace(facts.change.commit, subject=HUGE)
    commits = (*(replace(c, subject=HUGE) for c in facts.commits[:1]), *facts.commits[1:])
    facts = replace(facts, change=replace(facts.change, commit=commit), commits=commits)
    changes = (*report.changes[:index], facts, *report.changes[index + 1 :])
    report = replace(report, changes=changes)
    options = RenderOptions(formats=(Format.HTML,))
    site = write_pack(report, tmp_path_factory.mktemp("huge") / "pack", options).path
    return report, site, facts.change_id


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    import playwright.sync_api as playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: .ci/run installs Debian's chromium"
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _controls_listing(report: Report, change_id: str) -> list[str]:
    return sorted(
        {
            control_page(f.control_id)
            for f in report.findings
            if f.change_id == change_id and f.status is not Status.PASS
        }
    )


def test_tables_carry_the_cut_text_and_the_change_page_all_of_it(
    huge: tuple[Report, Path, str],
) -> None:
    report, site, change_id = huge
    cut = "A" * (CELL_LIMIT - 1) + "…"
    changes = (site / "changes.html").read_text(encoding="utf-8")
    assert cut in changes and "A" * CELL_LIMIT not in changes
    for page in _controls_listing(report, change_id):
        text = (site / page).read_text(encoding="utf-8")
        assert cut in text and "A" * CELL_LIMIT not in text, page
    own = (site / change_page(change_id)).read_text(encoding="utf-8")
    assert f'<h1 class="subject">{HUGE}</h1>' in own
    assert f"<td>{'A' * (LONG_CELL_LIMIT - 1)}…</td>" in own  # its commits table, at more


def test_pages_with_a_huge_subject_load_quickly_in_a_browser(
    browser: Any, huge: tuple[Report, Path, str]
) -> None:
    report, site, change_id = huge
    pages = ["changes.html", *_controls_listing(report, change_id), change_page(change_id)]
    assert len(pages) >= 3
    page = browser.new_page()
    page.set_default_timeout(LOAD_BOUND_MS)
    for name in pages:
        started = time.monotonic()
        page.goto((site / name).as_uri(), timeout=LOAD_BOUND_MS)
        page.locator("h1").first.wait_for()
        page.evaluate("() => document.body.getBoundingClientRect().height")  # laid out
        elapsed = time.monotonic() - started
        assert elapsed * 1000 < LOAD_BOUND_MS, (name, elapsed)
    from playwright.sync_api import expect

    page.goto((site / "changes.html").as_uri())
    page.fill("#f-q", "a" * 50)  # the search finds it by what the table shows
    expect(page.locator("#count")).to_have_text(f"1 of {len(report.changes)} changes match")
    assert page.locator("#rows tr td.subject").inner_text() == "A" * (CELL_LIMIT - 1) + "…"
