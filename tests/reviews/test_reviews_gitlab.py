from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from forge_server import (
    Episode,
    ForgeServer,
    bad_credentials,
    gitlab_approvals,
    gitlab_commit,
    gitlab_merge_request,
)

from auditor.errors import ForgeError, UsageError
from auditor.outcome import Outcome
from auditor.reviews import AccountType, Forge, RequestState, ReviewState, open_forge
from auditor.reviews.forges import FORGES
from auditor.reviews.gitlab import GitLabSource, project_id
from auditor.reviews.http import AuthScheme, ForgeClient
from auditor.reviews.interface import ChangeRequest, Remote

TOKEN = "glpat-Sup3rS3cretV4lue"
NOW = 1_800_000_000.0
PROJECT = "acme/platform/infra-live"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def bundle(iid: int, day: int, *approvers: str, **request: Any) -> dict[str, Any]:
    stamp = f"2026-01-{day:02d}T10:00:00.000Z"
    return {
        "merge_request": gitlab_merge_request(iid, updated_at=stamp, merged_at=stamp, **request),
        "commits": [
            gitlab_commit(f"{iid:02d}{i:02d}".ljust(40, "c"), message=f"Step {i}\n\nDetails")
            for i in range(3)
        ],
        "approvals": gitlab_approvals(iid, *approvers),
    }


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    with ForgeServer(token=TOKEN, page_size=2) as forge:
        forge.gitlab[PROJECT] = [
            bundle(1, 2, "carol"),
            bundle(2, 4, "carol", "dave", squash_commit_sha="5" * 40),
            bundle(3, 6),
            bundle(4, 8, "project_42_bot_0123abcd"),
            bundle(5, 9, target="release"),
        ]
        yield forge


def source_for(server: ForgeServer, sleeps: Sleeps | None = None) -> GitLabSource:
    client = ForgeClient(
        server.gitlab_url,
        name="GitLab",
        token=TOKEN,
        auth=AuthScheme.PRIVATE_TOKEN,
        sleep=sleeps if sleeps is not None else Sleeps(),
        clock=lambda: NOW,
    )
    return GitLabSource(client, PROJECT)


def fetch(source: GitLabSource, since: datetime | None = None) -> list[ChangeRequest]:
    with source:
        return list(source.fetch(base_branch="main", updated_since=since))


def test_merged_requests_of_a_nested_group_project(server: ForgeServer) -> None:
    requests = fetch(source_for(server))
    assert [r.number for r in requests] == [4, 3, 2, 1]
    listing = server.requests_to(r"/merge_requests$")
    assert {r.path for r in listing} == {
        "/api/v4/projects/acme%2Fplatform%2Finfra-live/merge_requests"
    }
    assert [r.query.get("page", "1") for r in listing] == ["1", "2"]
    assert listing[0].query == {
        "state": "merged",
        "target_branch": "main",
        "order_by": "updated_at",
        "sort": "desc",
        "per_page": "100",
    }
    assert all(r.headers.get("private-token") == TOKEN for r in server.requests)
    assert not any("authorization" in r.headers for r in server.requests)
    assert len(server.requests_to(r"/merge_requests/2/commits$")) == 2


def test_merge_request_fields_map_to_the_record(server: ForgeServer) -> None:
    two = {int(r.number): r for r in fetch(source_for(server))}[2]
    assert two.forge is Forge.GITLAB and two.state is RequestState.MERGED
    assert (two.base_ref, two.head_ref) == ("main", "change-2")
    assert two.head_sha == "2".rjust(40, "a")
    assert two.merge_commit_sha == f"{2:040x}" and two.squash_commit_sha == "5" * 40
    assert two.merged_by == "bob" and two.author_login == "alice"
    assert two.url.endswith("/acme/platform/infra-live/-/merge_requests/2")
    assert two.merged_at == datetime(2026, 1, 4, 10, tzinfo=UTC)
    assert two.base_sha is None and two.commit_count is None
    first = two.commits[0]
    assert first.authored_at == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert first.message == "Step 0\n\nDetails" and first.author_login is None


def test_approvals_become_approved_reviews_without_invented_fields(server: ForgeServer) -> None:
    by_number = {int(r.number): r for r in fetch(source_for(server))}
    assert [r.reviewer_login for r in by_number[2].reviews] == ["carol", "dave"]
    review = by_number[2].reviews[0]
    assert review.state is ReviewState.APPROVED
    assert (review.id, review.commit_id, review.submitted_at, review.url) == (None,) * 4
    assert by_number[3].reviews == ()
    assert by_number[4].reviews[0].reviewer_type is AccountType.BOT
    assert review.reviewer_type is AccountType.USER


def test_approval_time_is_used_when_gitlab_reports_it(server: ForgeServer) -> None:
    server.gitlab[PROJECT] = [bundle(7, 3)]
    server.gitlab[PROJECT][0]["approvals"] = gitlab_approvals(
        7, "erin", approved_at="2026-01-03T08:30:00.000+01:00"
    )
    (request,) = fetch(source_for(server))
    assert request.reviews[0].submitted_at == datetime(2026, 1, 3, 7, 30, tzinfo=UTC)


