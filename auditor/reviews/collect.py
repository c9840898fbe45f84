"""Collect review data for a repository: from its forge (incrementally, into the store) or a file.

A forge is read with conditional requests cached in the store, and only requests updated since
the last run are fetched again; the raw payloads are kept, so ``auditor reviews export`` can hand
the same evidence to an air-gapped audit and it can be parsed again later.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from auditor import git
from auditor.errors import ForgeError, UsageError
from auditor.ledger.store import Store
from auditor.redaction import redact
from auditor.reviews import (
    ChangeRequest,
    EvidenceGap,
    Forge,
    OfflineSource,
    Remote,
    api_url,
    export_document,
    open_forge,
    parse_remote_url,
)
from auditor.reviews.forges import FORGES, NO_FORGE, forges_listed
from auditor.reviews.http import CachedPage
from auditor.reviews.interface import Payload

# A re-run asks for requests updated since the last one seen, less this margin for clock skew.
CURSOR_OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True)
class ForgeOptions:
    """Where review data comes from, parsed once at the edge."""

    forge: Forge | None = None
    """None: no forge (``--forge none``)."""
    forge_url: str | None = None
    forge_repo: str | None = None  # owner/repo (or group/project) when the remote can't tell
    reviews_file: Path | None = None


@dataclass(frozen=True)
class ReviewData:
    """The requests of one branch, or None when no review source was configured."""

    requests: tuple[ChangeRequest, ...] | None
    source: str  # "github", "gitlab", "offline:<file>" or "none"
    complete: bool = True
    gaps: tuple[str, ...] = field(default_factory=tuple)
    forge_repository: str = ""
    web_url: str = ""  # e.g. https://github.com/acme/infra-live, for links
    api_url: str = ""  # the forge's REST API base, credentials removed
    source_gaps: tuple[str, ...] = ()  # the gaps not tied to one request (a refused request…)


@dataclass(frozen=True)
class ReviewExport:
    """An export document (see :mod:`auditor.reviews.offline`) and what went into it."""

    document: dict[str, Any]
    branches: tuple[str, ...]
    reviews: tuple[ReviewData, ...]

    @property
    def requests(self) -> int:
        return len(self.document[FORGES[Forge(self.document["forge"])].source.bundles_key])

    @property
    def complete(self) -> bool:
        return bool(self.document["complete"])

    @property
    def gaps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g for r in self.reviews for g in r.gaps))


class StoreCache:
    """The store as the forge client's response cache (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()

    def get(self, url: str) -> CachedPage | None:
        with self.lock:
            row = self.store.cached_page(url)
        return CachedPage(*row) if row else None

    def put(self, url: str, page: CachedPage) -> None:
        with self.lock:
            self.store.cache_page(url, page.etag, page.body, page.next_url)


def collect(
    store: Store, repo_id: int, remote_url: str, branch: str, options: ForgeOptions
) -> ReviewData:
    """Bring the store's review data for ``branch`` up to date and return every request.

    When the forge fails (unreachable, refused, stopped mid-pagination) the requests stored by
    earlier runs are returned, marked incomplete with the reason.
    """
    if options.reviews_file is not None:
        return _offline(options.reviews_file, branch, remote_url, options.forge_repo)
    forge = options.forge
    if forge is None:
        return ReviewData(requests=None, source=NO_FORGE)
    entry = FORGES[forge]
    remote = _remote(remote_url, options, forge)
    token = os.environ.get(entry.token_variable) or None
    cursor = store.review_cursor(repo_id, forge.value, branch)
    since = datetime.fromisoformat(cursor) - CURSOR_OVERLAP if cursor else None
    web_url = f"https://{remote.host}/{remote.path}"
    base_url = redact(api_url(forge, remote, options.forge_url))
    fetched = []
    try:
        with open_forge(
            forge, remote, base_url=options.forge_url, token=token, cache=StoreCache(store)
        ) as source:
            for bundle, request in source.fetch_pairs(base_branch=branch, updated_since=since):
                fetched.append((int(request.number), request.updated_at.isoformat(), bundle))
            gaps = tuple(_gap_text(gap) for gap in source.gaps)
            source_gaps = tuple(gap.reason for gap in source.gaps if gap.request is None)
    except ForgeError as err:
        fetched, gaps = [], (str(err),)
        source_gaps = gaps
    newest = max((updated for _, updated, _ in fetched), default=cursor)
    with store.transaction():
        store.add_review_bundles(repo_id, forge.value, branch, fetched, None if gaps else newest)
    requests = tuple(
        entry.source.parse(Payload.of(bundle, ""))
        for bundle in store.review_bundles(repo_id, forge.value, branch)
    )
    return ReviewData(
        requests, forge.value, not gaps, gaps, remote.path, web_url, base_url, source_gaps
    )


