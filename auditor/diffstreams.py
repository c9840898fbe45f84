"""Diffs computed by several git processes at once, read by one thread as they come.

Counting changed lines is the bulk of mining, and git does it in its own processes. Mining
starts them first, over contiguous parts of the new changes, and goes on reading the rest of the
history; between its own steps it takes whatever the git processes have printed so far. Nothing
waits on anything else: git keeps every core busy, Python parses in one thread (no lock to fight
over), and a large pipe lets git run ahead while that thread is busy elsewhere.
"""

from __future__ import annotations

import fcntl
import os
import selectors
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, suppress
from pathlib import Path
from types import TracebackType

from auditor import git
from auditor.ledger import DIFF_LOG, DiffParser, Row

PIPE_BYTES = 1 << 20  # how far git may run ahead of the reader (Linux; the default elsewhere)
READ_BYTES = 1 << 18


class DiffStreams:
    """The store's rows of the diffs of ``changes``, from up to ``jobs`` git processes.

    Use as a context manager: entering starts git, :meth:`ready` hands out the rows printed so
    far without waiting, :meth:`rest` waits for everything. Rows come in batches of at most
    ``batch``, in no particular order. Leaving early kills the git processes; leaving normally
    raises :class:`~auditor.errors.RepositoryError` if one of them failed.
    """

    def __init__(
        self, path: Path, changes: Sequence[str], jobs: int, *, batch: int, part_min: int
    ) -> None:
        self._path = path
        self._parts = _parts(changes, jobs, part_min)
        self._batch = batch
        self._stack = ExitStack()
        self._selector = selectors.DefaultSelector()
        self._parsers: dict[int, DiffParser] = {}
        self._rows: list[Row] = []

    def __enter__(self) -> DiffStreams:
        with ExitStack() as stack:
            stack.enter_context(self._selector)
            for part in self._parts:
                out = stack.enter_context(git.stream(self._path, *DIFF_LOG, stdin_lines=part))
                fd = out.fileno()
                _enlarge_pipe(fd)
                self._selector.register(fd, selectors.EVENT_READ)
                self._parsers[fd] = DiffParser()
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.__exit__(kind, exc, tb)

    def ready(self) -> Iterator[list[Row]]:
        """The batches git has printed so far, without waiting."""
        while self._parsers and self._selector.select(0):
            yield from self._read(timeout=0)

    def rest(self) -> Iterator[list[Row]]:
        """Every remaining batch, waiting for git."""
        while self._parsers:
            yield from self._read(timeout=None)
        if self._rows:
            yield self._rows
            self._rows = []

    def _read(self, timeout: float | None) -> Iterator[list[Row]]:
        if not self._parsers:
            return
        for key, _ in self._selector.select(timeout):
            fd = key.fd
            chunk = os.read(fd, READ_BYTES)
            if chunk:
                self._rows.extend(self._parsers[fd].feed(chunk))
            else:
                self._rows.extend(self._parsers.pop(fd).finish())
                self._selector.unregister(fd)
        while len(self._rows) >= self._batch:
            yield self._rows[: self._batch]
            del self._rows[: self._batch]


def _parts(shas: Sequence[str], jobs: int, part_min: int) -> list[Sequence[str]]:
    """``shas`` cut into at most ``jobs`` contiguous parts of at least ``part_min`` (one part
    when there are fewer)."""
    if not shas:
        return []
    count = max(1, min(jobs, len(shas) // max(part_min, 1)))
    size = -(-len(shas) // count)
    return [shas[start : start + size] for start in range(0, len(shas), size)]


def _enlarge_pipe(fd: int) -> None:
    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setter is not None:
        with suppress(OSError):  # above the system's limit: the default size works too
            fcntl.fcntl(fd, setter, PIPE_BYTES)
