from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import subprocess
from pathlib import Path

import pytest
from reportfactory import build_report

from auditor.errors import UsageError
from auditor.evaluation.sampling import (
    POPULATIONS_FILE,
    draw,
    draw_key,
    pipeline,
    pipeline_lines,
    population,
    sample_size,
)
from auditor.evidence.report import Report
from auditor.model import Finding, Status
from auditor.render.csv import tables


def findings(control: str, count: int, status: Status = Status.PASS) -> list[Finding]:
    return [
        Finding(control, "infra", f"infra@{i:012x}", f"{i:040x}", None, status, "")
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("size", "expected"),
    [(0, 0), (1, 1), (2, 2), (4, 2), (5, 3), (12, 3), (13, 13), (52, 15), (53, 25), (365, 25)],
)
def test_size_table(size: int, expected: int) -> None:
    assert sample_size(size) == expected


def test_size_for_many_per_day() -> None:
    assert sample_size(366) == 60
    assert sample_size(100_000) == 60


def test_draw_key_is_the_sha256_of_seed_control_and_change() -> None:
    expected = hashlib.sha256(b"2025-q1:CHG-02:infra@00000000002a").hexdigest()
    assert draw_key("2025-q1", "CHG-02", "infra@00000000002a") == expected


def test_draw_takes_the_lowest_draw_keys_with_1_based_positions() -> None:
    items = findings("CHG-02", 400) + findings("CHG-02", 5, Status.NOT_APPLICABLE)
    sample = draw(items, seed="2025-q1")
    assert sample == draw(list(reversed(items)), seed="2025-q1"), "independent of input order"
    assert len(sample) == 60
    listing = population(items, "CHG-02")
    assert len(listing) == 400
    ranked = sorted((draw_key("2025-q1", "CHG-02", c), c) for c in listing)
    assert [(s.position, s.change_id) for s in sample] == [
        (n, change) for n, (_, change) in enumerate(ranked[:60], start=1)
    ]
    assert draw(items, seed="other") != sample


def test_draw_per_control_with_a_given_size() -> None:
    items = findings("CHG-01", 10) + findings("CHG-02", 3)
    sample = draw(items, seed="s", size=5)
    assert [s.control_id for s in sample] == ["CHG-01"] * 5 + ["CHG-02"] * 3
    assert [s.position for s in sample] == [1, 2, 3, 4, 5, 1, 2, 3]
    assert draw(items, seed="s", size=5)[:5] == draw(findings("CHG-01", 10), seed="s", size=5)


def test_a_larger_sample_keeps_the_smaller_one() -> None:
    items = findings("CHG-01", 50)
    assert draw(items, seed="s", size=10)[:4] == draw(items, seed="s", size=4)


def test_repository_findings_and_duplicates_are_not_sampled() -> None:
    repo_level = Finding("INT-02", "infra", "", "", None, Status.FAIL, "")
    twice = findings("CHG-01", 2) + findings("CHG-01", 2)
    assert draw([repo_level], seed="s") == ()
    assert population(twice, "CHG-01") == ["infra@000000000000", "infra@000000000001"]


def test_sample_size_must_be_positive() -> None:
    with pytest.raises(UsageError, match="--sample"):
        draw([], seed="s", size=0)


def _redraw(report: Report, where: Path) -> dict[str, list[str]]:
    """Each control's sample as the printed pipeline draws it from the pack's populations.csv."""
    (where / "csv").mkdir(parents=True, exist_ok=True)
    (where / POPULATIONS_FILE).write_bytes(tables(report)[POPULATIONS_FILE])
    sizes: dict[str, int] = {}
    for item in report.sample:
        sizes[item.control_id] = sizes.get(item.control_id, 0) + 1
    drawn = {}
    for control, size in sizes.items():
        one_line = pipeline(report.sample_seed, control, size)
        as_printed = "\n".join(pipeline_lines(report.sample_seed, control, size))  # the PDF's
        outputs = {
            subprocess.run(
                ["sh", "-c", command], cwd=where, capture_output=True, text=True, check=True
            ).stdout
            for command in (one_line, as_printed)
        }
        assert len(outputs) == 1, "copied from the PDF's lines, the pipeline draws the same"
        drawn[control] = [line.split(" ", 1)[1] for line in outputs.pop().splitlines()]
    return drawn


@pytest.mark.parametrize("seed", ["7", "", 'it\'s "$(touch pwned)" `x` \\ ;|'])
def test_the_shell_pipeline_redraws_the_sample(tmp_path: Path, seed: str) -> None:
    report = build_report(changes=80, sample=0)
    report = dataclasses.replace(
        report, sample=draw(report.findings, seed=seed, size=4), sample_seed=seed, sample_size=4
    )
    drawn = _redraw(report, tmp_path)
    assert len(drawn) == len({f.control_id for f in report.findings if f.change_id}) > 1
    for control, changes in drawn.items():
        assert changes == [i.change_id for i in report.sample if i.control_id == control]
    assert not (tmp_path / "pwned").exists(), "the seed is quoted, never run"


def test_populations_csv_lists_every_member_with_its_rank() -> None:
    report = build_report(changes=60, sample=3)
    rows = list(csv.DictReader(io.StringIO(tables(report)[POPULATIONS_FILE].decode())))
    for control in {r["control_id"] for r in rows}:
        members = [r for r in rows if r["control_id"] == control]
        keys = [r["draw_key"] for r in members]
        assert keys == sorted(keys), "listed by position"
        assert [int(r["position"]) for r in members] == list(range(1, len(members) + 1))
        assert {r["change_id"] for r in members} == set(population(report.findings, control))
        sampled = [r["change_id"] for r in members if r["sampled"] == "true"]
        assert sampled == [i.change_id for i in report.sample if i.control_id == control]
        assert all(
            r["draw_key"] == draw_key(report.sample_seed, control, r["change_id"]) for r in members
        )
