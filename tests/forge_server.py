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
        self.protection: dict[tuple[str, str], dict[str, Any]] = {}
        """GitHub classic protection by (``owner/repo``, branch); absent: not protected."""
        self.rules: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """GitHub rules for a branch by (``owner/repo``, branch)."""
        self.rulesets: dict[tuple[str, int], dict[str, Any]] = {}
        """GitHub rulesets by (``owner/repo``, id)."""
        self.check_runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """GitHub check runs by (``owner/repo``, commit SHA)."""
        self.statuses: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """GitHub commit statuses by (``owner/repo``, commit SHA)."""
        self.status_bodies: dict[tuple[str, str], dict[str, Any]] = {}
        """Whole combined status answers by (``owner/repo``, SHA), served as they are."""
        self.protected_branches: dict[str, list[dict[str, Any]]] = {}
        """GitLab protected branches by project path."""
        self.project_approvals: dict[str, dict[str, Any]] = {}
        self.approval_rules: dict[str, list[dict[str, Any]]] = {}
        self.push_rules: dict[str, dict[str, Any]] = {}
        """GitLab push rules by project path; absent: none configured (404)."""
        self.pipelines: dict[tuple[str, int], list[dict[str, Any]]] = {}
        """GitLab merge request pipelines by (project path, iid)."""
        self.jobs: dict[tuple[str, int], list[dict[str, Any]]] = {}
        """GitLab pipeline jobs by (project path, pipeline id)."""
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
        """Serve the requests of a review export document (``pulls`` or ``merge_requests``) and
        the checks it holds."""
        repo = document["repository"]
        if document["forge"] == "github":
            self.github[repo] = list(document["pulls"])
            for checks in document.get("checks", []):
                for commit in checks["commits"]:
                    runs, status = commit["check_runs"], commit["status"]
                    self.check_runs[(repo, commit["sha"])] = runs["body"]["check_runs"]
                    self.statuses[(repo, commit["sha"])] = status["body"]["statuses"]
                    self.status_bodies[(repo, commit["sha"])] = status["body"]
        else:
            self.gitlab[repo] = list(document["merge_requests"])
            for checks in document.get("checks", []):
                self.pipelines[(repo, checks["number"])] = checks["pipelines"]["body"]
                for entry in checks["jobs"]:
                    self.jobs[(repo, entry["pipeline"])] = entry["jobs"]["body"]

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

    def route(self, path: str, query: Mapping[str, str]) -> tuple[Any, bool | str] | None:
        """The full answer to a GET and whether it is a list to paginate (or the key of the
        list to paginate in an object); None if not found. A refusal the forge words in its own
        way is an ``Episode``."""
        if path.startswith("/api/v4/"):
            return self._gitlab(path.removeprefix("/api/v4").split("/"), query)
        return self._github(path.removeprefix("/api/v3").split("/"), query)

    def _github(self, parts: list[str], query: Mapping[str, str]) -> tuple[Any, bool | str] | None:
        if len(parts) < 5 or parts[1] != "repos":
            return None
        repo = f"{parts[2]}/{parts[3]}"
        bundles = self.github.get(repo)
        if bundles is None:
            return None
        if parts[4] != "pulls":
            return self._github_guard(repo, parts[4:])
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

    def _github_guard(self, repo: str, parts: list[str]) -> tuple[Any, bool | str] | None:
        """Branch protection, rules, rulesets, check runs and statuses of ``repo``."""
        if len(parts) == 3 and parts[0] == "branches" and parts[2] == "protection":
            found = self.protection.get((repo, unquote(parts[1])))
            if found is None:
                return Episode(404, body=_github_error("Branch not protected")), False
            return found, False
        if len(parts) == 3 and parts[:2] == ["rules", "branches"]:
            return self.rules.get((repo, unquote(parts[2])), []), True
        if len(parts) == 2 and parts[0] == "rulesets" and parts[1].isdigit():
            ruleset = self.rulesets.get((repo, int(parts[1])))
            return (ruleset, False) if ruleset is not None else None
        if len(parts) == 3 and parts[0] == "commits" and parts[2] == "check-runs":
            runs = self.check_runs.get((repo, parts[1]), [])
            return {"total_count": len(runs), "check_runs": runs}, "check_runs"
        if len(parts) == 3 and parts[0] == "commits" and parts[2] == "status":
            if (repo, parts[1]) in self.status_bodies:
                return self.status_bodies[(repo, parts[1])], "statuses"
            return github_combined_status(
                repo, parts[1], self.statuses.get((repo, parts[1]), [])
            ), "statuses"
        return None

    def _gitlab(self, parts: list[str], query: Mapping[str, str]) -> tuple[Any, bool | str] | None:
        if len(parts) < 4 or parts[1] != "projects":
            return None
        project = unquote(parts[2])
        bundles = self.gitlab.get(project)
        if bundles is None:
            return None
        if parts[3] != "merge_requests":
            return self._gitlab_guard(project, parts[3:])
        if len(parts) == 6 and parts[5] == "pipelines":
            return self.pipelines.get((project, int(parts[4])), []), True
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

    def _gitlab_guard(self, project: str, parts: list[str]) -> tuple[Any, bool | str] | None:
        """Protected branches, approval settings and rules, push rule, pipeline jobs."""
        if parts == ["protected_branches"]:
            return self.protected_branches.get(project, []), True
        if parts == ["approvals"]:
            return self.project_approvals.get(project, gitlab_project_approvals()), False
        if parts == ["approval_rules"]:
            return self.approval_rules.get(project, []), True
        if parts == ["push_rule"]:
            rule = self.push_rules.get(project)
            return (rule, False) if rule is not None else None
        if len(parts) == 3 and parts[0] == "pipelines" and parts[2] == "jobs":
            return self.jobs.get((project, int(parts[1])), []), True
        return None


