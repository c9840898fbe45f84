"""Review sources: who reviewed and approved each merged request, from a forge or an export."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from auditor.errors import UsageError
from auditor.redaction import redact
from auditor.reviews.forges import FORGES, TOKEN_VARIABLES
from auditor.reviews.http import ForgeClient, MemoryCache, ResponseCache, RetryPolicy
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
    "FORGES",
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


def api_url(forge: Forge, remote: Remote, base_url: str | None = None) -> str:
    """The REST API base of ``remote``'s forge: ``base_url`` when given (``--forge-url``), else
    the API of the forge's own host (github.com, GitLab.com) when the remote is there.

    The token goes where this points, so a base URL is never derived from another host the
    origin names: that is a :class:`UsageError` asking for ``--forge-url``."""
    if base_url:
        try:
            return check_api_url(base_url).rstrip("/")
        except UsageError as err:
            raise UsageError(f"--forge-url: {err}") from None
    entry = FORGES[forge]
    derived = entry.api_url_for(remote.host)
    if derived is None:
        raise UsageError(
            f"--forge {forge.value}: the origin's host {remote.host} is not "
            f"{entry.host}; name its API with --forge-url (config: forge_url), "
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
    entry = FORGES[forge]
    return ForgeClient(
        api_url(forge, remote, base_url),
        name=entry.name,
        token=token,
        auth=entry.auth,
        headers=entry.headers,
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
    entry = FORGES[forge]
    client = forge_client(
        forge, remote, base_url=base_url, token=token, cache=cache, retry=retry, sleep=sleep
    )
    return entry.source(client, remote.path)
