"""Progress on a terminal (rate and ETA), silent when stderr is not a terminal or with --quiet."""

from __future__ import annotations

import sys
from typing import Any

from auditor.printable import visible


class Progress:
    """Receives progress of long operations. The default does nothing; the CLI draws a bar."""

    def start(self, label: str, total: int) -> None:
        """A new phase of ``total`` items begins."""

    def advance(self, count: int) -> None:
        """``count`` more items of the current phase are done."""

    def describe(self, label: str) -> None:
        """The current phase now does ``label`` (its step, e.g. "writing the PDF")."""

    def finish(self) -> None:
        """The current phase is over."""


class TerminalProgress(Progress):
    """Draws one rich progress bar per phase on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None

    @classmethod
    def for_stderr(cls, quiet: bool) -> Progress:
        if quiet or not sys.stderr.isatty():
            return Progress()
        return cls()

    def start(self, label: str, total: int) -> None:
        if total == 0:
            return
        self._bar.start()
        from rich.markup import escape

        shown = escape(visible(label))  # a branch name is data: no markup, no controls
        self._task = self._bar.add_task(shown, total=total, rate="")

    def advance(self, count: int) -> None:
        if self._task is None:
            return
        self._bar.advance(self._task, count)
        speed = self._bar.tasks[-1].speed
        self._bar.update(self._task, rate=f"{speed:,.0f}/s" if speed else "")

    def describe(self, label: str) -> None:
        if self._task is not None:
            self._bar.update(self._task, description=label, refresh=True)  # steps are rare

    def finish(self) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)  # the next phase's bar replaces this one
            self._bar.stop()
            self._task = None
