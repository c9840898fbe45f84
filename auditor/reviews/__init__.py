"""Review sources: who reviewed and approved each merged request, from a forge or an export."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from auditor.errors import UsageError
from auditor.reviews import github, gitlab
from auditor.reviews.http import AuthScheme, ForgeClient, MemoryCache, ResponseCache, RetryPolicy
from auditor.reviews.interface import (
    AccountType,
    ChangeRequest,
    EvidenceGap,
    Forge,
    RawSource,
    Remote,
    RequestCommit,
    RequestNumber,
    RequestState,
    Review,
    ReviewId,
    ReviewSource,
    ReviewState,
    parse_remote_url,
)
from auditor.reviews.offline import OfflineSource, build_export, export_document, write_export

__all__ = [
    "TOKEN_VARIABLES",
    "AccountType",
    "ChangeRequest",
    "EvidenceGap",
    "Forge",
    "MemoryCache",
    "OfflineSource",
    "RawSource",
    "Remote",
    "RequestCommit",
    "RequestNumber",
    "RequestState",
    "ResponseCache",
    "RetryPolicy",
    "Review",
    "ReviewId",
    "ReviewSource",
    "ReviewState",
    "api_url",
    "build_export",
    "check_api_url",
    "export_document",
    "open_forge",
    "parse_remote_url",
    "write_export",
]

TOKEN_VARIABLES = {Forge.GITHUB: "GITHUB_TOKEN", Forge.GITLAB: "GITLAB_TOKEN"}
"""The environment variable a caller reads each forge's token from."""


def check_api_url(url: str) -> str:
    """``url`` when it is an ``http(s)://HOST[:PORT]/...`` URL; else a :class:`UsageError`
    saying why (``http://[::1`` would otherwise fail deep inside, at the first request)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UsageError(f"not a valid URL: {url!r} ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL with a host: {url!r}")
    if port == 0:
        raise UsageError(f"not a valid URL: {url!r} (port 0)")
    return url


def api_url(forge: Forge, remote: Remote, base_url: str | None = None) -> str:
    """The REST API base of ``remote``'s forge: ``base_url`` when given, else derived from
    the host (github.com, GitHub Enterprise Server, GitLab.com or self-managed GitLab)."""
    if base_url:
        return base_url.rstrip("/")
    if forge is Forge.GITHUB:
        return github.api_url_for(remote.host)
    return gitlab.api_url_for(remote.host)


def open_forge(
    forge: Forge,
    remote: Remote,
    *,
    base_url: str | None = None,
    token: str | None = None,
    cache: ResponseCache | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RawSource:
    """A source reading ``remote``'s requests from its forge's API (``base_url`` overrides)."""
    if forge is Forge.GITHUB:
        headers, auth = github.HEADERS, AuthScheme.BEARER
    else:
        headers, auth = {}, AuthScheme.PRIVATE_TOKEN
    client = ForgeClient(
        api_url(forge, remote, base_url),
        name="GitHub" if forge is Forge.GITHUB else "GitLab",
        token=token,
        auth=auth,
        headers=headers,
        cache=cache,
        retry=retry,
        sleep=sleep,
    )
    if forge is Forge.GITHUB:
        return github.GitHubSource(client, remote.path)
    return gitlab.GitLabSource(client, remote.path)
