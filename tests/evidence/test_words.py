from __future__ import annotations

import json
import re
from pathlib import Path

from pypdf import PdfReader
from reportfactory import build_report

from auditor.evidence.words import counted, noun
from auditor.render import Format, RenderOptions, write_pack

PLURAL_AFTER_ONE = re.compile(
    r"\b1 (changes|repositories|commits|files|items|exceptions|controls|problems)\b"
)


def test_counts_take_the_noun_their_number_asks_for() -> None:
    assert [counted(n, "change") for n in (0, 1, 2)] == ["0 changes", "1 change", "2 changes"]
    assert [counted(n, "repository") for n in (1, 3)] == ["1 repository", "3 repositories"]
    assert counted(2, "day") == "2 days"  # a vowel before the y: a regular plural
    assert [noun(n, "was", "were") for n in (1, 2)] == ["was", "were"]


def test_a_pack_of_one_change_in_one_repository_says_so_in_the_singular(tmp_path: Path) -> None:
    report = build_report(changes=1, sample=1, repos=1)
    formats = (Format.PDF, Format.HTML, Format.OSCAL)
    pack = write_pack(report, tmp_path / "pack", RenderOptions(formats=formats)).path
    pdf = " ".join(
        " ".join(page.extract_text() for page in PdfReader(pack / "report.pdf").pages).split()
    )
    html = " ".join(
        re.sub(r"<[^>]*>", " ", page.read_text(encoding="utf-8")) for page in pack.rglob("*.html")
    )
    oscal = json.dumps(json.loads((pack / "oscal" / "assessment-results.json").read_text()))
    for text in (pdf, " ".join(html.split()), oscal):
        assert PLURAL_AFTER_ONE.findall(text) == []
    assert "Results over a population of 1 change:" in pdf
    assert "an audited branch of 1 repository during" in pdf
    assert "1 change brought in 1 commit." in pdf
    assert "population of 1 change, 1 drawn:" in pdf  # each control's draw
    assert "1 change 1 commit" in " ".join(html.split())
    assert "over 1 change of 1 repository." in oscal
