"""A local stand-in for the GitHub and GitLab REST APIs, for tests.

It serves in-memory payloads shaped like the documented responses, paginated with ``Link`` headers
(and GitLab's ``X-Page``/``X-Next-Page``/``X-Total-Pages``), with rate-limit headers, ETags and
304s. Scripted episodes (5xx, rate limits, 401, dropped connections, 404s) are served instead of
the real answer to matching requests, in order. Every request is recorded.

GitHub routes answer both at ``/repos/...`` and under the Enterprise prefix ``/api/v3``;
GitLab routes live under ``/api/v4``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

GITHUB_LIST_OMITS = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)
"""Keys of a full pull request that GitHub leaves out of list responses."""


@dataclass
class Episode:
    """A scripted answer: a status with headers and a JSON body (or ``raw`` bytes), or a dropped
    connection. ``{authorization}`` in a header value becomes the request's credential header
    (``Authorization`` or ``PRIVATE-TOKEN``): a hostile forge echoing it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    drop: bool = False
    raw: bytes | None = None


def server_error(status: int = 502) -> Episode:
    return Episode(status, body={"message": "Server Error"})


def rate_limited(reset: int) -> Episode:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    return Episode(403, headers, {"message": "API rate limit exceeded for user ID 1."})


def secondary_limit(retry_after: int, status: int = 403) -> Episode:
    message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    return Episode(status, {"Retry-After": str(retry_after)}, {"message": message})


def bad_credentials() -> Episode:
    return Episode(401, body={"message": "Bad credentials"})


def forbidden() -> Episode:
    return Episode(403, body={"message": "Resource not accessible by integration"})


def not_found() -> Episode:
    return Episode(404, body={"message": "Not Found"})


def dropped() -> Episode:
    return Episode(drop=True)


@dataclass(frozen=True)
class Recorded:
    path: str
    """The raw path, percent-encoding kept."""
    query: dict[str, str]
    headers: dict[str, str]
    """Header names in lower case."""
    status: int


