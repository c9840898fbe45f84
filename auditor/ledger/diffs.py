"""Diffs computed by several git processes at once, read by one thread as they come.

Counting changed lines is the bulk of mining, and git does it in its own processes. Mining
starts them first, each over its share of the new changes, and goes on reading the rest of the
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

from auditor import git
from auditor.ledger.changes import DIFF_LOG, DiffParser, Row

PIPE_BYTES = 1 << 20  # how far git may run ahead of the reader (Linux; the default elsewhere)
READ_BYTES = 1 << 18
BLOCK = 256  # consecutive changes given to one git process


class DiffStreams:
    """The store's rows of the diffs of ``changes``, from up to ``jobs`` git processes at once.

    Use as a context manager: entering starts git, :meth:`ready` hands out the rows printed so
    far without waiting, :meth:`rest` waits for everything. Rows come in batches of at most
    ``batch``, in no particular order. Leaving early kills the git processes; a git process that
    fails raises :class:`~auditor.errors.RepositoryError`.

    The changes are shared out in blocks of ``BLOCK`` consecutive ones, dealt round to the
    processes: later history has larger trees and costs more, so halves would leave one process
    working long after the other, while consecutive changes within a block share the objects
    git has just read.
    """

    def __init__(
        self, path: Path, changes: Sequence[str], jobs: int, *, batch: int, part_min: int
    ) -> None:
        self._path = path
        self._parts = _parts(changes, jobs, part_min)
        self._batch = batch
        self._selector = selectors.DefaultSelector()
        self._running: dict[int, tuple[ExitStack, DiffParser]] = {}
        self._rows: list[Row] = []

    def __enter__(self) -> DiffStreams:
        try:
            for part in self._parts:
                self._start(part)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        """Kill what still runs (only after leaving early: :meth:`rest` reads everything)."""
        with self._selector:
            for stream, _ in self._running.values():
                stream.__exit__(_Stopped, _Stopped(), None)  # git.stream kills git on an error
            self._running.clear()

    def ready(self) -> Iterator[list[Row]]:
        """The batches git has printed so far, without waiting."""
        while self._running and self._selector.select(0):
            yield from self._read(timeout=0)

    def rest(self) -> Iterator[list[Row]]:
        """Every remaining batch, waiting for git."""
        while self._running:
            yield from self._read(timeout=None)
        if self._rows:
            yield self._rows
            self._rows = []

    def _start(self, part: Sequence[str]) -> None:
        stream = ExitStack()
        out = stream.enter_context(git.stream(self._path, *DIFF_LOG, stdin_lines=part))
        fd = out.fileno()
        _enlarge_pipe(fd)
        self._selector.register(fd, selectors.EVENT_READ)
        self._running[fd] = (stream, DiffParser())

    def _read(self, timeout: float | None) -> Iterator[list[Row]]:
        for key, _ in self._selector.select(timeout):
            fd = key.fd
            stream, parser = self._running[fd]
            chunk = os.read(fd, READ_BYTES)
            if chunk:
                self._rows.extend(parser.feed(chunk))
                continue
            self._rows.extend(parser.finish())
            self._selector.unregister(fd)
            del self._running[fd]
            stream.close()  # reaps git; raises RepositoryError if it failed
        while len(self._rows) >= self._batch:
            yield self._rows[: self._batch]
            del self._rows[: self._batch]


class _Stopped(Exception):
    """The reader left before the end: its git processes are killed."""


def _parts(shas: Sequence[str], count: int, part_min: int) -> list[list[str]]:
    """``shas`` dealt into at most ``count`` parts of at least ``part_min`` (one part when there
    are fewer), a block of ``BLOCK`` consecutive SHAs at a time, order kept within a part."""
    count = max(1, min(count, len(shas) // max(part_min, 1)))
    parts: list[list[str]] = [[] for _ in range(count)] if shas else []
    for number, start in enumerate(range(0, len(shas), BLOCK)):
        parts[number % count].extend(shas[start : start + BLOCK])
    return parts


def _enlarge_pipe(fd: int) -> None:
    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setter is not None:
        with suppress(OSError):  # above the system's limit: the default size works too
            fcntl.fcntl(fd, setter, PIPE_BYTES)
