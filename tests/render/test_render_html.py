from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import replace as changed
from pathlib import Path
from typing import Any

import pytest
from reportfactory import LONG_TOKEN, XSS_AUTHOR, XSS_SUBJECT, build_report

from auditor.evidence.report import ConfigRecord, ParameterScope, Report
from auditor.evidence.words import status_text
from auditor.model import ReviewEvidence, Status
from auditor.render import Format, RenderOptions, write_pack
from auditor.render.text import markdown_inline
from auditor.render.views import request_note, worst

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(changes=260)


@pytest.fixture(scope="module")
def site(report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    options = RenderOptions(formats=(Format.HTML, Format.CSV))
    return write_pack(report, tmp_path_factory.mktemp("html") / "pack", options).path


def _change_page(site: Path, report: Report, predicate: Any) -> str:
    facts = next(f for f in report.changes if predicate(f))
    (page,) = [p for p in (site / "changes").iterdir() if facts.change.sha[:12] in p.name]
    return page.read_text(encoding="utf-8")


def test_hostile_strings_are_escaped_and_made_visible(site: Path, report: Report) -> None:
    xss = _change_page(site, report, lambda f: f.change.commit.subject == XSS_SUBJECT)
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in xss
    assert "<script>window" not in xss
    rlo = _change_page(site, report, lambda f: any("\u202e" in c.path for c in f.change.files))
    assert "⟨U+202E⟩" in rlo and "\u202e" not in rlo
    assert "⟨U+0007⟩" in rlo and "\x07" not in rlo
    assert LONG_TOKEN in rlo
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "Content-Security-Policy" in text
        assert not re.search(r"<[^>]+\son[a-z]+=", text), page
        assert "javascript:" not in text


def test_table_data_cannot_close_its_script(site: Path, report: Report) -> None:
    text = (site / "changes.html").read_text(encoding="utf-8")
    blob = re.search(
        r'<script type="application/json" id="changes-data">(.*?)</script>', text, re.S
    )
    assert blob is not None
    assert "<" not in blob.group(1)
    rows = json.loads(blob.group(1))["rows"]
    assert len(rows) == len(report.changes)
    assert any(r["subject"] == XSS_SUBJECT for r in rows)


def test_pages_per_control_and_change(site: Path, report: Report) -> None:
    assert len(list((site / "changes").iterdir())) == len(report.changes)
    assert len(list((site / "controls").iterdir())) == len(report.controls)
    control = (site / "controls" / "CHG-01.html").read_text(encoding="utf-8")
    first = report.controls[0]
    assert f"Exceptions ({first.failed + first.unknown + first.waived})" in control
    assert "WVR-001" in control
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "nist-800-53" in index and "CM-3(2)" in index
    assert 'href="csv/changes.csv"' in index


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    import playwright.sync_api as playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: .ci/run installs Debian's chromium"
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_changes_table_in_a_browser(browser: Any, site: Path, report: Report) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog {d.message}"), d.dismiss()))
    total = len(report.changes)
    count = page.locator("#count")

    page.goto((site / "index.html").as_uri())
    assert page.locator("h1").inner_text() == "Audit overview"
    page.goto((site / "changes.html").as_uri())
    assert count.inner_text() == f"{total} of {total} changes match"
    assert page.locator("#rows tr").count() == 100
    assert page.locator("#pageinfo").inner_text() == f"page 1 of {(total + 99) // 100}"

    by_change: dict[str, list[Status]] = {}
    for finding in report.findings:
        by_change.setdefault(finding.change_id, []).append(finding.status)
    failing = sum(1 for s in by_change.values() if worst(s) is Status.FAIL)
    page.select_option("#f-status", "fail")
    assert count.inner_text() == f"{failing} of {total} changes match"
    page.select_option("#f-control", "CHG-01")
    chg01 = sum(1 for f in report.findings if f.control_id == "CHG-01" and f.status is Status.FAIL)
    assert count.inner_text() == f"{chg01} of {total} changes match"
    page.select_option("#f-status", "")
    page.select_option("#f-control", "")
    page.select_option("#f-repo", "infra-live")
    in_repo = sum(1 for f in report.changes if f.repo == "infra-live")
    assert count.inner_text() == f"{in_repo} of {total} changes match"
    page.select_option("#f-category", "secrets")
    both = sum(1 for f in report.changes if f.repo == "infra-live" and "secrets" in f.categories)
    assert count.inner_text() == f"{both} of {total} changes match"
    page.select_option("#f-repo", "")
    page.select_option("#f-category", "")
    page.fill("#f-q", "mallory")
    mallory = sum(1 for f in report.changes if f.authors[0].display == XSS_AUTHOR)
    expect(count).to_have_text(f"{mallory} of {total} changes match")
    page.fill("#f-q", "")
    expect(count).to_have_text(f"{total} of {total} changes match")

    page.click("th button[data-sort='req']")
    requests = page.locator("#rows tr td:nth-child(6)").all_inner_texts()
    numbers = [int(r[1:]) if r else -1 for r in requests]
    assert numbers == sorted(numbers)
    page.click("th button[data-sort='req']")
    numbers = [int(r[1:]) for r in page.locator("#rows tr td:nth-child(6)").all_inner_texts()]
    assert numbers == sorted(numbers, reverse=True)
    page.click("#next")
    assert page.locator("#pageinfo").inner_text().startswith("page 2 of")

    page.fill("#f-q", "<script>window.__xss = 1</script> fix")
    expect(count).to_have_text(f"1 of {total} changes match")
    assert page.locator("#rows tr td.subject").inner_text() == XSS_SUBJECT
    page.click("#rows tr a")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == XSS_SUBJECT
    assert "Review timeline" in page.content()
    assert page.evaluate("typeof window.__xss") == "undefined"
    page.goto((site / "changes.html").as_uri())
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert problems == []


def test_change_page_lists_resource_changes_escaped(report: Report, tmp_path: Path) -> None:
    from dataclasses import replace

    from auditor.infra.model import (
        AttributeChange,
        Category,
        FileAnalysis,
        FileKind,
        Operation,
        ResourceChange,
        ResourceKind,
    )

    group = ResourceChange(
        address='aws_security_group.web<img src=x onerror="1">',
        kind=ResourceKind.RESOURCE,
        operation=Operation.MODIFIED,
        type="aws_security_group",
        changed_attributes=(AttributeChange("ingress.0.from_port", "443", "22"),),
    )
    analysed = FileAnalysis(
        "network/sg.tf", None, FileKind.TERRAFORM, frozenset({Category.NETWORK}), (group,)
    )
    first = replace(report.changes[0], infra_files=(analysed,))
    pack = write_pack(
        replace(report, changes=(first, *report.changes[1:])),
        tmp_path / "pack",
        RenderOptions(formats=(Format.HTML,)),
    )
    page = _change_page(pack.path, report, lambda f: f.change.sha == first.change.sha)
    assert "<h2>Resources (1)</h2>" in page
    assert "aws_security_group.web&lt;img src=x onerror=&#34;1&#34;&gt;" in page
    assert "ingress.0.from_port: 443 → 22" in page
    # The PDF's exception lines name the resources too.
    from auditor.render.views import ReportView

    with_resources = replace(report, changes=(first, *report.changes[1:]))
    finding = next(f for f in report.findings if f.change_id == first.change_id)
    line = ReportView(with_resources).exception(finding).resources
    assert line == 'aws_security_group.web<img src=x onerror="1"> (modified)'


def test_change_pages_written_by_worker_processes_are_the_same_bytes(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor import forked
    from auditor.render import html

    options = RenderOptions(formats=(Format.HTML,))
    monkeypatch.setattr(html, "PARALLEL_MIN_CHANGES", 10**9)
    serial = write_pack(report, tmp_path / "serial", options).files
    monkeypatch.setattr(html, "PARALLEL_MIN_CHANGES", 50)
    monkeypatch.setattr(html, "available_cores", lambda: 3)
    monkeypatch.setattr(forked, "available_cores", lambda: 3)
    forks: list[int] = []
    monkeypatch.setattr(forked, "ProcessPoolExecutor", _Counting(forked.ProcessPoolExecutor, forks))
    parallel = write_pack(report, tmp_path / "parallel", options).files
    assert forks == [3]
    assert len([name for name, _ in serial if name.startswith("changes/")]) == len(report.changes)
    assert parallel == serial


class _Counting:
    """A stand-in for ProcessPoolExecutor that records how many workers were asked for."""

    def __init__(self, real: Any, calls: list[int]) -> None:
        self.real, self.calls = real, calls

    def __call__(self, workers: int, **kw: Any) -> Any:
        self.calls.append(workers)
        return self.real(workers, **kw)


def test_request_note_says_direct_push_only_when_forge_data_links_no_request() -> None:
    base = build_report(changes=5).changes[0]
    linked = changed(base, request_number=12, request_unconfirmed=False)
    assert request_note(linked) == ""
    named = changed(base, request_number=12, request_unconfirmed=True)
    notes = {e: request_note(changed(named, evidence=e)) for e in ReviewEvidence}
    assert notes == {
        ReviewEvidence.FORGE: (
            "named in the message; the forge did not merge this commit through it"
        ),
        ReviewEvidence.TRAILERS: "named in the message; its review trailers do not confirm it",
        ReviewEvidence.NONE: "named in the message; no review data to confirm it",
        ReviewEvidence.MISSING: "named in the message; missing from the review data",
    }
    unnamed = changed(base, request_number=None, request_unconfirmed=False)
    direct = {e: request_note(changed(unnamed, evidence=e)) for e in ReviewEvidence}
    assert direct[ReviewEvidence.FORGE] == "none (direct push)"
    others = {v for e, v in direct.items() if e is not ReviewEvidence.FORGE}
    assert others == {"none named; no review data to tell a direct push from a rebase merge"}


def test_overrides_and_the_config_are_shown_escaped(report: Report, tmp_path: Path) -> None:
    hostile = "apps/<script>window.__xss = 1</script>/**"
    overridden = dataclasses.replace(
        report,
        overrides=(
            ParameterScope("CHG-01", {"allow": ["^bot@x$"]}, ("infra-live",), (hostile,), 7),
        ),
        config=ConfigRecord("auditor.toml", "ab" * 32, 'organisation = "<b>Acme</b>"\n'),
    )
    options = RenderOptions(formats=(Format.HTML, Format.JSON))
    pack = write_pack(overridden, tmp_path / "pack", options).path
    page = (pack / "controls" / "CHG-01.html").read_text(encoding="utf-8")
    assert "Override for repositories infra-live; changes touching apps/&lt;script&gt;" in page
    assert "<script>window" not in page
    assert "<code>allow = [&#34;^bot@x$&#34;]</code>" in page and "matched 7 changes" in page
    assert (pack / "config.toml").read_text(encoding="utf-8") == 'organisation = "<b>Acme</b>"\n'
    manifest = (pack / "MANIFEST.sha256").read_text(encoding="utf-8")
    assert "  config.toml\n" in manifest, "the copy is covered by the manifest"
    document = json.loads((pack / "evidence.json").read_text(encoding="utf-8"))
    assert document["config"]["sha256"] == "ab" * 32
    assert document["overrides"][0]["paths"] == [hostile]


def test_statuses_read_as_words_on_every_page(site: Path) -> None:
    shown = set()
    for page in site.rglob("*.html"):
        text = re.sub(
            r"<script.*?</script>|<[^>]*>", " ", page.read_text(encoding="utf-8"), flags=re.S
        )
        assert "not_applicable" not in text, page
        shown |= {s.value for s in Status if f">{status_text(s)}<" in page.read_text("utf-8")}
    assert shown == {s.value for s in Status}


def test_status_text_names_every_status() -> None:
    words = {status: status_text(status) for status in Status}
    assert words[Status.NOT_APPLICABLE] == "not applicable"
    assert all(status_text(s.value) == w for s, w in words.items())
    assert len(set(words.values())) == len(Status)


def test_markdown_code_spans_are_escaped_then_marked_up() -> None:
    assert markdown_inline("run `git log --show-signature` on `<b>` & a lone ` tick") == (
        "run <code>git log --show-signature</code> on <code>&lt;b&gt;</code> &amp; a lone ` tick"
    )
    assert markdown_inline("`\u202e`") == "<code>⟨U+202E⟩</code>"


def test_control_texts_print_their_code_spans_as_code(site: Path) -> None:
    page = (site / "controls" / "CHG-01.html").read_text(encoding="utf-8")
    assert "on <code>main</code> &amp; <code>release/&lt;*&gt;</code>." in page
    assert "run the <code>independent_approval</code> check." in page
    assert "`" not in re.sub(r"<script.*?</script>", "", page, flags=re.S)


def test_changes_table_keeps_its_filters_in_the_address(
    browser: Any, site: Path, report: Report
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    total = len(report.changes)
    page.goto((site / "changes.html").as_uri())
    page.select_option("#f-status", "fail")
    page.fill("#f-q", " E ")
    expect(page).to_have_url(re.compile("#q=E&status=fail$"))  # the search waits for typing
    matching = int(page.locator("#count").inner_text().split()[0])
    assert 100 < matching < total  # two pages, fewer than every change
    page.click("th button[data-sort='req']")
    page.click("#next")
    shown = page.locator("#rows tr td:nth-child(1)").all_inner_texts()
    assert page.evaluate("location.hash") == "#q=E&status=fail&sort=req&dir=asc&page=2"

    page.click("#rows tr a >> nth=0")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() != "Changes"
    page.go_back()
    page.wait_for_load_state()
    for where in ("after Back", "after a reload"):
        assert page.input_value("#f-q") == "E", where
        assert page.input_value("#f-status") == "fail", where
        assert page.locator("#count").inner_text() == f"{matching} of {total} changes match"
        assert page.locator("#pageinfo").inner_text() == "page 2 of 2", where
        assert page.locator("#rows tr td:nth-child(1)").all_inner_texts() == shown, where
        assert page.get_attribute("th:has(button[data-sort='req'])", "aria-sort") == "ascending"
        page.reload()

    page.select_option("#f-status", "")
    page.fill("#f-q", "")
    expect(page).to_have_url(re.compile("changes.html#sort=req&dir=asc$"))
    page.goto((site / "changes.html").as_uri() + "#status=bogus&page=x&sort=nope")
    assert page.input_value("#f-status") == ""  # a value no option has is dropped
    assert page.locator("#count").inner_text() == f"{total} of {total} changes match"
    assert page.locator("#pageinfo").inner_text().startswith("page 1 of")
    assert problems == []


def test_the_sample_page_exists_only_with_a_sample(
    site: Path, report: Report, tmp_path: Path
) -> None:
    page = (site / "sample.html").read_text(encoding="utf-8")
    assert f"{len(report.sample)} items drawn with seed “{report.sample_seed}”" in page
    assert page.count('<tr><td class="num">') == len(report.sample)  # a row per drawn item
    options = RenderOptions(formats=(Format.HTML,))
    bare = write_pack(changed(report, sample=()), tmp_path / "pack", options).path
    assert not (bare / "sample.html").exists()
    assert "sample.html" not in (bare / "index.html").read_text(encoding="utf-8")
