"""``run``, ``runs`` and ``init``: scheduled runs from a config file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from auditor.cli.app import cli
from auditor.cli.exitcodes import exit_code
from auditor.cli.options import say
from auditor.cli.output import show
from auditor.cli.table import aligned
from auditor.evidence.words import counted, noun
from auditor.outcome import Outcome
from auditor.progress import TerminalProgress


@cli.command("run")
@click.option(
    "--config",
    "config_path",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The TOML config: repositories, period, frameworks, outputs, store.",
)
@click.option("--as-of", "as_of", metavar="TIMESTAMP", help="Time of the run (default: now).")
@click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    help="Repositories processed at once (default: the config's, else every core).",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="Run the per-repository work on this Dask scheduler (pip install 'auditor[dask]').",
)
@click.option(
    "--sign-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="SSH private key signing the manifest and the attestations (default: the config's"
    " signing_key).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")
def run_command(
    config_path: Path,
    as_of: str | None,
    jobs: int | None,
    scheduler: str | None,
    sign_key: Path | None,
    quiet: bool,
) -> Outcome:
    """Audit every repository of a config into a new, dated pack (exit 0, 1, 4)."""
    from auditor.ledger.period import as_of as parse_as_of
    from auditor.runs.config import load_config
    from auditor.runs.run import RunOptions, run

    config = load_config(config_path)
    options = RunOptions(
        config, parse_as_of(as_of), jobs=jobs, scheduler=scheduler, sign_key=sign_key
    )
    result = run(options, TerminalProgress.for_stderr(quiet))
    for note in result.report.empty_populations:  # quiet or not: a cron mail must show it
        show(f"warning: {note}", err=True)
    if not quiet:
        for line in _summary(result):
            show(line, err=True)
    else:  # a quiet run still says what a cron mail must show
        for name, reason in result.missing:
            show(f"warning: {name}: not audited: {reason}", err=True)
        for line in result.rewrites:
            show(f"warning: history rewritten since the previous run: {line}", err=True)
    show(str(result.pack.path))
    return result.outcome


def _repository_row(repo: Any) -> tuple[str, ...]:
    """A repository of a run's summary: name, branch heads, changes, completeness."""
    heads = " ".join(f"{branch}@{sha[:12]}" for branch, sha in repo.heads)
    state = "complete" if repo.complete else "INCOMPLETE: " + "; ".join(repo.reasons)
    return (repo.name, heads or "-", str(repo.changes), noun(repo.changes, "change"), state)


def _summary(result: Any) -> list[str]:
    from auditor.model import Status

    record, report = result.record, result.report
    lines = [
        f"auditor run: {counted(len(record.repositories), 'repository')}, period {record.period} "
        f"({report.since.date() if report.since else 'beginning'}.."
        f"{report.until.date() if report.until else 'now'}), "
        f"as of {record.as_of:%Y-%m-%dT%H:%M:%SZ}"
    ]
    lines += aligned(
        [_repository_row(repo) for repo in record.repositories], right=(2,), indent="  "
    )
    for line in result.rewrites:
        lines.append(f"history rewritten since the previous run: {line}")
    counts = {status: sum(1 for c in report.controls if c.status is status) for status in Status}
    lines.append(
        f"controls: {len(report.controls)} evaluated, {counts[Status.PASS]} passed, "
        f"{counts[Status.FAIL]} failed, {counts[Status.UNKNOWN]} unknown, "
        f"{counts[Status.NOT_APPLICABLE]} not applicable"
    )
    signed = ", signed" if result.pack.signed else ""
    lines.append(
        f"pack: {result.pack.path} (MANIFEST.sha256 {record.manifest_sha256[:16]}…{signed})"
    )
    lines.append(f"status: {record.status.value} (exit {int(exit_code(record.outcome))})")
    return lines


@cli.command()
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    help="Evidence store directory (default: the config's, else .auditor/).",
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the store directory from this config.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1), help="Only the newest N runs.")
@click.option(
    "--verify",
    "check_chain",
    is_flag=True,
    help="Walk the chain of runs over their packs on disk and name every break (exit 1).",
)
def runs(
    store: Path | None, config_path: Path | None, fmt: str, limit: int | None, check_chain: bool
) -> Outcome:
    """List the runs recorded in the store: time, period, repositories, status, pack; with
    --verify, check the chain of runs and their packs (exit 0 whole, 1 broken)."""
    from auditor.evidence.tabular import write_json
    from auditor.ledger.store import Store
    from auditor.runs.config import load_config

    if store is None:
        store = load_config(config_path).store if config_path else Path(".auditor")
    with Store.open(store, create=False) as opened:
        records = opened.runs(None if check_chain else limit)  # the chain is walked whole
    if check_chain:
        return _verify_chain(records)
    if fmt == "json":
        write_json(
            sys.stdout,
            [{**r.encode(), "exit_code": int(exit_code(r.outcome))} for r in records],
        )
        return Outcome.PASSED
    if not records:
        show("no runs recorded", err=True)
        return Outcome.PASSED
    show(f"{'id':>4}  {'time':<20}  {'period':<22}  {'repositories':<18}  {'status':<10}  pack")
    for r in records:
        bad = sum(1 for repo in r.repositories if not repo.complete)
        repos = f"{len(r.repositories)}" + (f" ({bad} incomplete)" if bad else "")
        show(
            f"{r.id:>4}  {r.as_of:%Y-%m-%dT%H:%M:%SZ}  {r.period:<22}  {repos:<18}  "
            f"{r.status.value:<10}  {r.pack or '-'}"
        )
    return Outcome.PASSED


def _verify_chain(records: Any) -> Outcome:
    from auditor.runs.chain import verify_chain

    problems = verify_chain(records)
    for problem in problems:
        show(problem)
    packs = sum(1 for r in records if r.pack and r.manifest_sha256)
    if problems:
        breaks = counted(len(problems), "break")
        show(f"run chain: {breaks} over {counted(packs, 'pack')}", err=True)
        return Outcome.CONTROLS_FAILED
    show(
        f"run chain: whole over {counted(packs, 'pack')}: each is on disk as recorded and"
        " names the one before it",
        err=True,
    )
    return Outcome.PASSED


@cli.command()
@click.option(
    "--config",
    "config_path",
    default="auditor.toml",
    show_default=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the config (never overwritten).",
)
@click.option("--organisation", default="", help="Organisation named on the packs.")
def init(config_path: Path, organisation: str) -> None:
    """Write a commented starter config for the repository in the working directory."""
    from auditor.runs.config.starter import write_starter

    found = write_starter(Path.cwd(), config_path, organisation)
    say(
        False,
        f"wrote {config_path}: repository {found.path} (branch {found.branch}, forge "
        f"{found.forge}); run it with: auditor run --config {config_path}",
    )
