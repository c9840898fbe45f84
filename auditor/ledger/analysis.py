"""What each change touched: the infrastructure analysis of its files, cached in the store.

Analysis runs on demand for the changes a command looks at (the audit period), reads the blobs
of both sides of every text file through one ``git cat-file --batch``, and stores its result per
change and rules digest, so nothing is parsed twice across runs.

Within a run, each distinct top-level block or YAML document is parsed once (successive versions
of a file share most of them), and large batches are shared out by path to forked worker processes,
every version of a file to the same process, which inherit the rules and the contents and send
back each file's analysis with its encoding for the store; results come back in the order of
the changes, identical to a serial run.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from auditor import __version__, git
from auditor.cores import available_cores
from auditor.forked import can_fork, forked_pool
from auditor.infra import (
    MAX_PARSE_BYTES,
    AttributeChange,
    Category,
    FileAnalysis,
    FileKind,
    Operation,
    Pinning,
    Reference,
    RefKind,
    ResourceChange,
    ResourceKind,
    Rules,
    SecretHit,
    SecretKind,
    Signal,
    SignalKind,
    analyse_file,
)
from auditor.infra.analyse import Content
from auditor.infra.codeowners import LOCATIONS, CodeOwners
from auditor.ledger.store import Store
from auditor.model import Change, FileChange

MAX_BLOB = MAX_PARSE_BYTES  # a larger blob is not read: the analysis gets its size
ANALYSIS_VERSION = "5"  # what an analysis records; a new value re-analyses cached changes
PARALLEL_MIN_FILES = 600  # below this many files, starting workers costs more than it saves
_GROUPS_PER_WORKER = 2  # a few groups each, so a worker that finishes early takes another
NOT_ANALYSED_REWRITTEN = (
    "rewritten away from the branch and its file contents are no longer in the repository:"
    " its files are known from the store, what they changed is unknown"
)
NOT_ANALYSED_MISSING = (
    "file contents missing from the repository (incomplete or corrupt; `git fsck --full` lists"
    " what is missing): what its files changed is unknown"
)

# One changed file as the workers get it: path, old path, content before and after.
_FileWork = tuple[str, "str | None", Content, Content]


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
    digest = hashlib.sha256(f"{__version__}/{ANALYSIS_VERSION}".encode())
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
    *,
    jobs: int | None = None,
) -> dict[str, ChangeAnalysis]:
    """The analysis of each change, from the store where it was done before; ``jobs`` worker
    processes at most for the rest (None: one per core).

    A change whose file contents the repository does not hold (a change rewritten away from
    its branch, collected as garbage after the force-push; a corrupt or partial repository)
    has no analysis: it is left out, not analysed as if its files were empty."""
    cached = store.analyses(repo_id, digest, [c.sha for c in changes])
    result = {sha: decode(data) for sha, data in cached.items()}
    todo = [c for c in changes if c.sha not in result]
    if todo:
        blobs = _read_blobs(repo, _wanted_blobs(todo))
        todo = [c for c in todo if _readable(c, blobs)]
    if todo:
        analysed = analyse_many([_work(c, blobs) for c in todo], rules, jobs=jobs)
        with store.transaction():
            store.add_analyses(
                repo_id, digest, {c.sha: data for c, (_, data) in zip(todo, analysed, strict=True)}
            )
        result.update((c.sha, a) for c, (a, _) in zip(todo, analysed, strict=True))
    return result


def _readable(change: Change, blobs: Mapping[str, bytes | int]) -> bool:
    """Whether every text blob of the change's files was read."""
    return all(b in blobs for b in _wanted_blobs((change,)))


def _text_file(f: FileChange) -> bool:
    return not f.binary and not f.submodule


def _wanted_blobs(changes: Iterable[Change]) -> list[str]:
    wanted = {
        b for c in changes for f in c.files if _text_file(f) for b in (f.old_blob, f.new_blob)
    }
    wanted.discard("")
    return sorted(wanted)


def _read_blobs(repo: Path, oids: Sequence[str]) -> dict[str, bytes | int]:
    """The contents of the blobs ``oids`` (the size, for one over MAX_BLOB bytes); a missing
    blob is left out."""
    blobs: dict[str, bytes | int] = {}
    if not oids:
        return blobs
    with git.stream(repo, "cat-file", "--batch", stdin_lines=oids) as out:
        while header := out.readline():
            parts = header.split()
            if len(parts) != 3:
                continue  # a missing object: that side is analysed as absent
            size = int(parts[2])
            data = out.read(size + 1)[:size]
            blobs[parts[0].decode()] = data if size <= MAX_BLOB else size
    return blobs


def _work(change: Change, blobs: dict[str, bytes | int]) -> list[_FileWork]:
    work: list[_FileWork] = []
    for f in change.files:
        before = blobs.get(f.old_blob) if f.old_blob and _text_file(f) else None
        after = blobs.get(f.new_blob) if f.new_blob and _text_file(f) else None
        work.append((f.path, f.old_path, before, after))
    return work


