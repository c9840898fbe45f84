"""The record of a scheduled run, kept in the store: what it covered, what it found and wrote."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.exitcodes import ExitCode


class RunStatus(enum.Enum):
    """How a run ended, after its exit code."""

    PASSED = "passed"  # 0
    FAILED = "failed"  # 1: a control failed
    INCOMPLETE = "incomplete"  # 4: a repository or its review data is missing
    ERROR = "error"  # 2 or 3: no pack, or a repository hit a bug

    @classmethod
    def of(cls, code: int) -> RunStatus:
        known = {
            int(ExitCode.OK): cls.PASSED,
            int(ExitCode.CONTROLS_FAILED): cls.FAILED,
            int(ExitCode.INCOMPLETE): cls.INCOMPLETE,
        }
        return known.get(int(code), cls.ERROR)


@dataclass(frozen=True)
class RepositoryRecord:
    """One repository of a run: where it came from (no credentials), its heads, completeness."""

    name: str
    source: str  # the configured path, or URL without user information
    heads: tuple[tuple[str, str], ...] = ()  # (branch, commit SHA) mined
    changes: int = 0  # changes in the period
    complete: bool = True
    reasons: tuple[str, ...] = ()  # why not complete (or why it is missing altogether)
    rewrites: tuple[str, ...] = ()  # history rewrites detected by this run, one line each

    def encode(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "heads": [{"branch": b, "commit": c} for b, c in self.heads],
            "changes": self.changes,
            "complete": self.complete,
            "reasons": list(self.reasons),
            "rewrites": list(self.rewrites),
        }

    @classmethod
    def decode(cls, data: dict[str, Any]) -> RepositoryRecord:
        return cls(
            name=str(data["name"]),
            source=str(data["source"]),
            heads=tuple((str(h["branch"]), str(h["commit"])) for h in data.get("heads", ())),
            changes=int(data.get("changes", 0)),
            complete=bool(data.get("complete", True)),
            reasons=tuple(str(r) for r in data.get("reasons", ())),
            rewrites=tuple(str(r) for r in data.get("rewrites", ())),
        )


@dataclass(frozen=True)
class RunRecord:
    """One ``auditor run``, as recorded in the store and listed by ``auditor runs``."""

    as_of: datetime  # the run's time, written into its outputs
    period: str  # the pack label of the period, e.g. 2026-Q3
    since: datetime | None
    until: datetime | None
    config: str  # the config file's path
    config_sha256: str
    tool_version: str
    repositories: tuple[RepositoryRecord, ...]
    exit_code: int
    pack: str = ""  # the pack directory, empty when none was written
    manifest_sha256: str = ""  # SHA-256 of the pack's MANIFEST.sha256
    started_at: datetime | None = None  # wall-clock time, unlike as_of
    finished_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None  # assigned by the store

    @property
    def status(self) -> RunStatus:
        return RunStatus.of(self.exit_code)

    @property
    def rewrites(self) -> int:
        return sum(len(r.rewrites) for r in self.repositories)

    def repositories_json(self) -> str:
        return json.dumps([r.encode() for r in self.repositories], sort_keys=True)

    def encode(self) -> dict[str, Any]:
        """A JSON object of the record, for ``auditor runs --format json``."""

        def stamp(when: datetime | None) -> str | None:
            return when.isoformat().replace("+00:00", "Z") if when else None

        return {
            "id": self.id,
            "as_of": stamp(self.as_of),
            "period": self.period,
            "since": stamp(self.since),
            "until": stamp(self.until),
            "config": self.config,
            "config_sha256": self.config_sha256,
            "tool_version": self.tool_version,
            "repositories": [r.encode() for r in self.repositories],
            "exit_code": self.exit_code,
            "status": self.status.value,
            "pack": self.pack,
            "manifest_sha256": self.manifest_sha256,
            "started_at": stamp(self.started_at),
            "finished_at": stamp(self.finished_at),
            "notes": list(self.notes),
        }
