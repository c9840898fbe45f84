"""``mine`` and ``changes``: the change ledger."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from auditor.cli.app import cli
from auditor.cli.options import (
    deployments_of,
    deployments_option,
    forge_options,
    forge_options_of,
    ledger_options,
    ledger_options_of,
    say,
)
from auditor.cli.output import show
from auditor.evidence.words import counted
from auditor.outcome import Outcome
from auditor.progress import TerminalProgress


@cli.command()
@click.argument("repos", nargs=-1, required=True, type=click.Path(path_type=Path))
@ledger_options
@forge_options
def mine(repos: tuple[Path, ...], quiet: bool, **kw: Any) -> Outcome:
    """Mine the history of each repository into the evidence store, incrementally.

    With --forge, also collect each branch's review data, a branch protection snapshot and the
    checks of its merged requests into the store, incrementally, as check and report do."""
    from auditor.ledger.queries import mine_all
    from auditor.ledger.store import Store

    forge = forge_options_of(kw)
    options = ledger_options_of(repos, **kw)
    collected = []
    with Store.open(options.store) as store:
        results = mine_all(store, options, TerminalProgress.for_stderr(quiet))
        if forge.forge is not None and forge.reviews_file is None:
            from auditor.audit import collect_review_data  # reviews: the core's collection

            collected = collect_review_data(store, results, forge)
    incomplete = False
    for item in collected:
        requests = len(item.reviews.requests or ())
        snapshot = item.guard.snapshots[-1].collection.value if item.guard.snapshots else "none"
        say(
            quiet,
            f"{item.repo} {item.branch}: {counted(requests, 'merged request')}, protection "
            f"snapshot {snapshot}, checks of {counted(len(item.guard.checks), 'request')}",
        )
        for reason in item.gaps:
            incomplete = True
            show(f"warning: {item.repo}: evidence incomplete: {reason}", err=True)
    for result in results:
        for branch in result.branches:
            say(
                quiet,
                f"{result.name} {branch.branch}: {counted(branch.total_changes, 'change')} "
                f"({branch.new_changes} new, {counted(branch.new_commits, 'new commit')}) "
                f"at {branch.tip[:12]}",
            )
            if branch.event is not None:
                show(_event_line(result.name, branch.event), err=True)
        for reason in result.completeness.reasons:
            incomplete = True
            show(f"warning: {result.name}: evidence incomplete: {reason}", err=True)
    return Outcome.INCOMPLETE if incomplete else Outcome.PASSED


def _event_line(repo: str, event: Any) -> str:
    lost = ", ".join(sha[:12] for sha in event.lost[:10])
    more = f" and {len(event.lost) - 10} more" if len(event.lost) > 10 else ""
    return (
        f"warning: {repo} {event.branch}: {event.kind}: {counted(len(event.lost), 'commit')} seen "
        f"before are no longer on the branch ({lost}{more}); the old records are kept"
    )


@cli.command()
@click.argument("repo", type=click.Path(path_type=Path))
@ledger_options
@forge_options
@deployments_option
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
    """Print or write the change ledger of the period.

    Change rows name each change's contributors (the authors and co-authors of the commits it
    brought in) and the merger a merge commit names. With review data (--forge or
    --reviews-file), they carry each change's request, its URL, approvers and merger."""
    from auditor.evidence.columns import CHANGE_COLUMNS, COMMIT_COLUMNS, RESOURCE_COLUMNS
    from auditor.evidence.period_rows import change_rows, commit_rows, resource_rows_of
    from auditor.evidence.rows import facts_row
    from auditor.evidence.tabular import iso_utc, write_csv, write_json, write_jsonl
    from auditor.evidence.workdirs import check_parent
    from auditor.ledger.queries import mine_all
    from auditor.ledger.store import Store

    forge = forge_options_of(kw)
    deployments = deployments_of((repo,), kw)
    options = ledger_options_of((repo,), rule_files=rule_files, **kw)
    if output is not None:
        check_parent(output)  # before mining, not after
    with Store.open(options.store) as store:
        [mined] = mine_all(store, options, TerminalProgress.for_stderr(quiet))
        gaps = mined.completeness.reasons
        producer, columns = {
            "change": (change_rows, CHANGE_COLUMNS),
            "commit": (commit_rows, COMMIT_COLUMNS),
            "resource": (resource_rows_of, RESOURCE_COLUMNS),
        }[level]
        rows = producer(store, mined, options)
        reviewing = forge.forge is not None or forge.reviews_file
        if level == "change" and (reviewing or deployments.given):
            from auditor.audit import AssessOptions, assess_repository  # reviews: the whole core
            from auditor.evidence.deploys import change_runs, deployment_cells, runs_by_change

            reviewed = assess_repository(
                store, mined, AssessOptions(options, forge, deployments=deployments)
            )
            if reviewing:
                rows = (facts_row(facts) for facts in reviewed.facts)
            joined = reviewed.deployments
            if joined is not None:
                runs = runs_by_change(change_runs(mined.name, joined))
                rows = ({**row, **deployment_cells(runs.get(row["change_id"], []))} for row in rows)
            gaps = reviewed.gaps
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
                        "complete": not gaps,
                        "incomplete_reasons": list(gaps),
                        "level": level,
                        "rows": listed,
                    },
                )
    where = f" to {output}" if output else ""
    say(quiet, f"{mined.name}: {count} {level} rows for {options.period.label()}{where}")
    for reason in gaps:
        show(f"warning: {mined.name}: evidence incomplete: {reason}", err=True)


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    from auditor.evidence.tabular import atomic_text

    if path is None:
        yield sys.stdout
    else:
        with atomic_text(path) as out:
            yield out
