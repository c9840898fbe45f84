"""A deterministic sample infrastructure repository, with the review data of its pull requests.

``create_demo`` builds ``infra-live/`` (a GitOps monorepo with two years of history),
``reviews.json`` (what GitHub's REST API would return for its pull requests), ``planted.json``
(the control violations deliberately hidden in it), ``people.csv`` (the organisation's roster:
its engineers, not the contractor) and ``auditor.toml`` (the organisation's audit
configuration: its roster, its automation allowed to push, its change freeze). The same scale always
yields the same commit SHAs and byte-identical files.

The organisation is a well-run one: every change goes through a reviewed pull request, except
Argo CD Image Updater's write-back of new image tags to the dev and staging overlays; people
sign their commits; the security team approves changes to the paths it owns in CODEOWNERS;
nothing lands during the year-end freeze. Only the planted violations break the rules.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from random import Random

from auditor.demo.content import Layout, initial_files
from auditor.demo.deploys import ARGOCD_FILE, PIPELINE_FILE, write_deployments
from auditor.demo.forge import REPOSITORY, export
from auditor.demo.gitwrite import PackWriter, git_env, run_git, write_packed_refs
from auditor.demo.history import History, Planted, Simulation
from auditor.demo.kubernetes import REPO_URL
from auditor.demo.people import Person, build_people, mailmap, teams
from auditor.demo.plan import DAY, FREEZE, Planner
from auditor.errors import AuditorError, UsageError
from auditor.facts.identities import ROSTER_COLUMNS
from auditor.reviews.offline import write_export

__all__ = [
    "DemoScale",
    "DemoSummary",
    "Planted",
    "build_repository",
    "create_demo",
    "prepare_target",
]


@dataclass(frozen=True)
class DemoScale:
    """How much history to generate, and from which seed."""

    seed: int = 20241001
    start: date = date(2024, 10, 1)
    days: int = 730
    people: int = 10
    commits: int = 3000
    """Commits to aim for; the result lands within a few percent above."""
    files: int = 400
    """Files in the first imported tree; onboarded apps add more later."""

    @classmethod
    def default(cls) -> DemoScale:
        return cls()

    @classmethod
    def small(cls) -> DemoScale:
        """Three months around the year-end change freeze; fast enough for unit tests."""
        return cls(start=date(2025, 11, 1), days=91, people=6, commits=300, files=300)

    @classmethod
    def large(cls, commits: int = 50_000, files: int = 5_000) -> DemoScale:
        """A repository for benchmarks: many people, commits and files."""
        return cls(people=40, commits=commits, files=files)

    @property
    def start_time(self) -> int:
        return int(
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC).timestamp()
        )

    @property
    def end_time(self) -> int:
        return self.start_time + self.days * DAY

    def validate(self) -> None:
        if self.days < 30 or self.people < 4 or self.commits < 100 or self.files < 100:
            raise UsageError(
                "demo scale too small: need at least 30 days, 4 people, 100 commits and 100 files"
            )


@dataclass(frozen=True)
class DemoSummary:
    """What ``create_demo`` made."""

    repository: Path
    reviews: Path
    planted_file: Path
    config: Path
    head: str
    commits: int
    changes: int
    """Changes landed on main: direct pushes, merged or squashed requests, rebased commits."""
    pull_requests: int
    direct_pushes: int
    bot_changes: int
    planted: tuple[Planted, ...]


DEFAULT_SCALE = DemoScale.default()
UPDATER_EMAIL = r"^noreply@argoproj\.io$"
"""Argo CD Image Updater's commit identity, allowed to push to the dev and staging overlays."""


def create_demo(target: Path, *, scale: DemoScale = DEFAULT_SCALE) -> DemoSummary:
    """Create ``target/infra-live``, ``target/reviews.json``, ``target/planted.json``,
    ``target/people.csv``, ``target/auditor.toml`` and the deployment records
    ``target/deployments.jsonl`` and ``target/argocd-apps.json``."""
    prepare_target(target)
    repository = target / "infra-live"
    history = build_repository(repository, scale)
    planted_deployments = write_deployments(target, repository, history, scale.end_time)
    history = replace(history, planted=(*history.planted, *planted_deployments))
    reviews = target / "reviews.json"
    exported = export(history.pulls, history.people, scale.seed, scale.end_time, scale.start_time)
    write_export(reviews, exported)
    planted = target / "planted.json"
    document = [asdict(entry) for entry in history.planted]
    planted.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (target / ROSTER).write_text(roster_text(history.people), encoding="utf-8", newline="")
    config = target / "auditor.toml"
    config.write_text(config_text(scale), encoding="utf-8")
    return DemoSummary(
        repository=repository,
        reviews=reviews,
        planted_file=planted,
        config=config,
        head=history.head,
        commits=history.commits,
        changes=history.changes,
        pull_requests=len(history.pulls),
        direct_pushes=history.direct_pushes,
        bot_changes=history.bot_changes,
        planted=history.planted,
    )


