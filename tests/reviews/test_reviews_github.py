from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from forge_server import (
    Episode,
    ForgeServer,
    bad_credentials,
    dropped,
    forbidden,
    github_commit,
    github_pull,
    github_review,
    not_found,
    rate_limited,
    secondary_limit,
    server_error,
)

from auditor.errors import ForgeError, UsageError
from auditor.outcome import Outcome
from auditor.reviews import (
    AccountType,
    Forge,
    MemoryCache,
    Remote,
    RequestState,
    ReviewState,
    open_forge,
    parse_remote_url,
)
from auditor.reviews.forges import FORGES
from auditor.reviews.github import HEADERS, GitHubSource
from auditor.reviews.http import ForgeClient, ResponseCache
from auditor.reviews.interface import Payload

TOKEN = "ghp_Zx9s3cr3tT0k3nValue"
NOW = 1_800_000_000.0
REPO = "acme/infra-live"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def bundle(number: int, day: int, *, commits: int = 1, **pull: Any) -> dict[str, Any]:
    stamp = f"2026-01-{day:02d}T10:00:00Z"
    shas = [f"{number:02d}{i:02d}".ljust(40, "c") for i in range(commits)]
    return {
        "pull": github_pull(
            number, updated_at=stamp, merged_at=stamp, head_sha=shas[-1], commits=commits, **pull
        ),
        "commits": [
            github_commit(sha, parents=(shas[i - 1],) if i else ("b" * 40,))
            for i, sha in enumerate(shas)
        ],
        "reviews": [
            github_review(number * 10, "carol", "COMMENTED", commit_id=shas[0], number=number),
            github_review(number * 10 + 1, "dave", "APPROVED", commit_id=shas[-1], number=number),
        ],
    }


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    unmerged = bundle(6, 11)
    unmerged["pull"] = {
        **github_pull(6, merged_at=None, updated_at="2026-01-11T00:00:00Z"),
        "state": "closed",
    }
    with ForgeServer(token=TOKEN, page_size=2) as forge:
        forge.github[REPO] = [
            bundle(1, 2),
            bundle(2, 4, labels=("network",)),
            bundle(3, 6, commits=3),
            bundle(4, 8),
            bundle(5, 10),
            unmerged,
            bundle(7, 12, base="release"),
        ]
        yield forge


def source_for(
    server: ForgeServer,
    *,
    sleeps: Sleeps | None = None,
    cache: ResponseCache | None = None,
    token: str = TOKEN,
    base_url: str | None = None,
) -> GitHubSource:
    client = ForgeClient(
        base_url or server.github_url,
        name="GitHub",
        token=token,
        headers=HEADERS,
        cache=cache,
        sleep=sleeps if sleeps is not None else Sleeps(),
        clock=lambda: NOW,
    )
    return GitHubSource(client, REPO)


def fetch(source: GitHubSource, since: datetime | None = None) -> list[int]:
    with source:
        return [r.number for r in source.fetch(base_branch="main", updated_since=since)]


def test_merged_pulls_are_read_across_pages(server: ForgeServer) -> None:
    with source_for(server) as source:
        requests = list(source.fetch(base_branch="main", updated_since=None))
    assert [r.number for r in requests] == [5, 4, 3, 2, 1]
    three = requests[2]
    assert three.forge is Forge.GITHUB
    assert three.state is RequestState.MERGED
    assert three.merged_by == "bob"
    assert three.author_login == "alice" and three.author_type is AccountType.USER
    assert three.merged_at == datetime(2026, 1, 6, 10, tzinfo=UTC)
    assert three.base_ref == "main" and three.head_ref == "change-3"
    assert len(three.commits) == 3 and not three.commits_truncated
    assert three.commits[1].parents == (three.commits[0].sha,)
    assert three.commits[0].author_login == "alice"
    assert [(r.reviewer_login, r.state) for r in three.reviews] == [
        ("carol", ReviewState.COMMENTED),
        ("dave", ReviewState.APPROVED),
    ]
    assert three.reviews[1].commit_id == three.head_sha
    assert requests[3].labels == ("network",)
    assert source.complete

    listing = server.requests_to(r"/pulls$")
    assert [r.query.get("page", "1") for r in listing] == ["1", "2", "3"]
    assert listing[0].query == {
        "state": "closed",
        "base": "main",
        "sort": "updated",
        "direction": "desc",
        "per_page": "100",
    }
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert len(server.requests_to(r"/pulls/3/commits")) == 2


