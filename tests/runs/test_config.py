"""The config of ``auditor run``: every key read, every error naming file, line and key."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.errors import DefinitionError
from auditor.evaluation.catalog import effective_parameters, load_catalog
from auditor.ledger.period import Period
from auditor.model import Severity
from auditor.render import Format, HeaderProfile
from auditor.reviews import Forge
from auditor.runs.config import Config, load_config, restrict
from auditor.runs.config.tomllines import dotted, key_lines

AS_OF = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)

FULL = """\
# every key
[audit]
organisation = "Acme Corp"
period = "last-quarter"
frameworks = [
    "soc2",
    "iso27001",
]
formats = "json, csv"
output = "packs"
store = "state/.auditor"
waivers = "waivers.yaml"
roster = "people.csv"
controls_dirs = ["my-controls"]
rules = ["rules.yaml"]
header_profile = "title"
sample = 25
seed = 2026
fail_on = ["high", "critical"]
jobs = 3
bots = ["^ci-bot$"]

[[repository]]
path = "../infra-live"
name = "acme/infra-live"
branches = ["main", "release"]
forge = "github"
forge_url = "https://github.example.com/api/v3"
forge_repo = "acme/infra-live"
environments = ["stacks/<env>/**"]

[[repository.overrides."CHG-07"]]
parameters = { pattern = 'OPS-\\d+' }

[[repository]]
url = "https://ci:${TOKEN}@gitlab.example.com/acme/platform.git"
forge = "gitlab"
reviews_file = "reviews.json"

[[overrides."CHG-02"]]
repositories = ["acme/*"]
paths = ["envs/prod/**"]
parameters = { min_approvals = 2 }
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ops"
    root.mkdir()
    for name in ("waivers.yaml", "people.csv", "reviews.json"):
        (root / name).write_text("", encoding="utf-8")
    (root / "rules.yaml").write_text("environments:\n  names: [blue]\n", encoding="utf-8")
    (root / "my-controls").mkdir()
    return root


def write(root: Path, text: str) -> Path:
    path = root / "auditor.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_key_is_read_and_paths_are_relative_to_the_config(workspace: Path) -> None:
    config = load_config(write(workspace, FULL))
    assert config.organisation == "Acme Corp"
    assert config.period.at(AS_OF).label == "2026-Q3"
    assert config.frameworks == ("soc2", "iso27001")
    assert config.formats == (Format.CSV, Format.JSON)  # canonical order
    assert config.output == workspace / "packs"
    assert config.store == workspace / "state" / ".auditor"
    assert config.waivers == workspace / "waivers.yaml"
    assert config.roster == workspace / "people.csv"
    assert config.controls_dirs == (workspace / "my-controls",)
    assert config.rules == (workspace / "rules.yaml",)
    assert config.header_profile is HeaderProfile.TITLE
    assert (config.sample, config.seed, config.jobs) == (25, "2026", 3)
    assert config.fail_on == {Severity.HIGH, Severity.CRITICAL}
    assert config.bots == ("^ci-bot$",)
    first, second = config.repositories
    assert first.path == workspace / ".." / "infra-live"
    assert (first.name, first.branches) == ("acme/infra-live", ("main", "release"))
    assert first.forge.forge is Forge.GITHUB
    assert first.forge.forge_url == "https://github.example.com/api/v3"
    assert first.forge.forge_repo == "acme/infra-live"
    assert first.environments == ("stacks/<env>/**",)
    assert first.overrides["CHG-07"][0].parameters["pattern"] == r"OPS-\d+"
    assert second.url == "https://ci:${TOKEN}@gitlab.example.com/acme/platform.git"
    assert second.source == "https://gitlab.example.com/acme/platform.git"  # no user, no token
    assert second.forge.forge is Forge.GITLAB
    assert second.forge.reviews_file == workspace / "reviews.json"
    (override,) = config.overrides["CHG-02"]
    assert (override.repositories, override.paths) == (("acme/*",), ("envs/prod/**",))
    assert override.parameters == {"min_approvals": 2}


def test_defaults(workspace: Path) -> None:
    config = load_config(write(workspace, '[[repository]]\npath = "."\n'))
    assert config.output == workspace / "audit-packs"
    assert config.store == workspace / ".auditor"
    assert config.formats == (Format.PDF, Format.HTML, Format.CSV, Format.JSON)
    assert config.frameworks == () and config.fail_on == frozenset(Severity)
    assert config.period.at(AS_OF).period == Period()
    assert config.repositories[0].forge.forge is None


