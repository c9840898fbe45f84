"""Where the details of a crash are written."""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from auditor.redaction import known_secrets, redact


def crash_report(exc: BaseException, secrets: Iterable[str] = ()) -> Path:
    """Write the traceback of an unexpected error to a file and return its path.

    The text is redacted like every output (:func:`auditor.redaction.redact`): the forge tokens
    of the environment and ``secrets`` (a clone URL's password) never reach the file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fd, name = tempfile.mkstemp(prefix=f"auditor-crash-{stamp}-", suffix=".log")
    text = "".join(traceback.format_exception(exc))
    with open(fd, "w", encoding="utf-8") as out:
        out.write(redact(text, known_secrets(extra=secrets)))
    return Path(name)
