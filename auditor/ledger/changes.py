"""Git history → the change ledger: first-parent chains, chain of custody, commits and diffs.

The engine was chosen by measurement (see README, "How the ledger is mined"): diffs come from
``git log --no-walk --stdin --diff-merges=first-parent -M --raw --numstat -z`` streamed through a
small parser; commit objects come from ``git cat-file --batch`` and are parsed by
:mod:`auditor.ledger.commits`. Mining reads both straight into the store's rows, batch by batch
(:mod:`auditor.ledger.diffs` runs several of those ``git log`` at once); :func:`read_commits`
gives records. :func:`first_parent_chain` is git's own walk, which the tests hold
:func:`chain_in` to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import cast

from auditor import git
from auditor.errors import RepositoryError
from auditor.ledger.commits import BotPolicy, Identities, Resolver, commit_columns, parse_commit
from auditor.model import ChangeType, Commit, CommitSha

Row = tuple[object, ...]  # one row of a store table, as its ``add_*_rows`` method takes it
DIFF_ARGS = (
    "--diff-merges=first-parent", "-M", "--no-textconv", "--no-ext-diff", "--no-abbrev",
)  # fmt: skip


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
    graph: dict[str, tuple[str, ...]] = {}
    for line in git.run(repo, *args).decode().splitlines():
        shas = line.split()
        graph[shas[0]] = tuple(shas[1:])
    return cast(dict[CommitSha, tuple[CommitSha, ...]], graph)  # CommitSha is a plain str


def chain_in(graph: Mapping[CommitSha, tuple[CommitSha, ...]], tip: str) -> list[CommitSha]:
    """The first-parent chain ending at ``tip`` within ``graph`` (a :func:`commit_graph`),
    oldest first: what :func:`first_parent_chain` gives with the same ``stop``, without
    walking the history a second time. (Once the walk leaves the graph, everything older is
    reachable from ``stop`` too.)"""
    chain = []
    sha: CommitSha | None = CommitSha(tip)
    while sha is not None and sha in graph:
        chain.append(sha)
        parents = graph[sha]
        sha = parents[0] if parents else None
    chain.reverse()
    return chain


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


def history_gaps(
    branch: str,
    chain: Sequence[CommitSha],
    parents: Mapping[CommitSha, tuple[CommitSha, ...]],
    boundary: AbstractSet[str] = frozenset(),
) -> tuple[str, ...]:
    """Why a branch's ledger does not hold together by the commit objects' own parents.

    ``parents`` maps every commit of the branch's custody to the parents its object names;
    ``boundary`` are a shallow clone's boundary commits (whose parents are known to be missing).
    Every parent must be in the custody, and each change of ``chain`` must be the first parent
    of the next: history read from a source that overrides parents (a lying commit-graph,
    grafts, replace refs) breaks one or the other.
    """
    unexplained = [
        (sha, parent)
        for sha, named in parents.items()
        if sha not in boundary
        for parent in named
        if parent not in parents
    ]
    broken = [
        sha
        for before, sha in zip([None, *chain], chain, strict=False)
        if sha not in boundary and parents.get(sha, ())[:1] != ((before,) if before else ())
    ]
    gaps = []
    if unexplained:
        shown = ", ".join(f"{sha[:12]} → {parent[:12]}" for sha, parent in sorted(unexplained)[:5])
        gaps.append(
            f"{branch}: {len(unexplained)} parent(s) named by commit objects are not in the "
            f"ledger ({shown}): the history was read with commits missing"
        )
    if broken:
        shown = ", ".join(sha[:12] for sha in broken[:5])
        gaps.append(
            f"{branch}: {len(broken)} change(s) of the first-parent chain do not follow their "
            f"commit object's first parent ({shown})"
        )
    return tuple(gaps)


def read_commits(
    repo: Path, shas: Iterable[str], resolve: Resolver, bots: BotPolicy
) -> Iterator[Commit]:
    """Parse commit objects, in the order given, into records."""
    for raw in _commit_objects(repo, shas):
        yield parse_commit(*raw, resolve, bots)


def commit_rows(repo: Path, shas: Iterable[str], resolve: Resolver) -> list[Row]:
    """Commit objects, in the order given, as the store's rows (see ``commit_columns``)."""
    identities: Identities = {}
    return [
        commit_columns(sha, raw, resolve, identities) for sha, raw in _commit_objects(repo, shas)
    ]


