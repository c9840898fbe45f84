"""Mining: bring the store up to date with a repository's audited branches, incrementally."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from auditor import git
from auditor.cores import available_cores
from auditor.errors import RepositoryError
from auditor.ledger import changes
from auditor.ledger.commits import Resolver
from auditor.ledger.diffs import DiffStreams
from auditor.ledger.store import Store
from auditor.model import BranchName, CommitSha, Completeness, EventKind, HistoryEvent
from auditor.progress import Progress

BATCH = 2000  # commits or changes per transaction
PART_MIN = 1000  # changes at least per git process computing diffs


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
    mailmap: str = ""  # the .mailmap blob committed at the first branch's tip ("" for none)


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
    names = [BranchName(name) for name in branches] or [facts.default_branch]
    blob = git.mailmap_blob(facts.path, git.resolve_branch(facts.path, names[0]))
    repo_id = store.upsert_repository(facts)
    _refresh_identities(store, repo_id, blob, mailmap_resolver(facts.path, blob))
    resolve = mailmap_resolver(facts.path, blob, known=store.identities(repo_id))

    def mine_branch(branch: BranchName, full: bool = False) -> BranchResult:
        return _mine_branch(
            store, repo_id, facts.path, branch, resolve, now, jobs or available_cores(), progress,
            full=full,
        )  # fmt: skip

    results: list[BranchResult] = []
    gaps: tuple[str, ...] = ()
    with store.bulk_load():
        for name in names:
            result, branch_gaps = _checked(
                store, repo_id, facts, mine_branch(name), lambda b: mine_branch(b, full=True)
            )
            results.append(result)
            gaps += branch_gaps
    reasons = facts.completeness.reasons + gaps
    completeness = Completeness(complete=not reasons, reasons=reasons)
    return MineResult(
        repo_id, facts.name, facts.path, completeness, tuple(results), facts.remote_url, blob
    )


def _checked(
    store: Store,
    repo_id: int,
    facts: git.RepoFacts,
    result: BranchResult,
    remine: Callable[[BranchName], BranchResult],
) -> tuple[BranchResult, tuple[str, ...]]:
    """The branch as mined, and why its history does not hold together by the commit objects.

    Checked once per tip (reading every commit's parents costs about half a second per 20,000
    commits), and at every mine of a shallow clone (deepened, it holds more history at the
    same tip). A stored ledger that fails (e.g. mined by an earlier walk that trusted a lying
    cache) is read again in full with ``remine`` before it is reported.
    """
    branch = result.branch
    if store.history_checked(repo_id, branch):
        return result, ()
    gaps = _ledger_gaps(store, repo_id, branch, facts)
    if gaps:
        result = remine(branch)
        gaps = _ledger_gaps(store, repo_id, branch, facts)
    if facts.commit_graph:
        gaps += git.commit_graph_disagreement(facts.path, branch, result.tip)
    if not gaps and not facts.boundary:
        with store.transaction():
            store.mark_history_checked(repo_id, branch)
    return result, gaps


def _ledger_gaps(
    store: Store, repo_id: int, branch: BranchName, facts: git.RepoFacts
) -> tuple[str, ...]:
    return changes.history_gaps(branch, *store.stored_history(repo_id, branch), facts.boundary)


def _mine_branch(
    store: Store,
    repo_id: int,
    path: Path,
    branch: BranchName,
    resolve: Resolver,
    now: datetime,
    jobs: int,
    progress: Progress,
    *,
    full: bool = False,
) -> BranchResult:
    """Bring one branch up to date; ``full`` walks its whole history again even if it has not
    moved."""
    tip = git.resolve_branch(path, branch)
    old = store.branch_tip(repo_id, branch)
    if old == tip and not full:
        return BranchResult(branch, tip, 0, 0, store.chain_length(repo_id, branch))
    append = (
        not full
        and old is not None
        and git.object_exists(path, old)
        and git.is_ancestor(path, old, tip)
    )
    graph = changes.commit_graph(path, tip, old if append else None)
    chain = changes.chain_in(graph, tip)
    if append and chain and graph[chain[0]][:1] != (old,):
        append = False  # the first-parent history changed shape (e.g. a foxtrot merge)
        graph = changes.commit_graph(path, tip)
        chain = changes.chain_in(graph, tip)
    new_changes = store.missing(repo_id, "changes", chain)
    # git starts on the diffs, the bulk of the work, while the rest of the history is read here
    with DiffStreams(path, new_changes, jobs, batch=BATCH, part_min=PART_MIN) as diffs:
        event = None
        if old is not None and not append:
            event = _rewrite_event(store, repo_id, branch, old, tip, chain, graph, now)
        new_commits = store.missing(repo_id, "commits", graph)
        progress.start(f"{branch}: commits and changes", len(new_commits) + len(new_changes))

        def write(table: Table, rows: list[changes.Row]) -> None:
            with store.transaction():
                if table == "commits":
                    store.add_commit_rows(repo_id, rows)
                else:
                    store.add_change_rows(repo_id, rows)
            progress.advance(len(rows))

        for start in range(0, len(new_commits), BATCH):
            write("commits", changes.commit_rows(path, new_commits[start : start + BATCH], resolve))
            for rows in diffs.ready():
                write("changes", rows)
        for rows in diffs.rest():
            write("changes", rows)
    progress.finish()

    owners = changes.custody(chain, graph)
    with store.transaction():
        if event is not None and event.kind is EventKind.HISTORY_REWRITTEN:
            store.keep_rewritten(repo_id, branch, event)  # before the chain is replaced
        store.update_branch(
            repo_id, branch, tip, chain, owners, append=append, mined_at=now, seen_at=_seen(now)
        )
        if event is not None:
            store.add_event(repo_id, event)
    total = store.chain_length(repo_id, branch)
    return BranchResult(branch, tip, len(new_changes), len(new_commits), total, event)


def _seen(now: datetime) -> datetime:
    """When this mining happened, for the branch's first mining: never earlier than the clock
    (a past ``--as-of`` must not claim the store watched the branch back then), nor than
    ``now`` (the run's time)."""
    return max(now, datetime.now(UTC).replace(microsecond=0))


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
            EventKind.HISTORY_REWRITTEN, branch, now, old, tip, tuple(CommitSha(s) for s in lost)
        )
    dropped = sorted(store.chain_shas(repo_id, branch) - set(chain))
    if dropped:
        return HistoryEvent(
            EventKind.FIRST_PARENT_REWRITTEN,
            branch,
            now,
            old,
            tip,
            tuple(CommitSha(s) for s in dropped),
        )
    return None


