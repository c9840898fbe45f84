"""The command line: options → one frozen options object → one library call → exit code.

No Git, YAML or rendering logic lives here. Each command family has its module; a command returns
its outcome (or raises); :func:`run` is the one place that turns outcomes and errors into exit
codes, through the table of :mod:`auditor.cli.exitcodes`.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import click

from auditor.cli import (  # noqa: F401  (each module registers its commands)
    check,
    controls,
    demo,
    ledger,
    report,
    reviews,
    scheduled,
)
from auditor.cli.app import cli
from auditor.cli.exitcodes import exit_code
from auditor.cli.output import show
from auditor.crashes import crash_report
from auditor.errors import AuditorError, AuditorWarning
from auditor.outcome import Outcome
from auditor.redaction import known_secrets, redact
from auditor.reviews import forges  # noqa: F401  (names the token variables redaction masks)
from auditor.runtime import for_batch_work

__all__ = ["cli", "main", "run"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map every outcome to a documented exit code."""
    for_batch_work()
    code = run(argv)
    sys.exit(int(code))


def run(argv: list[str] | None = None) -> int:
    """Run one command; each distinct warning the library raises is printed once, one line."""
    shown: set[str] = set()
    others = warnings.showwarning

    def display(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
        if not issubclass(category, AuditorWarning):
            others(message, category, *args, **kw)
            return
        line = f"warning: {redact(str(message), known_secrets())}"
        if line not in shown:
            shown.add(line)
            show(line, err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", AuditorWarning)
        warnings.showwarning = display
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    try:
        ended = cli.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "auditor"
        show(f"auditor: error: {exc.format_message()} (see '{command} --help')", err=True)
        return exit_code(Outcome.BAD_INPUT)
    except click.ClickException as exc:
        show(f"auditor: error: {exc.format_message()}", err=True)
        return exit_code(Outcome.BAD_INPUT)
    except (click.exceptions.Abort, KeyboardInterrupt):
        show("interrupted", err=True)
        return exit_code(Outcome.INTERRUPTED)
    except AuditorError as exc:
        show(f"auditor: error: {redact(str(exc), known_secrets())}", err=True)
        return exit_code(exc.outcome)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else int(exit_code(Outcome.INTERNAL))
    except Exception as exc:  # the one place a bug becomes exit 3 with a report
        where = crash_report(exc)
        why = redact(f"{type(exc).__name__}: {exc}", known_secrets())
        show(f"auditor: internal error: {why} (details in {where})", err=True)
        return exit_code(Outcome.INTERNAL)
    return exit_code(ended if isinstance(ended, Outcome) else Outcome.PASSED)