def test_updated_since_stops_paging_early(server: ForgeServer) -> None:
    numbers = fetch(source_for(server), since=datetime(2026, 1, 7, tzinfo=UTC))
    assert numbers == [5, 4]
    assert [r.query.get("page", "1") for r in server.requests_to(r"/pulls$")] == ["1", "2"]
    assert not server.requests_to(r"/pulls/[123](/|$)")


def test_rerun_with_cache_sends_if_none_match_and_reuses_304s(server: ForgeServer) -> None:
    cache = MemoryCache()
    first = list(source_for(server, cache=cache).fetch(base_branch="main", updated_since=None))
    used, seen = server.remaining, len(server.requests)
    second = list(source_for(server, cache=cache).fetch(base_branch="main", updated_since=None))
    assert second == first
    rerun = server.requests[seen:]
    assert rerun and all("if-none-match" in r.headers and r.status == 304 for r in rerun)
    assert server.remaining == used


def test_server_errors_and_dropped_connections_are_retried(server: ForgeServer) -> None:
    server.script(r"/pulls/3/reviews", server_error(500), server_error(502), dropped())
    sleeps = Sleeps()
    assert fetch(source_for(server, sleeps=sleeps)) == [5, 4, 3, 2, 1]
    assert sleeps == [1.0, 2.0, 4.0]


def test_persistent_server_errors_raise_forge_error(server: ForgeServer) -> None:
    server.script(r"/pulls/2$", *(server_error() for _ in range(5)))
    with pytest.raises(ForgeError, match="502") as caught:
        fetch(source_for(server))
    assert caught.value.outcome is Outcome.INCOMPLETE


def test_rate_limit_waits_until_reset(server: ForgeServer) -> None:
    server.script(r"/pulls\?", rate_limited(reset=int(NOW) + 120))
    sleeps = Sleeps()
    assert fetch(source_for(server, sleeps=sleeps)) == [5, 4, 3, 2, 1]
    assert sleeps == [121.0]


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_honours_retry_after(server: ForgeServer, status: int) -> None:
    server.script(r"/pulls/4/commits", secondary_limit(30, status))
    sleeps = Sleeps()
    assert fetch(source_for(server, sleeps=sleeps)) == [5, 4, 3, 2, 1]
    assert sleeps == [30.0]


def test_used_up_quota_pauses_before_the_next_request(server: ForgeServer) -> None:
    server.remaining, server.reset_at = 2, int(NOW) + 600
    sleeps = Sleeps()
    fetch(source_for(server, sleeps=sleeps))
    assert sleeps and sleeps[0] == 601.0


def test_endless_rate_limit_gives_up(server: ForgeServer) -> None:
    server.script(r"/pulls\?", *(rate_limited(reset=int(NOW) + 60) for _ in range(4)))
    with pytest.raises(ForgeError, match="rate limit"):
        fetch(source_for(server))


