"""What the CLI writes for people: every message passes through :func:`say`."""

from __future__ import annotations

import click

from auditor.printable import visible


def show(message: object = "", *, err: bool = False) -> None:
    """Write one message line; control, bidirectional and zero-width characters coming from
    data (names, subjects, repository names, forge messages) are shown as ``⟨U+XXXX⟩``, on a
    terminal or not, so that data can never move the cursor, retitle or clear the screen."""
    click.echo(visible(str(message)), err=err)