def analyse_many(
    changes: Sequence[Sequence[_FileWork]],
    rules: Rules,
    *,
    jobs: int | None = None,
    min_parallel: int | None = None,
) -> list[tuple[ChangeAnalysis, str]]:
    """The analysis of each change (its files' paths and contents) and its encoding for the
    store, in order: in this process, or in up to ``jobs`` forked worker processes (Linux, more
    than one core) when there are ``min_parallel`` files (default ``PARALLEL_MIN_FILES``) or
    more per worker."""
    files = sum(len(c) for c in changes)
    per_worker = max(PARALLEL_MIN_FILES if min_parallel is None else min_parallel, 1)
    workers = min(jobs or available_cores(), max(1, files // per_worker))
    if workers <= 1 or len(changes) < 2 or not can_fork():
        return [(a, encode(a)) for a in (_analyse_change(c, rules) for c in changes)]
    groups = _groups_by_path(changes, workers * _GROUPS_PER_WORKER)
    found: dict[tuple[int, int], tuple[FileAnalysis, str]] = {}
    with forked_pool((rules, groups), workers) as submit:  # they inherit rules and contents
        results = [submit(_analyse_group, index) for index in range(len(groups))]
        for group, result in zip(groups, results, strict=True):
            found.update(zip((place for place, _ in group), result.result(), strict=True))
    out = []
    for c, change in enumerate(changes):
        done = [found[c, f] for f in range(len(change))]
        out.append((ChangeAnalysis(tuple(a for a, _ in done)), _encoded(e for _, e in done)))
    return out


_Placed = tuple[tuple[int, int], _FileWork]  # (change, file) index and the file's work


def _groups_by_path(changes: Sequence[Sequence[_FileWork]], count: int) -> list[list[_Placed]]:
    """The files of all changes in up to ``count`` groups of about the same size, every version
    of a path in the same group, in the order of the changes.

    Successive versions of a file share most of their blocks and documents: a process that
    sees all of a path's versions parses each distinct block once."""
    by_path: dict[str, list[_Placed]] = {}
    for c, change in enumerate(changes):
        for f, work in enumerate(change):
            by_path.setdefault(work[0], []).append(((c, f), work))
    groups: list[tuple[int, int, list[_Placed]]] = [(0, g, []) for g in range(count)]
    for placed in sorted(by_path.values(), key=len, reverse=True):  # largest first, to lightest
        size, index, group = heapq.heappop(groups)
        group += placed
        heapq.heappush(groups, (size + len(placed), index, group))
    return [sorted(group) for _, _, group in sorted(groups, key=lambda g: g[1]) if group]


def _analyse_group(
    shared: tuple[Rules, list[list[_Placed]]], index: int
) -> list[tuple[FileAnalysis, str]]:
    rules, groups = shared
    analysed = (analyse_file(*work, rules) for _, work in groups[index])
    return [(a, encode_file(a)) for a in analysed]


def _analyse_change(files: Sequence[_FileWork], rules: Rules) -> ChangeAnalysis:
    return ChangeAnalysis(
        tuple(
            analyse_file(path, old_path, before, after, rules)
            for path, old_path, before, after in files
        )
    )


def codeowners_at(repo: Path, commits: Iterable[str]) -> dict[str, CodeOwners | None]:
    """The CODEOWNERS file at each commit (the first of ``LOCATIONS`` found), None where the
    commit has none: which file each commit has, from ``git cat-file --batch-check`` (one per
    location still looked for); then each distinct file read and parsed once."""
    wanted = sorted(set(commits) - {""})
    found: dict[str, CodeOwners | None] = dict.fromkeys(wanted)
    chosen: dict[str, tuple[str, str]] = {}  # commit -> (blob, location)
    for location in LOCATIONS:  # the first location wins: the next is looked for where it failed
        missing = [commit for commit in wanted if commit not in chosen]
        if not missing:
            break
        with git.stream(
            repo, "cat-file", "--batch-check", stdin_lines=[f"{c}:{location}" for c in missing]
        ) as out:
            for commit in missing:
                parts = out.readline().split()
                if len(parts) == 3 and parts[1] == b"blob":
                    chosen[commit] = (parts[0].decode(), location)
    contents = _read_blobs(repo, sorted({blob for blob, _ in chosen.values()}))
    parsed: dict[tuple[str, str], CodeOwners] = {}
    for commit, (blob, location) in chosen.items():
        data = contents.get(blob)
        if not isinstance(data, bytes):
            continue  # unreadable, or over MAX_BLOB bytes: not read
        if (blob, location) not in parsed:
            text = data.decode("utf-8", errors="replace")
            parsed[blob, location] = CodeOwners.parse(text, location)
        found[commit] = replace(parsed[blob, location], commit=commit)
    return found


# -- (de)serialisation for the store --------------------------------------------------------


def encode(analysis: ChangeAnalysis) -> str:
    return _encoded(encode_file(f) for f in analysis.files)


def encode_file(analysis: FileAnalysis) -> str:
    return _JSON(_file(analysis))


def _encoded(files: Iterable[str]) -> str:
    """The encoding of a change from its files' (what ``json.dumps`` makes of the list)."""
    return "[" + ",".join(files) + "]"


_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


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
        "references": [
            [r.path, r.line, r.kind.value, r.value, r.pinning.value, r.detail] for r in f.references
        ],
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
        references=tuple(
            Reference(p, n, RefKind(k), v, Pinning(g), x)
            for p, n, k, v, g, x in d.get("references", ())
        ),
    )