def export_reviews(
    store: Store,
    path: Path,
    branches: Sequence[str],
    options: ForgeOptions,
    *,
    exported_at: datetime,
) -> ReviewExport:
    """Collect the review data of ``branches`` (default: the default branch) of the repository
    at ``path`` from its forge into ``store``, and return the export document of everything the
    store holds for them. A forge that failed makes the document incomplete, with the reasons."""
    if options.reviews_file is not None:
        raise UsageError("--reviews-file: review data is exported from a forge, not from a file")
    forge = options.forge
    if forge is None:
        raise UsageError(f"--forge: name the forge to export from ({forges_listed()})")
    facts = git.inspect(path)
    names = tuple(branches) or (facts.default_branch,)
    for name in names:
        git.resolve_branch(facts.path, name)
    repo_id = store.upsert_repository(facts)
    reviews = tuple(collect(store, repo_id, facts.remote_url, name, options) for name in names)
    bundles = [
        bundle for name in names for bundle in store.review_bundles(repo_id, forge.value, name)
    ]
    document = export_document(
        forge,
        reviews[0].forge_repository,
        reviews[0].api_url,
        bundles,
        exported_at=exported_at,
        complete=all(r.complete for r in reviews),
        gaps=[g for r in reviews for g in r.source_gaps],
    )
    return ReviewExport(document, names, reviews)


def _gap_text(gap: EvidenceGap) -> str:
    return gap.reason if gap.request is None else f"request #{gap.request}: {gap.reason}"


def forge_remote(remote_url: str, options: ForgeOptions, forge: Forge) -> Remote:
    """The forge repository review data is read from: ``--forge-repo`` or the origin's."""
    return _remote(remote_url, options, forge)


def _remote(remote_url: str, options: ForgeOptions, forge: Forge) -> Remote:
    if options.forge_repo:
        owner, _, name = options.forge_repo.strip("/").rpartition("/")
        if not owner or not name:
            raise UsageError(f"--forge-repo: expected OWNER/REPO, got {options.forge_repo!r}")
        default_host = FORGES[forge].host
        host = parse_remote_url(remote_url).host if remote_url else default_host
        return parse_remote_url(f"https://{host}/{owner}/{name}")
    if not remote_url:
        raise UsageError(
            "--forge: the repository has no 'origin' remote; name it with --forge-repo OWNER/REPO"
        )
    return parse_remote_url(remote_url)


def _offline(path: Path, branch: str, remote_url: str, forge_repo: str | None) -> ReviewData:
    source = OfflineSource(path)
    _check_same_repository(source, remote_url, forge_repo)
    requests = tuple(source.fetch(base_branch=branch, updated_since=None))
    gaps = tuple(_gap_text(gap) for gap in source.gaps)
    host = FORGES[source.forge].host
    return ReviewData(
        requests,
        f"offline:{path.name}",
        not gaps,
        gaps,
        source.repository,
        f"https://{host}/{source.repository}",
        source.base_url,
        tuple(gap.reason for gap in source.gaps if gap.request is None),
    )


def _check_same_repository(source: OfflineSource, remote_url: str, forge_repo: str | None) -> None:
    """Review data is evidence about one repository: a file exported for another is refused,
    unless the user names the file's repository as the audited one's (``--forge-repo``, config
    ``forge_repo``), for a repository whose origin does not tell or tells another name (a
    mirror, a rename)."""
    named = source.repository
    if forge_repo is not None:
        audited, how = forge_repo.strip("/"), "--forge-repo names"
    else:
        try:
            audited, how = parse_remote_url(remote_url).path, "the audited repository is"
        except UsageError:
            raise UsageError(
                f"{source.path}: review data of {named}, but the audited repository's origin "
                f"does not name a forge repository; if it is {named}, pass --forge-repo {named} "
                f"(config: forge_repo)"
            ) from None
    if audited.casefold() != named.casefold():
        raise UsageError(
            f"{source.path}: review data of {named}, but {how} {audited}; if they are the same "
            f"repository, pass --forge-repo {named} (config: forge_repo)"
        )
