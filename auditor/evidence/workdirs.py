"""Where outputs are written: checks of the place, and hidden work directories beside it.

An output (an audit pack) is written into ``.NAME.XXXXXXXX.partial/`` next to where it goes,
then renamed into place. The work directory holds an owner marker, :data:`OWNER_FILE`, which its
process keeps locked while it lives: a run that was killed leaves a directory whose marker nobody
holds, and the next run writing beside it removes it. A directory without our marker, or whose
marker is still held, is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from auditor.errors import OutputError

OWNER_FILE = "auditor-owner.lock"
"""The marker inside a work directory: the owning process' id, locked while it runs."""
SUFFIX = ".partial"
CONTENT = "content"
"""The subdirectory of a work directory that becomes the output."""


def check_parent(path: Path) -> None:
    """Refuse now what creating ``path`` would fail on: its nearest existing ancestor must be
    a directory we may write in."""
    ancestor = path.parent
    while not ancestor.exists() and not ancestor.is_symlink() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"cannot write {path}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: no permission to write in {ancestor}")


def cannot_write(path: Path, err: OSError) -> OutputError:
    """The one-line error for ``path`` the system refused to write (``err``)."""
    return OutputError(f"cannot write {path}: {err.strerror or err}")


@dataclass(frozen=True)
class WorkDir:
    """A work directory: ``content`` is what gets renamed into place."""

    root: Path

    @property
    def content(self) -> Path:
        return self.root / CONTENT


@contextlib.contextmanager
def work_dir(parent: Path, name: str) -> Iterator[WorkDir]:
    """A new work directory for the output ``parent / name``, removed when the context ends
    (after a successful rename, with what is left in it: the marker, an earlier output moved
    aside).

    Stale work directories of earlier, killed runs beside it are removed first.
    """
    remove_stale(parent)
    root = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=SUFFIX, dir=parent))
    try:
        with _owned(root / OWNER_FILE):
            (root / CONTENT).mkdir()
            yield WorkDir(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def remove_stale(parent: Path) -> list[Path]:
    """Remove the work directories in ``parent`` that are ours and whose owner is gone; the
    ones removed. Anything else named ``*.partial`` is left alone."""
    removed = []
    try:
        candidates = sorted(parent.glob(f".*{SUFFIX}"))
    except OSError:
        return []
    for path in candidates:
        if not path.is_dir() or path.is_symlink() or not _abandoned(path / OWNER_FILE):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@contextlib.contextmanager
def _owned(marker: Path) -> Iterator[None]:
    with marker.open("w", encoding="ascii") as handle:
        locked = _lock(handle)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            if locked:
                _unlock(handle)


def _abandoned(marker: Path) -> bool:
    """Whether ``marker`` is our owner marker and no process holds its lock."""
    if marker.is_symlink() or not marker.is_file():
        return False
    try:
        with marker.open("r+", encoding="ascii") as handle:
            if not handle.read().strip().isdigit():
                return False
            if not _lock(handle, wait=False):
                return False
            _unlock(handle)
            return True
    except (OSError, UnicodeDecodeError):
        return False


def _lock(handle: IO[str], *, wait: bool = True) -> bool:
    """Take the exclusive lock of ``handle``; False when another process holds it (or, off
    POSIX, when there are no such locks: then nothing is ever taken for abandoned)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    import fcntl

    fcntl.flock(handle, fcntl.LOCK_UN)
