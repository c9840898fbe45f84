from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from forge_server import (
    ForgeServer,
    github_commit,
    github_pull,
    github_review,
    gitlab_approvals,
    gitlab_commit,
    gitlab_merge_request,
)

from auditor.errors import DefinitionError
from auditor.outcome import Outcome
from auditor.reviews import Forge, OfflineSource, RawSource, build_export, open_forge, write_export
from auditor.reviews.interface import Remote

EXPORTED_AT = datetime(2026, 4, 1, tzinfo=UTC)


def github_bundle(number: int, day: int, *, base: str = "main", commits: int = 2) -> dict[str, Any]:
    stamp = f"2026-02-{day:02d}T12:00:00Z"
    shas = [f"{number:02d}{i:02d}".ljust(40, "e") for i in range(commits)]
    return {
        "pull": github_pull(
            number, base=base, updated_at=stamp, merged_at=stamp, head_sha=shas[-1], commits=commits
        ),
        "commits": [github_commit(sha) for sha in shas],
        "reviews": [github_review(number, "dave", commit_id=shas[-1], number=number)],
    }


def gitlab_bundle(iid: int, day: int) -> dict[str, Any]:
    stamp = f"2026-02-{day:02d}T12:00:00.000Z"
    return {
        "merge_request": gitlab_merge_request(iid, updated_at=stamp, merged_at=stamp),
        "commits": [gitlab_commit(f"{iid:02d}".ljust(40, "d"))],
        "approvals": gitlab_approvals(iid, "carol"),
    }


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    with ForgeServer(page_size=2) as forge:
        forge.github["acme/infra-live"] = [
            github_bundle(3, 5),
            github_bundle(1, 9),
            github_bundle(2, 7),
            github_bundle(4, 8, base="release"),
        ]
        forge.gitlab["acme/platform/infra-live"] = [gitlab_bundle(2, 4), gitlab_bundle(1, 6)]
        yield forge


def online(server: ForgeServer, forge: Forge) -> RawSource:
    if forge is Forge.GITHUB:
        return open_forge(forge, Remote("github.com", "acme", "infra-live"), base_url=server.url)
    remote = Remote("gitlab.com", "acme/platform", "infra-live")
    return open_forge(forge, remote, base_url=server.gitlab_url)


def export(server: ForgeServer, forge: Forge, path: Path) -> dict[str, Any]:
    with online(server, forge) as source:
        document = build_export(
            source, base_branch="main", updated_since=None, exported_at=EXPORTED_AT
        )
    write_export(path, document)
    return document


@pytest.mark.parametrize("forge", list(Forge))
def test_export_then_load_gives_the_same_requests(
    server: ForgeServer, forge: Forge, tmp_path: Path
) -> None:
    with online(server, forge) as source:
        expected = sorted(
            source.fetch(base_branch="main", updated_since=None), key=lambda r: r.number
        )
    export(server, forge, tmp_path / "reviews.json")
    offline = OfflineSource(tmp_path / "reviews.json")
    assert list(offline.fetch(base_branch="main", updated_since=None)) == expected
    assert offline.complete and offline.forge is forge


def test_github_export_document_shape(server: ForgeServer, tmp_path: Path) -> None:
    document = export(server, Forge.GITHUB, tmp_path / "reviews.json")
    assert set(document) == {
        "schema_version",
        "forge",
        "repository",
        "base_url",
        "exported_at",
        "complete",
        "pulls",
    }
    assert (document["schema_version"], document["forge"], document["repository"]) == (
        1,
        "github",
        "acme/infra-live",
    )
    assert document["exported_at"] == "2026-04-01T00:00:00Z" and document["complete"] is True
    assert [p["pull"]["number"] for p in document["pulls"]] == [1, 2, 3]
    assert document["pulls"][0]["pull"] == server.github["acme/infra-live"][1]["pull"]
    assert set(document["pulls"][0]) == {"pull", "commits", "reviews"}


def test_gitlab_export_document_shape(server: ForgeServer, tmp_path: Path) -> None:
    document = export(server, Forge.GITLAB, tmp_path / "reviews.json")
    assert document["forge"] == "gitlab" and document["repository"] == "acme/platform/infra-live"
    assert [m["merge_request"]["iid"] for m in document["merge_requests"]] == [1, 2]
    assert set(document["merge_requests"][0]) == {"merge_request", "commits", "approvals"}


