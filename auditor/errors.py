"""One error hierarchy. Library code raises these, each naming its outcome; only the CLI maps
outcomes to exit codes."""

from __future__ import annotations

from auditor.outcome import Outcome


class AuditorError(Exception):
    """Base of every error auditor raises on purpose. ``str(err)`` is one line for the user."""

    outcome = Outcome.INTERNAL


class UsageError(AuditorError):
    """A bad option, argument or value given by the user."""

    outcome = Outcome.BAD_INPUT


class DefinitionError(AuditorError):
    """An invalid config, control, waiver or roster file; the message names the file and key."""

    outcome = Outcome.BAD_INPUT


class RepositoryError(AuditorError):
    """Not a Git repository, empty repository, missing branch (a missing or corrupt object:
    :class:`MissingObjectError`)."""

    outcome = Outcome.BAD_INPUT


class MissingObjectError(RepositoryError):
    """The repository lacks an object its history needs: it is incomplete or corrupt, so the
    evidence is incomplete (exit 4), not a usage error."""

    outcome = Outcome.INCOMPLETE


class StoreError(AuditorError):
    """The evidence store cannot be opened, is unreadable, or comes from a newer schema."""

    outcome = Outcome.BAD_INPUT


class IncompleteEvidenceError(AuditorError):
    """Evidence is incomplete: shallow or partial clone, forge data missing or truncated."""

    outcome = Outcome.INCOMPLETE


class ForgeError(IncompleteEvidenceError):
    """A forge could not be reached, refused us, or stopped mid-pagination."""


class RenderError(AuditorError):
    """A renderer could not produce its output (missing extra, bad template)."""

    outcome = Outcome.BAD_INPUT


class OutputError(AuditorError):
    """An output cannot be written where the user asked: not a directory, a link, read-only,
    no space left. The message names the path and what the system said."""

    outcome = Outcome.BAD_INPUT


class AuditorWarning(UserWarning):
    """Something the user must know that does not stop the command (a token sent over plain
    http://). Library code warns with :func:`warnings.warn`; the CLI prints each once."""
