"""Reviews → facts: link each change to its merged request and derive what controls need.

A change links to the request whose merge or squash commit it is, else to a request listing
its SHA (fast-forward), else to a request listing a commit with its author email, author time
and subject (rebase merge: one request, several changes). A change that links to nothing is a
direct push, unless its message names a request the forge data lacks, or the forge data is
known to be incomplete: then its review evidence is missing, never "no review". A request the
message names is kept on the change (``request_unconfirmed``) whether or not the forge links it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from auditor.facts.approvals import ContentQuery, approvals, content_queries, same_content
from auditor.facts.identities import People, Roster, involvement
from auditor.facts.trailers import trailer_facts
from auditor.ledger.commits import DEFAULT_BOTS, BotPolicy, split_message
from auditor.ledger.contributors import (
    Contribution,
    contributions,
    distinct,
    is_forge_identity,
    merger,
    message_contributions,
)
from auditor.ledger.mining import mailmap_resolver
from auditor.model import (
    Change,
    ChangeFacts,
    Commit,
    CommitSha,
    ForgeCopy,
    Person,
    ReviewEvidence,
)
from auditor.reviews.interface import AccountType, ChangeRequest, Forge, RequestCommit

_RebaseKey = tuple[str, int, str]


class RequestIndex:
    """Merged requests indexed once by merge commit, listed commit and rebase key."""

    def __init__(self, requests: Iterable[ChangeRequest]) -> None:
        self.by_number: dict[int, ChangeRequest] = {}
        self._by_merge: dict[str, ChangeRequest] = {}
        self._by_commit: dict[str, list[ChangeRequest]] = {}
        self._by_key: dict[_RebaseKey, list[ChangeRequest]] = {}
        for request in requests:
            self.by_number[request.number] = request
            if request.merged_at is None:
                continue
            for sha in (request.merge_commit_sha, request.squash_commit_sha):
                if sha:
                    self._by_merge[sha] = request
            for commit in request.commits:
                self._by_commit.setdefault(commit.sha, []).append(request)
                subject = split_message(commit.message)[0]
                key = _key(commit.author_email, commit.authored_at, subject)
                self._by_key.setdefault(key, []).append(request)

    def link(self, change: Change) -> ChangeRequest | None:
        commit = change.commit
        if found := self._by_merge.get(commit.sha):
            return found
        identity = commit.author.identity
        key = _key(identity.raw_email, commit.author.when, commit.subject)
        candidates = self._by_commit.get(commit.sha) or self._by_key.get(key)
        return min(candidates, key=_merge_order) if candidates else None

    def merged_as(self, sha: str) -> ChangeRequest | None:
        """The request whose merge or squash commit ``sha`` is."""
        return self._by_merge.get(sha)


def _key(email: str, when: datetime, subject: str) -> _RebaseKey:
    return email.lower(), int(when.timestamp()), subject


def _merge_order(request: ChangeRequest) -> tuple[datetime | None, int]:
    return request.merged_at, request.number


def build_facts(
    repo: str,
    changes: Sequence[Change],
    brought_in: Mapping[CommitSha, Sequence[Commit]],
    requests: Sequence[ChangeRequest] | None,
    *,
    roster: Roster | None,
    repo_path: Path | None,
    mailmap: str = "",
    request_url: str = "",
    forge_complete: bool = True,
    bots: BotPolicy = DEFAULT_BOTS,
) -> list[ChangeFacts]:
    """The review facts of each change, in the order given.

    ``requests`` None means no forge data: evidence comes from the commits' trailers.
    ``mailmap`` is the ``.mailmap`` blob the ledger's identities were resolved by.
    ``request_url`` is a template with ``{number}``, for requests that carry no URL.
    """
    resolve = mailmap_resolver(repo_path, mailmap) if repo_path is not None else None
    if requests is None:
        people = People.build(roster, (), bots, resolve)
        return [
            trailer_facts(repo, change, _commits(change, brought_in), people) for change in changes
        ]
    index = RequestIndex(requests)
    links = [(change, index.link(change)) for change in changes]
    queries: set[ContentQuery] = set()
    for change, request in links:
        if request is not None:
            queries |= content_queries(request, _base(request, change))
    facts = _Facts(
        repo,
        index,
        People.build(
            roster,
            (c for r in requests for c in r.commits),
            bots,
            resolve,
        ),
        same_content(repo_path, queries),
        request_url,
        forge_complete,
    )
    return [facts.of(change, request, _commits(change, brought_in)) for change, request in links]


@dataclass(frozen=True)
class _Facts:
    repo: str
    index: RequestIndex
    people: People
    content: Mapping[ContentQuery, bool | None]
    request_url: str
    forge_complete: bool

    def of(
        self, change: Change, request: ChangeRequest | None, commits: tuple[Commit, ...]
    ) -> ChangeFacts:
        skip = {c.sha for c in commits if _forge_merge(c, self.index.merged_as(c.sha))}
        notes = [
            f"brings in request #{inner.number}, merged into its source branch"
            for c in commits
            if c.sha != change.sha and (inner := self.index.merged_as(c.sha))
        ]
        if request is None:
            return self._unlinked(change, commits, skip, notes)
        copies = _forge_copies(request, commits)
        merged_by = self.people.merger(
            merger(change.commit),
            change.landed_at,
            self.people.login(request.merged_by, AccountType.UNKNOWN, request.merged_at)
            if request.merged_by
            else None,
        )
        involved = involvement(
            self.people,
            self._contributions(change, commits, request.commits),
            commits,
            request.commits,
            skip=skip,
            forge_committed=copies,
            opened_by=self._opener(request),
        )
        base = _base(request, change)
        counted, retro = approvals(request, self.people, involved.keys, self.content, base)
        if change.request and change.request.number != request.number:
            notes.append(f"message names request #{change.request.number}; the forge links it")
        if request.commits_truncated:
            notes.append(
                f"the forge listed {len(request.commits)} of {request.commit_count} commits"
            )
        return ChangeFacts(
            self.repo,
            change,
            ReviewEvidence.MISSING if request.commits_truncated else ReviewEvidence.FORGE,
            request_number=request.number,
            request_url=request.url or _url(self.request_url, request.number),
            request_title=request.title,
            request_body=request.body,
            labels=request.labels,
            authors=involved.authors,
            committers=involved.committers,
            approvals=counted,
            post_merge_approvals=retro,
            merged_by=merged_by,
            merged_at=request.merged_at,
            contributors=involved.contributors,
            commits=commits,
            unresolved=involved.unresolved,
            notes=tuple(notes),
            request_messages=tuple((rc.sha, rc.message) for rc in request.commits),
            forge_copies=tuple(
                ForgeCopy(CommitSha(sha), original.sha, original.signed)
                for sha, original in copies.items()
                if original is not None
            ),
        )

    def _opener(self, request: ChangeRequest) -> Person | None:
        """The account that opened the request: part of the change, never an independent
        reviewer of it."""
        if request.author_login is None:
            return None
        return self.people.login(request.author_login, request.author_type, request.created_at)

    def _contributions(
        self, change: Change, commits: Sequence[Commit], listed: Sequence[RequestCommit] = ()
    ) -> tuple[Contribution, ...]:
        """Who wrote the change: its commits' authors and co-authors, and those of the commits
        the forge lists for its request (a squash's originals), merges aside."""
        resolve = self.people.mailmap
        found = list(contributions(commits, change.commit, resolve))
        for rc in listed:
            if len(rc.parents) < 2:
                found += message_contributions(
                    rc.author_name, rc.author_email, rc.authored_at, rc.message, resolve,
                    rc.author_login,
                )  # fmt: skip
        return distinct(found)

    def _unlinked(
        self, change: Change, commits: tuple[Commit, ...], skip: Collection[str], notes: list[str]
    ) -> ChangeFacts:
        involved = involvement(
            self.people, self._contributions(change, commits), commits, skip=skip
        )
        merged_by = self.people.merger(merger(change.commit), change.landed_at)
        named = change.request.number if change.request else None
        evidence = ReviewEvidence.FORGE
        if named is not None and named not in self.index.by_number:
            evidence = ReviewEvidence.MISSING
            notes.append(f"message names request #{named}, which the forge data lacks")
        elif named is not None:
            notes.append(f"message names request #{named}, but the forge did not merge this commit")
        elif not self.forge_complete:
            evidence = ReviewEvidence.MISSING
            notes.append("no request found, and the forge data is incomplete")
        return ChangeFacts(
            self.repo,
            change,
            evidence,
            request_number=named,
            request_unconfirmed=named is not None,
            request_url=_url(self.request_url, named) if named is not None else "",
            authors=involved.authors,
            committers=involved.committers,
            merged_by=merged_by,
            contributors=involved.contributors,
            commits=commits,
            unresolved=involved.unresolved,
            notes=tuple(notes),
        )


def _commits(
    change: Change, brought_in: Mapping[CommitSha, Sequence[Commit]]
) -> tuple[Commit, ...]:
    commits = tuple(  # the change's own commit as one record (it pickles once)
        change.commit if c.sha == change.sha else c for c in brought_in.get(change.sha, ())
    )
    return commits if any(c is change.commit for c in commits) else (change.commit, *commits)


def _forge_merge(commit: Commit, request: ChangeRequest | None) -> bool:
    """A merge commit the forge made for ``request``: the merger is ``merged_by``, not an author.

    GitHub commits its merges as its own identity; GitLab commits them as the merging user, so
    the request's record of its merge commit is the only sign.
    """
    if request is None or not commit.is_merge or commit.sha != request.merge_commit_sha:
        return False
    return request.forge is Forge.GITLAB or is_forge_identity(commit.committer.identity.raw_email)


def _forge_copies(
    request: ChangeRequest, commits: Sequence[Commit]
) -> dict[str, RequestCommit | None]:
    """The commits of a change the forge wrote when it merged ``request``: a squash commit (None)
    and rebased copies of the request's commits (each with its original: same author, author
    time and subject, another SHA). Their committer is the forge acting for the merger."""
    listed = {rc.sha for rc in request.commits}
    originals = {
        _key(rc.author_email, rc.authored_at, split_message(rc.message)[0]): rc
        for rc in request.commits
    }
    copies: dict[str, RequestCommit | None] = {}
    for commit in commits:
        if commit.sha in listed or commit.is_merge:
            continue
        if commit.sha == request.squash_commit_sha:
            copies[commit.sha] = None
            continue
        identity = commit.author.identity
        original = originals.get(_key(identity.raw_email, commit.author.when, commit.subject))
        if original is not None:
            copies[commit.sha] = original
    return copies


def _base(request: ChangeRequest, change: Change) -> str | None:
    return request.base_sha or (change.commit.parents[0] if change.commit.parents else None)


def _url(template: str, number: int) -> str:
    return template.format(number=number) if template else ""
