"""``controls list`` and ``controls validate``: the catalog."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.app import cli
from auditor.cli.options import controls_dir_option, framework_option
from auditor.cli.output import show
from auditor.outcome import Outcome


@cli.group()
def controls() -> None:
    """List and validate the control catalog."""


@controls.command("list")
@framework_option
@controls_dir_option
def controls_list(frameworks: tuple[str, ...], controls_dirs: tuple[Path, ...]) -> None:
    """List the catalog: id, severity, check, title and framework references."""
    from auditor.evaluation.catalog import load_catalog

    for control in load_catalog(controls_dirs, frameworks=frameworks):
        refs = " ".join(str(r) for r in control.refs(frameworks))
        show(f"{control.id:<8} {control.severity.value:<8} {control.check:<26} {control.title}")
        show(f"{'':<8} {refs}")


@controls.command("validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def controls_validate(directory: Path | None) -> Outcome:
    """Validate control files (default: the shipped catalog); every error names file and key."""
    from auditor.evaluation.catalog import validate_dir
    from auditor.resources import controls_dir

    target = directory or controls_dir()
    if not target.is_dir():
        raise click.BadParameter(f"{target}: not a directory", param_hint="DIRECTORY")
    errors = validate_dir(target)
    for error in errors:
        show(error, err=True)
    if errors:
        return Outcome.BAD_INPUT
    show(f"{target}: ok")
    return Outcome.PASSED
