"""Options shared by the commands, and their translation into library options objects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.cli.output import show
from auditor.reviews.forges import FORGE_CHOICES, NO_FORGE

F = TypeVar("F", bound=Callable[..., Any])


def store_option(f: F) -> F:
    return click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".auditor"),
        show_default=True,
        help="Evidence store directory (an SQLite database lives there).",
    )(f)


def file_option(*names: str, help: str) -> Callable[[F], F]:
    """An option naming an existing file."""
    return click.option(
        *names, type=click.Path(exists=True, dir_okay=False, path_type=Path), help=help
    )


def ledger_options(f: F) -> F:
    """Options shared by every command that reads repositories."""
    for decorator in reversed(
        [
            store_option,
            click.option(
                "--branch",
                "branches",
                multiple=True,
                metavar="REF",
                help="Audited branch (repeatable). Default: the repository's default branch.",
            ),
            click.option(
                "--since",
                metavar="DATE",
                help="Start of the audit period, inclusive (UTC unless an offset is given).",
            ),
            click.option("--until", metavar="DATE", help="End of the audit period, inclusive."),
            click.option(
                "--as-of",
                "as_of",
                metavar="TIMESTAMP",
                help="Time written into outputs (default: now).",
            ),
            click.option(
                "--jobs",
                type=click.IntRange(1, 256),
                help="git processes computing diffs, and analysis workers (default: every core).",
            ),
            click.option(
                "--bot-pattern",
                "bot_patterns",
                multiple=True,
                metavar="REGEX",
                help="Regex for bot authors (repeatable; adds to the built-in list).",
            ),
            click.option(
                "--no-default-bots",
                "no_default_bots",
                is_flag=True,
                help="Leave out the built-in bot list: only --bot-pattern (and config bots) "
                "count as bots.",
            ),
            click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr."),
        ]
    ):
        f = decorator(f)
    return f


def ledger_options_of(repos: tuple[Path, ...], rule_files: tuple[Path, ...] = (), **kw: Any) -> Any:
    from auditor.ledger.commits import bot_patterns
    from auditor.ledger.period import Period, as_of
    from auditor.ledger.queries import LedgerOptions

    when = as_of(kw["as_of"])
    return LedgerOptions(
        store=kw["store"],
        repos=repos,
        as_of=when,
        branches=tuple(kw["branches"]),
        period=Period.parse(kw["since"], kw["until"]).require_started(when),
        jobs=kw["jobs"],
        bot_patterns=bot_patterns(kw["bot_patterns"], defaults=not kw["no_default_bots"]),
        rule_files=tuple(rule_files),
    )


def say(quiet: bool, message: str) -> None:
    if not quiet:
        show(message, err=True)


def forge_source_options(f: F) -> F:
    """Which forge to read review data from (``--forge``, ``--forge-url``, ``--forge-repo``)."""
    for decorator in reversed(
        [
            click.option(
                "--forge",
                type=click.Choice(FORGE_CHOICES),
                default=NO_FORGE,
                show_default=True,
                help="Forge to read pull/merge requests and reviews from.",
            ),
            click.option(
                "--forge-url",
                metavar="URL",
                callback=_forge_url,
                help="Forge API base URL (GitHub Enterprise, self-managed GitLab).",
            ),
            click.option(
                "--forge-repo",
                metavar="OWNER/REPO",
                help="Forge repository, when the origin remote does not tell.",
            ),
        ]
    ):
        f = decorator(f)
    return f


def _forge_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from auditor.errors import UsageError
    from auditor.reviews import check_api_url

    try:
        return None if value is None else check_api_url(value)
    except UsageError as err:
        raise click.BadParameter(str(err)) from None


def forge_options(f: F) -> F:
    """Where review data comes from: a forge, or a file exported earlier."""
    f = file_option(
        "--reviews-file", help="Review data exported earlier with 'auditor reviews export'."
    )(f)
    return forge_source_options(f)


def forge_options_of(kw: dict[str, Any]) -> Any:
    from auditor.reviews.collect import ForgeOptions
    from auditor.reviews.forges import forge_named

    return ForgeOptions(
        forge=forge_named(kw.pop("forge")),
        forge_url=kw.pop("forge_url"),
        forge_repo=kw.pop("forge_repo"),
        reviews_file=kw.pop("reviews_file", None),
    )


class _FrameworkOption(click.Option):
    """Its help names the shipped frameworks, read from their file only when help is shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from auditor.evaluation.frameworks import known_frameworks

        self.help = f"{', '.join(known_frameworks())} (repeatable; default: all)."
        return super().get_help_record(ctx)


