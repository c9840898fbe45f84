"""Assessment → the normalised :class:`Report` that every renderer of the audit pack reads.

Nothing here touches Git, the store or the network: it only arranges what :func:`assess` found,
adds where it came from (repositories, HEADs, review sources, links) and draws the sample.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.errors import UsageError
from auditor.evaluation.assessment import Assessment, RepoAssessment, empty_populations, period_end
from auditor.evaluation.catalog import Overrides
from auditor.evaluation.checks.evidence import change_paths
from auditor.evaluation.frameworks import framework_order
from auditor.evaluation.sampling import draw
from auditor.evidence.deploys import change_runs, coverage, deployment_items
from auditor.evidence.report import (
    BranchScope,
    ConfigRecord,
    ParameterScope,
    Report,
    RepositoryScope,
)
from auditor.guard import SNAPSHOT_GRACE, GuardData
from auditor.ledger.period import Period
from auditor.model import ControlResult, ReviewEvidence, Status
from auditor.redaction import known_secrets, redact, redact_urls
from auditor.reviews.collect import ReviewData
from auditor.reviews.forges import FORGES, forge_of_host
from auditor.reviews.interface import parse_remote_url

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class ReportOptions:
    """What the pack says about itself, beyond the assessment."""

    organisation: str = ""
    command: str = "auditor report"  # as :func:`redact_command` gives it: never a credential
    frameworks: tuple[str, ...] = ()  # empty: every framework the evaluated controls map to
    sample_size: int | None = None
    sample_seed: str | None = None  # None and no size: no sample (the contract's "when requested")
    overrides: Overrides = field(default_factory=dict)  # the parameter overrides evaluated
    config: ConfigRecord | None = None  # the config file read, when one was
    locations: tuple[str, ...] = ()  # each repository as the user gave it, in order
    base: Path | None = None  # the config's directory: paths below it are written relative to it


def build_report(
    assessment: Assessment, *, as_of: datetime, period: Period, options: ReportOptions
) -> Report:
    """The report of ``assessment``: scopes per repository, findings, totals, waivers, sample."""
    evaluation = assessment.evaluation
    sampled = options.sample_size is not None or options.sample_seed is not None
    seed = options.sample_seed or ""
    evaluated = {r.framework for result in evaluation.results for r in result.control.frameworks}
    frameworks = options.frameworks or framework_order(evaluated)
    joined = {r.mined.name: r.deployments for r in assessment.repositories if r.deployments}
    return Report(
        organisation=redact(options.organisation, known_secrets()),
        generated_at=as_of,
        tool_version=__version__,
        command=options.command,
        since=period.since,
        until=period.until,
        frameworks=frameworks,
        repositories=tuple(
            _scope(r, location, options.base, period_end(period, as_of))
            for r, location in zip(
                assessment.repositories, _locations(assessment, options), strict=True
            )
        ),
        changes=tuple(f for r in assessment.repositories for f in r.facts),
        findings=evaluation.findings,
        controls=tuple(_sourced(r, options.base) for r in evaluation.results),
        sample=draw(evaluation.findings, seed=seed, size=options.sample_size) if sampled else (),
        sample_seed=seed,
        sample_size=options.sample_size,
        waivers=assessment.waivers,
        unmatched_waivers=evaluation.unmatched_waivers,
        expired_waivers=evaluation.expired_waivers,
        roster=assessment.roster,
        empty_populations=empty_populations(assessment, period),
        overrides=parameter_scopes(assessment, options.overrides),
        config=options.config,
        deployment_repos=tuple(joined),
        deployments=tuple(i for name, j in joined.items() for i in deployment_items(name, j)),
        change_runs=tuple(r for name, j in joined.items() for r in change_runs(name, j)),
        deployment_coverage=tuple(c for name, j in joined.items() for c in coverage(name, j)),
    )


def _locations(assessment: Assessment, options: ReportOptions) -> tuple[str, ...]:
    if len(options.locations) == len(assessment.repositories):
        return options.locations
    return tuple(str(r.mined.path) for r in assessment.repositories)


def shown_path(path: str | Path, base: Path | None) -> str:
    """``path`` as a pack writes it: an absolute path relative to ``base`` (a config's
    directory, which the config's own paths are relative to), or without a base as
    :func:`shown_word` writes it; any other as given."""
    given = Path(path)
    if base is not None and given.is_absolute():
        return Path(os.path.relpath(given, base.resolve())).as_posix()
    if given.is_absolute():
        return shown_word(given.as_posix(), Path.cwd())
    return given.as_posix()


def _sourced(result: ControlResult, base: Path | None) -> ControlResult:
    """``result`` with its control's source file as :func:`shown_path` writes it."""
    source = shown_path(result.control.source, base) if result.control.source else ""
    if source == result.control.source:
        return result
    return replace(result, control=replace(result.control, source=source))


def parameter_scopes(assessment: Assessment, overrides: Overrides) -> tuple[ParameterScope, ...]:
    """Every override of an evaluated control, with how many changes of its population (every
    change with a result other than not applicable) it matched."""
    population: dict[str, set[str]] = {}
    for finding in assessment.evaluation.findings:
        if finding.change_id and finding.status is not Status.NOT_APPLICABLE:
            population.setdefault(finding.control_id, set()).add(finding.change_id)
    changes = [
        (facts.change_id, facts.repo, change_paths(facts))
        for repo in assessment.repositories
        for facts in repo.facts
    ]
    evaluated = {r.control.id for r in assessment.evaluation.results}
    scopes = []
    for control_id in sorted(set(overrides) & evaluated):
        members = population.get(control_id, set())
        for override in overrides[control_id]:
            matched = sum(
                1 for change, repo, paths in changes
                if change in members and override.applies(repo, paths)
            )  # fmt: skip
            scopes.append(
                ParameterScope(
                    control_id,
                    dict(override.parameters),
                    override.repositories,
                    override.paths,
                    matched,
                )
            )
    return tuple(scopes)


def _scope(
    repo: RepoAssessment, location: str, base: Path | None, end: datetime
) -> RepositoryScope:
    mined = repo.mined
    commit_url, request_url = _links(mined.remote, repo.reviews)
    return RepositoryScope(
        name=mined.name,
        path=shown_path(location, base),
        remote=shown_remote(mined.remote),
        branches=_branches(repo, end),
        review_source=_review_source(repo),
        complete=repo.complete,
        incomplete_reasons=repo.gaps,
        commit_url=commit_url,
        request_url=request_url,
        events=repo.events,
        mailmap=mined.mailmap,
        guard=_guard(repo, end),
    )


def _guard(repo: RepoAssessment, end: datetime) -> GuardData:
    """The guard data the pack shows: the snapshots collected by ``end`` (later ones describe
    no part of the period; one taken just after it, as the run ran, shows its end), and the
    checks of the requests of the period's changes."""
    numbers = {f.request_number for f in repo.facts if f.request_linked}
    data = repo.guard
    return replace(
        data,
        snapshots=tuple(s for s in data.snapshots if s.collected_at <= end + SNAPSHOT_GRACE),
        checks=tuple(c for c in data.checks if int(c.number) in numbers),
    )


def _branches(repo: RepoAssessment, end: datetime) -> tuple[BranchScope, ...]:
    """Each branch as the period left it: the last change landed by ``end``, and its tip now."""
    if not repo.heads:  # assessed without heads: the tips as mined
        return tuple(BranchScope(b.branch, b.tip, tip=b.tip) for b in repo.mined.branches)
    return tuple(BranchScope(h.branch, h.commit or "", h.landed_at, h.tip, end) for h in repo.heads)


def _review_source(repo: RepoAssessment) -> str:
    """Where the repository's review data came from: its forge or reviews file; without one,
    ``trailers`` when some change of the period carries review trailers, else ``none``."""
    sources = sorted({r.source for r in repo.reviews})
    if sources == ["none"] or not sources:
        trailers = any(f.evidence is ReviewEvidence.TRAILERS for f in repo.facts)
        return "trailers" if trailers else "none"
    return ",".join(sources)


def _links(remote: str, reviews: tuple[ReviewData, ...]) -> tuple[str, str]:
    """Templates of commit and request pages, when the forge's web address is known: from the
    review data's forge, else from the origin when its host looks like a forge's."""
    web = next((r.web_url for r in reviews if r.web_url), "")
    entry = next((e for r in reviews for e in FORGES.values() if r.source == e.value), None)
    if not web and remote:
        try:
            parsed = parse_remote_url(remote)
        except UsageError:
            return "", ""
        web = f"https://{parsed.host}/{parsed.path}"
        entry = entry or forge_of_host(parsed.host)
    if not web or entry is None:
        return "", ""
    return entry.links(web)


def shown_remote(url: str) -> str:
    """The origin as the pack writes it: a network URL without credentials; a local path (a
    clone of a bundle or of a directory on this machine) by its last two parts only, so that no
    path of the machine that made the pack appears in it."""
    if not url or not _is_local(url):
        return redact(url)
    tail = [part for part in url.removeprefix("file://").split("/") if part][-2:]
    return "local path …/" + "/".join(tail)


def _is_local(url: str) -> bool:
    if url.startswith("file://"):
        return True
    if "://" in url:
        return False
    return ":" not in url.partition("/")[0]  # scp-like git@host:path has a colon before any /


def redact_text(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` (a config file) with every credential removed, as :func:`redact_command` does
    for each word: the token variables' values, and in each URL its user information and the
    values of token-like parameters (:func:`auditor.redaction.redact_urls`)."""
    return redact_urls(text, known_secrets(environ))


def shown_word(word: str, cwd: Path) -> str:
    """A path given on the command line as the pack records it: an absolute path under the
    current directory ``cwd`` relative to it, any other absolute path by its last two parts
    (``…/repos/infra``), so that no path of the machine that made the pack appears in it."""
    if not word.startswith("/"):
        return word
    path = Path(word)
    if path.is_relative_to(cwd):
        return path.relative_to(cwd).as_posix() or "."
    return "…/" + "/".join(path.parts[1:][-2:])


def redact_command(words: Iterable[str], environ: Mapping[str, str] | None = None) -> str:
    """``words`` as one shell-quoted line with no credential left in it.

    Each word goes through :func:`auditor.redaction.redact` with the values of the token
    variables (``GITHUB_TOKEN``, ``GITLAB_TOKEN``: see :mod:`auditor.reviews.forges`) of
    ``environ`` (default: the process's).
    """
    secrets = known_secrets(environ)
    return shlex.join(redact(word, secrets) for word in words)
