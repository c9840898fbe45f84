"""Review sources: who reviewed and approved each merged request, from a forge or an export."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from auditor.errors import UsageError
from auditor.redaction import redact
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
    "KNOWN_HOSTS",
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
    "forge_client",
    "open_forge",
    "parse_remote_url",
    "write_export",
]

TOKEN_VARIABLES = {Forge.GITHUB: "GITHUB_TOKEN", Forge.GITLAB: "GITLAB_TOKEN"}
"""The environment variable a caller reads each forge's token from."""


def check_api_url(url: str) -> str:
    """``url`` when it is an ``http(s)://HOST[:PORT]/...`` URL with no user, password, query or
    fragment; else a :class:`UsageError` saying why, the URL shown redacted. (``http://[::1``
    would otherwise fail deep inside, at the first request; a token in the URL would be recorded
    as the API base of the review data.)"""
    shown = repr(redact(url))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UsageError(f"not a valid URL: {shown} ({redact(str(err))})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL with a host: {shown}")
    if port == 0:
        raise UsageError(f"not a valid URL: {shown} (port 0)")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise UsageError(
            f"{shown}: an API base URL takes no user, password, query or fragment "
            f"(the token comes from {' or '.join(TOKEN_VARIABLES.values())})"
        )
    return url


KNOWN_HOSTS = {Forge.GITHUB: "github.com", Forge.GITLAB: "gitlab.com"}
"""The forge hosts whose API auditor derives from an origin remote; any other needs its URL."""
_DERIVED_API = {Forge.GITHUB: github.api_url_for, Forge.GITLAB: gitlab.api_url_for}


def api_url(forge: Forge, remote: Remote, base_url: str | None = None) -> str:
    """The REST API base of ``remote``'s forge: ``base_url`` when given (``--forge-url``), else
    the API of github.com or GitLab.com when the remote is there.

    The token goes where this points, so a base URL is never derived from another host the
    origin names: that is a :class:`UsageError` asking for ``--forge-url``."""
    if base_url:
        try:
            return check_api_url(base_url).rstrip("/")
        except UsageError as err:
            raise UsageError(f"--forge-url: {err}") from None
    derived = _DERIVED_API[forge](remote.host)
    if derived is None:
        raise UsageError(
            f"--forge {forge.value}: the origin's host {remote.host} is not "
            f"{KNOWN_HOSTS[forge]}; name its API with --forge-url (config: forge_url), "
            f"the only place the token is sent"
        )
    return derived


def forge_client(
    forge: Forge,
    remote: Remote,
    *,
    base_url: str | None = None,
    token: str | None = None,
    cache: ResponseCache | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ForgeClient:
    """A client of ``remote``'s forge API (``base_url`` overrides), authenticated with ``token``."""
    if forge is Forge.GITHUB:
        headers, auth = github.HEADERS, AuthScheme.BEARER
    else:
        headers, auth = {}, AuthScheme.PRIVATE_TOKEN
    return ForgeClient(
        api_url(forge, remote, base_url),
        name="GitHub" if forge is Forge.GITHUB else "GitLab",
        token=token,
        auth=auth,
        headers=headers,
        cache=cache,
        retry=retry,
        sleep=sleep,
    )


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
    client = forge_client(
        forge, remote, base_url=base_url, token=token, cache=cache, retry=retry, sleep=sleep
    )
    if forge is Forge.GITHUB:
        return github.GitHubSource(client, remote.path)
    return gitlab.GitLabSource(client, remote.path)
