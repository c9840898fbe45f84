"""How a pack of two repositories reads: repository-level controls name their repository, the
HTML site has a sample page and keeps the changes table's filters in its address."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitrepo import GitRepo
from pypdf import PdfReader

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode

AS_OF = "2026-04-01T00:00:00Z"
LONG = "acme/network-infrastructure-live-eu-west-1"
SHORT = "acme/apps"
PEOPLE = (("Ana Net", "ana@example.com"), ("Ben Ops", "ben@example.com"))


@dataclass(frozen=True)
class Pack:
    path: Path

    def html(self, page: str) -> str:
        return (self.path / page).read_text(encoding="utf-8")

    def pdf(self) -> str:
        text = "\n".join(p.extract_text() for p in PdfReader(self.path / "report.pdf").pages)
        return re.sub(r"\s+", " ", text)


def history(repo: GitRepo, remote: str, changes: int) -> None:
    for i in range(changes):
        files = {f"network/sg{i}.tf": f'resource "aws_security_group" "sg{i}" {{}}\n'}
        repo.commit(f"Open port {i}", files, author=PEOPLE[i % 2])
    repo.git("remote", "add", "origin", f"https://github.com/{remote}.git")


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    """One pack of two repositories (a PDF takes seconds to make)."""
    folder = tmp_path_factory.mktemp("two-repos")
    repos = []
    for name, changes in ((LONG, 6), (SHORT, 3)):
        repo = GitRepo(folder / name.replace("/", "-"))
        history(repo, name, changes)
        repos.append(str(repo.path))
    out = folder / "pack"
    code = run(
        ["report", *repos, "--store", str(folder / "store"), "--out", str(out),
         "--as-of", AS_OF, "--format", "pdf,html,csv", "--sample", "3", "--seed", "s1", "-q"]
    )  # fmt: skip
    assert code == ExitCode.CONTROLS_FAILED  # unsigned commits fail
    return Pack(out)


def test_repository_level_controls_name_each_repository(pack: Pack) -> None:
    page = pack.html("controls/KNW-01.html")
    section = re.sub(r"<[^>]*>", " ", page.split("Results per repository (2)")[1])
    section = " ".join(section.split())
    assert re.search(rf"{LONG} (pass|fail|unknown|not applicable) ", section), section
    assert re.search(rf"{SHORT} (pass|fail|unknown|not applicable) ", section), section
    assert "Results over a population of 1 repository." in " ".join(page.split())  # 1 n/a
    pdf = pack.pdf()
    knw = pdf.split("KNW-01 — ")[-1].split("OPS-01 — ")[0]
    assert "Results over a population of 1 repository:" in knw
    assert "Results per repository (2)" in knw and SHORT in knw
    assert LONG in knw.replace(" ", "")  # a long name wraps after a hyphen


def test_the_changes_tables_control_filter_offers_only_controls_with_change_rows(
    pack: Pack,
) -> None:
    page = pack.html("changes.html")
    select = re.search(r'<select id="f-control">(.*?)</select>', page, re.S)
    assert select is not None
    offered = re.findall(r'<option value="([^"]*)">', select.group(1))
    assert "CHG-01" in offered and "KNW-01" not in offered and "INT-02" not in offered
    note = re.search(r'<p class="muted" id="repository-note">(.*?)</p>', page, re.S)
    assert note is not None
    assert re.findall(r'href="(controls/[^"]+)"', note.group(1)) == [
        "controls/CFG-01.html",
        "controls/INT-02.html",
        "controls/KNW-01.html",
    ]
    assert "judge each repository rather than a change" in note.group(1)


def test_the_site_has_a_sample_page_linking_each_drawn_item(pack: Pack) -> None:
    drawn = list(csv.DictReader(io.StringIO(pack.html("csv/sample.csv"))))
    assert drawn
    page = pack.html("sample.html")
    assert 'href="sample.html">Sample</a>' in pack.html("index.html")
    assert f"{len(drawn)} items drawn with seed “s1”" in page
    for control in {row["control_id"] for row in drawn}:
        assert f'<a href="controls/{control}.html">{control}</a>' in page
    linked = re.findall(r'<a href="(changes/[^"]+\.html)">([^<]+)</a>', page)
    assert sorted(name for _, name in linked) == sorted(row["change_id"] for row in drawn)
    for href, _ in linked:
        assert (pack.path / href).is_file()


def test_the_overview_opens_with_the_scope(pack: Pack) -> None:
    page = pack.html("index.html")
    headings = re.findall(r"<h2>([^<]+)</h2>", page)
    assert headings[0] == "Scope" and headings.index("Controls") > 0
    scope = page.split("<h2>Scope</h2>")[1].split("<h2>")[0]
    assert LONG in scope and SHORT in scope and "Evidence complete:" in scope
