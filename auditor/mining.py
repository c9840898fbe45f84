"""Mining: bring the store up to date with a repository's audited branches, incrementally."""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from pathlib import Path
from typing import Literal

from auditor import git, ledger
from auditor.commits import Resolver
from auditor.errors import RepositoryError
from auditor.model import BranchName, CommitSha, Completeness, HistoryEvent
from auditor.progress import Progress
from auditor.store import Store

BATCH = 2000  # commits or changes per transaction and per task of a worker process


@dataclass(frozen=True)
class BranchResult:
    """What one ``mine`` did to one branch."""

    branch: BranchName
    tip: CommitSha
    new_changes: int
    new_commits: int
    total_changes: int
    event: HistoryEvent | None = None


@dataclass(frozen=True)
class MineResult:
    """What one ``mine`` did to one repository."""

    repo_id: int
    name: str
    path: Path
    completeness: Completeness
    branches: tuple[BranchResult, ...] = field(default_factory=tuple)
    remote: str = ""


def mine(
    store: Store,
    path: Path,
    branches: Sequence[str] = (),
    *,
    now: datetime,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> MineResult:
    """Mine every audited branch of the repository at ``path`` into ``store``."""
    facts = git.inspect(path)
    progress = progress or Progress()
    repo_id = store.upsert_repository(facts)
    resolve = mailmap_resolver(facts.path)
    _refresh_identities(store, repo_id, facts, resolve)
    with store.bulk_load():
        results = [
            _mine_branch(
                store, repo_id, facts.path, BranchName(branch), resolve, now,
                jobs or os.cpu_count() or 1, progress,
            )
            for branch in (branches or [facts.default_branch])
        ]  # fmt: skip
    return MineResult(
        repo_id, facts.name, facts.path, facts.completeness, tuple(results), facts.remote_url
    )


def _mine_branch(
    store: Store,
    repo_id: int,
    path: Path,
    branch: BranchName,
    resolve: Resolver,
    now: datetime,
    jobs: int,
    progress: Progress,
) -> BranchResult:
    tip = git.resolve_branch(path, branch)
    old = store.branch_tip(repo_id, branch)
    if old == tip:
        return BranchResult(branch, tip, 0, 0, store.chain_length(repo_id, branch))
    append = old is not None and git.object_exists(path, old) and git.is_ancestor(path, old, tip)
    chain = ledger.first_parent_chain(path, tip, old if append else None)
    graph = ledger.commit_graph(path, tip, old if append else None)
    if append and chain and graph[chain[0]][:1] != (old,):
        append = False  # the first-parent history changed shape (e.g. a foxtrot merge)
        chain = ledger.first_parent_chain(path, tip)
        graph = ledger.commit_graph(path, tip)
    event = None
    if old is not None and not append:
        event = _rewrite_event(store, repo_id, branch, old, tip, chain, graph, now)

    new_commits = store.missing(repo_id, "commits", graph)
    new_changes = store.missing(repo_id, "changes", chain)
    progress.start(f"{branch}: commits and changes", len(new_commits) + len(new_changes))
    with closing(_rows(path, new_commits, new_changes, resolve, jobs)) as batches:
        for table, rows in batches:
            with store.transaction():
                if table == "commits":
                    store.add_commit_rows(repo_id, rows)
                else:
                    store.add_change_rows(repo_id, rows)
            progress.advance(len(rows))
    progress.finish()

    owners = ledger.custody(chain, graph)
    with store.transaction():
        store.update_branch(repo_id, branch, tip, chain, owners, append=append, mined_at=now)
        if event is not None:
            store.add_event(repo_id, event)
    total = store.chain_length(repo_id, branch)
    return BranchResult(branch, tip, len(new_changes), len(new_commits), total, event)


def _rewrite_event(
    store: Store,
    repo_id: int,
    branch: BranchName,
    old: CommitSha,
    tip: CommitSha,
    chain: Sequence[CommitSha],
    graph: dict[CommitSha, tuple[CommitSha, ...]],
    now: datetime,
) -> HistoryEvent | None:
    """A rewrite that lost commits, or one that only reshaped the first-parent chain."""
    lost = sorted(store.custody_commits(repo_id, branch) - graph.keys())
    if lost:
        return HistoryEvent(
            "history-rewritten", branch, now, old, tip, tuple(CommitSha(s) for s in lost)
        )
    dropped = sorted(store.chain_shas(repo_id, branch) - set(chain))
    if dropped:
        return HistoryEvent(
            "first-parent-rewritten", branch, now, old, tip, tuple(CommitSha(s) for s in dropped)
        )
    return None


Table = Literal["commits", "changes"]


def _rows(
    path: Path, commits: Sequence[str], changes: Sequence[str], resolve: Resolver, jobs: int
) -> Generator[tuple[Table, list[ledger.Row]], None, None]:
    """The store's rows of ``commits`` and ``changes``, a batch at a time, the two alternating.

    With ``jobs`` above 1 and more than one batch of work, batches are read and parsed by as
    many worker processes (each with its own git processes and mailmap), a few batches ahead of
    the caller, who is left with writing them; otherwise here, one after another.
    """
    tasks: list[tuple[Table, Sequence[str]]] = [
        task
        for pair in zip_longest(_slices("commits", commits), _slices("changes", changes))
        for task in pair
        if task is not None
    ]
    if jobs <= 1 or len(tasks) <= 1:
        for table, shas in tasks:
            yield table, _table_rows(path, table, shas, resolve)
        return
    workers = min(jobs, len(tasks))
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(path,)) as pool:
        ahead: deque[tuple[Table, Future[list[ledger.Row]]]] = deque()
        try:
            for table, shas in tasks:
                ahead.append((table, pool.submit(_worker_rows, path, table, shas)))
                if len(ahead) > 2 * workers:
                    table, future = ahead.popleft()
                    yield table, future.result()
            for table, future in ahead:
                yield table, future.result()
        finally:
            pool.shutdown(cancel_futures=True)


