"""The guard module of each forge, and parsing raw snapshots and checks with it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from auditor.guard import github, gitlab
from auditor.guard.answers import Raw
from auditor.guard.interface import ProtectionSnapshot, RequestChecks
from auditor.reviews.http import ForgeClient
from auditor.reviews.interface import ChangeRequest, Forge, Payload


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