def test_explicit_dates_as_strings_or_toml_dates(workspace: Path) -> None:
    config = load_config(
        write(
            workspace,
            '[audit]\nsince = 2026-01-01\nuntil = "2026-03-31"\n[[repository]]\npath = "."\n',
        )
    )
    named = config.period.at(AS_OF)
    assert named.label == "2026-01-01_2026-03-31"
    assert named.period == Period.parse("2026-01-01", "2026-03-31")


def test_assess_options_for_a_repository(workspace: Path) -> None:
    config = load_config(write(workspace, FULL))
    period = config.period.at(AS_OF).period
    options = config.assess_options(config.repositories[0], as_of=AS_OF, period=period)
    assert options.ledger.repos == (workspace / ".." / "infra-live",)
    assert options.ledger.branches == ("main", "release")
    assert options.ledger.period == period and options.ledger.jobs == 3
    assert options.ledger.store == config.store
    assert options.ledger.rule_files == (workspace / "rules.yaml",)
    assert options.frameworks == ("soc2", "iso27001") and options.roster == config.roster
    assert set(options.overrides) == {"CHG-02", "CHG-07"}


def test_per_repository_overrides_concern_that_repository_only(workspace: Path) -> None:
    config = load_config(write(workspace, FULL))
    (chg07,) = [c for c in load_catalog() if c.id == "CHG-07"]
    overrides = restrict(config.repositories[0].overrides, "acme/infra-live")
    assert effective_parameters(chg07, overrides, "acme/infra-live")["pattern"] == r"OPS-\d+"
    assert effective_parameters(chg07, overrides, "acme/other")["pattern"] != r"OPS-\d+"
    # a name with glob characters is matched literally
    odd = restrict(config.repositories[0].overrides, "team[1]/*")
    assert effective_parameters(chg07, odd, "team[1]/*")["pattern"] == r"OPS-\d+"
    assert effective_parameters(chg07, odd, "team1/x")["pattern"] != r"OPS-\d+"