class ForgeServer:
    """Serves on 127.0.0.1 at an ephemeral port from a background thread; a context manager."""

    def __init__(self, *, token: str | None = None, page_size: int | None = None) -> None:
        self.token = token
        self.page_size = page_size
        """Items per page regardless of ``per_page``, to make pagination visible on small data."""
        self.github: dict[str, list[dict[str, Any]]] = {}
        """Bundles ``{"pull", "commits", "reviews"}`` by ``owner/repo``."""
        self.gitlab: dict[str, list[dict[str, Any]]] = {}
        """Bundles ``{"merge_request", "commits", "approvals"}`` by project path."""
        self.commit_cap = 250
        self.remaining = 5000
        self.reset_at = 4_000_000_000
        self.requests: list[Recorded] = []
        self._script: list[tuple[re.Pattern[str], Episode]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def github_url(self) -> str:
        return self.url

    @property
    def enterprise_url(self) -> str:
        return self.url + "/api/v3"

    @property
    def gitlab_url(self) -> str:
        return self.url + "/api/v4"

    def __enter__(self) -> ForgeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def load_export(self, document: Mapping[str, Any]) -> None:
        """Serve the requests of a review export document (``pulls`` or ``merge_requests``)."""
        if document["forge"] == "github":
            self.github[document["repository"]] = list(document["pulls"])
        else:
            self.gitlab[document["repository"]] = list(document["merge_requests"])

    def script(self, pattern: str, *episodes: Episode) -> None:
        """Answer the next requests whose ``path?query`` matches ``pattern`` with ``episodes``."""
        with self._lock:
            self._script.extend((re.compile(pattern), episode) for episode in episodes)

    def requests_to(self, pattern: str) -> list[Recorded]:
        compiled = re.compile(pattern)
        return [r for r in self.requests if compiled.search(r.path)]

    def _episode(self, target: str) -> Episode | None:
        with self._lock:
            for index, (pattern, episode) in enumerate(self._script):
                if pattern.search(target):
                    del self._script[index]
                    return episode
        return None

    def _authorised(self, headers: Mapping[str, str], gitlab: bool) -> bool:
        if self.token is None:
            return True
        accepted = {f"Bearer {self.token}", f"token {self.token}"}
        if headers.get("authorization") in accepted:
            return True
        return gitlab and headers.get("private-token") == self.token

    def route(self, path: str, query: Mapping[str, str]) -> tuple[Any, bool] | None:
        """The full answer to a GET and whether it is a list to paginate; None if not found."""
        if path.startswith("/api/v4/"):
            return self._gitlab(path.removeprefix("/api/v4").split("/"), query)
        return self._github(path.removeprefix("/api/v3").split("/"), query)

    def _github(self, parts: list[str], query: Mapping[str, str]) -> tuple[Any, bool] | None:
        if len(parts) < 5 or parts[1] != "repos" or parts[4] != "pulls":
            return None
        bundles = self.github.get(f"{parts[2]}/{parts[3]}")
        if bundles is None:
            return None
        if len(parts) == 5:
            return _github_list(bundles, query), True
        found = [b for b in bundles if str(b["pull"]["number"]) == parts[5]]
        if not found:
            return None
        tail = parts[6:]
        if not tail:
            return found[0]["pull"], False
        if tail == ["commits"]:
            return found[0]["commits"][: self.commit_cap], True
        if tail == ["reviews"]:
            return found[0]["reviews"], True
        return None

    def _gitlab(self, parts: list[str], query: Mapping[str, str]) -> tuple[Any, bool] | None:
        if len(parts) < 4 or parts[1] != "projects" or parts[3] != "merge_requests":
            return None
        bundles = self.gitlab.get(unquote(parts[2]))
        if bundles is None:
            return None
        if len(parts) == 4:
            return _gitlab_list(bundles, query), True
        found = [b for b in bundles if str(b["merge_request"]["iid"]) == parts[4]]
        if not found or len(parts) != 6:
            return None
        if parts[5] == "commits":
            return found[0]["commits"], True
        if parts[5] == "approvals":
            return found[0]["approvals"], False
        return None


def _github_list(bundles: list[dict[str, Any]], query: Mapping[str, str]) -> list[Any]:
    state = query.get("state", "open")
    pulls = [
        {k: v for k, v in b["pull"].items() if k not in GITHUB_LIST_OMITS}
        for b in bundles
        if state in ("all", b["pull"]["state"])
        and query.get("base", b["pull"]["base"]["ref"]) == b["pull"]["base"]["ref"]
    ]
    key = "updated_at" if query.get("sort") == "updated" else "created_at"
    return sorted(pulls, key=lambda p: p[key], reverse=query.get("direction", "desc") == "desc")


def _gitlab_list(bundles: list[dict[str, Any]], query: Mapping[str, str]) -> list[Any]:
    requests = [b["merge_request"] for b in bundles]
    if "state" in query:
        requests = [r for r in requests if r["state"] == query["state"]]
    if "target_branch" in query:
        requests = [r for r in requests if r["target_branch"] == query["target_branch"]]
    if "updated_after" in query:
        since = _time(query["updated_after"])
        requests = [r for r in requests if _time(r["updated_at"]) >= since]
    key = "updated_at" if query.get("order_by") == "updated_at" else "created_at"
    return sorted(requests, key=lambda r: _time(r[key]), reverse=query.get("sort") != "asc")


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _handler(server: ForgeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            query = dict(parse_qsl(split.query))
            headers = {k.lower(): v for k, v in self.headers.items()}
            gitlab = split.path.startswith("/api/v4/")
            episode = server._episode(self.path)
            if episode is not None and episode.drop:
                self._record(split.path, query, headers, 0)
                self.close_connection = True
                return
            if episode is not None:
                self._record(split.path, query, headers, episode.status)
                credential = headers.get("authorization") or headers.get("private-token", "")
                echoed = {
                    name: value.replace("{authorization}", credential)
                    for name, value in episode.headers.items()
                }
                self._send(episode.status, episode.body, echoed, gitlab, episode.raw)
                return
            if not server._authorised(headers, gitlab):
                self._record(split.path, query, headers, 401)
                message = "401 Unauthorized" if gitlab else "Bad credentials"
                self._send(401, {"message": message}, {}, gitlab)
                return
            answer = server.route(split.path, query)
            if answer is None:
                self._record(split.path, query, headers, 404)
                message = "404 Not found" if gitlab else "Not Found"
                self._send(404, {"message": message}, {}, gitlab)
                return
            body, is_list = answer
            extra = self._paginate(split.path, query, body, gitlab) if is_list else {}
            if is_list:
                body = extra.pop("_items")
            text = json.dumps(body)
            etag = f'W/"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'
            extra["ETag"] = etag
            status = 304 if headers.get("if-none-match") == etag else 200
            self._record(split.path, query, headers, status)
            self._send(status, body if status == 200 else None, extra, gitlab)

        def _paginate(
            self, path: str, query: Mapping[str, str], items: list[Any], gitlab: bool
        ) -> dict[str, Any]:
            per_page = min(int(query.get("per_page", 20 if gitlab else 30)), 100)
            per_page = server.page_size or per_page
            page = int(query.get("page", 1))
            last = max(1, -(-len(items) // per_page))
            links = {"next": page + 1, "last": last} if page < last else {}
            if page > 1:
                links.update(first=1, prev=page - 1)
            base = f"http://{self.headers['Host']}{path}"
            link = ", ".join(
                f'<{base}?{urlencode({**query, "page": n})}>; rel="{rel}"'
                for rel, n in links.items()
            )
            headers: dict[str, Any] = {"_items": items[(page - 1) * per_page : page * per_page]}
            if link:
                headers["Link"] = link
            if gitlab:
                headers |= {
                    "X-Page": str(page),
                    "X-Per-Page": str(per_page),
                    "X-Next-Page": str(page + 1) if page < last else "",
                    "X-Prev-Page": str(page - 1) if page > 1 else "",
                    "X-Total": str(len(items)),
                    "X-Total-Pages": str(last),
                }
            return headers

        def _record(
            self, path: str, query: dict[str, str], headers: dict[str, str], status: int
        ) -> None:
            with server._lock:
                server.requests.append(Recorded(path, query, headers, status))

        def _send(
            self,
            status: int,
            body: Any,
            headers: Mapping[str, str],
            gitlab: bool,
            raw: bytes | None = None,
        ) -> None:
            data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
            with server._lock:
                if status == 200:
                    server.remaining = max(server.remaining - 1, 0)
                remaining = server.remaining
            prefix = "RateLimit-" if gitlab else "X-RateLimit-"
            limits = {
                prefix + "Limit": "5000",
                prefix + "Remaining": str(remaining),
                prefix + "Reset": str(server.reset_at),
            }
            self.send_response(status)
            for name, value in {**limits, **headers}.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if status != 304:
                self.wfile.write(data)

    return Handler


def _github_user(login: str, kind: str = "User") -> dict[str, Any]:
    return {
        "login": login,
        "id": zlib.crc32(login.encode()),
        "node_id": f"U_{login}",
        "html_url": f"https://github.com/{login}",
        "type": kind,
        "site_admin": False,
    }


def github_commit(
    sha: str,
    *,
    parents: tuple[str, ...] = (),
    author: str = "Alice",
    email: str = "alice@example.com",
    login: str | None = "alice",
    date: str = "2026-01-05T10:00:00Z",
    message: str = "Change things",
) -> dict[str, Any]:
    """An item of ``GET /repos/{owner}/{repo}/pulls/{n}/commits``."""
    person = {"name": author, "email": email, "date": date}
    return {
        "sha": sha,
        "node_id": f"C_{sha[:8]}",
        "commit": {
            "author": person,
            "committer": person,
            "message": message,
            "tree": {"sha": "f" * 40},
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None},
        },
        "author": _github_user(login) if login else None,
        "committer": _github_user(login) if login else None,
        "parents": [{"sha": parent} for parent in parents],
    }


def github_review(
    review_id: int,
    login: str,
    state: str = "APPROVED",
    *,
    commit_id: str | None = None,
    submitted_at: str = "2026-01-06T09:00:00Z",
    repo: str = "acme/infra-live",
    number: int = 1,
    kind: str = "User",
) -> dict[str, Any]:
    """An item of ``GET /repos/{owner}/{repo}/pulls/{n}/reviews``."""
    return {
        "id": review_id,
        "node_id": f"PRR_{review_id}",
        "user": _github_user(login, kind),
        "body": "",
        "state": state,
        "html_url": f"https://github.com/{repo}/pull/{number}#pullrequestreview-{review_id}",
        "pull_request_url": f"https://api.github.com/repos/{repo}/pulls/{number}",
        "author_association": "MEMBER",
        "submitted_at": submitted_at,
        "commit_id": commit_id,
    }


def github_pull(
    number: int,
    *,
    repo: str = "acme/infra-live",
    base: str = "main",
    head_sha: str | None = None,
    author: str = "alice",
    merged_by: str | None = "bob",
    created_at: str = "2026-01-05T09:00:00Z",
    updated_at: str = "2026-01-06T10:00:00Z",
    merged_at: str | None = "2026-01-06T10:00:00Z",
    commits: int = 1,
    labels: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The answer of ``GET /repos/{owner}/{repo}/pulls/{n}``."""
    return {
        "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
        "id": 1000 + number,
        "node_id": f"PR_{number}",
        "html_url": f"https://github.com/{repo}/pull/{number}",
        "number": number,
        "state": "closed" if merged_at else "open",
        "locked": False,
        "title": f"Change {number}",
        "user": _github_user(author),
        "body": f"Body of change {number}",
        "labels": [{"id": i, "name": name, "color": "ededed"} for i, name in enumerate(labels)],
        "created_at": created_at,
        "updated_at": updated_at,
        "closed_at": merged_at,
        "merged_at": merged_at,
        "merge_commit_sha": f"{number:040x}" if merged_at else None,
        "head": {
            "label": f"acme:change-{number}",
            "ref": f"change-{number}",
            "sha": head_sha or f"{number:x}".rjust(40, "a"),
        },
        "base": {"label": f"acme:{base}", "ref": base, "sha": "b" * 40},
        "author_association": "MEMBER",
        "draft": False,
        "merged": merged_at is not None,
        "merged_by": _github_user(merged_by) if merged_by and merged_at else None,
        "comments": 0,
        "review_comments": 0,
        "commits": commits,
        "additions": 1,
        "deletions": 1,
        "changed_files": 1,
    }


def _gitlab_user(username: str) -> dict[str, Any]:
    return {
        "id": zlib.crc32(username.encode()),
        "username": username,
        "name": username.title(),
        "state": "active",
        "avatar_url": None,
        "web_url": f"https://gitlab.example.com/{username}",
    }


def gitlab_merge_request(
    iid: int,
    *,
    project: str = "acme/platform/infra-live",
    target: str = "main",
    author: str = "alice",
    merge_user: str | None = "bob",
    updated_at: str = "2026-01-06T10:00:00.000Z",
    merged_at: str | None = "2026-01-06T10:00:00.000Z",
    squash_commit_sha: str | None = None,
    labels: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An item of ``GET /projects/:id/merge_requests``."""
    merger = _gitlab_user(merge_user) if merge_user and merged_at else None
    return {
        "id": 5000 + iid,
        "iid": iid,
        "project_id": 42,
        "title": f"Change {iid}",
        "description": f"Body of change {iid}",
        "state": "merged" if merged_at else "opened",
        "created_at": "2026-01-05T09:00:00.000Z",
        "updated_at": updated_at,
        "merged_by": merger,
        "merge_user": merger,
        "merged_at": merged_at,
        "closed_by": None,
        "closed_at": None,
        "target_branch": target,
        "source_branch": f"change-{iid}",
        "author": _gitlab_user(author),
        "labels": list(labels),
        "draft": False,
        "squash": squash_commit_sha is not None,
        "sha": f"{iid:x}".rjust(40, "a"),
        "merge_commit_sha": f"{iid:040x}" if merged_at else None,
        "squash_commit_sha": squash_commit_sha,
        "references": {"full": f"{project}!{iid}"},
        "web_url": f"https://gitlab.example.com/{project}/-/merge_requests/{iid}",
    }


def gitlab_commit(
    sha: str,
    *,
    parents: tuple[str, ...] = (),
    author: str = "Alice",
    email: str = "alice@example.com",
    date: str = "2026-01-05T10:00:00.000+01:00",
    message: str = "Change things",
) -> dict[str, Any]:
    """An item of ``GET /projects/:id/merge_requests/:iid/commits``."""
    return {
        "id": sha,
        "short_id": sha[:8],
        "created_at": date,
        "parent_ids": list(parents),
        "title": message.splitlines()[0],
        "message": message,
        "author_name": author,
        "author_email": email,
        "authored_date": date,
        "committer_name": author,
        "committer_email": email,
        "committed_date": date,
        "trailers": {},
        "web_url": f"https://gitlab.example.com/-/commit/{sha}",
    }


def gitlab_approvals(iid: int, *approvers: str, approved_at: str | None = None) -> dict[str, Any]:
    """The answer of ``GET /projects/:id/merge_requests/:iid/approvals``."""
    approved_by: list[dict[str, Any]] = []
    for username in approvers:
        entry: dict[str, Any] = {"user": _gitlab_user(username)}
        if approved_at is not None:
            entry["approved_at"] = approved_at
        approved_by.append(entry)
    return {
        "id": 5000 + iid,
        "iid": iid,
        "project_id": 42,
        "state": "merged",
        "merge_status": "can_be_merged",
        "approved": bool(approvers),
        "approvals_required": 1,
        "approvals_left": 0 if approvers else 1,
        "approved_by": approved_by,
    }
