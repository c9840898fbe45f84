"""``demo``: the bundled sample infrastructure repository."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.app import cli
from auditor.cli.options import say


@cli.command()
@click.argument(
    "directory", required=False, default="auditor-demo", type=click.Path(path_type=Path)
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def demo(directory: Path, quiet: bool) -> None:
    """Create the bundled sample infrastructure repository (with its review data and audit
    config)."""
    from auditor.demo import create_demo

    summary = create_demo(directory)
    say(quiet, f"sample repository: {summary.repository}")
    say(quiet, f"review data:       {summary.reviews}")
    say(quiet, f"audit config:      {summary.config}")
    say(quiet, f"planted findings:  {summary.planted_file}")
