"""The pictures: inline SVG of the results, the weeks and the time from approval to merge."""

from __future__ import annotations

import dataclasses
import subprocess
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from reportfactory import XSS_SUBJECT, build_report

from auditor.evidence.report import ChangeRun, Report
from auditor.model import Status
from auditor.render import RenderOptions, parse_formats, write_pack
from auditor.render.pictures import (
    BAR_WIDTH,
    BINS,
    COLOURS,
    _bin,
    approval_to_merge,
    changes_per_week,
    control_results,
    pictures,
)
from auditor.render.views import EXCEPTION_STATUSES

SVG = "{http://www.w3.org/2000/svg}"


def _tree(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def _groups(root: ET.Element, key: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if key in g.attrib]


def test_each_controls_bar_adds_up_to_its_totals() -> None:
    report = build_report(changes=80)
    root = _tree(control_results(report).svg)
    groups = {g.attrib["data-control"]: g for g in _groups(root, "data-control")}
    assert list(groups) == [r.control.id for r in report.controls]
    for result in report.controls:
        group = groups[result.control.id]
        segments = list(group.iter(f"{SVG}rect"))
        drawn = {Status(s.attrib["data-status"]): int(s.attrib["data-count"]) for s in segments}
        expected = {
            Status.PASS: result.passed,
            Status.FAIL: result.failed,
            Status.UNKNOWN: result.unknown,
            Status.NOT_APPLICABLE: result.not_applicable,
            Status.WAIVED: result.waived,
        }
        assert drawn == {s: n for s, n in expected.items() if n}
        assert int(group.attrib["data-total"]) == sum(expected.values())
        widths = sum(float(s.attrib["width"]) for s in segments)
        assert widths == pytest.approx(BAR_WIDTH, abs=0.011)
        for segment in segments:  # each segment as wide as its share, in its status's colour
            share = int(segment.attrib["data-count"]) / sum(expected.values())
            assert float(segment.attrib["width"]) == pytest.approx(share * BAR_WIDTH, abs=0.02)
            assert segment.attrib["fill"] == COLOURS[Status(segment.attrib["data-status"])]


def test_a_control_with_no_results_draws_an_empty_bar() -> None:
    report = build_report(changes=10)
    first = dataclasses.replace(
        report.controls[0], population=0, passed=0, failed=0, unknown=0, not_applicable=0, waived=0
    )
    root = _tree(control_results(dataclasses.replace(report, controls=(first,))).svg)
    (group,) = _groups(root, "data-control")
    (rect,) = group.iter(f"{SVG}rect")
    assert rect.attrib["data-count"] == "0" and rect.attrib["fill"] == "none"


def test_weeks_add_up_to_the_changes_and_their_exceptions() -> None:
    report = build_report(changes=120)
    picture = changes_per_week(report)
    weeks = _groups(_tree(picture.svg), "data-week")
    assert len(weeks) == 14  # 2026-01-01 (a Thursday's week) to 2026-03-31
    assert sum(int(g.attrib["data-changes"]) for g in weeks) == len(report.changes)
    flagged = {
        f.change_id for f in report.findings if f.change_id and f.status in EXCEPTION_STATUSES
    }
    assert sum(int(g.attrib["data-exceptions"]) for g in weeks) == len(flagged)
    table = {row[0]: (int(row[2]), int(row[3])) for row in picture.rows}
    for group in weeks:
        counts = (int(group.attrib["data-changes"]), int(group.attrib["data-exceptions"]))
        assert table.get(group.attrib["data-week"], (0, 0)) == counts
    assert weeks[0].attrib["data-week"] == "2026-W01"


@pytest.mark.parametrize(
    ("lag", "label"),
    [
        (timedelta(minutes=59), "under 1 hour"),
        (timedelta(hours=1), "1 to 4 hours"),
        (timedelta(hours=23, minutes=59), "4 to 24 hours"),
        (timedelta(days=3), "3 to 7 days"),
        (timedelta(days=7), "7 days or more"),
        (timedelta(days=400), "7 days or more"),
    ],
)
def test_bins(lag: timedelta, label: str) -> None:
    assert BINS[_bin(lag)][0] == label


def test_the_approval_distribution_counts_every_change_once() -> None:
    report = build_report(changes=90)
    drawn = {p.id: p for p in pictures(report)}
    assert "pic-merge-deploy" not in drawn  # no deployment data: not drawn
    picture = drawn["pic-approval-merge"]
    bins = _groups(_tree(picture.svg), "data-bin")
    measured = [approval_to_merge(f) for f in report.changes]
    known = [lag for lag in measured if lag is not None]
    assert known and sum(int(g.attrib["data-count"]) for g in bins) == len(known)
    assert [int(row[1]) for row in picture.rows] == [int(g.attrib["data-count"]) for g in bins]
    missing = len(measured) - len(known)
    assert f"{missing} change" in picture.caption
    for facts in report.changes:
        lag = approval_to_merge(facts)
        if lag is not None:
            assert lag >= timedelta(0) and facts.merged_at is not None


def test_no_script_no_style_and_text_is_escaped() -> None:
    report = build_report(changes=30)
    hostile = dataclasses.replace(report.controls[0].control, id=XSS_SUBJECT)
    report = dataclasses.replace(
        report, controls=(dataclasses.replace(report.controls[0], control=hostile),)
    )
    texts = []
    for picture in pictures(report):
        root = _tree(picture.svg)  # well-formed: nothing the report holds became mark-up
        for element in root.iter():
            tag = element.tag.removeprefix(SVG)
            assert tag in {"svg", "title", "desc", "g", "rect", "text", "line"}, tag
            assert not [a for a in element.attrib if a.startswith("on") or a == "style"]
            assert not [a for a in element.attrib if "href" in a]
            texts.append(element.text or "")
    assert XSS_SUBJECT in texts  # the control id, drawn as text


def test_two_renders_are_byte_identical() -> None:
    one = [str(p.svg) for p in pictures(build_report(changes=50))]
    two = [str(p.svg) for p in pictures(build_report(changes=50))]
    assert one == two


def _pack(tmp_path: Path, report: Report, formats: str) -> Path:
    return write_pack(report, tmp_path / "pack", RenderOptions(formats=parse_formats(formats))).path


def test_the_overview_shows_each_picture_with_its_numbers(tmp_path: Path) -> None:
    report = build_report(changes=40)
    index = (_pack(tmp_path, report, "html") / "index.html").read_text(encoding="utf-8")
    for picture in pictures(report):
        assert str(picture.svg) in index
        assert f'<figure class="picture" id="{picture.id}">' in index
        assert f'aria-describedby="{picture.id}-numbers"' in index
        for row in picture.rows:
            assert "".join(f"<td>{cell}</td>" for cell in row[:1]) in index


def test_the_pdf_summary_draws_them(tmp_path: Path) -> None:
    report = build_report(changes=40)
    pack = _pack(tmp_path, report, "pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pack / "report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pages = text.split("\f")
    number = next(i for i, page in enumerate(pages, 1) if "Results per control" in page)
    assert "Changes per week" in "".join(pages[number - 1 : number + 1])
    out = tmp_path / "summary"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(number), "-l", str(number), str(pack /
         "report.pdf"), str(out)], check=True,
    )  # fmt: skip
    (png,) = tmp_path.glob("summary*.png")
    image = Image.open(png).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    near = {
        status: sum(n for n, rgb in colours if _close(rgb, COLOURS[status]))
        for status in (Status.PASS, Status.FAIL)
    }
    assert all(count > 50 for count in near.values()), near  # the bars are drawn, in colour


