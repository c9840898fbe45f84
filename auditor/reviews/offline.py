"""The review export: raw forge payloads in one JSON file, for audits without forge access.

The document keeps each payload exactly as the forge returned it, so the same evidence can be
parsed again later::

    {"schema_version": 1, "forge": "github", "repository": "acme/infra-live",
     "base_url": "https://api.github.com", "exported_at": "2026-04-01T00:00:00Z",
     "complete": true,
     "pulls": [{"pull": {...}, "commits": [...], "reviews": [...]}]}

GitLab documents carry ``"merge_requests": [{"merge_request": {...}, "commits": [...],
"approvals": {...}}]`` instead of ``pulls``. Where the forge gave them, ``"protection"`` lists
the raw branch protection snapshots (one per branch and collection, see ``auditor.guard``) and
``"checks"`` the raw checks of each merged request. A document exported from an incomplete
forge answer says ``"complete": false`` and may list why under ``"gaps"`` (one line each); a
reader reports those as evidence gaps. No credential is ever part of the document.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.errors import DefinitionError, UsageError
from auditor.reviews.forges import FORGES, forges_listed
from auditor.reviews.interface import (
    Bundle,
    ChangeRequest,
    EvidenceGap,
    Forge,
    Payload,
    PayloadError,
    RawSource,
    ReviewSource,
)
from auditor.reviews.jsonstream import Element, read_object

SCHEMA_VERSION = 1


def build_export(
    source: RawSource,
    *,
    base_branch: str,
    updated_since: datetime | None,
    exported_at: datetime,
) -> dict[str, Any]:
    """Fetch every merged request of ``source`` into an export document."""
    pairs = list(source.fetch_pairs(base_branch=base_branch, updated_since=updated_since))
    return export_document(
        source.forge,
        source.repository,
        source.base_url,
        [bundle for bundle, _ in pairs],
        exported_at=exported_at,
        complete=source.complete,
        gaps=[gap.reason for gap in source.gaps if gap.request is None],
    )


def export_document(
    forge: Forge,
    repository: str,
    base_url: str,
    bundles: Iterable[Bundle],
    *,
    exported_at: datetime,
    complete: bool = True,
    gaps: Iterable[str] = (),
    protection: Iterable[dict[str, Any]] = (),
    checks: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The export document of ``bundles`` (raw payloads of ``forge``), ordered by request
    number, one per number. ``gaps`` says why the evidence is incomplete where the bundles
    cannot tell (a refused or failed request); any gap makes the document incomplete.
    ``protection`` (raw branch protection snapshots) and ``checks`` (raw checks of requests)
    are kept by branch and time, and by request number."""
    source = FORGES[forge].source
    by_number: dict[int, Bundle] = {}
    for bundle in bundles:
        by_number.setdefault(source.parse(Payload.of(bundle, "")).number, bundle)
    stamp = exported_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    reasons = list(dict.fromkeys(gaps))
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "forge": forge.value,
        "repository": repository,
        "base_url": base_url,
        "exported_at": stamp,
        "complete": complete and not reasons,
        source.bundles_key: [by_number[number] for number in sorted(by_number)],
    }
    if reasons:
        document["gaps"] = reasons
    return with_guard(document, protection, checks)


def with_guard(
    document: dict[str, Any],
    protection: Iterable[dict[str, Any]],
    checks: Iterable[dict[str, Any]],
) -> dict[str, Any]:
    """``document`` also holding raw protection snapshots (by branch and time) and raw checks
    (by request number), where there are any."""
    out = dict(document)
    snapshots = sorted(protection, key=lambda raw: (str(raw["branch"]), str(raw["collected_at"])))
    if snapshots:
        out["protection"] = snapshots
    by_request = sorted(checks, key=lambda raw: int(raw["number"]))
    if by_request:
        out["checks"] = by_request
    return out


def write_export(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` deterministically; readers never see a half-written file."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as err:
        raise UsageError(f"{path}: cannot write ({err.strerror})") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError as err:  # no space left, a read-only disk
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write ({err.strerror})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class OfflineSource(ReviewSource):
    """Review data from an export file, validated when opened: errors name the file and key."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._streamed: list[ChangeRequest] | None = None
        self._bundle_error: PayloadError | None = None
        try:
            document = self._read()
            self.forge = Forge(document.text("forge"))
            self.repository = document.text("repository")
            self.base_url = document.text("base_url")
            self.exported_at = document.time("exported_at")
            if not isinstance(document.data.get("complete"), bool):
                raise PayloadError("complete", "expected true or false")
            self.exported_complete = document.flag("complete")
            self.exported_gaps = document.texts("gaps")
            source = FORGES[self.forge].source
            if self._bundle_error is not None:  # after the document's own keys, as before
                raise self._bundle_error
            requests = self._streamed
            if requests is None:
                requests = [source.parse(bundle) for bundle in document.objs(source.bundles_key)]
        except PayloadError as err:
            raise DefinitionError(f"{path}: {err.key}: {err.problem}") from None
        self.requests = tuple(sorted(requests, key=lambda request: request.number))

    def _read(self) -> Payload:
        try:
            data = read_object(self.path, self._stream_bundles)
        except OSError as err:
            raise DefinitionError(f"{self.path}: cannot read ({err.strerror})") from None
        except ValueError as err:
            raise DefinitionError(f"{self.path}: not valid JSON ({err})") from None
        except RecursionError:
            raise DefinitionError(f"{self.path}: JSON nested too deeply to read") from None
        document = Payload.of(data, "")
        version = document.number("schema_version")
        if version != SCHEMA_VERSION:
            raise PayloadError("schema_version", f"expected {SCHEMA_VERSION}, found {version}")
        forge = document.text("forge")
        if forge not in {member.value for member in FORGES}:
            raise PayloadError("forge", f"expected {forges_listed()}, found {forge!r}")
        return document

    def _stream_bundles(self, key: str, members: dict[str, Any]) -> Element | None:
        """Parse the requests as the file is read, each raw bundle dropped once parsed, when
        the forge named before them says they are under ``key`` (an export lists ``forge``
        first); a bundle's error is kept for after the document's own keys are checked."""
        forge = members.get("forge")
        if forge not in {member.value for member in FORGES}:
            return None
        source = FORGES[Forge(forge)].source
        if key != source.bundles_key:
            return None
        parsed: list[ChangeRequest] = []
        self._streamed = parsed

        def take(index: int, item: Any) -> None:
            if self._bundle_error is None:
                try:
                    parsed.append(source.parse(Payload.of(item, f"{key}[{index}]")))
                except PayloadError as err:
                    self._bundle_error = err

        return take

    def fetch(self, *, base_branch: str, updated_since: datetime | None) -> Iterator[ChangeRequest]:
        self._gaps.clear()
        if not self.exported_complete:
            self._gaps.append(EvidenceGap(None, f"{self.path} was exported incomplete"))
            self._gaps.extend(
                EvidenceGap(None, f"{self.path}: {gap}") for gap in self.exported_gaps
            )
        for request in self.requests:
            if request.base_ref != base_branch or request.merged_at is None:
                continue
            if updated_since is None or request.updated_at >= updated_since:
                yield self._note(request)
