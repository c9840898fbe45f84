"""Git history → the change ledger: first-parent chains, chain of custody, commits and diffs.

The engine was chosen by measurement (see README, "How the ledger is mined"): diffs come from
``git log --no-walk --stdin --diff-merges=first-parent -M --raw --numstat -z`` streamed through a
small parser, split across processes for long histories; commit objects come from
``git cat-file --batch`` and are parsed by :mod:`auditor.commits`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from auditor import git
from auditor.commits import BotPolicy, Resolver, parse_commit
from auditor.errors import RepositoryError
from auditor.model import ChangeType, Commit, CommitSha, FileChange

DIFF_ARGS = (
    "--diff-merges=first-parent", "-M", "--no-textconv", "--no-ext-diff", "--no-abbrev",
)  # fmt: skip
PARALLEL_THRESHOLD = 2000
PREFETCH = 50_000  # diffs waiting for the consumer: a few tens of MB at most
_END = object()


def first_parent_chain(repo: Path, tip: str, stop: str | None = None) -> list[CommitSha]:
    """The first-parent chain ending at ``tip``, oldest first (excluding ``stop`` and before)."""
    args = ["rev-list", "--first-parent", "--reverse", tip]
    if stop:
        args.append(f"^{stop}")
    return [CommitSha(line) for line in git.run(repo, *args).decode().split()]


def commit_graph(
    repo: Path, tip: str, stop: str | None = None
) -> dict[CommitSha, tuple[CommitSha, ...]]:
    """Every commit reachable from ``tip`` (and not from ``stop``) with its parents."""
    args = ["rev-list", "--parents", tip]
    if stop:
        args.append(f"^{stop}")
    graph: dict[CommitSha, tuple[CommitSha, ...]] = {}
    for line in git.run(repo, *args).decode().splitlines():
        sha, *parents = line.split()
        graph[CommitSha(sha)] = tuple(CommitSha(p) for p in parents)
    return graph


def custody(
    chain: Sequence[CommitSha], graph: dict[CommitSha, tuple[CommitSha, ...]]
) -> dict[CommitSha, CommitSha]:
    """Map each commit of ``graph`` to the change of ``chain`` that brought it onto the branch.

    Walking the chain oldest first, a change claims itself and every not yet claimed commit
    reachable from its second and later parents.
    """
    owner: dict[CommitSha, CommitSha] = {}
    for change in chain:
        owner[change] = change
        stack = list(graph.get(change, ())[1:])
        while stack:
            sha = stack.pop()
            if sha in owner or sha not in graph:
                continue
            owner[sha] = change
            stack.extend(graph[sha])
    return owner


def read_commits(
    repo: Path, shas: Iterable[str], resolve: Resolver, bots: BotPolicy
) -> Iterator[Commit]:
    """Parse commit objects, in the order given, through one ``git cat-file --batch``."""
    with git.stream(repo, "cat-file", "--batch", stdin_lines=shas) as out:
        while header := out.readline():
            sha, kind, size = _batch_header(repo, header)
            raw = out.read(size + 1)[:size]
            if kind != "commit":
                raise RepositoryError(f"{repo}: object {sha} is a {kind}, not a commit")
            yield parse_commit(sha, raw, resolve, bots)


def _batch_header(repo: Path, header: bytes) -> tuple[str, str, int]:
    parts = header.decode("ascii", errors="replace").split()
    if len(parts) != 3:
        missing = parts[0] if parts else "?"
        raise RepositoryError(f"{repo}: object {missing} is missing or corrupt")
    return parts[0], parts[1], int(parts[2])


@dataclass(frozen=True)
class Diff:
    """The files a change touched, against its first parent."""

    sha: CommitSha
    files: tuple[FileChange, ...]


def read_diffs(repo: Path, shas: Sequence[str], jobs: int = 1) -> Iterator[Diff]:
    """Diffs of the given commits against their first parents, in no particular order."""
    with DiffReader(repo, shas, jobs) as reader:
        yield from reader


class DiffReader:
    """Diffs read by background git processes that start working on construction.

    Long lists are split into ``jobs`` contiguous slices, each mined by its own git process.
    Results wait in a bounded queue, so git can run ahead while the caller is busy elsewhere
    (``mine`` parses commit objects meanwhile) and memory stays bounded in history length.
    Iterate once; :meth:`close` (or the ``with`` block) stops the workers.
    """

    def __init__(self, repo: Path, shas: Sequence[str], jobs: int = 1) -> None:
        jobs = max(1, min(jobs, len(shas) // PARALLEL_THRESHOLD or 1))
        size = -(-len(shas) // jobs) or 1
        slices = [shas[i : i + size] for i in range(0, len(shas), size)]
        self._results: queue.Queue[object] = queue.Queue(maxsize=PREFETCH)
        self._stop = threading.Event()
        self._workers = [
            threading.Thread(
                target=_diff_worker, args=(repo, part, self._results, self._stop), daemon=True
            )
            for part in slices
        ]
        for worker in self._workers:
            worker.start()

    def __iter__(self) -> Iterator[Diff]:
        finished = 0
        while finished < len(self._workers):
            item = self._results.get()
            if item is _END:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item  # type: ignore[misc]

    def close(self) -> None:
        self._stop.set()
        for worker in self._workers:
            while worker.is_alive():
                _drain(self._results)
                worker.join(0.05)

    def __enter__(self) -> DiffReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drain(results: queue.Queue[object]) -> None:
    try:
        while True:
            results.get_nowait()
    except queue.Empty:
        pass


def _diff_worker(
    repo: Path, shas: Sequence[str], results: queue.Queue[object], stop: threading.Event
) -> None:
    try:
        for diff in _diffs_of(repo, shas):
            if stop.is_set():
                return
            results.put(diff)
    except BaseException as exc:  # handed to the consuming thread, which re-raises it
        results.put(exc)
    results.put(_END)


def _diffs_of(repo: Path, shas: Iterable[str]) -> Iterator[Diff]:
    args = ("log", "--no-walk=unsorted", "--stdin", *DIFF_ARGS, "--raw", "--numstat", "-z")
    with git.stream(repo, *args, "--format=%x1e%H", stdin_lines=shas) as out:
        yield from parse_diff_stream(out)


def _blob(oid: str) -> str:
    return "" if not oid.strip("0") else oid


def parse_diff_stream(out: IO[bytes]) -> Iterator[Diff]:
    """Parse ``git log --format=%x1e%H --raw --numstat -z`` output into :class:`Diff` records."""
    parser = _DiffParser()
    rest = b""
    while chunk := out.read1(1 << 16):  # type: ignore[attr-defined]
        tokens = (rest + chunk).split(b"\0")
        rest = tokens.pop()
        yield from parser.feed(tokens)
    if rest:
        yield from parser.feed([rest])
    yield from parser.finish()


class _DiffParser:
    """A token state machine over NUL-separated headers, raw entries and numstat entries."""

    def __init__(self) -> None:
        self.sha: CommitSha | None = None
        self.raw: list[
            tuple[str, bool, tuple[str, str], list[str]]
        ] = []  # status, submodule, blobs, paths
        self.stats: list[tuple[int, int, bool, list[str]]] = []  # added, deleted, binary, paths
        self.open_paths: list[str] | None = None
        self.want_paths = 0

    def feed(self, tokens: Iterable[bytes]) -> Iterator[Diff]:
        for token in tokens:
            if self.want_paths:
                assert self.open_paths is not None
                self.open_paths.append(token.decode("utf-8", errors="backslashreplace"))
                self.want_paths -= 1
                continue
            text = token.lstrip(b"\n")
            if text.startswith(b"\x1e"):
                if self.sha is not None:
                    yield self._diff()
                self.sha = CommitSha(text[1:].decode("ascii"))
            elif text.startswith(b":"):
                old_mode, new_mode, old_blob, new_blob, status = text[1:].decode("ascii").split()
                self.open_paths = []
                blobs = (_blob(old_blob), _blob(new_blob))
                self.raw.append((status, "160000" in (old_mode, new_mode), blobs, self.open_paths))
                self.want_paths = 2 if status[0] in "RC" else 1
            elif text:
                added, deleted, path = text.split(b"\t", 2)
                binary = added == b"-"
                self.open_paths = [path.decode("utf-8", errors="backslashreplace")] if path else []
                self.want_paths = 0 if path else 2
                lines = (0, 0) if binary else (int(added), int(deleted))
                self.stats.append((*lines, binary, self.open_paths))

    def _diff(self) -> Diff:
        assert self.sha is not None
        paired = len(self.raw) == len(self.stats) and all(
            r[3][-1] == s[3][-1] for r, s in zip(self.raw, self.stats, strict=True)
        )
        by_path = {} if paired else {s[3][-1]: s for s in self.stats}
        files = []
        for index, (status, submodule, blobs, paths) in enumerate(self.raw):
            stat = self.stats[index] if paired else by_path.get(paths[-1], (0, 0, False, paths))
            files.append(
                FileChange(
                    path=paths[-1],
                    old_path=paths[0] if len(paths) == 2 else None,
                    change_type=ChangeType.from_git_status(status),
                    lines_added=stat[0],
                    lines_deleted=stat[1],
                    binary=stat[2],
                    submodule=submodule,
                    old_blob=blobs[0],
                    new_blob=blobs[1],
                )
            )
        self.raw, self.stats = [], []
        return Diff(self.sha, tuple(files))

    def finish(self) -> Iterator[Diff]:
        if self.sha is not None:
            yield self._diff()
            self.sha = None
