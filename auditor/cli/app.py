"""The ``auditor`` command group; each command module registers itself on it."""

from __future__ import annotations

import click

from auditor import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="auditor")
def cli() -> None:
    """Turn the Git history of infrastructure repositories into audit evidence."""
