"""``check``: evaluate the controls and print a summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.cli.app import cli
from auditor.cli.options import (
    assess_options,
    assess_options_of,
    config_of,
    fail_on_of,
    ledger_options,
    verdict_options,
)
from auditor.cli.output import show
from auditor.cli.table import aligned
from auditor.evidence.words import counted, status_text
from auditor.progress import TerminalProgress

if TYPE_CHECKING:
    from auditor.model import ControlResult
    from auditor.outcome import Outcome


@cli.command()
@click.argument("repos", nargs=-1, required=True, type=click.Path(path_type=Path))
@ledger_options
@assess_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@verdict_options
def check(
    repos: tuple[Path, ...],
    quiet: bool,
    fmt: str,
    fail_on: str,
    sample: int | None,
    seed: str,
    **kw: Any,
) -> Outcome:
    """Evaluate controls and print a summary table (exit 0 pass, 1 fail, 4 incomplete)."""
    from auditor.audit import assess
    from auditor.evaluation.assessment import empty_populations
    from auditor.evaluation.evaluate import verdict
    from auditor.evidence.columns import FINDING_COLUMNS
    from auditor.evidence.rows import finding_rows
    from auditor.evidence.tabular import write_csv, write_json
    from auditor.ledger.store import Store

    severities = fail_on_of(fail_on)
    options = assess_options_of(repos, kw, config_of(kw))
    with Store.open(options.ledger.store) as store:
        result = assess(store, options, TerminalProgress.for_stderr(quiet))
    evaluation = result.evaluation
    findings, results = evaluation.findings, evaluation.results
    changes = [facts for repo in result.repositories for facts in repo.facts]
    if fmt == "csv":
        write_csv(sys.stdout, FINDING_COLUMNS, finding_rows(findings, changes, results))
    elif fmt == "json":
        write_json(sys.stdout, list(finding_rows(findings, changes, results, joined=False)))
    else:
        _print_summary(result, sample, seed)
    for repo in result.repositories:
        for gap in repo.gaps:
            show(f"warning: {repo.mined.name}: evidence incomplete: {gap}", err=True)
    for note in empty_populations(result, options.ledger.period):
        show(f"warning: {note}", err=True)
    return verdict(evaluation.results, severities, complete=result.complete)


SUMMARY_HEADER = (
    "control",
    "population",
    "passed",
    "failed",
    "unknown",
    "n/a",
    "waived",
    "status",
    "title",
)


def _summary_row(r: ControlResult) -> tuple[str, ...]:
    counts = (r.population, r.passed, r.failed, r.unknown, r.not_applicable, r.waived)
    return (r.control.id, *(str(n) for n in counts), status_text(r.status), r.control.title)


def _print_summary(result: Any, sample: int | None, seed: str) -> None:
    from auditor.evaluation.sampling import draw
    from auditor.model import Status

    evaluation = result.evaluation
    rows = [SUMMARY_HEADER, *(_summary_row(r) for r in evaluation.results)]
    for line in aligned(rows, right=range(1, 7)):
        show(line)
    failures = [f for f in evaluation.findings if f.status is Status.FAIL]
    if failures:
        show(f"\nfailing changes ({len(failures)}):")
        failing = [(f.control_id, f.change_id or f.repo, f.reason) for f in failures]
        for line in aligned(failing, indent="  "):
            show(line)
    for waiver in evaluation.unmatched_waivers:
        show(f"warning: waiver {waiver} matched nothing", err=True)
    for waiver in evaluation.expired_waivers:
        show(f"warning: waiver {waiver} has expired and no longer applies", err=True)
    if sample is not None or seed:
        items = draw(evaluation.findings, seed=seed, size=sample)
        show(f"\nsample (seed {seed!r}, {counted(len(items), 'item')}):")
        for item in items:
            show(f"  {item.control_id:<8} #{item.position:<5} {item.change_id}")
