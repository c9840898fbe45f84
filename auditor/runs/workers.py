"""The work on one repository of a run, and a pool of local processes doing it.

A run plans one :class:`RepoTask` per repository; :func:`work` clones or updates the repository
when it is named by URL, then mines and assesses it into **its own** evidence store
(``STORE/repositories/<name>-<hash>/``), so tasks never wait for one another's writes. Tasks and
outcomes are plain picklable records: :func:`run_locally` runs them in this process or in a pool
of worker processes, :mod:`auditor.runs.cluster` on a Dask cluster.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import yaml

from auditor.audit import AssessOptions, assess_repositories
from auditor.crashes import crash_report
from auditor.errors import AuditorError, AuditorWarning, RepositoryError
from auditor.evaluation.assessment import RepoAssessment
from auditor.evaluation.catalog import load_catalog
from auditor.evaluation.evaluate import CompactItem, ControlItem, compact, run_controls
from auditor.ledger.mining import Progress
from auditor.ledger.period import NamedPeriod
from auditor.ledger.store import Store
from auditor.redaction import known_secrets, redact
from auditor.runs.clones import CloneURL, cache_name, mirror
from auditor.runs.config import Config, Overrides, RepositoryConfig, merge_overrides, restrict
from auditor.runtime import for_batch_work

REPOSITORIES_DIR = "repositories"  # one evidence store per repository, under the run's store
CLONES_DIR = "clones"  # mirrors of repositories named by URL
ENVIRONMENTS_FILE = "environments.yaml"  # a repository's environment patterns, as a rules file
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class RepoTask:
    """The work on one repository, as sent to a worker process (picklable, no secrets
    beyond what the config's URL itself holds)."""

    index: int
    source: str  # the configured path, or the URL without user information
    url: str | None  # the URL as configured (``${NAME}`` expanded by the worker)
    store: Path  # this repository's evidence store
    clones: Path  # the mirror cache
    options: AssessOptions
    environments: tuple[str, ...] = ()
    name: str = ""  # the name the config gives the repository (else the one mining finds)
    # The overrides of the whole config, and of this repository's own section (which concern
    # this repository only, whatever repositories they name).
    config_overrides: Overrides = field(default_factory=dict)
    repo_overrides: Overrides = field(default_factory=dict)


@dataclass(frozen=True)
class RepoOutcome:
    """What a task brought back: the assessed repository and its controls' findings before
    waivers (settled over every repository by the run), or why there is none."""

    index: int
    assessment: RepoAssessment | None
    error: str = ""
    crashed: bool = False  # an unexpected error (a bug); details in a crash report
    items: tuple[CompactItem, ...] = ()  # see auditor.evaluation.evaluate.compact
    warnings: tuple[str, ...] = ()  # the AuditorWarnings raised, for the run to raise again


def plan(
    config: Config, as_of: datetime, named: NamedPeriod, *, jobs: int | None = None
) -> list[RepoTask]:
    """One task per repository of the config, in config order."""
    clones = config.store / CLONES_DIR
    tasks = []
    for repo in config.repositories:
        store = config.store / REPOSITORIES_DIR / store_name(repo)
        path = repo.path if repo.url is None else clones / cache_name(repo.url)
        assert path is not None
        options = config.assess_options(
            repo, as_of=as_of, period=named.period, repo_path=path, store=store, jobs=jobs
        )
        if repo.environments:
            ledger = options.ledger
            rules = (*ledger.rule_files, store / ENVIRONMENTS_FILE)
            options = replace(options, ledger=replace(ledger, rule_files=rules))
        # Waivers apply once, over every repository, in this process.
        options = replace(options, waivers=None)
        tasks.append(
            RepoTask(
                repo.index,
                repo.source,
                repo.url,
                store,
                clones,
                options,
                repo.environments,
                name=repo.name,
                config_overrides=config.overrides,
                repo_overrides=repo.overrides,
            )
        )
    return tasks


def store_name(repo: RepositoryConfig) -> str:
    """The directory of ``repo``'s evidence store: readable, and stable while its source is."""
    key = redact(repo.url) if repo.url is not None else str(Path(str(repo.path)).resolve())
    tail = key.split("://", 1)[-1].rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
    slug = _SLUG.sub("-", tail).strip("-.")[:40] or "repository"
    return f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def work(task: RepoTask) -> RepoOutcome:
    """Clone or update, mine and assess one repository into its own store, and run the
    controls on it (in a worker). The warnings it raises travel back with the outcome: a
    worker process has no terminal of its own."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AuditorWarning)
        outcome = _work(task)
    ours = [w for w in caught if issubclass(w.category, AuditorWarning)]
    for other in caught:
        if other not in ours:
            warnings.showwarning(other.message, other.category, other.filename, other.lineno)
    return replace(outcome, warnings=tuple(dict.fromkeys(str(w.message) for w in ours)))


def _work(task: RepoTask) -> RepoOutcome:
    secrets = _url_secrets(task.url)
    try:
        (path,) = task.options.ledger.repos
        if task.url is not None:
            mirror(task.url, task.clones)  # into ``path``: plan() named it after the URL
        elif not path.exists():  # before the store is opened: no store for a typo
            raise RepositoryError(f"{path}: no such directory")
        if task.environments:
            _write_environments(task.store, task.environments)
        with Store.open(task.store) as store:
            (assessed,) = assess_repositories(store, task.options)
        assessed = renamed(assessed, task.name)
        return RepoOutcome(task.index, assessed, items=compact(_run_controls(task, assessed)))
    except AuditorError as err:
        return RepoOutcome(task.index, None, redact(str(err), known_secrets(extra=secrets)))
    except Exception as exc:  # a bug: the others go on; the run reports it and exits 3
        where = crash_report(exc, secrets)
        reason = f"internal error: {type(exc).__name__}: {exc} (details in {where})"
        reason = redact(reason, known_secrets(extra=secrets))
        return RepoOutcome(task.index, None, reason, crashed=True)


def renamed(repo: RepoAssessment, name: str) -> RepoAssessment:
    """``repo`` under the name the config gives it (its change ids follow)."""
    if not name or repo.mined.name == name:
        return repo
    return replace(
        repo,
        mined=replace(repo.mined, name=name),
        facts=tuple(replace(f, repo=name) for f in repo.facts),
    )


def _run_controls(task: RepoTask, repo: RepoAssessment) -> list[ControlItem]:
    """The controls on this repository, as the run would run them over all (it settles)."""
    options = task.options
    name = repo.mined.name
    return run_controls(
        load_catalog(options.controls_dirs, frameworks=options.frameworks),
        name,
        repo.facts,
        repo.events,
        as_of=options.ledger.as_of,
        frameworks=options.frameworks,
        period=options.ledger.period,
        overrides=merge_overrides(task.config_overrides, restrict(task.repo_overrides, name)),
        roster=options.roster is not None,
        deployments=repo.deployments,
        watched=repo.watched,
        guard=repo.guard,
    )


def run_locally(
    tasks: Sequence[RepoTask], progress: Progress, workers: int
) -> Iterator[RepoOutcome]:
    """The tasks' outcomes as they finish, in this process (one worker) or in a pool of
    ``workers`` processes."""
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield work(task)
            progress.advance(1)
        return
    context = multiprocessing.get_context("spawn")  # no inherited threads or open databases
    with ProcessPoolExecutor(workers, mp_context=context, initializer=for_batch_work) as pool:
        futures = {pool.submit(work, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except BrokenProcessPool as err:  # a worker was killed (out of memory, signal)
                outcome = RepoOutcome(futures[future].index, None, f"worker process died: {err}")
            yield outcome
            progress.advance(1)


def _write_environments(store: Path, patterns: Sequence[str]) -> None:
    """The repository's environment patterns as a rules file (rewritten only when changed)."""
    text = yaml.safe_dump({"environments": {"patterns": list(patterns)}}, sort_keys=False)
    path = store / ENVIRONMENTS_FILE
    store.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)


def _url_secrets(url: str | None) -> tuple[str, ...]:
    if url is None:
        return ()
    try:
        return CloneURL.parse(url).secrets
    except AuditorError:
        return ()