def test_merged_by_is_the_fallback_for_merge_user(server: ForgeServer) -> None:
    old = bundle(8, 3)
    old["merge_request"] = {**old["merge_request"], "merge_user": None}
    server.gitlab[PROJECT] = [old]
    (request,) = fetch(source_for(server))
    assert request.merged_by == "bob"


def test_updated_since_is_sent_as_updated_after(server: ForgeServer) -> None:
    since = datetime(2026, 1, 5, tzinfo=UTC)
    assert [r.number for r in fetch(source_for(server), since)] == [4, 3]
    (listing,) = server.requests_to(r"/merge_requests$")
    assert listing.query["updated_after"] == "2026-01-05T00:00:00Z"
    assert not server.requests_to(r"/merge_requests/[12]/")


def test_rate_limited_answer_waits_for_retry_after(server: ForgeServer) -> None:
    server.script(r"/approvals", Episode(429, {"Retry-After": "17"}, {"message": "Retry later"}))
    sleeps = Sleeps()
    assert len(fetch(source_for(server, sleeps))) == 4
    assert sleeps == [17.0]


def test_used_up_ratelimit_headers_pause_the_client(server: ForgeServer) -> None:
    server.remaining, server.reset_at = 1, int(NOW) + 45
    sleeps = Sleeps()
    fetch(source_for(server, sleeps))
    assert sleeps and sleeps[0] == 46.0


def test_bad_token_raises_forge_error(server: ForgeServer) -> None:
    server.script(r"/merge_requests\?", bad_credentials())
    with pytest.raises(ForgeError, match="401") as caught:
        fetch(source_for(server))
    assert TOKEN not in str(caught.value) and caught.value.outcome is Outcome.INCOMPLETE


def test_unknown_project_raises_forge_error(server: ForgeServer) -> None:
    server.gitlab.clear()
    with pytest.raises(ForgeError, match="404"):
        fetch(source_for(server))


def gitlab_page(page: int, total: int, *, next_page: bool) -> httpx.Response:
    headers = {"X-Page": str(page), "X-Total-Pages": str(total)}
    if next_page:
        headers["X-Next-Page"] = str(page + 1)
    return httpx.Response(200, headers=headers, json=[{"page": page}])


def mock_client(answer: Callable[[httpx.Request], httpx.Response]) -> ForgeClient:
    transport = httpx.MockTransport(answer)
    return ForgeClient(
        "https://gitlab.test/api/v4", name="GitLab", token=TOKEN, transport=transport
    )


def test_x_next_page_is_followed_without_link_headers() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        return gitlab_page(page, 3, next_page=page < 3)

    client = ForgeClient(
        "https://gitlab.test/api/v4",
        name="GitLab",
        token=None,
        transport=httpx.MockTransport(answer),
    )
    assert client.collect("/projects/1/merge_requests") == [{"page": 1}, {"page": 2}, {"page": 3}]


def test_pages_ending_before_x_total_pages_raise() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        return gitlab_page(page, 3, next_page=page < 2)

    client = ForgeClient(
        "https://gitlab.test/api/v4",
        name="GitLab",
        token=None,
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(ForgeError, match="stopped at page 2 of 3"):
        client.collect("/projects/1/merge_requests")


def test_link_to_another_host_is_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        link = '<https://evil.test/api/v4/projects/1/merge_requests?page=2>; rel="next"'
        return httpx.Response(200, headers={"Link": link}, json=[])

    client = ForgeClient(
        "https://gitlab.test/api/v4",
        name="GitLab",
        token=TOKEN,
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(ForgeError, match=r"evil\.test"):
        client.collect("/projects/1/merge_requests")


def test_project_id_and_api_url() -> None:
    assert project_id("acme/platform/infra-live") == "acme%2Fplatform%2Finfra-live"
    assert project_id("/solo/proj/") == "solo%2Fproj"
    assert FORGES[Forge.GITLAB].api_url_for("gitlab.com") == "https://gitlab.com/api/v4"
    assert (
        FORGES[Forge.GITLAB].api_url_for("git.acme.io") is None
    )  # self-managed: its API is named, never derived
    remote = Remote("git.acme.io", "acme/platform", "infra-live")
    with open_forge(Forge.GITLAB, remote, base_url="https://git.acme.io/api/v4/") as source:
        assert (source.base_url, source.repository) == (
            "https://git.acme.io/api/v4",
            "acme/platform/infra-live",
        )
    with pytest.raises(UsageError) as refused:
        open_forge(Forge.GITLAB, remote)
    assert str(refused.value) == (
        "--forge gitlab: the origin's host git.acme.io is not gitlab.com; name its API with "
        "--forge-url (config: forge_url), the only place the token is sent"
    )
