"""Data shown on a terminal cannot drive it: control characters are written visibly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click.utils
import pytest
from forge_server import Episode, ForgeServer
from forgerepo import GITHUB_REPO, ForgeRepo, build
from gitrepo import BASE_TIME, GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode

EVE = "Eve \x1b]0;TITLE\x07\x1b[2J"  # sets the window title, then clears the screen
EVE_SHOWN = "Eve ⟨U+001B⟩]0;TITLE⟨U+0007⟩⟨U+001B⟩[2J"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture(params=["tty", "pipe"])
def terminal(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Output as on a terminal (click keeps escape sequences there) or through a pipe."""
    if request.param == "tty":
        monkeypatch.setattr(click.utils, "should_strip_ansi", lambda *_: False)
    return str(request.param)


def call(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = run([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_author_name_cannot_retitle_or_clear_the_terminal(
    terminal: str, capsys: pytest.CaptureFixture[str], repo: GitRepo, tmp_path: Path
) -> None:
    iam = 'resource "aws_iam_role" "deploy" {\n  name = "deploy"\n}\n'
    repo.commit("iam: \u202edeploy role \x9b2J", {"iam.tf": iam}, author=(EVE, "eve@example.com"))
    repo.commit("second", {"a.tf": "1\n"}, when=BASE_TIME + 7200)
    roster = tmp_path / "people.csv"  # Eve is not on it: IAM-01's failing line names her
    roster.write_text("person,emails,logins,start,end\nAlice,alice@example.com,alice,,\n")
    code, out, err = call(capsys, "check", repo.path, "--store", tmp_path / "s", "--roster", roster)
    assert code == ExitCode.CONTROLS_FAILED, err
    assert not [c for c in RAW if c in out + err]
    assert f"unresolved identities: author: {EVE_SHOWN} <eve@example.com>" in out
    code, out, err = call(capsys, "mine", repo.path, "--store", tmp_path / "s")
    assert code == ExitCode.OK, err
    assert not [c for c in RAW if c in out + err]


@pytest.fixture
def history(repo: GitRepo) -> ForgeRepo:
    return build(repo, "github")


@pytest.fixture
def server(history: ForgeRepo) -> Iterator[ForgeServer]:
    with ForgeServer(page_size=1) as forge:
        forge.github[GITHUB_REPO] = history.bundles
        yield forge


def test_a_forge_error_message_cannot_drive_the_terminal(
    terminal: str,
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    tmp_path: Path,
) -> None:
    message = "Bad credentials\x1b]0;pwned\x07\x1b[2J\x1b[1A\rall controls passed"
    server.script("pulls", Episode(401, body={"message": message}))
    code, out, err = call(
        capsys, "reviews", "export", history.path, "-o", tmp_path / "r.json",
        "--store", tmp_path / "s", "--forge", "github", "--forge-url", server.url,
    )  # fmt: skip
    assert code == ExitCode.INCOMPLETE
    assert not [c for c in (*RAW, "\r") if c in out + err]
    assert "Bad credentials⟨U+001B⟩]0;pwned⟨U+0007⟩⟨U+001B⟩[2J⟨U+001B⟩[1A all" in err


def test_run_summary_shows_a_repository_name_visibly(
    terminal: str, capsys: pytest.CaptureFixture[str], repo: GitRepo, tmp_path: Path
) -> None:
    repo.commit("one", {"a.tf": "1\n"}, when=BASE_TIME)
    config = tmp_path / "ops" / "auditor.toml"
    config.parent.mkdir()
    config.write_text(
        '[audit]\norganisation = "Acme"\nformats = ["json"]\n'
        f'[[repository]]\npath = "{repo.path}"\n'
        '[[repository]]\npath = "../gone\\u001b]0;TITLE\\u0007\\u001b[2J"\n',
        encoding="utf-8",
    )
    code, out, err = call(capsys, "run", "--config", config, "--as-of", "2026-01-01T00:00:00Z")
    assert code == ExitCode.INCOMPLETE, err
    assert not [c for c in RAW if c in out + err]
    assert "gone⟨U+001B⟩]0;TITLE⟨U+0007⟩⟨U+001B⟩[2J" in err
