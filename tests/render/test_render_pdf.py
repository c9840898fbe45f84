from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportfactory import build_report

from auditor.evidence.report import Report
from auditor.render import Format, RenderOptions, write_pack


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(changes=150, sample=8)


@pytest.fixture(scope="module")
def pack(report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    options = RenderOptions(formats=(Format.PDF, Format.CSV, Format.JSON), pdf_exception_limit=15)
    return write_pack(report, tmp_path_factory.mktemp("pdf") / "pack", options).path


@pytest.fixture(scope="module")
def text(pack: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pack / "report.pdf").pages)


def test_body_shows_controls_counts_and_exceptions(report: Report, text: str) -> None:
    flat = " ".join(text.split())
    for result in report.controls:
        assert f"{result.control.id} — {result.control.title}" in flat
        counts = (result.population, result.passed, result.failed, result.unknown)
        assert " ".join(str(n) for n in counts) in flat
    first = next(
        f for f in report.findings if f.control_id == "CHG-01" and f.status.value == "fail"
    )
    assert first.change_id.split("@")[0] in flat
    assert "Listed: the first 15 of" in flat
    assert "are listed in the attached findings.csv (filter on control_id CHG-01)" in flat
    assert "Sign-off" in flat and "Prepared by" in flat
    assert "<script>window.__xss = 1</script>" in flat
    assert "run the independent_approval check." in flat  # its Markdown code span, as code
    assert "on main & release/<*>." in flat and "`" not in flat


def test_cover_cites_the_evidence_manifest(pack: Path, text: str) -> None:
    manifest = (pack / "MANIFEST.sha256").read_text()
    lines = manifest.splitlines()
    evidence = "".join(line + "\n" for line in lines if not line.endswith("  report.pdf"))
    digest = hashlib.sha256(evidence.encode()).hexdigest()
    assert digest in "".join(text.split())
    assert "csv/findings.csv" in text


def test_pages_bookmarks_metadata_and_attachments(pack: Path, report: Report) -> None:
    reader = PdfReader(pack / "report.pdf")
    pages = len(reader.pages)
    assert 10 < pages < 80
    assert f"Page 1 of {pages}" in reader.pages[0].extract_text()
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[:2] == ["Scope and method", "Executive summary"]
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == "D:20260401093000Z"
    attachments = reader.attachments
    assert {"changes.csv", "findings.csv", "controls.csv", "commits.csv", "sample.csv"} <= set(
        attachments
    )
    assert attachments["findings.csv"][0] == (pack / "csv" / "findings.csv").read_bytes()


def test_contents_page_numbers_point_at_sections(pack: Path) -> None:
    reader = PdfReader(pack / "report.pdf")
    contents = reader.pages[1].extract_text()
    for title, marker in (
        ("Executive summary", "controls were evaluated"),
        ("Sign-off", "Prepared by"),
    ):
        found = re.search(rf"{title}[ .]*(\d+)", contents)
        assert found, contents
        assert marker in reader.pages[int(found.group(1)) - 1].extract_text()


def test_first_page_renders(pack: Path, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm"), "pdftoppm is missing: .ci/run installs poppler-utils"
    command = ["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png"]
    command += [str(pack / "report.pdf"), str(tmp_path / "page")]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    (image,) = tmp_path.glob("page*.png")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.stat().st_size > 2000


def test_attachments_deflated_in_advance_give_the_writers_own_bytes(
    report: Report, pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.render import pdf

    used, original = [], pdf.deflate

    def deflate(data: bytes) -> bytes:
        used.append(len(data))
        return original(data)

    monkeypatch.setattr(pdf, "_with_deflated", lambda deflated: lambda *_: None)  # the writer's
    options = RenderOptions(formats=(Format.PDF, Format.CSV, Format.JSON), pdf_exception_limit=15)
    itself = write_pack(report, tmp_path / "itself", options).path
    assert (itself / "report.pdf").read_bytes() == (pack / "report.pdf").read_bytes()
    monkeypatch.undo()
    monkeypatch.setattr(pdf, "deflate", deflate)
    ahead = write_pack(report, tmp_path / "ahead", options).path
    assert (ahead / "report.pdf").read_bytes() == (pack / "report.pdf").read_bytes()
    assert sorted(used) == sorted(len(p.read_bytes()) for p in (pack / "csv").iterdir())


RIGHT_MARGIN_PT = 16 / 25.4 * 72  # binder.css: @page margin-right 16mm
_WORD = re.compile(
    r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
)


def _words_past_the_margin(pdf: Path) -> list[tuple[int, str]]:
    """Every word of ``pdf`` (page number, text) whose box reaches into the right margin."""
    assert shutil.which("pdftotext"), "pdftotext is missing: .ci/run installs poppler-utils"
    command = ["pdftotext", "-bbox", str(pdf), "-"]
    boxes = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    past = []
    for number, page in enumerate(boxes.split("<page ")[1:], start=1):
        width = float(re.match(r'width="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
        edge = width - RIGHT_MARGIN_PT + 0.5
        past += [(number, w.group(2)) for w in _WORD.finditer(page) if float(w.group(1)) > edge]
    return past


def test_statuses_are_words_and_every_table_fits_the_page(tmp_path: Path) -> None:
    built = build_report(changes=20, sample=3)
    first = built.controls[0]
    idle = replace(first, passed=0, failed=0, unknown=0, waived=0, not_applicable=123456)
    report = replace(built, controls=(idle, *built.controls[1:]))
    options = RenderOptions(formats=(Format.PDF,))
    pdf = write_pack(report, tmp_path / "pack", options).path / "report.pdf"
    assert _words_past_the_margin(pdf) == []
    flat = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    row = f"{first.control.id} {first.control.title} {first.population} 0 0 0 123456 0"
    assert f"{row} not applicable" in flat
    assert "not_applicable" not in flat.lower()
