from __future__ import annotations

import random

import pytest

from auditor.errors import UsageError
from auditor.model import Finding, Status
from auditor.sampling import draw, population, sample_size


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


def test_draw_is_reproducible_from_the_listing() -> None:
    items = findings("CHG-02", 400) + findings("CHG-02", 5, Status.NOT_APPLICABLE)
    sample = draw(items, seed="2025-q1")
    assert sample == draw(list(reversed(items)), seed="2025-q1")
    assert len(sample) == 60
    listing = population(items, "CHG-02")
    assert len(listing) == 400
    rng = random.Random("2025-q1:CHG-02")
    indices = sorted(rng.sample(range(len(listing)), 60))
    assert [(s.index, s.change_id) for s in sample] == [(i, listing[i]) for i in indices]
    assert draw(items, seed="other") != sample


def test_draw_per_control_with_a_given_size() -> None:
    items = findings("CHG-01", 10) + findings("CHG-02", 3)
    sample = draw(items, seed="s", size=5)
    assert [s.control_id for s in sample] == ["CHG-01"] * 5 + ["CHG-02"] * 3
    assert draw(items, seed="s", size=5)[:5] == draw(findings("CHG-01", 10), seed="s", size=5)


def test_repository_findings_and_duplicates_are_not_sampled() -> None:
    repo_level = Finding("INT-02", "infra", "", "", None, Status.FAIL, "")
    twice = findings("CHG-01", 2) + findings("CHG-01", 2)
    assert draw([repo_level], seed="s") == ()
    assert population(twice, "CHG-01") == ["infra@000000000000", "infra@000000000001"]


def test_sample_size_must_be_positive() -> None:
    with pytest.raises(UsageError, match="--sample"):
        draw([], seed="s", size=0)