def _slices(table: Table, shas: Sequence[str]) -> Iterator[tuple[Table, Sequence[str]]]:
    for start in range(0, len(shas), BATCH):
        yield table, shas[start : start + BATCH]


def _table_rows(
    path: Path, table: Table, shas: Sequence[str], resolve: Resolver
) -> list[ledger.Row]:
    if table == "commits":
        return ledger.commit_rows(path, shas, resolve)
    return ledger.change_rows(path, shas)


_worker_resolver: list[Resolver] = []  # set once in each worker process by _start_worker


def _start_worker(path: Path) -> None:
    _worker_resolver[:] = [mailmap_resolver(path)]


def _worker_rows(path: Path, table: Table, shas: Sequence[str]) -> list[ledger.Row]:
    return _table_rows(path, table, shas, _worker_resolver[0])


def mailmap_resolver(path: Path) -> Resolver:
    """Name and email resolved through the repository's ``.mailmap`` exactly as git does."""
    import pygit2  # here, not at the top: it costs a quarter second of start-up

    try:
        mailmap = pygit2.Mailmap.from_repository(pygit2.Repository(str(path)))
    except (pygit2.GitError, ValueError) as exc:
        raise RepositoryError(f"{path}: cannot read .mailmap: {exc}") from None
    cache: dict[tuple[str, str], tuple[str, str]] = {}

    def resolve(name: str, email: str) -> tuple[str, str]:
        key = (name, email)
        if key not in cache:
            cache[key] = tuple(mailmap.resolve(name, email))  # type: ignore[assignment]
        return cache[key]

    return resolve


def _refresh_identities(
    store: Store, repo_id: int, facts: git.RepoFacts, resolve: Resolver
) -> None:
    """Re-resolve stored identities when the repository's mailmap has changed since last time."""
    digest = _mailmap_digest(facts)
    if store.mailmap_digest(repo_id) == digest:
        return
    resolved = {raw: resolve(*raw) for raw in store.raw_identities(repo_id)}
    with store.transaction():
        store.reresolve_identities(repo_id, resolved)
        store.set_mailmap_digest(repo_id, digest)


def _mailmap_digest(facts: git.RepoFacts) -> str:
    sources = [facts.path / ".mailmap"]
    configured = git.run_or_none(facts.path, "config", "--get", "mailmap.file")
    if configured:
        sources.append(Path(os.path.expanduser(configured.decode().strip())))
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes() if source.is_file() else b"-")
    blob = git.run_or_none(facts.path, "rev-parse", "-q", "--verify", "HEAD:.mailmap")
    digest.update(blob or b"-")
    return digest.hexdigest()
