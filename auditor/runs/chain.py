"""The chain of scheduled runs: each run names the run before it that wrote a pack and the
SHA-256 of that pack's manifest, in its record and in its pack (``chain`` in evidence.json).

:func:`verify_chain` walks the recorded runs over the packs still on disk and names each break:
a pack removed, a pack edited since it was written (its manifest is not the one recorded, or a
file no longer matches the manifest), a run record that names another predecessor than the
store holds (a record removed or slipped in), a pack that states another predecessor than its
record, and a pack directory beside the recorded ones that no run wrote (slipped in).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from auditor.errors import RenderError
from auditor.model import RunRecord
from auditor.render import verify_pack
from auditor.render.interface import EVIDENCE_FILE, MANIFEST_FILE


def last_pack_run(records: Sequence[RunRecord]) -> RunRecord | None:
    """The newest of ``records`` that wrote a pack: the one the next run chains to."""
    return next((r for r in reversed(records) if r.pack and r.manifest_sha256), None)


def verify_chain(records: Sequence[RunRecord]) -> list[str]:
    """Every break in the chain of ``records`` (oldest first), one line each; empty when each
    pack on disk is the one recorded and each run names the one before it."""
    problems: list[str] = []
    previous: RunRecord | None = None
    places: set[Path] = set()
    recorded: set[Path] = set()
    for record in records:
        if not record.pack or not record.manifest_sha256:
            continue  # a run that wrote no pack is not a link of the chain
        pack = Path(record.pack)
        places.add(pack.parent)
        recorded.add(pack)
        name = f"run {record.id} ({pack.name})"
        problems += _link_problems(record, previous, name)
        problems += _pack_problems(record, pack, name)
        previous = record
    for place in sorted(places):
        problems += [
            f"slipped in: {place / entry.name} is a pack no recorded run wrote"
            for entry in _packs_in(place)
            if entry not in recorded
        ]
    return problems


def _link_problems(record: RunRecord, previous: RunRecord | None, name: str) -> list[str]:
    if not record.chained:
        return []  # recorded before runs were chained: nothing to compare
    if previous is None:
        if record.previous_run is None:
            return []
        return [f"break: {name} follows run {record.previous_run}, which the store no longer holds"]
    if record.previous_run != previous.id:
        before = "none" if record.previous_run is None else f"run {record.previous_run}"
        return [
            f"break: {name} follows {before}, but the store holds run {previous.id} before it"
            " (a run record was removed or slipped in)"
        ]
    if record.previous_manifest_sha256 != previous.manifest_sha256:
        return [f"break: {name} names another manifest of run {previous.id} than its record"]
    return []


def _pack_problems(record: RunRecord, pack: Path, name: str) -> list[str]:
    manifest = pack / MANIFEST_FILE
    if not pack.is_dir():
        return [f"removed: {name}: {pack} is no longer on disk"]
    if manifest.is_symlink() or not manifest.is_file():
        return [f"edited: {name}: {MANIFEST_FILE} is missing"]
    if hashlib.sha256(manifest.read_bytes()).hexdigest() != record.manifest_sha256:
        return [f"edited: {name}: {MANIFEST_FILE} is not the manifest recorded"]
    try:
        problems = [f"edited: {name}: {problem}" for problem in verify_pack(pack)]
    except RenderError as err:
        return [f"edited: {name}: {err}"]
    stated = _stated_previous(pack)
    if (
        not problems
        and record.chained
        and stated is not None
        and stated
        != (
            record.previous_run,
            record.previous_manifest_sha256,
        )
    ):
        problems.append(f"break: {name}: its pack states another previous run than its record")
    return problems


def _stated_previous(pack: Path) -> tuple[int | None, str] | None:
    """The predecessor the pack's evidence.json states, when it has one that says."""
    try:
        chain = json.loads((pack / EVIDENCE_FILE).read_text(encoding="utf-8")).get("chain")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(chain, dict):
        return None
    run = chain.get("previous_run")
    return (run if isinstance(run, int) else None, str(chain.get("previous_manifest_sha256", "")))


def _packs_in(place: Path) -> list[Path]:
    """The directories of ``place`` that hold a manifest: packs, whoever wrote them."""
    if not place.is_dir():
        return []
    return sorted(
        entry
        for entry in place.iterdir()
        if entry.is_dir() and not entry.is_symlink() and (entry / MANIFEST_FILE).is_file()
    )
