"""The documented exit codes, and the one table that turns an outcome into one."""

from __future__ import annotations

import enum

from auditor.outcome import Outcome


class ExitCode(enum.IntEnum):
    OK = 0
    CONTROLS_FAILED = 1
    USAGE = 2
    INTERNAL = 3
    INCOMPLETE = 4
    INTERRUPTED = 130


EXIT_CODES: dict[Outcome, ExitCode] = {
    Outcome.PASSED: ExitCode.OK,
    Outcome.CONTROLS_FAILED: ExitCode.CONTROLS_FAILED,
    Outcome.BAD_INPUT: ExitCode.USAGE,
    Outcome.INTERNAL: ExitCode.INTERNAL,
    Outcome.INCOMPLETE: ExitCode.INCOMPLETE,
    Outcome.INTERRUPTED: ExitCode.INTERRUPTED,
}


def exit_code(outcome: Outcome) -> ExitCode:
    """The contract's exit code for ``outcome``."""
    return EXIT_CODES[outcome]