BAD_CASES = [
    ("[audti]\n", 1, "audti", "unknown key; expected one of audit, repository, overrides"),
    ("[audit]\norganisation = 'x'\nperiods = 'last-month'\n", 3, "audit.periods",
     "unknown key; expected one of organisation, period"),
    ("[audit]\nframeworks = 'soc2'\n", 2, "audit.frameworks", "expected an array, got 'soc2'"),
    ("[audit]\nframeworks = [\n  'soc2',\n  'sox',\n]\n", 4, "audit.frameworks[1]",
     "unknown framework 'sox'; known: soc2, iso27001"),
    ("[audit]\njobs = 0\n", 2, "audit.jobs", "expected an integer from 1 to 256, got 0"),
    ("[audit]\nsample = '10'\n", 2, "audit.sample", "expected an integer, got '10'"),
    ("[audit]\norganisation = 7\n", 2, "audit.organisation", "expected a string, got a number"),
    ("[audit]\nperiod = 'last-week'\n", 2, "audit.period", "unknown period 'last-week'"),
    ("[audit]\nperiod = 'last-month'\nsince = '2026-01-01'\n", 2, "audit.period",
     "give either period or since/until, not both"),
    ("[audit]\nsince = 'yesterday'\n", 2, "audit.since", "'yesterday' is not a date"),
    ("[audit]\nsince = '2026-05-01'\nuntil = '2026-04-01'\n", 2, "audit.since",
     "2026-05-01 is after until (2026-04-01)"),
    ("[audit]\nformats = ['csv', 'docx']\n", 2, "audit.formats[1]", "unknown format 'docx'"),
    ("[audit]\nfail_on = 'high,urgent'\n", 2, "audit.fail_on", "unknown severity 'urgent'"),
    ("[audit]\nheader_profile = 'camel'\n", 2, "audit.header_profile",
     "expected one of snake, title, got 'camel'"),
    ("[audit]\nbots = ['(']\n", 2, "audit.bots[0]", "invalid regular expression"),
    ("[audit]\nwaivers = 'nope.yaml'\n", 2, "audit.waivers", "no such file:"),
    ("[audit]\ncontrols_dirs = ['nope']\n", 2, "audit.controls_dirs[0]", "no such directory:"),
    ("[audit]\norganisation = 'x'\n", None, "(top level)", "no [[repository]]"),
    ("[[repository]]\nname = 'x'\n", 1, "repository[0]", "give exactly one of path"),
    ("[[repository]]\npath = 'a'\nurl = 'file:///a'\n", 1, "repository[0]",
     "give exactly one of path"),
    ("[[repository]]\npath = 'a'\n\n[[repository]]\npath = 'b'\nbrnaches = ['main']\n", 6,
     "repository[1].brnaches", "unknown key; expected one of path, url, name, branches"),
    ("[[repository]]\npath = 'a'\nforge = 'bitbucket'\n", 3, "repository[0].forge",
     "expected one of github, gitlab, none, got 'bitbucket'"),
    ("[[repository]]\npath = 'a'\nforge_repo = 'infra'\n", 3, "repository[0].forge_repo",
     "expected OWNER/REPO"),
    ("[[repository]]\npath = 'a'\nbranches = ['main', 3]\n", 3, "repository[0].branches[1]",
     "expected a string, got a number (3)"),
    ("[[repository]]\npath = 'a'\nenvironments = ['envs/**']\n", 3,
     "repository[0].environments[0]", "must contain <env> exactly once"),
    ("[[repository]]\npath = 'a'\nname = 'x'\n[[repository]]\npath = 'b'\nname = 'x'\n", 6,
     "repository[1].name", "'x' is already the name of repository[0]"),
    ("[[repository]]\npath = 'a'\n[[overrides.'NOPE-01']]\nparameters = {}\n", 3,
     "overrides.NOPE-01", "unknown control"),
    ("[[repository]]\npath = 'a'\n\n[[overrides.CHG-02]]\nparameters = { min_approvals = 1 }\n"
     "\n[[overrides.CHG-02]]\npaths = ['prod/**']\nparameters = { min_approvals = 'two' }\n", 9,
     "overrides.CHG-02[1].parameters.min_approvals", "expected an integer, got 'two'"),
    ("[[repository]]\npath = 'a'\n[[overrides.CHG-02]]\nparameter = { min_approvals = 1 }\n",
     4, "overrides.CHG-02[0].parameter", "unknown key"),
    ("[[repository]]\npath = 'a'\n[[repository.overrides.CHG-02]]\nrepositories = ['x']\n"
     "parameters = { min_approvals = 1 }\n", 4, "repository[0].overrides.CHG-02[0].repositories",
     "not allowed here"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "key", "message"), BAD_CASES)
def test_errors_name_file_line_and_key(
    workspace: Path, text: str, line: int | None, key: str, message: str
) -> None:
    path = write(workspace, text)
    with pytest.raises(DefinitionError) as caught:
        load_config(path)
    error = str(caught.value)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert error.startswith(f"{where}{key}: "), error
    assert message in error
    assert "\n" not in error


def test_invalid_toml_names_the_line(workspace: Path) -> None:
    path = write(workspace, "[audit]\norganisation = \n")
    with pytest.raises(DefinitionError, match=r"auditor.toml: invalid TOML: .*line 2"):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read the config file"):
        load_config(tmp_path / "absent.toml")


def test_config_hash_is_of_the_file_bytes(workspace: Path) -> None:
    import hashlib

    path = write(workspace, '[[repository]]\npath = "."\n')
    assert load_config(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_errors_found_after_loading_name_the_line(workspace: Path) -> None:
    config: Config = load_config(write(workspace, FULL))
    error = config.error(("repository", 1, "url"), "unreachable")
    assert str(error) == f"{workspace / 'auditor.toml'}:36: repository[1].url: unreachable"


def test_key_lines_follow_tables_arrays_and_inline_values() -> None:
    text = textwrap.dedent(
        """\
        [audit]
        notes = '''
        a = 1
        '''
        "odd.key" = { inner = [1, { deep = 2 }] }

        [[repository]]
        path = "a"
        [[repository]]
        path = "b"  # comment with = sign
        [repository.extra]
        k = 1
        """
    )
    lines = {dotted(k): v for k, v in key_lines(text).items()}
    assert lines["audit.notes"] == 2 and "a" not in lines
    assert lines['audit."odd.key".inner[1].deep'] == 5
    assert (lines["repository[0].path"], lines["repository[1].path"]) == (8, 10)
    assert lines["repository[1].extra.k"] == 12