class FormatsOption(click.Option):
    """``--format``: its default and help come from the renderer registry, read (with the
    renderers) only when they are needed."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        kw["show_default"] = True
        super().__init__(*args, **kw)

    def get_default(self, ctx: click.Context, call: bool = True) -> str:
        from auditor.render.interface import DEFAULT_FORMATS

        return ",".join(f.value for f in DEFAULT_FORMATS)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from auditor.render.interface import Format

        self.help = f"Comma-separated from {', '.join(f.value for f in Format)}."
        self.default = self.get_default(ctx)
        return super().get_help_record(ctx)


def deployments_option(f: F) -> F:
    return click.option(
        "--deployments",
        "deployments",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Deployment records (repeatable): an Argo CD applications export, a Flux export, "
        "or JSON Lines of deployments, recognised by content.",
    )(f)


def deployments_of(repos: tuple[Path, ...], kw: dict[str, Any]) -> Any:
    """The ``DeploymentOptions`` of ``--deployments`` (consumed), for a command without a config."""
    from auditor.deployments.interface import DeploymentOptions

    files = tuple(kw.pop("deployments", ()))
    return DeploymentOptions(files=files, unnamed_are_ours=len(repos) == 1)


def framework_option(f: F) -> F:
    return click.option(
        "--framework", "frameworks", cls=_FrameworkOption, multiple=True, metavar="NAME"
    )(f)


def controls_dir_option(f: F) -> F:
    return click.option(
        "--controls-dir",
        "controls_dirs",
        multiple=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Directory of your own control files (repeatable).",
    )(f)


def assess_options(f: F) -> F:
    """Options of the commands that evaluate controls (``check``, ``report``)."""
    for decorator in reversed(
        [
            forge_options,
            deployments_option,
            framework_option,
            controls_dir_option,
            file_option("--waivers", help="Waivers file (YAML)."),
            file_option("--roster", help="People roster CSV: person, emails, logins, start, end."),
            file_option(
                "--allowed-signers",
                help="SSH allowed-signers file: verify SSH signatures against it (INT-01).",
            ),
            file_option(
                "--gpg-keys",
                help="Armoured OpenPGP public keys: verify GPG signatures against them (INT-01).",
            ),
            file_option(
                "--config",
                "config_file",
                help="Take the period, frameworks, waivers, roster, control directories and "
                "overrides, bot patterns and, for a repository the config lists, its branches, "
                "review source and overrides from this config file (options given here win).",
            ),
        ]
    ):
        f = decorator(f)
    return f


def config_of(kw: dict[str, Any]) -> Any:
    """The config named by ``--config`` (consumed), or None."""
    from auditor.runs.config import load_config

    path = kw.pop("config_file", None)
    return load_config(path) if path is not None else None


def assess_options_of(repos: tuple[Path, ...], kw: dict[str, Any], config: Any = None) -> Any:
    """The ``AssessOptions`` of a command's keyword arguments (consumes the ones it reads),
    completed from ``config`` where an option was not given (the config's one merge)."""
    from auditor.facts.signatures import SignerKeys
    from auditor.ledger.period import Period, as_of
    from auditor.runs.config import Given
    from auditor.runs.config import assess_options_of as merged

    forge = forge_options_of(kw)
    when = as_of(kw["as_of"])
    period = Period.parse(kw["since"], kw["until"]).require_started(when)
    dated = kw["since"] is not None or kw["until"] is not None
    given = Given(
        repos=repos,
        as_of=when,
        store=kw["store"],
        period=period if dated or config is None else None,  # no dates: the config's period
        branches=tuple(kw["branches"]),
        jobs=kw["jobs"],
        bot_patterns=tuple(kw["bot_patterns"]),
        default_bots=not kw["no_default_bots"],
        rule_files=tuple(kw.pop("rule_files", ())),
        forge=forge,
        deployment_files=tuple(kw.pop("deployments", ())),
        frameworks=tuple(kw.pop("frameworks")),
        controls_dirs=tuple(kw.pop("controls_dirs")),
        waivers=kw.pop("waivers"),
        roster=kw.pop("roster"),
        signers=SignerKeys(kw.pop("allowed_signers"), kw.pop("gpg_keys")),
    )
    entry = config.repository_for(repos) if config is not None else None
    return merged(given, config, entry)


def verdict_options(f: F) -> F:
    """Which failures fail the command, and the auditor's sample."""
    for decorator in reversed(
        [
            click.option(
                "--fail-on",
                default="low,medium,high,critical",
                show_default=True,
                metavar="SEVERITIES",
                help="Severities whose failures exit 1 (comma-separated).",
            ),
            click.option(
                "--sample",
                type=click.IntRange(1),
                help="Sample size per control (default: by population).",
            ),
            click.option("--seed", default="", help="Seed of the sample draw."),
        ]
    ):
        f = decorator(f)
    return f


def fail_on_of(text: str) -> frozenset[Any]:
    from auditor.model import Severity

    try:
        return frozenset(Severity(s.strip()) for s in text.split(",") if s.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected low, medium, high, critical", param_hint="--fail-on"
        ) from None
