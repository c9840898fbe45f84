"""``reviews export``: review data saved for air-gapped re-performance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditor.cli.app import cli
from auditor.cli.options import forge_options_of, forge_source_options, say, store_option
from auditor.cli.output import show
from auditor.outcome import Outcome


@cli.group()
def reviews() -> None:
    """Review data collected from the forge (pull/merge requests, reviews, approvals)."""


@reviews.command("export")
@click.argument("repo", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The export file to write (JSON), for --reviews-file.",
)
@forge_source_options
@store_option
@click.option(
    "--branch",
    "branches",
    multiple=True,
    metavar="REF",
    help="Audited branch (repeatable). Default: the repository's default branch.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="TIMESTAMP",
    help="Export time written into the file (default: now).",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def export(
    repo: Path,
    output: Path,
    store: Path,
    branches: tuple[str, ...],
    as_of: str | None,
    quiet: bool,
    **kw: Any,
) -> Outcome:
    """Save REPO's review data from its forge to a file, for --reviews-file.

    The data is collected into the store first, incrementally. Exit 4 when the forge's answer
    was incomplete (unreachable, 401/403, a failed page): the file is written and says so.
    """
    from auditor.guard.collect import export_with_guard
    from auditor.ledger.period import as_of as parse_as_of
    from auditor.ledger.store import Store
    from auditor.reviews import write_export

    if not output.parent.is_dir():
        raise click.BadParameter(f"{output.parent}: no such directory", param_hint="'-o'")
    exported_at = parse_as_of(as_of)
    options = forge_options_of(kw)
    with Store.open(store) as opened:
        result = export_with_guard(opened, repo, branches, options, exported_at=exported_at)
    write_export(output, result.document)
    repository = result.document["repository"]
    for gap in result.gaps:
        show(f"warning: {repository}: evidence incomplete: {gap}", err=True)
    say(
        quiet,
        f"{result.requests} merged requests of {repository} ({', '.join(result.branches)}) "
        f"written to {output}" + ("" if result.complete else ", marked incomplete"),
    )
    return Outcome.PASSED if result.complete else Outcome.INCOMPLETE