def _commit_objects(repo: Path, shas: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """SHA and raw bytes of each commit object, through one ``git cat-file --batch``."""
    with git.stream(repo, "cat-file", "--batch", stdin_lines=shas) as out:
        while header := out.readline():
            sha, kind, size = _batch_header(repo, header)
            raw = out.read(size + 1)[:size]
            if kind != "commit":
                raise RepositoryError(f"{repo}: object {sha} is a {kind}, not a commit")
            yield sha, raw


def _batch_header(repo: Path, header: bytes) -> tuple[str, str, int]:
    parts = header.decode("ascii", errors="replace").split()
    if len(parts) != 3:
        raise git.missing_object(repo, parts[0] if parts else "?", "commit")
    return parts[0], parts[1], int(parts[2])


def change_rows(repo: Path, shas: Iterable[str]) -> list[Row]:
    """Diffs of the given commits against their first parents, as the store's rows: SHA, files
    (JSON, one list per file: path, old path, change type, lines added, lines deleted, binary,
    submodule, old blob, new blob), lines added, lines deleted. (Mining runs several of these
    git processes at once: :mod:`auditor.ledger.diffs`.)
    """
    parser, rows = DiffParser(), []
    with git.stream(repo, *DIFF_LOG, stdin_lines=shas) as out:
        while chunk := out.read1(1 << 16):  # type: ignore[attr-defined]
            rows += parser.feed(chunk)
    return rows + parser.finish()


DIFF_LOG = (
    "log",
    "--no-walk=unsorted",
    "--stdin",
    *DIFF_ARGS,
    "--raw",
    "--numstat",
    "-z",
    "--format=%x1e%H",
)  # fmt: skip  -- the diffs of the commits named on standard input, for DiffParser


def change_row(sha: str, files: Sequence[Sequence[object]]) -> Row:
    """The store's row of one diff, from its file lists (see :func:`change_rows`)."""
    added = sum(f[3] for f in files)  # type: ignore[misc]
    deleted = sum(f[4] for f in files)  # type: ignore[misc]
    return sha, _FILES_JSON(files), added, deleted


_FILES_JSON = json.JSONEncoder(separators=(",", ":")).encode


def _blob(oid: str) -> str:
    return "" if not oid.strip("0") else oid


class DiffParser:
    """Incremental: bytes of :data:`DIFF_LOG` output in, :func:`change_row` rows out.

    A state machine over the NUL-separated tokens: commit headers, raw entries (status, modes,
    blobs, then one or two paths) and numstat entries (counts and a path, or counts then two
    paths for a rename).
    """

    def __init__(self) -> None:
        self.sha: str | None = None
        self.raw: list[
            tuple[str, bool, tuple[str, str], list[str]]
        ] = []  # status, submodule, blobs, paths
        self.stats: list[tuple[int, int, bool, list[str]]] = []  # added, deleted, binary, paths
        self.open_paths: list[str] | None = None
        self.want_paths = 0
        self.rest = b""  # the last chunk's unfinished token

    def feed(self, chunk: bytes) -> list[Row]:
        tokens = (self.rest + chunk).split(b"\0")
        self.rest = tokens.pop()
        return list(self._tokens(tokens))

    def finish(self) -> list[Row]:
        rows = list(self._tokens([self.rest])) if self.rest else []
        self.rest = b""
        if self.sha is not None:
            rows.append(self._row())
            self.sha = None
        return rows

    def _tokens(self, tokens: Iterable[bytes]) -> Iterator[Row]:
        for token in tokens:
            if self.want_paths:
                assert self.open_paths is not None
                self.open_paths.append(token.decode("utf-8", errors="backslashreplace"))
                self.want_paths -= 1
                continue
            text = token.lstrip(b"\n")
            if text.startswith(b"\x1e"):
                if self.sha is not None:
                    yield self._row()
                self.sha = text[1:].decode("ascii")
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

    def _row(self) -> Row:
        assert self.sha is not None
        paired = len(self.raw) == len(self.stats) and all(
            r[3][-1] == s[3][-1] for r, s in zip(self.raw, self.stats, strict=True)
        )
        by_path = {} if paired else {s[3][-1]: s for s in self.stats}
        files = []
        for index, (status, submodule, blobs, paths) in enumerate(self.raw):
            stat = self.stats[index] if paired else by_path.get(paths[-1], (0, 0, False, paths))
            old_path = paths[0] if len(paths) == 2 else None
            kind = ChangeType.from_git_status(status).value
            files.append([paths[-1], old_path, kind, *stat[:3], submodule, *blobs])
        self.raw, self.stats = [], []
        return change_row(self.sha, files)
