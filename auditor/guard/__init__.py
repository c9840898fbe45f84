"""Guard rails from a forge: branch protection snapshots (a timeline) and the checks of requests.

One module per forge (:mod:`auditor.guard.github`, :mod:`auditor.guard.gitlab`) collects raw
answers and parses them into the records of :mod:`auditor.guard.interface`; :mod:`offline`
reads them from a review export. :class:`GuardData` is what the rest of auditor sees.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from auditor.guard import github, gitlab
from auditor.guard.interface import (
    SETTINGS,
    BypassActor,
    CheckKind,
    CheckRun,
    Collection,
    Conclusion,
    ProtectionSettings,
    ProtectionSnapshot,
    Raw,
    RequestChecks,
)
from auditor.reviews.http import ForgeClient
from auditor.reviews.interface import (
    ChangeRequest,
    Forge,
    Payload,
    PayloadError,
    RequestNumber,
)

__all__ = [
    "SETTINGS",
    "BypassActor",
    "CheckKind",
    "CheckRun",
    "Collection",
    "Conclusion",
    "ForgeGuard",
    "GuardData",
    "ProtectionSettings",
    "ProtectionSnapshot",
    "Raw",
    "RequestChecks",
    "parse_checks",
    "parse_snapshot",
]


class ForgeGuard(NamedTuple):
    """What one forge's module offers."""

    collect_snapshot: Callable[[ForgeClient, str, str, datetime], Raw]
    collect_checks: Callable[[ForgeClient, str, ChangeRequest], Raw]
    parse_snapshot: Callable[[Payload], ProtectionSnapshot]
    parse_checks: Callable[[Payload], RequestChecks]


FORGES: dict[Forge, ForgeGuard] = {
    Forge.GITHUB: ForgeGuard(
        github.collect_snapshot, github.collect_checks, github.parse_snapshot, github.parse_checks
    ),
    Forge.GITLAB: ForgeGuard(
        gitlab.collect_snapshot, gitlab.collect_checks, gitlab.parse_snapshot, gitlab.parse_checks
    ),
}


def parse_snapshot(forge: Forge, raw: Any, where: str = "") -> ProtectionSnapshot:
    """The snapshot of a raw one; raises ``PayloadError`` naming the bad key."""
    return FORGES[forge].parse_snapshot(Payload.of(raw, where))


def parse_checks(forge: Forge, raw: Any, where: str = "") -> RequestChecks:
    return FORGES[forge].parse_checks(Payload.of(raw, where))


def pending(checks: RequestChecks) -> bool:
    """Whether collecting ``checks`` again may tell more: they were not read, or a run had not
    finished."""
    return checks.collection is not Collection.COLLECTED or any(
        run.conclusion is Conclusion.PENDING for run in checks.runs
    )


@dataclass(frozen=True)
class GuardData:
    """The protection timeline and the request checks of one repository's audited branches."""

    source: str = "none"
    """``github``, ``gitlab``, ``offline:<file>``, or ``none`` (no forge configured)."""
    snapshots: tuple[ProtectionSnapshot, ...] = ()
    """Every snapshot of the audited branches, by branch and collection time."""
    checks: tuple[RequestChecks, ...] = ()
    """The checks of every merged request the review data holds, by number."""
    gaps: tuple[str, ...] = field(default_factory=tuple)
    """What could not be collected this time (a refused endpoint…), one line each."""
    audited: tuple[str, ...] = ()
    """The audited branches the data was collected for (each judged, snapshots or not)."""

    @property
    def configured(self) -> bool:
        return self.source != "none"

    @functools.cached_property
    def by_request(self) -> Mapping[int, RequestChecks]:
        return {int(c.number): c for c in self.checks}

    def branch(self, name: str) -> tuple[ProtectionSnapshot, ...]:
        return tuple(s for s in self.snapshots if s.branch == name)

    def in_force(self, branch: str, moment: datetime) -> ProtectionSnapshot | None:
        """The last snapshot of ``branch`` collected at or before ``moment``."""
        found = [s for s in self.branch(branch) if s.collected_at <= moment]
        return max(found, key=lambda s: s.collected_at, default=None)


def merged(parts: Iterable[GuardData]) -> GuardData:
    """The guard data of several branches as one."""
    parts = list(parts)
    if not parts:
        return GuardData()
    checks = {int(c.number): c for part in parts for c in part.checks}
    return GuardData(
        parts[0].source,
        tuple(
            sorted(
                {(s.branch, s.collected_at): s for p in parts for s in p.snapshots}.values(),
                key=lambda s: (s.branch, s.collected_at),
            )
        ),
        tuple(checks[n] for n in sorted(checks)),
        tuple(dict.fromkeys(g for p in parts for g in p.gaps)),
        tuple(dict.fromkeys(b for p in parts for b in p.audited)),
    )


def read_raw(
    forge: Forge,
    snapshots: Sequence[Any],
    checks: Sequence[Any],
    *,
    where: tuple[str, str] = ("protection", "checks"),
) -> tuple[list[ProtectionSnapshot], list[RequestChecks]]:
    """Parse raw snapshots and checks (from the store or an export); ``PayloadError`` names
    the key under ``where``."""
    parsed = [parse_snapshot(forge, raw, f"{where[0]}[{i}]") for i, raw in enumerate(snapshots)]
    read = [parse_checks(forge, raw, f"{where[1]}[{i}]") for i, raw in enumerate(checks)]
    return parsed, read


__all__ += ["FORGES", "PayloadError", "RequestNumber", "merged", "pending", "read_raw"]
