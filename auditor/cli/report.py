"""``report`` and ``verify``: the audit pack."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from auditor.cli.app import cli
from auditor.cli.options import (
    FormatsOption,
    assess_options,
    assess_options_of,
    config_of,
    fail_on_of,
    ledger_options,
    say,
    verdict_options,
)
from auditor.cli.output import show, show_warnings
from auditor.evidence.words import counted
from auditor.outcome import Outcome
from auditor.progress import Progress, TerminalProgress

if TYPE_CHECKING:
    from auditor.audit import Audited
    from auditor.evidence.report import Report
    from auditor.model import Severity

# What only says where and how the pack is written: left out of the command the pack records,
# so the same evidence gives the same bytes wherever it is written.
_PRESENTATION = frozenset(
    {"out", "force", "formats", "header_profile", "template_dir", "quiet", "jobs", "store"}
    | {"sign_key"}
)
# With --from-evidence, the evidence is rendered as recorded: these would change what it says.
_ASSESSING = (
    "store", "branches", "since", "until", "as_of", "jobs", "bot_patterns",
    "no_default_bots", "forge", "forge_url",
    "forge_repo", "reviews_file", "frameworks", "controls_dirs", "waivers", "roster", "sample",
    "seed", "organisation", "config_file",
)  # fmt: skip


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source is not ParameterSource.DEFAULT


def _flag(ctx: click.Context, name: str) -> str:
    param = next(p for p in ctx.command.params if p.name == name)
    return max(param.opts, key=len) if isinstance(param, click.Option) else name.upper()


def _recorded_command(ctx: click.Context, as_of: str) -> tuple[str, ...]:
    """The options that decide the evidence, as given, in the command's own order; ``--as-of``
    always, with the time the run took for it when it was not given (a rolling period, the
    waivers in force and every timestamp of the pack follow from it). Paths are shown as
    :func:`~auditor.evidence.builder.shown_word` writes them: none of this machine's."""
    from auditor.evidence.builder import shown_word

    cwd = Path.cwd()
    words = ["auditor", ctx.command.name or "report"]
    for param in ctx.command.params:
        name = param.name or ""
        if name == "as_of" and not _given(ctx, name):
            words += [_flag(ctx, name), as_of]
            continue
        if name in _PRESENTATION or not _given(ctx, name):
            continue
        value = ctx.params[name]
        values = value if isinstance(value, tuple) else (value,)
        shown = [
            shown_word(str(v), cwd) if isinstance(param.type, click.Path) else str(v)
            for v in values
        ]
        if isinstance(param, click.Argument):
            words += shown
        elif isinstance(param, click.Option) and param.is_flag:
            words += [_flag(ctx, name)] if value else []
        else:
            for item in shown:
                words += [_flag(ctx, name), item]
    return tuple(words)


def _check_out(out: Path, force: bool) -> None:
    """Refuse early (before assessing) what :func:`write_pack` would refuse at the end."""
    from auditor.errors import UsageError
    from auditor.render.pack import check_output

    if not force and not out.is_symlink() and out.is_dir() and any(out.iterdir()):
        raise click.BadParameter(
            f"{out} exists and is not empty; use --force to replace an earlier pack",
            param_hint="--out",
        )
    try:
        check_output(out, force)
    except UsageError as err:
        raise click.BadParameter(str(err), param_hint="--out") from None
    except OSError as err:  # e.g. a parent that is not a directory, or one we may not read
        raise click.BadParameter(f"cannot use {out}: {err.strerror}", param_hint="--out") from None


@cli.command()
@click.argument("repos", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory of the pack (must not exist, or be empty; see --force).",
)
@click.option("--format", "formats", cls=FormatsOption, metavar="LIST")
@click.option("--organisation", default="", help="Organisation named on the cover and pages.")
@click.option(
    "--header-profile",
    type=click.Choice(["snake", "title"]),
    default="snake",
    show_default=True,
    help="CSV headers: snake (control_id) or title (Control ID).",
)
@click.option(
    "--template-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Your templates, searched before the shipped report_templates/.",
)
@click.option(
    "--from-evidence",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Re-render a pack from an evidence.json, without the repositories.",
)
@click.option("--force", is_flag=True, help="Replace an existing pack at --out.")
@click.option(
    "--sign-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="SSH private key: sign the manifest into MANIFEST.sha256.sig (namespace auditor-pack)"
    " and each attestation into FILE.sig beside it (namespace auditor-attestation).",
)
@ledger_options
@assess_options
@verdict_options
def report(
    repos: tuple[Path, ...],
    out: Path,
    formats: str,
    organisation: str,
    header_profile: str,
    template_dir: Path | None,
    from_evidence: Path | None,
    force: bool,
    sign_key: Path | None,
    quiet: bool,
    fail_on: str,
    sample: int | None,
    seed: str,
    **kw: Any,
) -> Outcome:
    """Evaluate controls and write the audit pack (exit 0 pass, 1 fail, 4 incomplete)."""
    from auditor.audit import outcome_of
    from auditor.render import Format, HeaderProfile, RenderOptions, parse_formats, write_pack
    from auditor.render.pdf import check_available

    ctx = click.get_current_context()
    severities = fail_on_of(fail_on)
    progress = TerminalProgress.for_stderr(quiet)
    options = RenderOptions(
        formats=parse_formats(formats),
        header_profile=HeaderProfile(header_profile),
        template_dir=template_dir,
        sign_key=sign_key,
    )
    if Format.PDF in options.formats:
        check_available()
    if from_evidence is not None:
        refused = [_flag(ctx, n) for n in _ASSESSING if _given(ctx, n)]
        if repos or refused:
            what = ", ".join((["REPO"] if repos else []) + refused)
            raise click.UsageError(
                f"--from-evidence renders the evidence as recorded; {what} cannot be given with it"
            )
        _check_out(out, force)
        built = _from_evidence(from_evidence)
        source = _source(from_evidence, kw.get("allowed_signers"))
        if not source.vouched:
            show(f"warning: {source.statement}", err=True)
        options = replace(options, source=source.statement)
        outcome = outcome_of(built, severities)
    else:
        if not repos:
            raise click.UsageError("missing argument REPO... (or give --from-evidence FILE)")
        _check_out(out, force)
        audited, signing_key = _assess(
            ctx, repos, organisation, sample, seed, severities, progress, kw
        )
        show_warnings(audited.warnings)
        built, outcome = audited.report, audited.outcome
        if options.sign_key is None and signing_key is not None:
            options = replace(options, sign_key=signing_key)
    pack = write_pack(built, out, options, replace=force, progress=progress)
    files = counted(len(pack.files) + 1 + pack.signed, "file")
    say(quiet, f"audit pack: {pack.path} ({files}{', manifest signed' if pack.signed else ''})")
    say(quiet, _summary(built))
    return outcome