def _github_error(message: str) -> dict[str, str]:
    return {
        "message": message,
        "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
        "status": "404",
    }


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
            if answer is not None and isinstance(answer[0], Episode):
                refusal = answer[0]
                self._record(split.path, query, headers, refusal.status)
                self._send(refusal.status, refusal.body, refusal.headers, gitlab)
                return
            if answer is None:
                self._record(split.path, query, headers, 404)
                message = "404 Not found" if gitlab else "Not Found"
                self._send(404, {"message": message}, {}, gitlab)
                return
            body, is_list = answer
            items = body[is_list] if isinstance(is_list, str) else body
            extra = self._paginate(split.path, query, items, gitlab) if is_list else {}
            if isinstance(is_list, str):
                body = {**body, is_list: extra.pop("_items")}
            elif is_list:
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


# -- branch protection and checks ------------------------------------------------------------


def _enabled(value: bool) -> dict[str, bool]:
    return {"enabled": value}


def github_protection(
    *,
    repo: str = "acme/infra-live",
    branch: str = "main",
    approvals: int | None = 1,
    enforce_admins: bool = True,
    force_pushes: bool = False,
    deletions: bool = False,
    contexts: tuple[str, ...] = (),
    bypass_users: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The answer of ``GET /repos/{owner}/{repo}/branches/{branch}/protection``; ``approvals``
    None: pull request reviews not required."""
    url = f"https://api.github.com/repos/{repo}/branches/{branch}/protection"
    body: dict[str, Any] = {
        "url": url,
        "required_status_checks": {
            "url": f"{url}/required_status_checks",
            "strict": True,
            "contexts": list(contexts),
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": c, "app_id": None} for c in contexts],
        },
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": enforce_admins},
        "required_linear_history": _enabled(False),
        "allow_force_pushes": _enabled(force_pushes),
        "allow_deletions": _enabled(deletions),
        "block_creations": _enabled(False),
        "required_conversation_resolution": _enabled(False),
        "lock_branch": _enabled(False),
        "allow_fork_syncing": _enabled(False),
        "required_signatures": {"url": f"{url}/required_signatures", "enabled": False},
    }
    if approvals is not None:
        body["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": False,
            "required_approving_review_count": approvals,
            "require_last_push_approval": False,
            "bypass_pull_request_allowances": {
                "users": [_github_user(u) for u in bypass_users],
                "teams": [],
                "apps": [],
            },
        }
    return body


def github_rule(
    kind: str, ruleset_id: int, *, repo: str = "acme/infra-live", **parameters: Any
) -> dict[str, Any]:
    """An item of ``GET /repos/{owner}/{repo}/rules/branches/{branch}``."""
    rule: dict[str, Any] = {
        "type": kind,
        "ruleset_source_type": "Repository",
        "ruleset_source": repo,
        "ruleset_id": ruleset_id,
    }
    if parameters:
        rule["parameters"] = parameters
    return rule


def github_pull_request_rule(ruleset_id: int, approvals: int = 1) -> dict[str, Any]:
    return github_rule(
        "pull_request",
        ruleset_id,
        required_approving_review_count=approvals,
        dismiss_stale_reviews_on_push=True,
        require_code_owner_review=False,
        require_last_push_approval=False,
        required_review_thread_resolution=False,
        allowed_merge_methods=["merge", "squash", "rebase"],
    )


def github_ruleset(
    ruleset_id: int,
    name: str,
    rules: list[dict[str, Any]],
    *,
    repo: str = "acme/infra-live",
    bypass_actors: list[dict[str, Any]] | None = None,
    enforcement: str = "active",
) -> dict[str, Any]:
    """The answer of ``GET /repos/{owner}/{repo}/rulesets/{id}``; ``bypass_actors`` None: left
    out, as GitHub does for a token that may not edit the ruleset."""
    body: dict[str, Any] = {
        "id": ruleset_id,
        "name": name,
        "target": "branch",
        "source_type": "Repository",
        "source": repo,
        "enforcement": enforcement,
        "node_id": f"RRS_{ruleset_id}",
        "_links": {
            "self": {"href": f"https://api.github.com/repos/{repo}/rulesets/{ruleset_id}"},
            "html": {"href": f"https://github.com/{repo}/rules/{ruleset_id}"},
        },
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [{k: v for k, v in r.items() if not k.startswith("ruleset_")} for r in rules],
        "created_at": "2025-06-01T00:00:00.000Z",
        "updated_at": "2025-06-01T00:00:00.000Z",
    }
    if bypass_actors is not None:
        body["bypass_actors"] = bypass_actors
        body["current_user_can_bypass"] = "never"
    return body


def github_bypass_actor(
    actor_type: str, actor_id: int | None, mode: str = "always"
) -> dict[str, Any]:
    return {"actor_id": actor_id, "actor_type": actor_type, "bypass_mode": mode}


def github_check_run(
    run_id: int,
    name: str,
    sha: str,
    *,
    conclusion: str | None = "success",
    started_at: str = "2026-01-06T09:30:00Z",
    completed_at: str | None = "2026-01-06T09:40:00Z",
    app: str = "github-actions",
    repo: str = "acme/infra-live",
) -> dict[str, Any]:
    """An item of ``check_runs`` in ``GET /repos/{owner}/{repo}/commits/{ref}/check-runs``;
    ``conclusion`` None: still in progress."""
    return {
        "id": run_id,
        "head_sha": sha,
        "node_id": f"CR_{run_id}",
        "external_id": "",
        "url": f"https://api.github.com/repos/{repo}/check-runs/{run_id}",
        "html_url": f"https://github.com/{repo}/runs/{run_id}",
        "details_url": f"https://github.com/{repo}/actions/runs/{run_id}",
        "status": "completed" if conclusion is not None else "in_progress",
        "conclusion": conclusion,
        "started_at": started_at,
        "completed_at": completed_at if conclusion is not None else None,
        "output": {"title": name, "summary": "", "text": None, "annotations_count": 0},
        "name": name,
        "check_suite": {"id": run_id + 1000},
        "app": {
            "id": zlib.crc32(app.encode()),
            "slug": app,
            "node_id": f"A_{app}",
            "owner": _github_user("github", "Organization"),
            "name": app.replace("-", " ").title(),
            "description": "",
            "external_url": "https://github.com",
            "html_url": f"https://github.com/apps/{app}",
            "created_at": "2018-07-30T09:30:17Z",
            "updated_at": "2019-12-10T19:04:12Z",
            "permissions": {"checks": "write"},
            "events": [],
        },
        "pull_requests": [],
    }


def github_status(
    status_id: int,
    context: str,
    *,
    state: str = "success",
    created_at: str = "2026-01-06T09:30:00Z",
    updated_at: str = "2026-01-06T09:40:00Z",
    creator: str = "jenkins-bot",
) -> dict[str, Any]:
    """An item of ``statuses`` in ``GET /repos/{owner}/{repo}/commits/{ref}/status``."""
    return {
        "url": f"https://api.github.com/repos/acme/infra-live/statuses/{status_id}",
        "avatar_url": "https://github.com/images/error/hubot_happy.gif",
        "id": status_id,
        "node_id": f"SC_{status_id}",
        "state": state,
        "description": f"{context} {state}",
        "target_url": f"https://ci.example.com/{status_id}",
        "context": context,
        "created_at": created_at,
        "updated_at": updated_at,
        "creator": _github_user(creator, "Bot"),
    }


def github_combined_status(repo: str, sha: str, statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer of ``GET /repos/{owner}/{repo}/commits/{ref}/status``."""
    states = {s["state"] for s in statuses}
    state = (
        "failure"
        if states & {"failure", "error"}
        else "pending"
        if "pending" in states or not statuses
        else "success"
    )
    return {
        "state": state,
        "statuses": statuses,
        "sha": sha,
        "total_count": len(statuses),
        "repository": {"id": 1296269, "full_name": repo, "name": repo.split("/")[1]},
        "commit_url": f"https://api.github.com/repos/{repo}/commits/{sha}",
        "url": f"https://api.github.com/repos/{repo}/commits/{sha}/status",
    }


def _gitlab_level(level: int, description: str, **who: int) -> dict[str, Any]:
    return {
        "id": zlib.crc32(f"{level}{description}{who}".encode()) % 1000,
        "access_level": level,
        "access_level_description": description,
        "deploy_key_id": who.get("deploy_key_id"),
        "user_id": who.get("user_id"),
        "group_id": who.get("group_id"),
    }


def gitlab_protected_branch(
    name: str = "main",
    *,
    push: tuple[tuple[int, str], ...] = ((0, "No one"),),
    merge: tuple[tuple[int, str], ...] = ((40, "Maintainers"),),
    allow_force_push: bool = False,
) -> dict[str, Any]:
    """An item of ``GET /projects/:id/protected_branches``."""
    return {
        "id": zlib.crc32(name.encode()) % 1000,
        "name": name,
        "push_access_levels": [_gitlab_level(level, text) for level, text in push],
        "merge_access_levels": [_gitlab_level(level, text) for level, text in merge],
        "unprotect_access_levels": [],
        "allow_force_push": allow_force_push,
        "code_owner_approval_required": False,
    }


def gitlab_project_approvals(approvals_before_merge: int = 0) -> dict[str, Any]:
    """The answer of ``GET /projects/:id/approvals``."""
    return {
        "approvers": [],
        "approver_groups": [],
        "approvals_before_merge": approvals_before_merge,
        "reset_approvals_on_push": True,
        "selective_code_owner_removals": False,
        "disable_overriding_approvers_per_merge_request": False,
        "merge_requests_author_approval": False,
        "merge_requests_disable_committers_approval": True,
        "require_password_to_approve": False,
    }


def gitlab_approval_rule(
    rule_id: int, name: str, approvals_required: int, *, branches: tuple[str, ...] = ()
) -> dict[str, Any]:
    """An item of ``GET /projects/:id/approval_rules``."""
    return {
        "id": rule_id,
        "name": name,
        "rule_type": "regular",
        "report_type": None,
        "eligible_approvers": [_gitlab_user("bob")],
        "approvals_required": approvals_required,
        "users": [_gitlab_user("bob")],
        "groups": [],
        "contains_hidden_groups": False,
        "protected_branches": [gitlab_protected_branch(b) for b in branches],
        "applies_to_all_protected_branches": False,
    }


def gitlab_pipeline(
    pipeline_id: int,
    sha: str,
    *,
    status: str = "success",
    project: str = "acme/platform/infra-live",
    ref: str = "refs/merge-requests/1/head",
) -> dict[str, Any]:
    """An item of ``GET /projects/:id/merge_requests/:iid/pipelines``."""
    return {
        "id": pipeline_id,
        "iid": pipeline_id % 100,
        "project_id": 42,
        "sha": sha,
        "ref": ref,
        "status": status,
        "source": "merge_request_event",
        "created_at": "2026-01-06T09:20:00.000Z",
        "updated_at": "2026-01-06T09:45:00.000Z",
        "web_url": f"https://gitlab.example.com/{project}/-/pipelines/{pipeline_id}",
    }


def gitlab_job(
    job_id: int,
    name: str,
    pipeline: dict[str, Any],
    *,
    status: str = "success",
    stage: str = "test",
    started_at: str | None = "2026-01-06T09:30:00.000Z",
    finished_at: str | None = "2026-01-06T09:40:00.000Z",
    allow_failure: bool = False,
    project: str = "acme/platform/infra-live",
) -> dict[str, Any]:
    """An item of ``GET /projects/:id/pipelines/:pipeline_id/jobs``."""
    return {
        "id": job_id,
        "status": status,
        "stage": stage,
        "name": name,
        "ref": pipeline["ref"],
        "tag": False,
        "coverage": None,
        "allow_failure": allow_failure,
        "created_at": "2026-01-06T09:20:00.000Z",
        "started_at": started_at,
        "finished_at": finished_at,
        "duration": 600.0 if finished_at else None,
        "queued_duration": 1.0,
        "user": _gitlab_user("alice"),
        "commit": {
            "id": pipeline["sha"],
            "short_id": pipeline["sha"][:8],
            "title": "Change things",
            "created_at": "2026-01-05T10:00:00.000Z",
        },
        "pipeline": {k: pipeline[k] for k in ("id", "project_id", "ref", "sha", "status")},
        "web_url": f"https://gitlab.example.com/{project}/-/jobs/{job_id}",
        "artifacts": [],
        "runner": None,
    }
