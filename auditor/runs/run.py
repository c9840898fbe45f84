"""Scheduled runs: every repository of a config, in parallel, gathered into one dated audit pack.

A run plans one task per repository (:mod:`auditor.runs.workers`), run in local worker processes
or on a Dask cluster alike (:mod:`auditor.runs.cluster`); each mines and assesses its repository
into its own evidence store and runs the controls on it. The assessed repositories and their
findings come back to this process, which settles waivers and totals over all of them at once,
builds the report, writes a new pack directory and records the run in ``STORE``'s own database.
A repository that fails (unreachable, corrupt) is listed in the pack as not audited, with the
reason, and the run is incomplete; the others are reported as usual.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from auditor import __version__
from auditor.audit import concluded
from auditor.cores import available_cores
from auditor.errors import AuditorError, AuditorWarning, UsageError
from auditor.evaluation.assessment import Assessment, RepoAssessment
from auditor.evaluation.catalog import Overrides, load_catalog
from auditor.evaluation.evaluate import ControlItem, expand, settle
from auditor.evaluation.waivers import load_waivers
from auditor.evidence.builder import ReportOptions, shown_path
from auditor.evidence.report import Report, RepositoryScope, RunChain
from auditor.evidence.tabular import iso_utc
from auditor.facts.identities import Roster
from auditor.ledger.mining import Progress
from auditor.ledger.period import NamedPeriod
from auditor.ledger.store import Store
from auditor.model import Control, HistoryEvent, RepositoryRecord, RunRecord, Waiver
from auditor.outcome import Outcome
from auditor.redaction import redact
from auditor.render import Pack, RenderOptions, write_pack
from auditor.render.interface import MANIFEST_FILE
from auditor.runs.chain import last_pack_run
from auditor.runs.config import Config, RepositoryConfig, config_record, merge_overrides, restrict
from auditor.runs.workers import RepoOutcome, RepoTask, plan, run_locally


@dataclass(frozen=True)
class RunOptions:
    """A run of ``config`` as of ``as_of``; ``scheduler`` sends the work to a Dask cluster."""

    config: Config
    as_of: datetime
    jobs: int | None = None  # worker processes; default: the config's, else every core
    scheduler: str | None = None  # e.g. tcp://scheduler:8786
    sign_key: Path | None = None  # signs the manifest; default: the config's signing_key


@dataclass(frozen=True)
class RunResult:
    """A finished run: its record (as stored), the report and the pack it wrote."""

    record: RunRecord
    report: Report
    pack: Pack
    outcome: Outcome
    missing: tuple[tuple[str, str], ...] = ()  # (repository, reason) not audited
    rewrites: tuple[str, ...] = field(default_factory=tuple)  # detected by this run


Executor = Callable[[Sequence[RepoTask], Progress], Iterator[RepoOutcome]]


def run(options: RunOptions, progress: Progress | None = None) -> RunResult:
    """Audit every repository of the config and write a new pack into its ``output``."""
    config = options.config
    progress = progress or Progress()
    named = config.period_at(options.as_of)
    started = datetime.now(UTC).replace(microsecond=0)
    # Definitions are read before any work, so that a bad file fails the run at once.
    catalog = load_catalog(config.controls_dirs, frameworks=config.frameworks)
    waivers = load_waivers(config.waivers) if config.waivers else ()
    if config.roster:
        Roster.load(config.roster)
    with _exclusive(config.store), Store.open(config.store) as store:
        outcomes, gathered, assessment = _assess_all(options, named, catalog, waivers, progress)
        chain = _chain(store)
        audited = concluded(
            assessment,
            _report_options(config, gathered, options.as_of),
            as_of=options.as_of,
            period=named.period,
            fail_on=config.fail_on,
        )
        report = replace(_with_unaudited(config, audited.report, gathered), chain=chain)
        record = RunRecord(
            as_of=options.as_of,
            period=named.label,
            since=named.period.since,
            until=named.period.until,
            config=str(config.path),
            config_sha256=config.sha256,
            tool_version=__version__,
            repositories=gathered.records,
            outcome=Outcome.INTERNAL,
            started_at=started,
            previous_run=chain.previous_run,
            previous_manifest_sha256=chain.previous_manifest_sha256,
        )
        try:
            pack = write_pack(
                report,
                _new_pack_dir(config.output, named.label, options.as_of),
                RenderOptions(
                    formats=config.formats,
                    header_profile=config.header_profile,
                    sign_key=options.sign_key or config.signing_key,
                ),
                progress=progress,
            )
        except AuditorError as err:
            store.add_run(_finished(record, err.outcome, "", "", (str(err),)))
            raise
        ended = replace(audited, report=report).outcome
        if any(o.crashed for o in outcomes):
            ended = Outcome.INTERNAL
        manifest = hashlib.sha256((pack.path / MANIFEST_FILE).read_bytes()).hexdigest()
        record = _finished(record, ended, str(pack.path), manifest, report.notes)
        record = replace(record, id=store.add_run(record))
    return RunResult(record, report, pack, ended, gathered.missing, gathered.rewrites)


def _assess_all(
    options: RunOptions,
    named: NamedPeriod,
    catalog: Sequence[Control],
    waivers: Sequence[Waiver],
    progress: Progress,
) -> tuple[list[RepoOutcome], _Gathered, Assessment]:
    """Every repository assessed by the workers, locally or on the cluster, and their
    findings settled over all of them: the outcomes in config order, gathered, assessed."""
    config = options.config
    workers = _workers(options, len(config.repositories))
    tasks = plan(config, options.as_of, named, jobs=_mining_jobs(options, workers))
    executor = _executor(options.scheduler, workers)
    progress.start("repositories", len(tasks))
    outcomes: list[RepoOutcome] = []
    items: dict[int, list[ControlItem]] = {}  # by repository index
    for outcome in executor(tasks, progress):  # made records while the others still run
        outcomes.append(outcome)
        for message in outcome.warnings:  # raised in a worker: raised again here, once
            warnings.warn(message, AuditorWarning, stacklevel=1)
        if outcome.assessment is not None:
            items[outcome.index] = expand(outcome.items, catalog, config.frameworks)
    progress.finish()
    outcomes.sort(key=lambda o: o.index)
    gathered = _gather(config, outcomes)
    evaluation = settle(
        catalog,
        (item for index in sorted(items) for item in items[index]),
        as_of=options.as_of,
        frameworks=config.frameworks,
        waivers=waivers,
    )
    assessment = Assessment(gathered.repos, evaluation, tuple(waivers), config.roster is not None)
    return outcomes, gathered, assessment


def _chain(store: Store) -> RunChain:
    """This run's link to the previous run that wrote a pack."""
    previous = last_pack_run(store.runs())
    return RunChain(
        previous_run=previous.id if previous is not None else None,
        previous_pack=Path(previous.pack).name if previous is not None else "",
        previous_manifest_sha256=previous.manifest_sha256 if previous is not None else "",
    )