Table = Literal["commits", "changes"]


def mailmap_resolver(
    path: Path, blob: str, known: Mapping[tuple[str, str], tuple[str, str]] | None = None
) -> Resolver:
    """Name and email resolved through the ``.mailmap`` blob ``blob`` exactly as git does ("":
    no mailmap, identities as written).

    Mining uses the ``.mailmap`` committed at the audited branch's tip (:func:`git.mailmap_blob`),
    never the working tree's or one a git setting names: what the pack says can be re-performed
    from the repository alone. Each identity is resolved once; ``known`` are resolutions by the
    same mailmap (the store's). The mailmap is read when an identity is first not known (pygit2
    takes a tenth of a second to import: an incremental mine of known people never pays it, a
    full one while git works).
    """
    mailmap: list[Any] = []
    cache: dict[tuple[str, str], tuple[str, str]] = dict(known or {})

    def resolve(name: str, email: str) -> tuple[str, str]:
        key = (name, email)
        found = cache.get(key)
        if found is None:
            if not mailmap:
                mailmap.append(_read_mailmap(path, blob))
            found = cache[key] = tuple(mailmap[0].resolve(name, email))
        return found

    return resolve


def _read_mailmap(path: Path, blob: str) -> Any:
    import pygit2  # here, not at the top: it costs a quarter second of start-up

    if not blob:
        return pygit2.Mailmap()
    text = git.run(path, "cat-file", "blob", blob)
    try:
        return pygit2.Mailmap.from_buffer(text)
    except (pygit2.GitError, ValueError) as exc:
        raise RepositoryError(f"{path}: cannot read .mailmap (blob {blob}): {exc}") from None


def _refresh_identities(store: Store, repo_id: int, blob: str, resolve: Resolver) -> None:
    """Re-resolve stored identities when they were resolved by another mailmap than ``blob``."""
    key = f"blob:{blob}" if blob else "none"
    if store.mailmap_digest(repo_id) == key:
        return
    resolved = {raw: resolve(*raw) for raw in store.raw_identities(repo_id)}
    with store.transaction():
        store.reresolve_identities(repo_id, resolved)
        store.set_mailmap_digest(repo_id, key)
