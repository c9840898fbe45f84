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
from auditor.cli.output import show, show_warnings
from auditor.cli.table import aligned
from auditor.evidence.words import counted, status_text
from auditor.progress import TerminalProgress

if TYPE_CHECKING:
    from auditor.audit import Audited
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
    from auditor.audit import AuditOptions, audit
    from auditor.evidence.builder import ReportOptions
    from auditor.evidence.columns import FINDING_COLUMNS
    from auditor.evidence.rows import finding_rows
    from auditor.evidence.tabular import write_csv, write_json
    from auditor.ledger.store import Store

    severities = fail_on_of(fail_on)
    assessing = assess_options_of(repos, kw, config_of(kw))
    options = AuditOptions(
        assessing,
        ReportOptions(
            frameworks=assessing.frameworks,
            sample_size=sample,
            sample_seed=seed or None,
            overrides=assessing.overrides,
        ),
        severities,
    )
    with Store.open(assessing.ledger.store) as store:
        audited = audit(store, options, TerminalProgress.for_stderr(quiet))
    report = audited.report
    findings, results = report.findings, audited.assessment.evaluation.results
    if fmt == "csv":
        write_csv(sys.stdout, FINDING_COLUMNS, finding_rows(findings, report.changes, results))
    elif fmt == "json":
        write_json(sys.stdout, list(finding_rows(findings, report.changes, results, joined=False)))
    else:
        _print_summary(audited)
    show_warnings(audited.warnings)
    return audited.outcome


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


def _print_summary(audited: Audited) -> None:
    from auditor.model import Status

    report = audited.report
    rows = [SUMMARY_HEADER, *(_summary_row(r) for r in audited.assessment.evaluation.results)]
    for line in aligned(rows, right=range(1, 7)):
        show(line)
    failures = [f for f in report.findings if f.status is Status.FAIL]
    if failures:
        show(f"\nfailing changes ({len(failures)}):")
        failing = [(f.control_id, f.change_id or f.repo, f.reason) for f in failures]
        for line in aligned(failing, indent="  "):
            show(line)
    if report.sample_size is not None or report.sample_seed:
        items = report.sample
        show(f"\nsample (seed {report.sample_seed!r}, {counted(len(items), 'item')}):")
        for item in items:
            show(f"  {item.control_id:<8} #{item.position:<5} {item.change_id}")