def _close(rgb: tuple[int, int, int], hex_colour: str) -> bool:
    want = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= 12 for a, b in zip(rgb, want, strict=True))


def test_merge_to_deployment_is_drawn_from_the_deployment_records() -> None:
    report = build_report(changes=30)
    repo = report.repositories[0].name
    mine = [c for c in report.changes if c.repo == repo]
    runs = tuple(
        ChangeRun(c.change_id, "argocd:prod/app", "app", "prod", c.change.landed_at, minutes)
        for c, minutes in zip(mine[:4], (5, 90, 3000, 20000), strict=True)
    )
    report = dataclasses.replace(report, deployment_repos=(repo,), change_runs=runs)
    drawn = {p.id: p for p in pictures(report)}
    picture = drawn["pic-merge-deploy"]
    bins = {g.attrib["data-bin"]: int(g.attrib["data-count"]) for g in
            _groups(_tree(picture.svg), "data-bin")}  # fmt: skip
    assert bins == {
        "under 1 hour": 1, "1 to 4 hours": 1, "4 to 24 hours": 0, "1 to 3 days": 1,
        "3 to 7 days": 0, "7 days or more": 1,
    }  # fmt: skip
    assert picture.caption.startswith("4 first runs measured")
    assert f"{len(mine) - 4} changes that no deployment record ran, not drawn." in picture.caption