# -- gathering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Gathered:
    repos: tuple[RepoAssessment, ...]
    records: tuple[RepositoryRecord, ...]  # every repository, config order
    scopes: dict[int, RepositoryScope]  # index → scope of a repository not audited
    urls: dict[str, str]  # name → URL, for repositories read from a mirror
    missing: tuple[tuple[str, str], ...]
    rewrites: tuple[str, ...]
    overrides: Overrides  # the config's, and each audited repository's made to concern it only


def _gather(config: Config, outcomes: Sequence[RepoOutcome]) -> _Gathered:
    repos: list[RepoAssessment] = []
    records: list[RepositoryRecord] = []
    scopes: dict[int, RepositoryScope] = {}
    urls: dict[str, str] = {}
    missing: list[tuple[str, str]] = []
    rewrites: list[str] = []
    named: dict[str, int] = {}
    overrides = [config.overrides]
    base = config.path.parent
    for outcome in outcomes:
        repo = config.repositories[outcome.index]
        if outcome.assessment is None:
            name = repo.name or _fallback_name(repo)
            where = repo.source if repo.url is not None else shown_path(repo.source, base)
            error = outcome.error.replace(repo.source, where)  # the path as the pack writes it
            reason = f"not audited: {error}"
            missing.append((name, error))
            scopes[outcome.index] = RepositoryScope(
                name=name,
                path=where,
                remote=repo.source if repo.url is not None else "",
                branches=(),
                review_source="none",
                complete=False,
                incomplete_reasons=(reason,),
            )
            recorded = f"not audited: {outcome.error}"
            records.append(RepositoryRecord(name, repo.source, complete=False, reasons=(recorded,)))
            continue
        assessed = outcome.assessment  # under the config's name: the worker renamed it
        name = assessed.mined.name
        if name in named:
            raise config.error(
                ("repository", repo.index),
                f"named {name!r} like repository[{named[name]}]; set name to tell them apart",
            )
        named[name] = repo.index
        if repo.url is not None:
            urls[name] = repo.source
        lines = tuple(
            _rewrite_line(name, b.event) for b in assessed.mined.branches if b.event is not None
        )
        rewrites += lines
        repos.append(assessed)
        overrides.append(restrict(repo.overrides, name))
        records.append(
            RepositoryRecord(
                name=name,
                source=repo.source,
                heads=tuple((b.branch, b.tip) for b in assessed.mined.branches),
                changes=len(assessed.facts),
                complete=assessed.complete,
                reasons=assessed.gaps,
                rewrites=lines,
            )
        )
    return _Gathered(
        tuple(repos),
        tuple(records),
        scopes,
        urls,
        tuple(missing),
        tuple(rewrites),
        merge_overrides(*overrides),
    )


