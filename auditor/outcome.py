"""How a command's work ended, as the library reports it.

The library returns (or, through its errors, raises) one of these; only the command line turns
an outcome into a process exit code (``auditor.cli.exitcodes``), in one table.
"""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    PASSED = "passed"  # the work is done; for an evaluation, every control passed or was waived
    CONTROLS_FAILED = "controls failed"  # a control failed (or a pack does not verify)
    INCOMPLETE = "incomplete"  # evidence missing or truncated; takes precedence over a failure
    BAD_INPUT = "bad input"  # a bad option, definition, repository, store or output
    INTERNAL = "internal"  # a bug
    INTERRUPTED = "interrupted"
