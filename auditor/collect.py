"""Collect review data for a repository: from its forge (incrementally, into the store) or a file.

A forge is read with conditional requests cached in the store, and only requests updated since
the last run are fetched again; the raw payloads are kept, so ``auditor reviews export`` can hand
the same evidence to an air-gapped audit and it can be parsed again later.
"""

from __future__ import annotations

import enum
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from auditor.errors import ForgeError, UsageError
from auditor.reviews import (
    TOKEN_VARIABLES,
    ChangeRequest,
    Forge,
    OfflineSource,
    Remote,
    open_forge,
    parse_remote_url,
)
from auditor.reviews.http import CachedPage
from auditor.reviews.interface import Payload
from auditor.reviews.offline import SOURCES
from auditor.store import Store

# A re-run asks for requests updated since the last one seen, less this margin for clock skew.
CURSOR_OVERLAP = timedelta(minutes=5)


class ForgeKind(enum.Enum):
    """The ``--forge`` choices."""

    GITHUB = "github"
    GITLAB = "gitlab"
    NONE = "none"


@dataclass(frozen=True)
class ForgeOptions:
    """Where review data comes from, parsed once at the edge."""

    forge: ForgeKind = ForgeKind.NONE
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
    """Bring the store's review data for ``branch`` up to date and return every request."""
    if options.reviews_file is not None:
        return _offline(options.reviews_file, branch)
    if options.forge is ForgeKind.NONE:
        return ReviewData(requests=None, source="none")
    forge = Forge(options.forge.value)
    remote = _remote(remote_url, options)
    token = os.environ.get(TOKEN_VARIABLES[forge]) or None
    cursor = store.review_cursor(repo_id, forge.value, branch)
    since = datetime.fromisoformat(cursor) - CURSOR_OVERLAP if cursor else None
    web_url = f"https://{remote.host}/{remote.path}"
    try:
        with open_forge(
            forge, remote, base_url=options.forge_url, token=token, cache=StoreCache(store)
        ) as source:
            fetched = []
            for bundle, request in source.fetch_pairs(base_branch=branch, updated_since=since):
                fetched.append((int(request.number), request.updated_at.isoformat(), bundle))
            gaps = tuple(gap.reason for gap in source.gaps)
    except ForgeError as err:
        return ReviewData(None, forge.value, False, (str(err),), remote.path, web_url)
    newest = max((updated for _, updated, _ in fetched), default=cursor)
    with store.transaction():
        store.add_review_bundles(repo_id, forge.value, branch, fetched, None if gaps else newest)
    source_class = SOURCES[forge]
    requests = tuple(
        source_class.parse(Payload.of(bundle, ""))
        for bundle in store.review_bundles(repo_id, forge.value, branch)
    )
    return ReviewData(requests, forge.value, not gaps, gaps, remote.path, web_url)


def _remote(remote_url: str, options: ForgeOptions) -> Remote:
    if options.forge_repo:
        owner, _, name = options.forge_repo.strip("/").rpartition("/")
        if not owner or not name:
            raise UsageError(f"--forge-repo: expected OWNER/REPO, got {options.forge_repo!r}")
        host = parse_remote_url(remote_url).host if remote_url else "github.com"
        return parse_remote_url(f"https://{host}/{owner}/{name}")
    if not remote_url:
        raise UsageError(
            "--forge: the repository has no 'origin' remote; name it with --forge-repo OWNER/REPO"
        )
    return parse_remote_url(remote_url)


def _offline(path: Path, branch: str) -> ReviewData:
    source = OfflineSource(path)
    requests = tuple(source.fetch(base_branch=branch, updated_since=None))
    gaps = tuple(gap.reason for gap in source.gaps)
    host = "gitlab.com" if source.forge is Forge.GITLAB else "github.com"
    return ReviewData(
        requests,
        f"offline:{path.name}",
        not gaps,
        gaps,
        source.repository,
        f"https://{host}/{source.repository}",
    )
