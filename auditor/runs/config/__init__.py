"""The TOML config of ``auditor run``: read, validated and resolved once, at the edge.

The records here are what every command reading a config sees; :mod:`auditor.runs.config.reader`
validates the document into them. Every error is one line naming the file, the line and the key,
e.g. ``auditor.toml:7: audit.frameworks[1]: unknown framework 'sox'; known: soc2, ...``, raised as
a :class:`~auditor.errors.DefinitionError` (exit 2). Relative paths are relative to the config
file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from auditor.audit import AssessOptions
from auditor.deployments.interface import DeploymentOptions
from auditor.errors import DefinitionError, UsageError
from auditor.evaluation.catalog import Override
from auditor.evidence.builder import redact_text
from auditor.evidence.report import ConfigRecord
from auditor.facts.signatures import SignerKeys
from auditor.ledger.commits import bot_patterns
from auditor.ledger.period import NamedPeriod, Period, named_period, period_label
from auditor.ledger.queries import LedgerOptions
from auditor.model import Severity
from auditor.redaction import redact
from auditor.render.interface import DEFAULT_FORMATS, Format, HeaderProfile
from auditor.reviews.collect import ForgeOptions
from auditor.runs.config.tomllines import KeyPath, key_error

CONFIG_FILE = "auditor.toml"
Overrides = Mapping[str, tuple[Override, ...]]


@dataclass(frozen=True)
class PeriodChoice:
    """The period a config names: rolling or calendar (``name``), or explicit dates."""

    name: str | None = None  # last-quarter, last-month, last-90-days, year-to-date, 2026-Q1, ...
    since: str | None = None
    until: str | None = None

    def at(self, as_of: datetime) -> NamedPeriod:
        """The period as of ``as_of``, with the label that names its packs."""
        if self.name is not None:
            return named_period(self.name, as_of)
        period = Period.parse(self.since, self.until)
        return NamedPeriod(period, period_label(period))


@dataclass(frozen=True)
class RepositoryConfig:
    """One ``[[repository]]``: a local path or a clone URL, and how to read it."""

    index: int
    path: Path | None = None
    url: str | None = None  # as written, ``${NAME}`` unexpanded; print :attr:`source` instead
    name: str = ""  # its name in the pack; default: the origin remote's owner/repo or the dir
    branches: tuple[str, ...] = ()
    forge: ForgeOptions = field(default_factory=ForgeOptions)
    environments: tuple[str, ...] = ()  # path patterns with one <env> segment
    rules: tuple[Path, ...] = ()
    overrides: Overrides = field(default_factory=dict)  # concern this repository only
    deployments: DeploymentOptions = field(default_factory=DeploymentOptions)

    @property
    def source(self) -> str:
        """Where it comes from, safe to print and record: the path, or the URL without user."""
        return redact(self.url) if self.url is not None else str(self.path)


@dataclass(frozen=True)
class Config:
    """A validated config file."""

    path: Path
    sha256: str  # of the file's bytes, recorded with each run
    repositories: tuple[RepositoryConfig, ...]
    organisation: str = ""
    period: PeriodChoice = field(default_factory=PeriodChoice)
    frameworks: tuple[str, ...] = ()
    formats: tuple[Format, ...] = DEFAULT_FORMATS
    output: Path = Path("audit-packs")
    store: Path = Path(".auditor")
    waivers: Path | None = None
    roster: Path | None = None
    signers: SignerKeys = field(default_factory=SignerKeys)  # keys signatures are verified against
    signing_key: Path | None = None  # SSH private key signing each pack's manifest
    controls_dirs: tuple[Path, ...] = ()
    rules: tuple[Path, ...] = ()
    header_profile: HeaderProfile = HeaderProfile.SNAKE
    sample: int | None = None
    seed: str | None = None
    fail_on: frozenset[Severity] = frozenset(Severity)
    jobs: int | None = None
    bots: tuple[str, ...] = ()  # added to the built-in bot list
    default_bots: bool = True  # false: ``bots`` replaces the built-in list
    overrides: Overrides = field(default_factory=dict)
    lines: Mapping[KeyPath, int] = field(default_factory=dict, compare=False, repr=False)
    text: str = field(default="", compare=False, repr=False)  # the file as read (``sha256``)

    def period_at(self, as_of: datetime) -> NamedPeriod:
        """The configured period as of ``as_of``; a :class:`DefinitionError` naming the key when
        it starts after ``as_of`` (a calendar period still to come, a ``since`` in the future)."""
        named = self.period.at(as_of)
        why = named.period.unstarted(as_of)
        if why is not None:
            key = "period" if self.period.name is not None else "since"
            raise self.error(("audit", key), why)
        return named

    def error(self, key: KeyPath, message: str) -> DefinitionError:
        """An error about the value at ``key``, naming this file and its line."""
        return key_error(self.path, self.lines, key, message)

    def repository_for(self, repos: tuple[Path, ...]) -> RepositoryConfig | None:
        """The entry of the one repository given, matched by path; None otherwise."""
        if len(repos) != 1:
            return None
        wanted = repos[0].resolve()
        for entry in self.repositories:
            if entry.path is not None and entry.path.resolve() == wanted:
                return entry
        return None

    def assess_options(
        self,
        repository: RepositoryConfig,
        *,
        as_of: datetime,
        period: Period,
        repo_path: Path | None = None,
        store: Path | None = None,
        jobs: int | None = None,
    ) -> AssessOptions:
        """What ``check``/``report`` would be given for ``repository``: the helper any
        command reading a config uses. ``repo_path`` replaces the configured path (a mirror)."""
        path = repo_path or repository.path
        if path is None:
            raise UsageError(f"{repository.source}: clone the repository first")
        given = Given((path,), as_of, store=store, period=period, jobs=jobs or self.jobs)
        return assess_options_of(given, self, repository)


@dataclass(frozen=True)
class Given:
    """What a command was given for an assessment, before a config completes it: ``None`` or
    empty where nothing was given."""

    repos: tuple[Path, ...]
    as_of: datetime
    store: Path | None = None  # default: the config's, else .auditor
    period: Period | None = None  # default: the config's, else the whole history
    branches: tuple[str, ...] = ()  # default: the config entry's, else the default branch
    jobs: int | None = None
    bot_patterns: tuple[str, ...] = ()  # added after the config's bots
    default_bots: bool = True  # false (or the config's false): no built-in bot list
    rule_files: tuple[Path, ...] = ()  # added after the config's and the entry's rules
    forge: ForgeOptions = field(default_factory=ForgeOptions)  # default: the entry's source
    deployment_files: tuple[Path, ...] = ()  # default: the entry's deployments
    frameworks: tuple[str, ...] = ()
    controls_dirs: tuple[Path, ...] = ()  # added after the config's
    waivers: Path | None = None
    roster: Path | None = None
    signers: SignerKeys = field(default_factory=SignerKeys)  # each key file: else the config's


def assess_options_of(
    given: Given, config: Config | None = None, entry: RepositoryConfig | None = None
) -> AssessOptions:
    """The options an assessment runs with: what was given, completed from ``config`` and its
    ``entry`` for the repository. The one merge of a config into options: ``check`` and
    ``report --config`` and every repository of a run go through it."""
    config = config or Config(Path(CONFIG_FILE), "", ())  # none: nothing to complete from
    forge = given.forge
    if entry is not None and forge.forge is None and forge.reviews_file is None:
        forge = entry.forge
    ledger = LedgerOptions(
        store=given.store or config.store,
        repos=given.repos,
        as_of=given.as_of,
        branches=given.branches or (entry.branches if entry is not None else ()),
        period=config.period_at(given.as_of).period if given.period is None else given.period,
        jobs=given.jobs,
        bot_patterns=bot_patterns(
            (*config.bots, *given.bot_patterns),
            defaults=given.default_bots and config.default_bots,
        ),
        rule_files=config.rules + (entry.rules if entry is not None else ()) + given.rule_files,
    )
    return AssessOptions(
        ledger=ledger,
        forge=forge,
        frameworks=given.frameworks or config.frameworks,
        controls_dirs=config.controls_dirs + given.controls_dirs,
        waivers=given.waivers or config.waivers,
        roster=given.roster or config.roster,
        overrides=merge_overrides(config.overrides, entry.overrides if entry is not None else {}),
        signers=SignerKeys(
            given.signers.allowed_signers or config.signers.allowed_signers,
            given.signers.gpg_keys or config.signers.gpg_keys,
        ),
        deployments=_deployments(given, entry),
    )


def _deployments(given: Given, entry: RepositoryConfig | None) -> DeploymentOptions:
    """The files given (lines naming no repository are the audited one's when one repository
    is audited), else the entry's deployments; the entry's Argo CD API either way."""
    if not given.deployment_files and entry is not None:
        return entry.deployments
    base = entry.deployments if entry is not None else DeploymentOptions()
    return replace(base, files=given.deployment_files, unnamed_are_ours=len(given.repos) == 1)


def merge_overrides(*groups: Overrides) -> dict[str, tuple[Override, ...]]:
    """The overrides of every group, per control, in order."""
    merged: dict[str, tuple[Override, ...]] = {}
    for group in groups:
        for control, overrides in group.items():
            merged[control] = merged.get(control, ()) + tuple(overrides)
    return merged


def restrict(overrides: Overrides, repository: str) -> dict[str, tuple[Override, ...]]:
    """``overrides`` made to concern the repository named ``repository`` only."""
    pattern = re.sub(r"([*?[])", r"[\1]", repository)  # the name as a literal glob
    return {
        control: tuple(replace(o, repositories=(pattern,)) for o in entries)
        for control, entries in overrides.items()
    }


def load_config(path: Path) -> Config:
    """Read and validate the config file at ``path``."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"{path}: cannot read the config file: {err}") from None
    from auditor.runs.config.reader import Reader

    try:
        data = tomllib.loads(text)
        config = Reader(path, text).config(data, hashlib.sha256(raw).hexdigest())
    except tomllib.TOMLDecodeError as err:
        raise DefinitionError(f"{path}: invalid TOML: {err}") from None
    except RecursionError:  # tomllib (and our scanner) recurse once per level of nesting
        raise DefinitionError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    return replace(config, text=text)


def config_record(config: Config, environ: Mapping[str, str] | None = None) -> ConfigRecord:
    """What the pack records of ``config``: its name, SHA-256 and text without credentials."""
    text = redact_text(config.text, environ)
    return ConfigRecord(config.path.name, config.sha256, text, redacted=text != config.text)