ROSTER = "people.csv"


def roster_text(people: tuple[Person, ...]) -> str:
    """The organisation's roster (see ``auditor.facts.identities.Roster``): each engineer by login,
    with their work email; an identity that maps to neither is nobody the organisation knows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ROSTER_COLUMNS[:4])
    for p in sorted(people, key=lambda p: p.login):
        writer.writerow((p.login, p.name, p.work.email, p.login))
    return out.getvalue()


def config_text(scale: DemoScale) -> str:
    """The sample organisation's ``auditor.toml`` (the contract's config format)."""
    members = teams(build_people(Random(scale.seed), scale.people))
    owners = ", ".join(
        f'"{team}" = [{", ".join(json.dumps(p.login) for p in people)}]'
        for team, people in members.items()
    )
    first = scale.start.isoformat()
    last = date.fromordinal(scale.start.toordinal() + scale.days - 1).isoformat()
    updater = '"k8s/apps/*/overlays/dev/**", "k8s/apps/*/overlays/staging/**"'
    start, end = (datetime.fromtimestamp(t, UTC).date() for t in FREEZE)
    freeze = f'{{ start = "{start}", end = "{end - timedelta(days=1)}", name = "year-end freeze" }}'
    return f"""# The sample organisation's audit configuration: auditor run --config auditor.toml

[audit]
organisation = "Acme Corp"
since = "{first}"
until = "{last}"
frameworks = ["soc2", "iso27001", "pci-dss", "nist-800-53"]
formats = ["html", "csv", "json"]
output = "audit-packs"
store = ".auditor"
roster = "{ROSTER}"             # the engineers; IAM-01 judges identities against it

[[repository]]
path = "infra-live"
forge = "none"
reviews_file = "reviews.json"   # what GitHub returned, exported with `auditor reviews export`
# what ran: the pipeline's applies, and Argo CD's applications (DEP-01, DEP-02)
deployments = ["{PIPELINE_FILE}", "{ARGOCD_FILE}"]

# Argo CD Image Updater writes new image tags straight to the dev and staging overlays
# (git write-back): named automation allowed to push, and to land without a human approval.
[[overrides."CHG-01"]]
repositories = ["{REPOSITORY}"]
paths = [{updater}]
parameters = {{ allow = ['{UPDATER_EMAIL}'] }}

# Its write-backs have no pull request, so no pre-merge check to judge (CHG-12).
[[overrides."CHG-12"]]
repositories = ["{REPOSITORY}"]
paths = [{updater}]
parameters = {{ allow = ['{UPDATER_EMAIL}'] }}

[[overrides."CHG-10"]]
repositories = ["{REPOSITORY}"]
paths = [{updater}]
parameters = {{ policy = "auto-merge-allowed" }}

# The CODEOWNERS teams, for CHG-11 (code owner approval).
[[overrides."CHG-11"]]
parameters = {{ teams = {{ {owners} }} }}

# Nothing lands during the year-end change freeze.
[[overrides."CHG-08"]]
parameters = {{ windows = [{freeze}] }}
"""


def prepare_target(target: Path) -> None:
    """Create the workspace ``target``, refusing one that exists and is not empty."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"demo target {target} exists and is not an empty directory")
    target.mkdir(parents=True, exist_ok=True)


def build_repository(path: Path, scale: DemoScale) -> History:
    """Generate the repository alone at ``path`` (which must not exist) and return its history."""
    scale.validate()
    rng = Random(scale.seed)
    people = build_people(rng, scale.people)
    layout = Layout.for_size(scale.files)
    initial = initial_files(layout, rng, mailmap(people))
    planner = Planner(rng, people, layout, scale.start_time, scale.end_time)
    pulls, pushes = planner.plan(scale.commits)
    with tempfile.TemporaryDirectory(prefix="auditor-demo-") as home:
        env = git_env(Path(home))
        run_git(path.parent, env, "init", "--quiet", "--initial-branch=main", path.name)
        with PackWriter(path, env) as writer:
            history = Simulation(rng, writer, people, initial).run(pulls, pushes)
        refs = {f"refs/pull/{p.plan.number}/head": p.commits[-1].sha for p in history.pulls}
        write_packed_refs(path, refs)
        head = run_git(path, env, "rev-parse", "refs/heads/main").strip()
        if head != history.head:
            raise AuditorError(f"generated history diverged: main is {head}, not {history.head}")
        run_git(path, env, "reset", "--hard", "--quiet", "main")
        run_git(path, env, "remote", "add", "origin", REPO_URL)
    return history