@pytest.mark.parametrize(("episode", "status"), [(bad_credentials(), "401"), (forbidden(), "403")])
def test_refusals_raise_forge_error_without_the_token(
    server: ForgeServer, episode: Episode, status: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(r"/pulls/3/reviews", episode)
    caplog.set_level(logging.DEBUG)
    source = source_for(server)
    with pytest.raises(ForgeError, match=status) as caught:
        fetch(source)
    assert caught.value.outcome is Outcome.INCOMPLETE
    assert "\n" not in str(caught.value)
    assert TOKEN not in str(caught.value) + repr(source) + caplog.text


def test_wrong_token_is_refused(server: ForgeServer) -> None:
    with pytest.raises(ForgeError, match="refused the credentials") as caught:
        fetch(source_for(server, token="ghp_wrong"))
    assert "ghp_wrong" not in str(caught.value)


def test_token_echoed_by_the_forge_is_masked(server: ForgeServer) -> None:
    server.script(r"/pulls\?", Episode(403, body={"message": f"token {TOKEN} was revoked"}))
    with pytest.raises(ForgeError) as caught:
        fetch(source_for(server))
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize("episode", [not_found(), *[dropped()] * 5])
def test_failure_mid_pagination_raises(server: ForgeServer, episode: Episode) -> None:
    server.script(r"/pulls\?.*page=2", *([episode] * 5))
    with pytest.raises(ForgeError):
        fetch(source_for(server))


def test_unreachable_forge_raises() -> None:
    client = ForgeClient("http://127.0.0.1:9", name="GitHub", token=TOKEN, sleep=Sleeps())
    with pytest.raises(ForgeError, match="cannot reach"), GitHubSource(client, REPO) as source:
        list(source.fetch(base_branch="main", updated_since=None))


def test_commit_list_capped_by_github_is_recorded_as_a_gap(server: ForgeServer) -> None:
    server.github[REPO] = [bundle(8, 3, commits=5)]
    server.commit_cap = 3
    with source_for(server) as source:
        (request,) = source.fetch(base_branch="main", updated_since=None)
    assert request.commit_count == 5 and len(request.commits) == 3
    assert request.commits_truncated
    assert not source.complete
    assert [(gap.request, gap.reason) for gap in source.gaps] == [
        (8, "the forge listed 3 of 5 commits")
    ]


def test_enterprise_server_is_read_under_api_v3(server: ForgeServer) -> None:
    assert fetch(source_for(server, base_url=server.enterprise_url)) == [5, 4, 3, 2, 1]
    assert all(r.path.startswith("/api/v3/repos/") for r in server.requests)
    assert FORGES[Forge.GITHUB].api_url_for("github.com") == "https://api.github.com"
    assert (
        FORGES[Forge.GITHUB].api_url_for("ghe.acme.internal") is None
    )  # an Enterprise API is named, not derived


def test_open_forge_picks_the_api_url_from_the_remote() -> None:
    with open_forge(Forge.GITHUB, parse_remote_url("git@github.com:acme/infra-live.git")) as s:
        assert (s.base_url, s.repository) == ("https://api.github.com", REPO)
    enterprise = Remote("ghe.acme.internal", "acme", "infra")
    with open_forge(Forge.GITHUB, enterprise, base_url="https://ghe.acme.internal/api/v3") as s:
        assert s.base_url == "https://ghe.acme.internal/api/v3"
    with pytest.raises(UsageError, match=r"^--forge github: the origin's host ghe\.acme\."):
        open_forge(Forge.GITHUB, enterprise)  # the token would go where the origin says


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/infra-live.git", ("github.com", "acme", "infra-live")),
        ("https://github.com/acme/infra-live", ("github.com", "acme", "infra-live")),
        ("https://x-token:abc@github.com/acme/infra-live/", ("github.com", "acme", "infra-live")),
        ("git@github.com:acme/infra-live.git", ("github.com", "acme", "infra-live")),
        ("ssh://git@github.com/acme/infra-live.git", ("github.com", "acme", "infra-live")),
        ("ssh://git@ghe.acme.io:2222/ops/net.git", ("ghe.acme.io", "ops", "net")),
        ("https://gitlab.com/acme/platform/infra.git", ("gitlab.com", "acme/platform", "infra")),
        ("git@gitlab.example.com:a/b/c/d.git", ("gitlab.example.com", "a/b/c", "d")),
        ("http://GitLab.local:8080/grp/proj", ("gitlab.local", "grp", "proj")),
    ],
)
def test_parse_remote_url(url: str, expected: tuple[str, str, str]) -> None:
    assert parse_remote_url(url) == expected


@pytest.mark.parametrize("url", ["/srv/git/infra.git", "https://github.com/acme", "file:///x/y"])
def test_parse_remote_url_rejects_non_forge_urls(url: str) -> None:
    with pytest.raises(UsageError):
        parse_remote_url(url)


def test_parse_remote_url_error_hides_credentials() -> None:
    with pytest.raises(UsageError) as caught:
        parse_remote_url("https://user:hunter2@github.com/onlyowner")
    assert "hunter2" not in str(caught.value)


def test_unexpected_payload_is_a_forge_error(server: ForgeServer) -> None:
    del server.github[REPO][4]["pull"]["head"]
    with pytest.raises(ForgeError, match=r"unexpected payload .*: pull\.head: missing"):
        fetch(source_for(server))


@pytest.mark.parametrize(
    ("verification", "signed"),
    [
        ({"verified": True, "reason": "valid", "signature": "-----BEGIN PGP"}, True),
        ({"verified": False, "reason": "unknown_key", "signature": "-----BEGIN SSH"}, True),
        ({"verified": False, "reason": "unsigned", "signature": None}, False),
        (None, None),
    ],
)
def test_commit_signature_as_the_forge_reports_it(
    verification: dict[str, Any] | None, signed: bool | None
) -> None:
    item = github_commit("c" * 40)
    if verification is None:
        del item["commit"]["verification"]
    else:
        item["commit"]["verification"] = verification
    bundle = {"pull": github_pull(1, head_sha="c" * 40), "commits": [item], "reviews": []}
    (commit,) = GitHubSource.parse(Payload.of(bundle, "")).commits
    assert commit.signed is signed
