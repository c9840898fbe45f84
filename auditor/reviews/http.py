"""A small JSON-over-HTTP client for forge APIs (pagination, rate limits, retries, ETags), and
:class:`ApiSource`, the shape every forge API source shares."""

from __future__ import annotations

import functools
import json
import logging
import ssl
import threading
import time
import warnings
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from itertools import takewhile
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from auditor import __version__
from auditor.errors import AuditorWarning, ForgeError
from auditor.redaction import mask, redact, secret_parameters
from auditor.reviews.interface import Bundle, Payload, RawSource

if TYPE_CHECKING:  # imported where a client is made: commands without a forge start without it
    import httpx

log = logging.getLogger(__name__)

MESSAGE_CHARS = 300
"""The most of a forge's error message an error line quotes."""
T = TypeVar("T")
R = TypeVar("R")
Params = Mapping[str, str | int]


class ForgeRefusal(ForgeError):
    """The forge answered a request with a refusal (401, 403, 404…): its status and body."""

    def __init__(self, message: str, status: int, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class CachedPage(NamedTuple):
    """A response kept for conditional requests: its ETag, body and next-page URL."""

    etag: str
    body: str
    next_url: str | None


class ResponseCache(Protocol):
    def get(self, url: str) -> CachedPage | None: ...

    def put(self, url: str, page: CachedPage) -> None: ...


class MemoryCache:
    """A ``ResponseCache`` that lives as long as the process."""

    def __init__(self) -> None:
        self._pages: dict[str, CachedPage] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> CachedPage | None:
        with self._lock:
            return self._pages.get(url)

    def put(self, url: str, page: CachedPage) -> None:
        with self._lock:
            self._pages[url] = page


class AuthScheme(Enum):
    BEARER = "bearer"
    """``Authorization: Bearer <token>`` (GitHub; GitLab OAuth tokens)."""
    PRIVATE_TOKEN = "private-token"
    """``PRIVATE-TOKEN: <token>`` (GitLab personal, project and group access tokens)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Tries per request on 5xx answers and connection errors."""
    backoff: float = 1.0
    """Seconds before the first retry, doubled for each next one."""
    rate_limit_waits: int = 3
    """Times one request may wait out a rate limit before giving up."""
    max_wait: float = 3900.0
    """The longest single wait for a rate limit to reset, in seconds."""
    secondary_wait: float = 60.0
    """The wait after a rate-limit answer that says neither how long nor until when."""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once: building one takes tens of milliseconds."""
    import httpx

    return httpx.create_ssl_context()


class ForgeClient:
    """GETs JSON from one forge API; every failure it cannot recover from is a ``ForgeError``."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        token: str | None,
        auth: AuthScheme = AuthScheme.BEARER,
        headers: Mapping[str, str] | None = None,
        cache: ResponseCache | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        workers: int = 8,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.name = name
        self._secrets = (token,) if token else ()
        all_headers = {"User-Agent": f"auditor/{__version__}", **(headers or {})}
        if token and auth is AuthScheme.BEARER:
            all_headers["Authorization"] = f"Bearer {token}"
        elif token:
            all_headers["PRIVATE-TOKEN"] = token
        self._http = httpx.Client(
            headers=all_headers, timeout=30.0, transport=transport, verify=_tls_context()
        )
        self._origin = httpx.URL(self.base_url).copy_with(path="/", query=None)
        if token and self._origin.scheme == "http":
            warnings.warn(
                f"the {name} token is sent unencrypted over plain http:// to {self._origin}; "
                "use https://",
                AuditorWarning,
                stacklevel=2,
            )
        self._cache = cache
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._resume_at = 0.0
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"ForgeClient({self.base_url!r})"

    def __enter__(self) -> ForgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self._http.close()

    def url(self, path: str, params: Params | None = None) -> str:
        import httpx

        return str(httpx.URL(self.base_url + path, params=params))

    def get(self, path: str, params: Params | None = None) -> Any:
        url = self.url(path, params)
        return self._decode(url, self._fetch(url).body)

    def pages(self, path: str, params: Params | None = None) -> Iterator[list[Any]]:
        """Each page of a list endpoint, following ``rel="next"`` links or GitLab's X-Next-Page."""
        url: str | None = self.url(path, params)
        while url is not None:
            page = self._fetch(url)
            items = self._decode(url, page.body)
            if not isinstance(items, list):
                raise ForgeError(f"{self.name} sent no list for {url}")
            yield items
            url = page.next_url

    def documents(self, path: str, params: Params | None = None) -> Iterator[Mapping[str, Any]]:
        """Each page of an endpoint that pages an object (GitHub's check runs and combined
        status: the items under a key of each page), following ``rel="next"`` links."""
        url: str | None = self.url(path, params)
        while url is not None:
            page = self._fetch(url)
            document = self._decode(url, page.body)
            if not isinstance(document, Mapping):
                raise ForgeError(f"{self.name} sent no object for {url}")
            yield document
            url = page.next_url

    def collect(self, path: str, params: Params | None = None) -> list[Any]:
        return [item for page in self.pages(path, params) for item in page]

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items`` on a few threads, results in order."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="forge")
        return self._pool.map(fn, items)

    def _fetch(self, url: str) -> CachedPage:
        import httpx

        cached = self._cache.get(url) if self._cache is not None else None
        headers = {"If-None-Match": cached.etag} if cached is not None else {}
        failures = limited = 0
        while True:
            self._wait_for_quota()
            try:
                response = self._http.get(url, headers=headers)
            except httpx.TransportError as err:
                failures += 1
                if failures >= self._retry.attempts:
                    raise self._error(f"cannot reach {url} ({type(err).__name__}: {err})") from None
                self._backoff(failures, f"{type(err).__name__} for {url}")
                continue
            except (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, ValueError) as err:
                why = _described(err)
                raise self._error(f"sent an unusable answer for {url} ({why})") from None
            self._track_quota(response)
            if response.status_code == 304 and cached is not None:
                return cached
            if response.is_success:
                return self._keep(url, response)
            wait = self._rate_limit_wait(response)
            if wait is not None:
                limited += 1
                if limited > self._retry.rate_limit_waits or wait > self._retry.max_wait:
                    raise self._error(f"rate limit still exhausted for {url}")
                log.info("%s rate limit reached; waiting %.0f s", self.name, wait)
                self._sleep(wait)
            elif response.status_code >= 500:
                failures += 1
                if failures >= self._retry.attempts:
                    raise self._error(f"answered {response.status_code} for {url} {failures} times")
                self._backoff(failures, f"{response.status_code} for {url}")
            else:
                raise self._refusal(url, response)

    def _keep(self, url: str, response: httpx.Response) -> CachedPage:
        """The page of a successful answer; the token, were the forge to echo it in the body,
        is masked before anything keeps or shows it."""
        body = mask(response.text, self._secrets)
        page = CachedPage(response.headers.get("ETag", ""), body, self._next_url(response))
        if self._cache is not None and page.etag:
            self._cache.put(url, page)
        return page

    def _next_url(self, response: httpx.Response) -> str | None:
        """The next page's URL, from a ``Link`` header or GitLab's ``X-Next-Page``: it must stay
        on the API's origin and carry no credential (auditor never puts one in a URL)."""
        import httpx

        try:
            link = response.links.get("next", {}).get("url")
            next_page = response.headers.get("X-Next-Page", "")
            if link:
                target = httpx.URL(link)
            elif next_page:
                target = response.url.copy_set_param("page", next_page)
            else:
                target = None
        except (httpx.InvalidURL, ValueError) as err:
            why = f"{response.url} ({_described(err)})"
            raise self._error(f"sent an invalid pagination link for {why}") from None
        if target is not None:
            if target.copy_with(path="/", query=None) != self._origin:
                raise self._error(f"pagination link leaves {self._origin}: {target.host}")
            shown = str(target)
            if mask(shown, self._secrets) != shown or secret_parameters(shown):
                raise self._error(f"sent a pagination link carrying a credential: {redact(shown)}")
            return shown
        page, total = response.headers.get("X-Page", ""), response.headers.get("X-Total-Pages", "")
        if page.isdigit() and total.isdigit() and int(page) < int(total):
            raise self._error(f"pagination of {response.url} stopped at page {page} of {total}")
        return None

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            return float(retry_after)
        reset = self._exhausted_until(response)
        if reset is not None:
            return max(reset - self._clock(), 0.0) + 1.0
        if response.status_code == 429 or "rate limit" in response.text.lower():
            return self._retry.secondary_wait
        return None

    @staticmethod
    def _exhausted_until(response: httpx.Response) -> float | None:
        for prefix in ("X-RateLimit-", "RateLimit-"):
            remaining = response.headers.get(prefix + "Remaining")
            reset = response.headers.get(prefix + "Reset", "")
            if remaining == "0" and reset.isdigit():
                return float(reset)
        return None

    def _track_quota(self, response: httpx.Response) -> None:
        if response.is_success or response.status_code == 304:
            reset = self._exhausted_until(response)
            if reset is not None:
                self._resume_at = max(self._resume_at, reset + 1.0)

    def _wait_for_quota(self) -> None:
        wait = self._resume_at - self._clock()
        if wait > 0:
            if wait > self._retry.max_wait:
                raise self._error(f"rate limit exhausted for {wait:.0f} s")
            log.info("%s rate limit used up; waiting %.0f s", self.name, wait)
            self._sleep(wait)

    def _backoff(self, failures: int, what: str) -> None:
        wait = self._retry.backoff * 2 ** (failures - 1)
        log.info("%s: %s; retrying in %.1f s", self.name, what, wait)
        self._sleep(wait)

    def _refusal(self, url: str, response: httpx.Response) -> ForgeRefusal:
        status = response.status_code
        reason = {401: "refused the credentials", 403: "denied access", 404: "has no resource"}
        detail = ""
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
            detail = f": {message[:MESSAGE_CHARS]}" + ("…" if len(message) > MESSAGE_CHARS else "")
        error = self._error(f"{reason.get(status, 'answered')} ({status}) for {url}{detail}")
        shown = mask(json.dumps(body), self._secrets) if body is not None else "null"
        return ForgeRefusal(str(error), status, json.loads(shown))

    def _decode(self, url: str, body: str) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise self._error(f"sent invalid JSON for {url}") from None
        except RecursionError:
            raise self._error(f"sent JSON nested too deeply to read for {url}") from None

    def _error(self, message: str) -> ForgeError:
        """A one-line forge error with no credential in it."""
        text = redact(f"{self.name} {message}", self._secrets)
        return ForgeError(" ".join(text.split()))


def _described(err: Exception) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


class ApiSource(RawSource):
    """Merged requests read from a forge's REST API through a :class:`ForgeClient`.

    The list endpoint is read page by page, most recently updated first; reading stops at the
    first request updated before ``updated_since``. The details of each merged request of a page
    (its commits, reviews or approvals) are fetched concurrently into one bundle. Subclasses say
    where the list is, which of its items are merged, and how a bundle is assembled.
    """

    def __init__(self, client: ForgeClient, repository: str) -> None:
        super().__init__(repository, client.base_url)
        self._client = client

    def close(self) -> None:
        self._client.close()

    def fetch_raw(self, *, base_branch: str, updated_since: datetime | None) -> Iterator[Bundle]:
        path, params = self._listing(base_branch, updated_since)
        for page in self._client.pages(path, params):
            items = [Payload.of(item, f"{self.bundles_key}[{i}]") for i, item in enumerate(page)]
            fresh = list(
                takewhile(
                    lambda item: updated_since is None or item.time("updated_at") >= updated_since,
                    items,
                )
            )
            yield from self._client.map(self._bundle, [i for i in fresh if self._merged(i)])
            if len(fresh) < len(items):
                return

    @abstractmethod
    def _listing(self, base_branch: str, updated_since: datetime | None) -> tuple[str, Params]:
        """The list endpoint of requests closed into ``base_branch`` and its query parameters,
        sorted by update time, newest first."""

    def _merged(self, item: Payload) -> bool:
        """Whether a listed request was merged (the list may hold closed, unmerged ones)."""
        return True

    @abstractmethod
    def _bundle(self, item: Payload) -> Bundle:
        """The raw payloads of one listed request (called on the client's worker threads)."""
