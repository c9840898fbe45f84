"""The documented exit codes, and where the details of a crash are written."""

from __future__ import annotations

import enum
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path


class ExitCode(enum.IntEnum):
    OK = 0
    CONTROLS_FAILED = 1
    USAGE = 2
    INTERNAL = 3
    INCOMPLETE = 4
    INTERRUPTED = 130


def crash_report(exc: BaseException) -> Path:
    """Write the traceback of an unexpected error to a file and return its path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fd, name = tempfile.mkstemp(prefix=f"auditor-crash-{stamp}-", suffix=".log")
    with open(fd, "w", encoding="utf-8") as out:
        out.write("".join(traceback.format_exception(exc)))
    return Path(name)
