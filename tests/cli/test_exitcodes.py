"""The one table from outcomes to the documented exit codes (README, "Exit codes")."""

from __future__ import annotations

from auditor.cli.exitcodes import EXIT_CODES, ExitCode, exit_code
from auditor.errors import (
    AuditorError,
    DefinitionError,
    ForgeError,
    MissingObjectError,
    OutputError,
    RepositoryError,
    UsageError,
)
from auditor.outcome import Outcome


def test_every_outcome_has_its_documented_exit_code() -> None:
    assert set(EXIT_CODES) == set(Outcome)
    assert {o: int(exit_code(o)) for o in Outcome} == {
        Outcome.PASSED: 0,
        Outcome.CONTROLS_FAILED: 1,
        Outcome.BAD_INPUT: 2,
        Outcome.INTERNAL: 3,
        Outcome.INCOMPLETE: 4,
        Outcome.INTERRUPTED: 130,
    }
    assert set(EXIT_CODES.values()) == set(ExitCode)


def test_errors_name_the_outcome_their_exit_code_was() -> None:
    codes = {
        AuditorError: 3,
        UsageError: 2,
        DefinitionError: 2,
        RepositoryError: 2,
        OutputError: 2,
        MissingObjectError: 4,
        ForgeError: 4,
    }
    assert {error: int(exit_code(error.outcome)) for error in codes} == codes