def test_written_file_is_deterministic(server: ForgeServer, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    export(server, Forge.GITHUB, first)
    export(server, Forge.GITHUB, second)
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_offline_source_filters_branch_and_updated_since(
    server: ForgeServer, tmp_path: Path
) -> None:
    path = tmp_path / "reviews.json"
    with online(server, Forge.GITHUB) as source:
        document = build_export(
            source, base_branch="release", updated_since=None, exported_at=EXPORTED_AT
        )
    document["pulls"] += export(server, Forge.GITHUB, path)["pulls"]
    write_export(path, document)
    offline = OfflineSource(path)
    assert [r.number for r in offline.fetch(base_branch="main", updated_since=None)] == [1, 2, 3]
    assert [r.number for r in offline.fetch(base_branch="release", updated_since=None)] == [4]
    since = datetime(2026, 2, 7, tzinfo=UTC)
    assert [r.number for r in offline.fetch(base_branch="main", updated_since=since)] == [1, 2]


def test_truncated_commit_list_exports_as_incomplete(server: ForgeServer, tmp_path: Path) -> None:
    server.commit_cap = 1
    document = export(server, Forge.GITHUB, tmp_path / "reviews.json")
    assert document["complete"] is False
    offline = OfflineSource(tmp_path / "reviews.json")
    requests = list(offline.fetch(base_branch="main", updated_since=None))
    assert all(r.commits_truncated for r in requests)
    reasons = [gap.reason for gap in offline.gaps]
    assert reasons[0].endswith("was exported incomplete")
    assert reasons[1:] == ["the forge listed 1 of 2 commits"] * 3


CORRUPTIONS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("version", lambda d: d.update(schema_version=2), "schema_version: expected 1, found 2"),
    ("forge", lambda d: d.update(forge="bitbucket"), "forge: expected github or gitlab"),
    ("repository", lambda d: d.pop("repository"), "repository: missing"),
    ("complete", lambda d: d.update(complete="yes"), "complete: expected true or false"),
    ("pulls", lambda d: d.pop("pulls"), "pulls: missing"),
    ("number", lambda d: d["pulls"][1]["pull"].pop("number"), "pulls[1].pull.number: missing"),
    (
        "state",
        lambda d: d["pulls"][0]["reviews"][0].update(state="LGTM"),
        "pulls[0].reviews[0].state: unknown review state 'LGTM'",
    ),
    (
        "date",
        lambda d: d["pulls"][2]["commits"][1]["commit"]["author"].update(date="yesterday"),
        "pulls[2].commits[1].commit.author.date: not a timestamp",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS]
)
def test_invalid_export_names_file_and_key(
    server: ForgeServer, tmp_path: Path, mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    path = tmp_path / "reviews.json"
    document = export(server, Forge.GITHUB, path)
    mutate(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        OfflineSource(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert caught.value.outcome is Outcome.BAD_INPUT


@pytest.mark.parametrize(
    ("content", "message"), [("{", "not valid JSON"), ("[]", "document: expected an object")]
)
def test_unreadable_export_is_a_definition_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "reviews.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DefinitionError, match=message):
        OfflineSource(path)
    with pytest.raises(DefinitionError, match="cannot read"):
        OfflineSource(tmp_path / "missing.json")


def test_requests_parsed_while_reading_are_those_of_the_whole_document(
    server: ForgeServer, tmp_path: Path
) -> None:
    """An export names its forge before its requests (keys sorted), so they are parsed as the
    file is read; a document listing them first is parsed after, to the same requests."""
    path = tmp_path / "reviews.json"
    export(server, Forge.GITHUB, path)
    streamed = OfflineSource(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    pulls = document.pop("pulls")
    path.write_text(json.dumps({"pulls": pulls, **document}), encoding="utf-8")
    whole = OfflineSource(path)
    assert streamed.requests == whole.requests and [r.number for r in whole.requests] == [1, 2, 3]


def test_a_bad_request_is_reported_after_the_document_keys(
    server: ForgeServer, tmp_path: Path
) -> None:
    """The requests are parsed as they are read, but a bad one is reported only once the
    document's own keys are checked: a file of another schema version says so first."""
    path = tmp_path / "reviews.json"
    document = export(server, Forge.GITHUB, path)
    document["pulls"][1]["pull"].pop("number")
    write_export(path, document)
    with pytest.raises(DefinitionError, match=r"pulls\[1\]\.pull\.number: missing"):
        OfflineSource(path)
    document["schema_version"] = 2
    write_export(path, document)
    with pytest.raises(DefinitionError, match="schema_version: expected 1, found 2"):
        OfflineSource(path)
