"""The built-in bot list, and how ``--bot-pattern``/``--no-default-bots`` and config change it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.errors import DefinitionError
from auditor.ledger.commits import DEFAULT_BOT_PATTERNS, BotPolicy, bot_patterns
from auditor.ledger.period import Period
from auditor.model import Identity
from auditor.runs.config import load_config

# Identities as these tools really write them into commits.
AUTOMATION = [
    ("semantic-release-bot", "semantic-release-bot@martynus.net"),
    ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"),
    ("GitHub Action", "action@github.com"),
    ("github-actions", "github-actions@github.com"),
    ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"),
    ("Renovate Bot", "bot@renovateapp.com"),
    ("Mend Renovate", "renovate@whitesourcesoftware.com"),
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    ("dependabot-preview[bot]", "27856297+dependabot-preview[bot]@users.noreply.github.com"),
    ("release-please[bot]", "55107282+release-please[bot]@users.noreply.github.com"),
    ("changeset-bot", "changeset-bot@users.noreply.github.com"),
    ("argocd-image-updater", "noreply@argoproj.io"),
    ("fluxcdbot", "fluxcdbot@users.noreply.github.com"),
    ("project_42_bot_3f1c", "project_42_bot_3f1c@noreply.gitlab.example.com"),
    ("k8s-ci-robot", "k8s-ci-robot@users.noreply.github.com"),
    ("ci-bot", "ci@example.com"),
]
PEOPLE = [
    ("Anton Babenko", "anton@antonbabenko.com"),
    ("Bryant Biggs", "bryantbiggs@gmail.com"),
    ("Robert Abbot", "rabbot@example.com"),
    ("Release Manager", "release@example.com"),
    ("Renée Actions", "renee@example.com"),
]


def _identity(name: str, email: str) -> Identity:
    return Identity(name, email, name, email)


@pytest.mark.parametrize(("name", "email"), AUTOMATION)
def test_the_built_in_list_knows_release_update_and_ci_automation(name: str, email: str) -> None:
    assert BotPolicy().matches(_identity(name, email))


@pytest.mark.parametrize(("name", "email"), PEOPLE)
def test_the_built_in_list_leaves_people_alone(name: str, email: str) -> None:
    assert not BotPolicy().matches(_identity(name, email))


def test_added_patterns_extend_the_list_and_only_no_default_replaces_it() -> None:
    assert bot_patterns(("^betajobot$",)) == (*DEFAULT_BOT_PATTERNS, "^betajobot$")
    assert bot_patterns(("^betajobot$",), defaults=False) == ("^betajobot$",)
    assert bot_patterns((DEFAULT_BOT_PATTERNS[0],)) == DEFAULT_BOT_PATTERNS


@pytest.fixture
def pushes(repo: GitRepo) -> GitRepo:
    """Direct pushes by a release bot, a custom bot and a person."""
    repo.commit(
        "chore(release): 1.2.0 [skip ci]",
        {"CHANGELOG.md": "1.2.0\n"},
        author=("semantic-release-bot", "semantic-release-bot@martynus.net"),
    )
    repo.commit("sync", {"a.tf": "1\n"}, author=("betajobot", "anton+betajobot@acme.example"))
    repo.commit("fix vpc", {"a.tf": "2\n"}, author=("Anton Babenko", "anton@acme.example"))
    return repo


def _is_bot(tmp_path: Path, repo: GitRepo, *args: str) -> dict[str, str]:
    out = tmp_path / "changes.csv"
    argv = ["changes", str(repo.path), "--store", str(tmp_path / "store"), "-q", "-o", str(out)]
    assert run([*argv, *args]) == 0
    rows = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    return {row["author_name"]: row["is_bot"] for row in rows}


def test_bot_pattern_adds_to_the_built_in_list(tmp_path: Path, pushes: GitRepo) -> None:
    assert _is_bot(tmp_path, pushes) == {
        "semantic-release-bot": "true",
        "betajobot": "false",
        "Anton Babenko": "false",
    }
    assert _is_bot(tmp_path, pushes, "--bot-pattern", "^betajobot$") == {
        "semantic-release-bot": "true",
        "betajobot": "true",
        "Anton Babenko": "false",
    }


def test_no_default_bots_leaves_only_the_given_patterns(tmp_path: Path, pushes: GitRepo) -> None:
    found = _is_bot(tmp_path, pushes, "--no-default-bots", "--bot-pattern", "^betajobot$")
    assert found == {"semantic-release-bot": "false", "betajobot": "true", "Anton Babenko": "false"}


@pytest.mark.parametrize(
    ("audit", "expected"),
    [
        ('bots = ["^betajobot$"]', {"semantic-release-bot": "true", "betajobot": "true"}),
        (
            'bots = ["^betajobot$"]\ndefault_bots = false',
            {"semantic-release-bot": "false", "betajobot": "true"},
        ),
    ],
)
def test_config_bots_add_and_default_bots_false_replaces(
    tmp_path: Path, pushes: GitRepo, audit: str, expected: dict[str, str]
) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text(
        f'[audit]\n{audit}\n\n[[repository]]\npath = "{pushes.path}"\n', encoding="utf-8"
    )
    out = tmp_path / "pack"
    argv = ["report", str(pushes.path), "--config", str(config), "--store", str(tmp_path / "s"),
            "--out", str(out), "--format", "csv", "-q", "--as-of", "2026-01-01T00:00Z"]  # fmt: skip
    assert run(argv) in (0, 1)
    rows = csv.DictReader(io.StringIO((out / "csv/changes.csv").read_text(encoding="utf-8")))
    found = {row["author_name"]: row["is_bot"] for row in rows}
    assert {name: found[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("audit", "expected"),
    [
        ('bots = ["^betajobot$"]', (*DEFAULT_BOT_PATTERNS, "^betajobot$")),
        ('bots = ["^betajobot$"]\ndefault_bots = false', ("^betajobot$",)),
        ("", DEFAULT_BOT_PATTERNS),
    ],
)
def test_scheduled_runs_use_the_same_bot_list(
    tmp_path: Path, repo: GitRepo, audit: str, expected: tuple[str, ...]
) -> None:
    path = tmp_path / "auditor.toml"
    path.write_text(f'[audit]\n{audit}\n\n[[repository]]\npath = "{repo.path}"\n', "utf-8")
    config = load_config(path)
    options = config.assess_options(
        config.repositories[0], as_of=datetime(2026, 1, 1, tzinfo=UTC), period=Period()
    )
    assert options.ledger.bot_patterns == expected


def test_default_bots_must_be_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "auditor.toml"
    path.write_text('[audit]\ndefault_bots = "no"\n\n[[repository]]\npath = "."\n', "utf-8")
    with pytest.raises(DefinitionError, match=r"audit\.default_bots.*expected true or false"):
        load_config(path)