def _from_evidence(path: Path) -> Report:
    from auditor.render import load_evidence

    return load_evidence(path)


def _source(path: Path, allowed_signers: Path | None) -> Any:
    from auditor.render.provenance import evidence_source

    return evidence_source(path, allowed_signers)


def _assess(
    ctx: click.Context,
    repos: tuple[Path, ...],
    organisation: str,
    sample: int | None,
    seed: str,
    severities: frozenset[Severity],
    progress: Progress,
    kw: dict[str, Any],
) -> tuple[Audited, Path | None]:
    """The audit, and the config's ``signing_key`` (when a config was given)."""
    from auditor.audit import AuditOptions, audit
    from auditor.evidence.builder import ReportOptions, redact_command
    from auditor.evidence.tabular import iso_utc
    from auditor.ledger.store import Store
    from auditor.runs.config import config_record

    config = config_of(kw)
    assessing = assess_options_of(repos, kw, config)
    command = redact_command(_recorded_command(ctx, iso_utc(assessing.ledger.as_of)))
    if config is not None and not organisation:
        organisation = config.organisation
    options = AuditOptions(
        assessing,
        ReportOptions(
            organisation=organisation,
            command=command,
            frameworks=assessing.frameworks,
            sample_size=sample,
            sample_seed=seed if _given(ctx, "seed") else None,
            overrides=assessing.overrides,
            config=config_record(config) if config is not None else None,
            locations=tuple(str(r) for r in repos),
            base=config.path.resolve().parent if config is not None else None,
        ),
        severities,
    )
    with Store.open(assessing.ledger.store) as store:
        audited = audit(store, options, progress)
    return audited, config.signing_key if config is not None else None


def _summary(report: Report) -> str:
    from auditor.model import Status

    words = {
        Status.PASS: "passed",
        Status.FAIL: "failed",
        Status.UNKNOWN: "unknown",
        Status.NOT_APPLICABLE: "not applicable",
        Status.WAIVED: "waived",
    }
    counts = {status: 0 for status in Status}
    for result in report.controls:
        counts[result.status] += 1
    parts = ", ".join(f"{counts[s]} {words[s]}" for s in Status if counts[s])
    complete = "" if report.complete else "; evidence incomplete"
    return (
        f"{counted(len(report.controls), 'control')} over"
        f" {counted(len(report.changes), 'change')}: "
        f"{parts or 'none evaluated'}{complete}"
    )


@cli.command()
@click.argument("pack_dir", type=click.Path(path_type=Path))
@click.option(
    "--allowed-signers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="SSH allowed-signers file: check MANIFEST.sha256.sig and each attestation's"
    " signature, and name the signer.",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def verify(pack_dir: Path, allowed_signers: Path | None, quiet: bool) -> Outcome:
    """Re-check every hash of an audit pack (exit 0 intact; 1 changed, missing or added files,
    links, a PDF cover whose digest is not the manifest's, or with --allowed-signers a
    signature that is missing, not the manifest's or by a key the file does not list, of the
    manifest or of any attestation)."""
    from auditor.render import verify_pack
    from auditor.render.interface import PDF_FILE, SIGNATURE_FILE
    from auditor.render.pack import verify_attestation_signatures, verify_signature

    problems = verify_pack(pack_dir)
    signer = ""
    if allowed_signers is not None:
        checked = verify_signature(pack_dir, allowed_signers)
        if checked.problem is not None:
            problems.append(checked.problem)
        elif checked.signer is not None:
            signer = f"; signed by {checked.signer.principal} ({checked.signer.key})"
        attested = verify_attestation_signatures(pack_dir, allowed_signers)
        problems += attested.problems
        if attested.checked and not attested.problems:
            who = ", ".join(f"{s.principal} ({s.key})" for s in attested.signers)
            signer += f"; {counted(attested.checked, 'attestation')} signed by {who}"
    elif (pack_dir / SIGNATURE_FILE).is_file():
        signer = f"; {SIGNATURE_FILE} not checked (give --allowed-signers)"
    for problem in problems:
        show(problem)
    if problems:
        say(
            quiet,
            f"{pack_dir}: {counted(len(problems), 'problem')}: the pack is not as it was written",
        )
        return Outcome.CONTROLS_FAILED
    cover = ", and the PDF cover states its digest" if (pack_dir / PDF_FILE).is_file() else ""
    say(quiet, f"{pack_dir}: intact, every file matches MANIFEST.sha256{cover}{signer}")
    return Outcome.PASSED
