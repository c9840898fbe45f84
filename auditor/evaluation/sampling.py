"""The auditor's sample: a draw from each control's population that anyone can redo.

Population
    For a control, the distinct ``change_id`` values of its findings whose status is not
    ``not_applicable`` (repository-level findings, which have no change, are not sampled).
    ``csv/populations.csv`` lists every member, control by control.

Size
    ``size`` when given (capped at the population); otherwise from the population by
    :data:`SIZE_TABLE`, which follows the frequency-based guidance commonly used for SOC 2
    tests of operating effectiveness of manual controls (a control operating annually: 1;
    quarterly: 2; monthly: 2 to 3; weekly: 5 to 15; daily: 25; many times a day: 25 to 60),
    taking the upper end of each range, and never more than the population.

Draw
    Each member is given its *draw key*: the SHA-256, in lower-case hex, of the UTF-8 text
    ``seed:control_id:change_id``. Members are ranked by draw key (then change id, for a tie no
    one will see); a member's ``position`` is its 1-based rank, and the sample is the members
    at positions 1 to the sample size. :func:`pipeline` spells the same draw as a shell
    pipeline over ``csv/populations.csv`` (``sha256sum``, ``sort``, ``head``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from auditor.errors import UsageError
from auditor.model import Finding, Status

SIZE_TABLE: tuple[tuple[int, int, str], ...] = (
    (1, 1, "annual"),
    (4, 2, "quarterly"),
    (12, 3, "monthly"),
    (52, 15, "weekly"),
    (365, 25, "daily"),
)
MANY_PER_DAY = 60
POPULATIONS_FILE = "csv/populations.csv"


@dataclass(frozen=True)
class Member:
    """One change of a control's population, ranked by its draw key."""

    control_id: str
    change_id: str
    draw_key: str  # sha256("seed:control_id:change_id"), lower-case hex
    position: int  # 1-based rank by draw key
    sampled: bool


@dataclass(frozen=True)
class SampleItem:
    """One item of the auditor's sample: a change drawn from a control's population."""

    control_id: str
    change_id: str
    # 1-based rank by draw key in the population (see :func:`draw`); 0: unknown
    position: int


def sample_size(population: int) -> int:
    """The sample size for a population of ``population`` items, by :data:`SIZE_TABLE`."""
    if population <= 0:
        return 0
    for upper, size, _ in SIZE_TABLE:
        if population <= upper:
            return min(size, population)
    return MANY_PER_DAY


def draw_key(seed: str, control_id: str, change_id: str) -> str:
    """The SHA-256 of ``seed:control_id:change_id`` (UTF-8), lower-case hex."""
    return hashlib.sha256(f"{seed}:{control_id}:{change_id}".encode()).hexdigest()


def population(findings: Iterable[Finding], control_id: str) -> list[str]:
    """The distinct change ids of a control's findings that are not not_applicable, sorted."""
    return _populations(findings).get(control_id, [])


def _populations(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """:func:`population` of every control that has findings, in one pass."""
    changes: dict[str, set[str]] = {}
    for f in findings:
        ids = changes.setdefault(f.control_id, set())
        if f.change_id and f.status is not Status.NOT_APPLICABLE:
            ids.add(f.change_id)
    return {control_id: sorted(ids) for control_id, ids in changes.items()}


def ranked(
    findings: Iterable[Finding], *, seed: str, size: int | None = None
) -> tuple[Member, ...]:
    """Every member of every control's population: controls in id order, members by rank."""
    if size is not None and size < 1:
        raise UsageError(f"--sample: expected a positive number, got {size}")
    members: list[Member] = []
    for control_id, listing in sorted(_populations(findings).items()):
        count = min(size, len(listing)) if size is not None else sample_size(len(listing))
        keyed = sorted((draw_key(seed, control_id, change), change) for change in listing)
        members += (
            Member(control_id, change, key, position, position <= count)
            for position, (key, change) in enumerate(keyed, start=1)
        )
    return tuple(members)


def draw(
    findings: Iterable[Finding], *, seed: str, size: int | None = None
) -> tuple[SampleItem, ...]:
    """The sample of every control with findings, controls in id order, items by position."""
    return tuple(
        SampleItem(m.control_id, m.change_id, m.position)
        for m in ranked(findings, seed=seed, size=size)
        if m.sampled
    )


def pipeline(seed: str, control_id: str, size: int) -> str:
    """The draw of ``control_id`` as one POSIX shell pipeline run in the pack's directory: it
    prints the draw key and change id of the sampled changes, in position order."""
    return " ".join(pipeline_lines(seed, control_id, size))


def pipeline_lines(seed: str, control_id: str, size: int) -> tuple[str, ...]:
    """:func:`pipeline` cut where a line break changes nothing for the shell (after ``|`` or
    ``do``), so that it can be printed on several lines and copied back from them."""
    prefix = _single_quoted(f"{seed}:{control_id}:")
    return (
        f"awk -F, -v c={_single_quoted(control_id)} 'NR > 1 && $1 == c {{ print $2 }}' "
        f"{POPULATIONS_FILE} |",
        "while read -r id; do",
        f"printf '%s %s\\n' \"$(printf '%s' {prefix}\"$id\" |",
        'sha256sum | cut -c1-64)" "$id"; done |',
        f"LC_ALL=C sort | head -n {size}",
    )


def _single_quoted(text: str) -> str:
    """``text`` as one single-quoted shell word, whatever it holds (``'`` as ``'\\''``)."""
    return "'" + text.replace("'", "'\\''") + "'"
