"""What each change touched: the infrastructure analysis of its files, cached in the store.

Analysis runs on demand for the changes a command looks at (the audit period), reads the blobs
of both sides of every text file through one ``git cat-file --batch``, and stores its result per
change and rules digest, so nothing is parsed twice across runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor import __version__, git
from auditor.infra import (
    AttributeChange,
    Category,
    FileAnalysis,
    FileKind,
    Operation,
    ResourceChange,
    ResourceKind,
    Rules,
    SecretHit,
    SecretKind,
    Signal,
    SignalKind,
    analyse_file,
)
from auditor.model import Change, FileChange
from auditor.store import Store

MAX_BLOB = 2_000_000


@dataclass(frozen=True)
class ChangeAnalysis:
    """The infrastructure view of one change."""

    files: tuple[FileAnalysis, ...]

    @property
    def categories(self) -> frozenset[str]:
        found = {c.value for f in self.files for c in f.categories}
        specific = found - {Category.OTHER.value}
        return frozenset(specific or found)

    @property
    def environments(self) -> frozenset[str]:
        return frozenset(f.environment for f in self.files if f.environment)

    @property
    def resources(self) -> Iterator[tuple[FileAnalysis, ResourceChange]]:
        for analysis in self.files:
            for change in analysis.changes:
                yield analysis, change


def rules_digest(rule_files: Sequence[Path] = ()) -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in rule_files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def analyse(
    store: Store,
    repo_id: int,
    repo: Path,
    changes: Sequence[Change],
    rules: Rules,
    digest: str,
) -> dict[str, ChangeAnalysis]:
    """The analysis of each change, from the store where it was done before."""
    cached = store.analyses(repo_id, digest, [c.sha for c in changes])
    result = {sha: decode(data) for sha, data in cached.items()}
    todo = [c for c in changes if c.sha not in result]
    if todo:
        blobs = _read_blobs(repo, _wanted_blobs(todo))
        fresh: dict[str, ChangeAnalysis] = {c.sha: _analyse_change(c, blobs, rules) for c in todo}
        with store.transaction():
            store.add_analyses(repo_id, digest, {sha: encode(a) for sha, a in fresh.items()})
        result.update(fresh)
    return result


def _text_file(f: FileChange) -> bool:
    return not f.binary and not f.submodule


def _wanted_blobs(changes: Iterable[Change]) -> list[str]:
    wanted = {
        b for c in changes for f in c.files if _text_file(f) for b in (f.old_blob, f.new_blob)
    }
    wanted.discard("")
    return sorted(wanted)


def _read_blobs(repo: Path, oids: Sequence[str]) -> dict[str, bytes]:
    blobs: dict[str, bytes] = {}
    if not oids:
        return blobs
    with git.stream(repo, "cat-file", "--batch", stdin_lines=oids) as out:
        while header := out.readline():
            parts = header.split()
            if len(parts) != 3:
                continue  # a missing object: that side is analysed as absent
            size = int(parts[2])
            data = out.read(size + 1)[:size]
            if size <= MAX_BLOB:
                blobs[parts[0].decode()] = data
    return blobs


def _analyse_change(change: Change, blobs: dict[str, bytes], rules: Rules) -> ChangeAnalysis:
    files = []
    for f in change.files:
        before = blobs.get(f.old_blob) if f.old_blob and _text_file(f) else None
        after = blobs.get(f.new_blob) if f.new_blob and _text_file(f) else None
        files.append(analyse_file(f.path, f.old_path, before, after, rules))
    return ChangeAnalysis(tuple(files))


# -- (de)serialisation for the store --------------------------------------------------------


def encode(analysis: ChangeAnalysis) -> str:
    return json.dumps([_file(f) for f in analysis.files], separators=(",", ":"), sort_keys=True)


def decode(data: str) -> ChangeAnalysis:
    return ChangeAnalysis(tuple(_file_back(f) for f in json.loads(data)))


def _file(f: FileAnalysis) -> dict[str, Any]:
    return {
        "path": f.path,
        "old_path": f.old_path,
        "kind": f.kind.value,
        "categories": sorted(c.value for c in f.categories),
        "changes": [resource_dict(r) for r in f.changes],
        "signals": [[s.kind.value, s.address, s.detail] for s in f.signals],
        "secrets": [[s.path, s.line, s.kind.value, s.preview] for s in f.secrets],
        "errors": list(f.errors),
        "environment": f.environment,
    }


def resource_dict(r: ResourceChange) -> dict[str, Any]:
    return {
        "address": r.address,
        "kind": r.kind.value,
        "operation": r.operation.value,
        "type": r.type,
        "attributes": [[a.path, a.before, a.after] for a in r.changed_attributes],
        "categories": sorted(c.value for c in r.categories),
    }


def _file_back(d: dict[str, Any]) -> FileAnalysis:
    return FileAnalysis(
        path=d["path"],
        old_path=d["old_path"],
        kind=FileKind(d["kind"]),
        categories=frozenset(Category(c) for c in d["categories"]),
        changes=tuple(
            ResourceChange(
                address=r["address"],
                kind=ResourceKind(r["kind"]),
                operation=Operation(r["operation"]),
                type=r["type"],
                changed_attributes=tuple(AttributeChange(*a) for a in r["attributes"]),
                categories=frozenset(Category(c) for c in r["categories"]),
            )
            for r in d["changes"]
        ),
        signals=tuple(Signal(SignalKind(k), a, x) for k, a, x in d["signals"]),
        secrets=tuple(SecretHit(p, n, SecretKind(k), v) for p, n, k, v in d["secrets"]),
        errors=tuple(d["errors"]),
        environment=d["environment"],
    )
