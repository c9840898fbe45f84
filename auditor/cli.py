"""The command line: options → one frozen options object → one library call → exit code.

No Git, YAML or rendering logic lives here. Errors are mapped to exit codes in :func:`main`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from auditor import __version__
from auditor.errors import AuditorError
from auditor.exitcodes import ExitCode, crash_report
from auditor.progress import TerminalProgress

F = TypeVar("F", bound=Callable[..., Any])


def store_option(f: F) -> F:
    return click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".auditor"),
        show_default=True,
        help="Evidence store directory (an SQLite database lives there).",
    )(f)


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
                help="Processes for mining (default: every core).",
            ),
            click.option(
                "--bot-pattern",
                "bot_patterns",
                multiple=True,
                metavar="REGEX",
                help="Regex for bot authors (repeatable; replaces the built-in list).",
            ),
            click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr."),
        ]
    ):
        f = decorator(f)
    return f


def _ledger_options(repos: tuple[Path, ...], rule_files: tuple[Path, ...] = (), **kw: Any) -> Any:
    from auditor.audit import LedgerOptions
    from auditor.commits import DEFAULT_BOT_PATTERNS
    from auditor.period import Period, as_of

    return LedgerOptions(
        store=kw["store"],
        repos=repos,
        as_of=as_of(kw["as_of"]),
        branches=tuple(kw["branches"]),
        period=Period.parse(kw["since"], kw["until"]),
        jobs=kw["jobs"],
        bot_patterns=tuple(kw["bot_patterns"]) or DEFAULT_BOT_PATTERNS,
        rule_files=tuple(rule_files),
    )


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="auditor")
def cli() -> None:
    """Turn the Git history of infrastructure repositories into audit evidence."""


@cli.command()
@click.argument("repos", nargs=-1, required=True, type=click.Path(path_type=Path))
@ledger_options
def mine(repos: tuple[Path, ...], quiet: bool, **kw: Any) -> None:
    """Mine the history of each repository into the evidence store, incrementally."""
    from auditor.audit import mine_all
    from auditor.store import Store

    options = _ledger_options(repos, **kw)
    with Store.open(options.store) as store:
        results = mine_all(store, options, TerminalProgress.for_stderr(quiet))
    incomplete = False
    for result in results:
        for branch in result.branches:
            _say(
                quiet,
                f"{result.name} {branch.branch}: {branch.total_changes} changes "
                f"({branch.new_changes} new, {branch.new_commits} new commits) "
                f"at {branch.tip[:12]}",
            )
            if branch.event is not None:
                click.echo(_event_line(result.name, branch.event), err=True)
        for reason in result.completeness.reasons:
            incomplete = True
            click.echo(f"warning: {result.name}: evidence incomplete: {reason}", err=True)
    if incomplete:
        sys.exit(ExitCode.INCOMPLETE)


def _event_line(repo: str, event: Any) -> str:
    lost = ", ".join(sha[:12] for sha in event.lost[:10])
    more = f" and {len(event.lost) - 10} more" if len(event.lost) > 10 else ""
    return (
        f"warning: {repo} {event.branch}: {event.kind}: {len(event.lost)} commit(s) seen "
        f"before are no longer on the branch ({lost}{more}); the old records are kept"
    )


@cli.command()
@click.argument("repo", type=click.Path(path_type=Path))
@ledger_options
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--level",
    type=click.Choice(["change", "commit", "resource"]),
    default="change",
    show_default=True,
    help="change: one row per landing; commit: one row per commit (chain of custody); "
    "resource: one row per infrastructure resource, object or value changed.",
)
@click.option(
    "--rules",
    "rule_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Category rules file extending the built-in ones (repeatable).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of stdout.",
)
def changes(
    repo: Path,
    quiet: bool,
    fmt: str,
    level: str,
    output: Path | None,
    rule_files: tuple[Path, ...],
    **kw: Any,
) -> None:
    """Print or write the change ledger of the period."""
    from auditor.audit import change_rows, commit_rows, mine_all, resource_rows_of
    from auditor.rows import CHANGE_COLUMNS, COMMIT_COLUMNS, RESOURCE_COLUMNS
    from auditor.store import Store
    from auditor.tabular import iso_utc, write_csv, write_json, write_jsonl

    options = _ledger_options((repo,), rule_files=rule_files, **kw)
    with Store.open(options.store) as store:
        [mined] = mine_all(store, options, TerminalProgress.for_stderr(quiet))
        producer, columns = {
            "change": (change_rows, CHANGE_COLUMNS),
            "commit": (commit_rows, COMMIT_COLUMNS),
            "resource": (resource_rows_of, RESOURCE_COLUMNS),
        }[level]
        rows = producer(store, mined, options)
        with _output(output) as out:
            if fmt == "csv":
                count = write_csv(out, columns, rows)
            elif fmt == "jsonl":
                count = write_jsonl(out, rows)
            else:
                listed = list(rows)
                count = len(listed)
                write_json(
                    out,
                    {
                        "schema_version": 1,
                        "generated_at": iso_utc(options.as_of),
                        "repository": mined.name,
                        "branches": [b.branch for b in mined.branches],
                        "period": {
                            "since": iso_utc(options.period.since),
                            "until": iso_utc(options.period.until),
                        },
                        "complete": mined.completeness.complete,
                        "incomplete_reasons": list(mined.completeness.reasons),
                        "level": level,
                        "rows": listed,
                    },
                )
    where = f" to {output}" if output else ""
    _say(quiet, f"{mined.name}: {count} {level} rows for {options.period.label()}{where}")
    for reason in mined.completeness.reasons:
        click.echo(f"warning: {mined.name}: evidence incomplete: {reason}", err=True)


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    from auditor.tabular import atomic_text

    if path is None:
        yield sys.stdout
    else:
        with atomic_text(path) as out:
            yield out


@cli.command()
@click.argument(
    "directory", required=False, default="auditor-demo", type=click.Path(path_type=Path)
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def demo(directory: Path, quiet: bool) -> None:
    """Create the bundled sample infrastructure repository (with its review data)."""
    from auditor.demo import create_demo

    summary = create_demo(directory)
    _say(quiet, f"sample repository: {summary.repository}")
    _say(quiet, f"review data:       {summary.reviews}")


def forge_options(f: F) -> F:
    """Where review data comes from."""
    for decorator in reversed(
        [
            click.option(
                "--forge",
                type=click.Choice(["github", "gitlab", "none"]),
                default="none",
                show_default=True,
                help="Forge to read pull/merge requests and reviews from.",
            ),
            click.option(
                "--forge-url",
                metavar="URL",
                help="Forge API base URL (GitHub Enterprise, self-managed GitLab).",
            ),
            click.option(
                "--forge-repo",
                metavar="OWNER/REPO",
                help="Forge repository, when the origin remote does not tell.",
            ),
            click.option(
                "--reviews-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Review data exported earlier with 'auditor reviews export'.",
            ),
        ]
    ):
        f = decorator(f)
    return f


def _forge_options(kw: dict[str, Any]) -> Any:
    from auditor.collect import ForgeKind, ForgeOptions

    return ForgeOptions(
        forge=ForgeKind(kw.pop("forge")),
        forge_url=kw.pop("forge_url"),
        forge_repo=kw.pop("forge_repo"),
        reviews_file=kw.pop("reviews_file"),
    )


@cli.command()
@click.argument("repos", nargs=-1, required=True, type=click.Path(path_type=Path))
@ledger_options
@forge_options
@click.option(
    "--framework",
    "frameworks",
    multiple=True,
    metavar="NAME",
    help="soc2, iso27001, pci-dss, nist-800-53 (repeatable; default: all).",
)
@click.option(
    "--controls-dir",
    "controls_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of your own control files (repeatable).",
)
@click.option(
    "--waivers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Waivers file (YAML).",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="People roster CSV: person, emails, logins, start, end.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--fail-on",
    default="low,medium,high,critical",
    show_default=True,
    metavar="SEVERITIES",
    help="Severities whose failures exit 1 (comma-separated).",
)
@click.option(
    "--sample", type=click.IntRange(1), help="Sample size per control (default: by population)."
)
@click.option("--seed", default="", help="Seed of the sample draw (printed with the sample).")
def check(
    repos: tuple[Path, ...],
    quiet: bool,
    fmt: str,
    fail_on: str,
    sample: int | None,
    seed: str,
    **kw: Any,
) -> None:
    """Evaluate controls and print a summary table (exit 0 pass, 1 fail, 4 incomplete)."""
    from auditor.assess import AssessOptions, assess
    from auditor.evaluate import exit_status
    from auditor.model import Severity
    from auditor.rows import FINDING_COLUMNS, finding_row
    from auditor.store import Store
    from auditor.tabular import write_csv, write_json

    try:
        severities = frozenset(Severity(s.strip()) for s in fail_on.split(",") if s.strip())
    except ValueError:
        raise click.BadParameter(
            f"{fail_on!r}: expected low, medium, high, critical", param_hint="--fail-on"
        ) from None
    forge = _forge_options(kw)
    frameworks, controls_dirs = kw.pop("frameworks"), kw.pop("controls_dirs")
    waivers, roster = kw.pop("waivers"), kw.pop("roster")
    options = AssessOptions(
        _ledger_options(repos, **kw),
        forge,
        tuple(frameworks),
        tuple(controls_dirs),
        waivers,
        roster,
    )
    with Store.open(options.ledger.store) as store:
        result = assess(store, options, TerminalProgress.for_stderr(quiet))
    evaluation = result.evaluation
    if fmt == "csv":
        write_csv(sys.stdout, FINDING_COLUMNS, (finding_row(f) for f in evaluation.findings))
    elif fmt == "json":
        write_json(sys.stdout, [finding_row(f) for f in evaluation.findings])
    else:
        _print_summary(result, sample, seed)
    for repo in result.repositories:
        for gap in repo.gaps:
            click.echo(f"warning: {repo.mined.name}: evidence incomplete: {gap}", err=True)
    sys.exit(exit_status(evaluation.results, severities, complete=result.complete))


def _print_summary(result: Any, sample: int | None, seed: str) -> None:
    from auditor.model import Status
    from auditor.sampling import draw

    evaluation = result.evaluation
    header = (
        f"{'control':<8} {'population':>10} {'passed':>7} {'failed':>7} {'unknown':>8} "
        f"{'waived':>7}  status  title"
    )
    click.echo(header)
    for r in evaluation.results:
        click.echo(
            f"{r.control.id:<8} {r.population:>10} {r.passed:>7} {r.failed:>7} {r.unknown:>8} "
            f"{r.waived:>7}  {r.status.value:<6}  {r.control.title}"
        )
    failures = [f for f in evaluation.findings if f.status is Status.FAIL]
    if failures:
        click.echo(f"\nfailing changes ({len(failures)}):")
        for f in failures:
            click.echo(f"  {f.control_id:<8} {f.change_id or f.repo:<32} {f.reason}")
    for waiver in evaluation.unmatched_waivers:
        click.echo(f"warning: waiver {waiver} matched nothing", err=True)
    for waiver in evaluation.expired_waivers:
        click.echo(f"warning: waiver {waiver} has expired and no longer applies", err=True)
    if sample is not None or seed:
        items = draw(evaluation.findings, seed=seed, size=sample)
        click.echo(f"\nsample (seed {seed!r}, {len(items)} items):")
        for item in items:
            click.echo(f"  {item.control_id:<8} #{item.index:<5} {item.change_id}")


@cli.group()
def controls() -> None:
    """List and validate the control catalog."""


@controls.command("list")
@click.option(
    "--framework",
    "frameworks",
    multiple=True,
    metavar="NAME",
    help="Only controls mapping to this framework (repeatable): "
    "soc2, iso27001, pci-dss, nist-800-53.",
)
@click.option(
    "--controls-dir",
    "dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of your own control files (repeatable).",
)
def controls_list(frameworks: tuple[str, ...], dirs: tuple[Path, ...]) -> None:
    """List the catalog: id, severity, check, title and framework references."""
    from auditor.catalog import load_catalog

    for control in load_catalog(dirs, frameworks=frameworks):
        refs = " ".join(str(r) for r in control.refs(frameworks))
        click.echo(
            f"{control.id:<8} {control.severity.value:<8} {control.check:<26} {control.title}"
        )
        click.echo(f"{'':<8} {refs}")


@controls.command("validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def controls_validate(directory: Path | None) -> None:
    """Validate control files (default: the shipped catalog); every error names file and key."""
    from auditor.catalog import validate_dir
    from auditor.resources import controls_dir

    target = directory or controls_dir()
    if not target.is_dir():
        raise click.BadParameter(f"{target}: not a directory", param_hint="DIRECTORY")
    errors = validate_dir(target)
    for error in errors:
        click.echo(error, err=True)
    if errors:
        sys.exit(ExitCode.USAGE)
    click.echo(f"{target}: ok")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map every outcome to a documented exit code."""
    code = run(argv)
    sys.exit(int(code))


def run(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "auditor"
        click.echo(f"auditor: error: {exc.format_message()} (see '{command} --help')", err=True)
        return ExitCode.USAGE
    except click.ClickException as exc:
        click.echo(f"auditor: error: {exc.format_message()}", err=True)
        return ExitCode.USAGE
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except AuditorError as exc:
        click.echo(f"auditor: error: {exc}", err=True)
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else int(ExitCode.INTERNAL)
    except Exception as exc:  # the one place a bug becomes exit 3 with a report
        where = crash_report(exc)
        click.echo(
            f"auditor: internal error: {type(exc).__name__}: {exc} (details in {where})", err=True
        )
        return ExitCode.INTERNAL
    return ExitCode.OK
