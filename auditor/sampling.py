"""The auditor's sample: a deterministic draw from each control's population.

Population
    For a control, the distinct ``change_id`` values of its findings whose status is not
    ``not_applicable`` (repository-level findings, which have no change, are not sampled),
    sorted by Python string order (by Unicode code point). ``findings.csv`` filtered to the
    control and those statuses, de-duplicated and sorted by ``change_id``, is the listing.

Size
    ``size`` when given (capped at the population); otherwise from the population by
    :data:`SIZE_TABLE`, which follows the frequency-based guidance commonly used for SOC 2
    tests of operating effectiveness of manual controls (a control operating annually: 1;
    quarterly: 2; monthly: 2 to 3; weekly: 5 to 15; daily: 25; many times a day: 25 to 60),
    taking the upper end of each range, and never more than the population.

Draw
    With CPython 3.11 or later::

        rng = random.Random(f"{seed}:{control_id}")
        indices = sorted(rng.sample(range(len(population)), size))

    ``index`` of each :class:`SampleItem` is the 0-based position in the sorted listing. Seeding
    ``random.Random`` with a string is stable across runs and platforms (it hashes the string
    with SHA-512), so anyone with the listing, the seed and the control id re-draws the sample.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from auditor.errors import UsageError
from auditor.model import Finding, Status
from auditor.report import SampleItem

SIZE_TABLE: tuple[tuple[int, int, str], ...] = (
    (1, 1, "annual"),
    (4, 2, "quarterly"),
    (12, 3, "monthly"),
    (52, 15, "weekly"),
    (365, 25, "daily"),
)
MANY_PER_DAY = 60


def sample_size(population: int) -> int:
    """The sample size for a population of ``population`` items, by :data:`SIZE_TABLE`."""
    if population <= 0:
        return 0
    for upper, size, _ in SIZE_TABLE:
        if population <= upper:
            return min(size, population)
    return MANY_PER_DAY


def population(findings: Iterable[Finding], control_id: str) -> list[str]:
    """The sorted, distinct change ids of a control's findings that are not not_applicable."""
    return _populations(findings).get(control_id, [])


def _populations(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """:func:`population` of every control that has findings, in one pass."""
    changes: dict[str, set[str]] = {}
    for f in findings:
        ids = changes.setdefault(f.control_id, set())
        if f.change_id and f.status is not Status.NOT_APPLICABLE:
            ids.add(f.change_id)
    return {control_id: sorted(ids) for control_id, ids in changes.items()}


def draw(
    findings: Iterable[Finding], *, seed: str, size: int | None = None
) -> tuple[SampleItem, ...]:
    """The sample of every control with findings, controls in id order, items in index order."""
    if size is not None and size < 1:
        raise UsageError(f"--sample: expected a positive number, got {size}")
    items: list[SampleItem] = []
    for control_id, listing in sorted(_populations(findings).items()):
        count = min(size, len(listing)) if size is not None else sample_size(len(listing))
        rng = random.Random(f"{seed}:{control_id}")
        for index in sorted(rng.sample(range(len(listing)), count)):
            items.append(SampleItem(control_id, listing[index], index))
    return tuple(items)