def _fallback_name(repo: RepositoryConfig) -> str:
    """The name of a repository that could not be read, as it would have been named."""
    if repo.url is not None:
        tail = redact(repo.url).rstrip("/").removesuffix(".git").replace(":", "/")
        return "/".join(p for p in tail.split("/")[-2:] if p)
    return Path(str(repo.path)).resolve().name


def _rewrite_line(name: str, event: HistoryEvent) -> str:
    lost = len(event.lost)
    noun = "commit" if lost == 1 else "commits"
    return (
        f"{name} {event.branch}: {event.kind} "
        f"({event.old_tip[:12]} -> {event.new_tip[:12]}, {lost} {noun} dropped)"
    )


def _report_options(config: Config, gathered: _Gathered, as_of: datetime) -> ReportOptions:
    return ReportOptions(
        organisation=config.organisation,
        command=f"auditor run --config {config.path.name} --as-of {iso_utc(as_of)}",
        frameworks=config.frameworks,
        sample_size=config.sample,
        sample_seed=config.seed,
        overrides=gathered.overrides,
        config=config_record(config),
        base=config.path.resolve().parent,
    )


def _with_unaudited(config: Config, report: Report, gathered: _Gathered) -> Report:
    """``report`` with the repositories that could not be audited in config order, each
    read from a mirror under its URL, and the notes of the run."""
    audited = iter(report.repositories)
    scopes = []
    for index in range(len(config.repositories)):
        scope = gathered.scopes.get(index) or next(audited)
        if scope.name in gathered.urls:  # where it was read from, not the mirror's path
            scope = replace(scope, path=gathered.urls[scope.name])
        scopes.append(scope)
    notes = [f"{name}: not audited: {reason}" for name, reason in gathered.missing]
    notes += [f"history rewritten since the previous run: {line}" for line in gathered.rewrites]
    return replace(report, repositories=tuple(scopes), notes=(*report.notes, *notes))


# -- the pack, the record, the workers ----------------------------------------------------------


def pack_name(label: str, as_of: datetime) -> str:
    """``2026-Q3_20261001T020000Z``: the period, then the run time."""
    return f"{label}_{as_of.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _new_pack_dir(output: Path, label: str, as_of: datetime) -> Path:
    """A directory of ``output`` no earlier run wrote: the name, else the name suffixed."""
    base = pack_name(label, as_of)
    candidate, number = output / base, 1
    while candidate.exists():
        number += 1
        candidate = output / f"{base}-{number}"
    return candidate


def _finished(
    record: RunRecord, outcome: Outcome, pack: str, manifest: str, notes: tuple[str, ...]
) -> RunRecord:
    return replace(
        record,
        outcome=outcome,
        pack=pack,
        manifest_sha256=manifest,
        notes=notes,
        finished_at=datetime.now(UTC).replace(microsecond=0),
    )


def _workers(options: RunOptions, repositories: int) -> int:
    wanted = options.jobs or options.config.jobs or available_cores()
    return max(1, min(wanted, repositories))


def _mining_jobs(options: RunOptions, workers: int) -> int:
    """Git processes per repository: the cores left to each worker (1 on a cluster)."""
    if options.scheduler:
        return 1
    return max(1, available_cores() // workers)


def _executor(scheduler: str | None, workers: int) -> Executor:
    if scheduler:
        from auditor.runs.cluster import run_on_dask

        return lambda tasks, progress: run_on_dask(scheduler, tasks, progress)
    return lambda tasks, progress: run_locally(tasks, progress, workers)


@contextmanager
def _exclusive(store: Path) -> Iterator[None]:
    """One run at a time per store: a second one refuses rather than racing the first."""
    store.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    with (store / "run.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{store}: another auditor run is using this store") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
