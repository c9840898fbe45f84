"""The review export: raw forge payloads in one JSON file, for audits without forge access.

The document keeps each payload exactly as the forge returned it, so the same evidence can be
parsed again later::

    {"schema_version": 1, "forge": "github", "repository": "acme/infra-live",
     "base_url": "https://api.github.com", "exported_at": "2026-04-01T00:00:00Z",
     "complete": true,
     "pulls": [{"pull": {...}, "commits": [...], "reviews": [...]}]}

GitLab documents carry ``"merge_requests": [{"merge_request": {...}, "commits": [...],
"approvals": {...}}]`` instead of ``pulls``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.errors import DefinitionError
from auditor.reviews.github import GitHubSource
from auditor.reviews.gitlab import GitLabSource
from auditor.reviews.interface import (
    ChangeRequest,
    EvidenceGap,
    Forge,
    Payload,
    PayloadError,
    RawSource,
    ReviewSource,
)

SCHEMA_VERSION = 1
SOURCES: dict[Forge, type[RawSource]] = {Forge.GITHUB: GitHubSource, Forge.GITLAB: GitLabSource}


def build_export(
    source: RawSource,
    *,
    base_branch: str,
    updated_since: datetime | None,
    exported_at: datetime,
) -> dict[str, Any]:
    """Fetch every merged request of ``source`` into an export document."""
    pairs = sorted(
        source.fetch_pairs(base_branch=base_branch, updated_since=updated_since),
        key=lambda pair: pair[1].number,
    )
    stamp = exported_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "schema_version": SCHEMA_VERSION,
        "forge": source.forge.value,
        "repository": source.repository,
        "base_url": source.base_url,
        "exported_at": stamp,
        "complete": source.complete,
        source.bundles_key: [bundle for bundle, _ in pairs],
    }


def write_export(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` deterministically; readers never see a half-written file."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class OfflineSource(ReviewSource):
    """Review data from an export file, validated when opened: errors name the file and key."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        try:
            document = self._read()
            self.forge = Forge(document.text("forge"))
            self.repository = document.text("repository")
            self.base_url = document.text("base_url")
            self.exported_at = document.time("exported_at")
            if not isinstance(document.data.get("complete"), bool):
                raise PayloadError("complete", "expected true or false")
            self.exported_complete = document.flag("complete")
            source = SOURCES[self.forge]
            requests = [source.parse(bundle) for bundle in document.objs(source.bundles_key)]
        except PayloadError as err:
            raise DefinitionError(f"{path}: {err.key}: {err.problem}") from None
        self.requests = tuple(sorted(requests, key=lambda request: request.number))

    def _read(self) -> Payload:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except OSError as err:
            raise DefinitionError(f"{self.path}: cannot read ({err.strerror})") from None
        except ValueError as err:
            raise DefinitionError(f"{self.path}: not valid JSON ({err})") from None
        document = Payload.of(data, "")
        version = document.number("schema_version")
        if version != SCHEMA_VERSION:
            raise PayloadError("schema_version", f"expected {SCHEMA_VERSION}, found {version}")
        forge = document.text("forge")
        if forge not in {member.value for member in Forge}:
            raise PayloadError("forge", f"expected github or gitlab, found {forge!r}")
        return document

    def fetch(self, *, base_branch: str, updated_since: datetime | None) -> Iterator[ChangeRequest]:
        self._gaps.clear()
        if not self.exported_complete:
            self._gaps.append(EvidenceGap(None, f"{self.path} was exported incomplete"))
        for request in self.requests:
            if request.base_ref != base_branch or request.merged_at is None:
                continue
            if updated_since is None or request.updated_at >= updated_since:
                yield self._note(request)
