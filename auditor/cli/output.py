"""What the CLI writes for people: every message passes through :func:`say`."""

from __future__ import annotations

from collections.abc import Iterable

import click

from auditor.printable import visible


def show(message: object = "", *, err: bool = False) -> None:
    """Write one message line; control, bidirectional and zero-width characters coming from
    data (names, subjects, repository names, forge messages) are shown as ``⟨U+XXXX⟩``, on a
    terminal or not, so that data can never move the cursor, retitle or clear the screen."""
    click.echo(visible(str(message)), err=err)


def show_warnings(warnings: Iterable[str]) -> None:
    """Each warning on stderr, in order: ``warning: ...``."""
    for warning in warnings:
        show(f"warning: {warning}", err=True)
