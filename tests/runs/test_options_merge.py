"""One merge of a config into the options: ``check``/``report --config`` and a run of the same
config assess a repository with the same options, and what the command line gives wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest

from auditor.cli.check import check
from auditor.cli.options import assess_options_of, config_of
from auditor.cli.report import report
from auditor.facts.signatures import SignerKeys
from auditor.ledger.commits import bot_patterns
from auditor.ledger.period import Period
from auditor.reviews import Forge
from auditor.runs.config import Config, load_config

AS_OF = datetime(2026, 4, 2, tzinfo=UTC)

CONFIG = """\
[audit]
since = "2026-01-01"
until = "2026-03-31"
frameworks = ["soc2"]
waivers = "waivers.yaml"
roster = "people.csv"
controls_dirs = ["my-controls"]
rules = ["rules.yaml"]
bots = ["^ci-bot$"]
allowed_signers = "allowed_signers"
gpg_keys = "keys.asc"
jobs = 3

[[repository]]
path = "infra-live"
branches = ["main", "release"]
reviews_file = "reviews.json"
rules = ["repo-rules.yaml"]
deployments = ["applies.jsonl"]
argocd_url = "https://argocd.example.com"

[[repository.overrides."CHG-07"]]
parameters = { pattern = 'OPS-\\d+' }

[[overrides."CHG-02"]]
paths = ["envs/prod/**"]
parameters = { min_approvals = 2 }
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ops"
    (root / "infra-live").mkdir(parents=True)
    (root / "my-controls").mkdir()
    for name in (
        "waivers.yaml", "other-waivers.yaml", "people.csv", "reviews.json", "allowed_signers",
        "keys.asc", "applies.jsonl", "other.jsonl",
    ):  # fmt: skip
        (root / name).write_text("", encoding="utf-8")
    for name in ("rules.yaml", "repo-rules.yaml"):
        (root / name).write_text("environments:\n  names: [blue]\n", encoding="utf-8")
    (root / "auditor.toml").write_text(CONFIG, encoding="utf-8")
    return root


def cli_options(command: click.Command, root: Path, *args: str) -> Any:
    """The options ``command`` assesses with, parsed as the command line parses them."""
    argv = [str(root / "infra-live"), "--config", str(root / "auditor.toml")]
    argv += ["--store", str(root / ".auditor"), "--as-of", "2026-04-02T00:00:00Z", *args]
    if command is report:
        argv += ["--out", str(root / "pack")]
    with command.make_context(command.name or "", argv) as ctx:
        kw = dict(ctx.params)
    return assess_options_of(tuple(kw.pop("repos")), kw, config_of(kw))


def run_options(config: Config, root: Path) -> Any:
    """The options a run of ``config`` assesses its first repository with."""
    return config.assess_options(
        config.repositories[0],
        as_of=AS_OF,
        period=config.period_at(AS_OF).period,
        store=root / ".auditor",
    )


@pytest.mark.parametrize("command", [check, report], ids=["check", "report"])
def test_the_command_line_and_a_run_merge_a_config_alike(
    workspace: Path, command: click.Command
) -> None:
    config = load_config(workspace / "auditor.toml")
    given = cli_options(command, workspace)
    ran = run_options(config, workspace)
    # Every setting the config makes, as the config makes it (a run's jobs are its workers':
    # they decide how many git processes each worker starts, never what is found).
    assert given == replace(ran, ledger=replace(ran.ledger, jobs=None))
    assert ran.ledger.jobs == 3
    assert given.ledger.branches == ("main", "release")
    assert given.ledger.period == Period.parse("2026-01-01", "2026-03-31")
    assert given.ledger.rule_files == (workspace / "rules.yaml", workspace / "repo-rules.yaml")
    assert given.ledger.bot_patterns == bot_patterns(("^ci-bot$",))
    assert given.forge.reviews_file == workspace / "reviews.json"
    assert given.deployments.files == (workspace / "applies.jsonl",)
    assert given.deployments.argocd_urls == ("https://argocd.example.com",)
    assert given.frameworks == ("soc2",)
    assert given.signers == SignerKeys(workspace / "allowed_signers", workspace / "keys.asc")
    assert set(given.overrides) == {"CHG-02", "CHG-07"}


def test_what_the_command_line_gives_wins_over_the_config(workspace: Path) -> None:
    ran = run_options(load_config(workspace / "auditor.toml"), workspace)
    given = cli_options(
        check,
        workspace,
        *("--branch", "dev", "--since", "2026-02-01", "--framework", "iso27001"),
        *("--waivers", str(workspace / "other-waivers.yaml"), "--forge", "github"),
        *("--deployments", str(workspace / "other.jsonl"), "--bot-pattern", "^deployer$"),
        "--no-default-bots",
    )
    assert given.ledger.branches == ("dev",)
    assert given.ledger.period == Period.parse("2026-02-01", None)
    assert given.ledger.bot_patterns == ("^ci-bot$", "^deployer$")
    assert given.frameworks == ("iso27001",)
    assert given.waivers == workspace / "other-waivers.yaml"
    assert given.forge.forge is Forge.GITHUB and given.forge.reviews_file is None
    assert given.deployments.files == (workspace / "other.jsonl",)
    assert given.deployments.argocd_urls == ran.deployments.argocd_urls  # the config's API
    # what adds up: the config's control directories and rules, then the command line's
    assert given.controls_dirs == ran.controls_dirs
    assert given.ledger.rule_files == ran.ledger.rule_files
    assert given.roster == ran.roster and given.overrides == ran.overrides
