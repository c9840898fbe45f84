"""The forge registry: every forge it lists works end to end from its one entry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from forge_server import ForgeServer
from forgerepo import GITHUB_REPO, GITLAB_PROJECT, PERIOD_START, REMOTES, build
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.options import forge_source_options
from auditor.redaction import REDACTED, known_secrets, redact
from auditor.reviews.forges import (
    FORGE_CHOICES,
    FORGES,
    NO_FORGE,
    ForgeEntry,
    forge_named,
    forge_of_host,
    forges_listed,
)
from auditor.reviews.interface import Forge, parse_remote_url

ENTRIES = list(FORGES.values())
PROJECTS = {Forge.GITHUB: GITHUB_REPO, Forge.GITLAB: GITLAB_PROJECT}
"""The forge repository tests/forgerepo.py builds a history for, per forge."""


def test_every_forge_is_in_the_registry_and_every_test_history_too() -> None:
    assert set(FORGES) == set(Forge)
    assert set(PROJECTS) == set(FORGES) == {Forge(word) for word in REMOTES}
    assert (*(f.value for f in Forge), NO_FORGE) == FORGE_CHOICES


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.value)
def test_an_entry_is_consistent_with_its_source(entry: ForgeEntry) -> None:
    assert entry.source.forge is entry.forge
    assert entry.source.bundles_key
    assert forge_named(entry.value) is entry.forge
    assert entry.api_url_for(entry.host) == entry.api
    assert entry.api_url_for(f"code.{entry.host}.example") is None  # never guessed
    assert forge_of_host(entry.host) is entry
    assert entry.links("https://h/o/r")[0].format(sha="abc").startswith("https://h/o/r/")
    assert "{number}" in entry.request_page and "{sha}" in entry.commit_page


def test_forge_words() -> None:
    assert forge_named("none") is None
    with pytest.raises(Exception, match="expected one of github, gitlab, none, got 'gitea'"):
        forge_named("gitea")
    assert forges_listed() == "github or gitlab"


@pytest.mark.parametrize(
    ("host", "forge"),
    [
        ("github.com", Forge.GITHUB),
        ("github.acme.com", Forge.GITHUB),
        ("www.github.com", Forge.GITHUB),
        ("code.github.acme.com", None),
        ("gitlab.com", Forge.GITLAB),
        ("git.gitlab.acme.io", Forge.GITLAB),
        ("mygitlab.acme.io", Forge.GITLAB),
        ("github.gitlab.example", Forge.GITHUB),  # the first entry that matches
        ("bitbucket.org", None),
    ],
)
def test_a_host_looks_like_a_forge_as_the_pack_links_it(host: str, forge: Forge | None) -> None:
    found = forge_of_host(host)
    assert (found.forge if found else None) is forge


def test_the_command_line_offers_every_forge() -> None:
    import click

    command = forge_source_options(click.command()(lambda **kw: None))
    [choice] = [p for p in command.params if p.name == "forge"]
    assert isinstance(choice.type, click.Choice)
    assert tuple(choice.type.choices) == FORGE_CHOICES


def test_every_forge_token_is_masked_once_the_registry_is_loaded() -> None:
    environ = {entry.token_variable: f"tok-{entry.value}-123456" for entry in ENTRIES}
    secrets = known_secrets(environ)
    for value in environ.values():
        assert redact(f"said {value}", secrets) == f"said {REDACTED}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.value)
def test_a_command_that_loads_no_forge_code_masks_the_tokens_too(
    entry: ForgeEntry, tmp_path: Path
) -> None:
    """The registry names the token variables redaction masks; the command line loads it as it
    starts, so a command that reads no forge (``verify``) masks them too."""
    token = f"tok-{entry.value}-123456"
    missing = tmp_path / token
    done = subprocess.run(
        [sys.executable, "-m", "auditor", "verify", str(missing)],
        env={entry.token_variable: token, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert token not in done.stderr
    assert REDACTED in done.stderr


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.value)
def test_each_forge_from_its_entry_alone(
    entry: ForgeEntry,
    repo: GitRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The token from the entry's variable, sent to the API named; the requests read with the
    entry's source; the pack's links from the entry's templates under the origin's web URL."""
    token = f"secret-{entry.value}-token-value"
    for other in ENTRIES:
        monkeypatch.delenv(other.token_variable, raising=False)
    monkeypatch.setenv(entry.token_variable, token)
    history = build(repo, entry.value)
    with ForgeServer(token=token) as server:
        getattr(server, entry.value)[PROJECTS[entry.forge]] = history.bundles
        url = server.url if entry.forge is Forge.GITHUB else server.gitlab_url
        out = tmp_path / "changes.jsonl"
        argv = ["changes", history.path, "--store", tmp_path / "store", "-q",
                "--since", PERIOD_START, "--forge", entry.value, "--forge-url", url,
                "--format", "jsonl", "-o", out]  # fmt: skip
        code = run([str(a) for a in argv])
        seen = server.requests
    _, err = capsys.readouterr()
    assert code == 0, err
    listings = [r for r in seen if r.path.endswith(("/pulls", "/merge_requests"))]
    assert listings and all(r.status == 200 for r in listings)  # the token was accepted
    rows = {r["commit"]: r for r in map(json.loads, out.read_text().splitlines())}
    merged = rows[history.changes["#2"]]
    remote = parse_remote_url(REMOTES[entry.value])
    web = f"https://{remote.host}/{remote.path}"
    assert merged["change_request_url"] == entry.links(web)[1].format(number=2)
    assert token not in out.read_text() + err


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.value)
def test_the_pack_links_commits_and_requests_with_the_entrys_pages(entry: ForgeEntry) -> None:
    from auditor.evidence.builder import _links
    from auditor.reviews.collect import ReviewData

    web = f"https://{entry.host}/acme/infra"
    commit, request = _links(f"git@{entry.host}:acme/infra.git", ())
    assert commit.format(sha="abc123") == f"{web}{entry.commit_page.format(sha='abc123')}"
    assert request.format(number=7) == f"{web}{entry.request_page.format(number=7)}"
    served = ReviewData((), entry.value, web_url="https://code.example/acme/infra")
    assert _links("", (served,)) == entry.links("https://code.example/acme/infra")
    www = f"https://www.{entry.host}/acme/infra"
    assert _links(f"{www}.git", ()) == entry.links(www)  # the forge's own host, as its API is
    # an origin whose host looks like no forge's, with no review data to say: no links
    assert _links("https://code.example/acme/infra.git", ()) == ("", "")
