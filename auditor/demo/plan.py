"""The shape of the history: who changes which part of the repository when, and who reviews it.

Planning fixes every time, person and review before any content exists, so the simulation only
has to fill in files. Each pull request holds its scopes from its first commit until it is
merged, which keeps concurrent work conflict-free, as it is in a healthy monorepo.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from random import Random

from auditor.demo import terraform as tf
from auditor.demo.content import CHARTS, Layout, app_name
from auditor.demo.people import DEPENDABOT, IMAGE_UPDATER, RENOVATE, Actor, Person, teams

MINUTE, HOUR, DAY = 60, 3600, 86400
FREEZE = (
    int(datetime(2025, 12, 22, tzinfo=UTC).timestamp()),
    int(datetime(2026, 1, 3, tzinfo=UTC).timestamp()),
)
FREEZE_MARGIN = 12 * HOUR
PLANTED_PULLS = (
    "self-approval",
    "stale-approval",
    "self-merge",
    "approval-after-merge",
    "unresolved-identity",
    "emergency-no-retro",
    "missing-ticket",
    "secret-in-code",
    "sensitive-single-approval",
)
QUIET_SCOPES = tuple(
    f"envs/{env}/{component}"
    for env in ("dev", "staging", "prod")
    for component in ("compute", "database", "monitoring")
)
"""Scopes whose changes are neither sensitive nor owned by the security team."""
PLANTED_SCOPES = {
    "secret-in-code": ("envs/staging/compute",),
    "sensitive-single-approval": ("envs/prod/iam",),
    "bot-no-approval": ("charts/metrics-exporter",),
}
"""Where a planted violation happens; the others land in :data:`QUIET_SCOPES`, so that each
is a violation of one kind only."""


class Kind(Enum):
    ROOT = "root"
    IMPORT = "import"
    HUMAN = "human"
    ONBOARD = "onboard"
    RENOVATE = "renovate"
    DEPENDABOT = "dependabot"
    IMAGE_UPDATE = "image-update"
    HUMAN_PUSH = "human-push"


class Method(Enum):
    MERGE = "merge"
    SQUASH = "squash"
    REBASE = "rebase"


class ReviewState(Enum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    COMMENTED = "COMMENTED"
    DISMISSED = "DISMISSED"


@dataclass(frozen=True)
class ReviewPlan:
    reviewer: Person
    state: ReviewState
    at: int
    commit: int
    """Index of the pull request's head commit when the review was submitted."""
    conditional: bool = False
    """The security team's approval: given only if the change touches a path it owns."""


@dataclass(frozen=True)
class PullPlan:
    """A pull request as it will happen; ``pushers`` authors each of its commits."""

    number: int
    kind: Kind
    author: Actor
    method: Method
    scopes: tuple[str, ...]
    commit_times: tuple[int, ...]
    pushers: tuple[Actor, ...]
    opened_at: int
    merged_at: int
    merged_by: Actor
    reviews: tuple[ReviewPlan, ...]
    coauthor: Person | None
    ticket: str | None
    ticket_in: str
    """Where the ticket key appears: ``title``, ``body``, ``commits``, or empty for none."""
    labels: tuple[str, ...]
    planted: str | None


@dataclass(frozen=True)
class PushPlan:
    """A commit pushed straight to ``main``."""

    kind: Kind
    actor: Actor
    at: int
    scope: str
    planted: str | None
    reviewed_by: Person | None = None
    """A colleague named in a ``Reviewed-by`` trailer, for a push reviewed outside the forge."""
    ticket: str | None = None


@dataclass(frozen=True)
class Draft:
    kind: Kind
    commits: int
    method: Method
    planted: str | None = None
    at: int = 0

    @property
    def cost(self) -> int:
        if self.kind in (Kind.IMAGE_UPDATE, Kind.HUMAN_PUSH):
            return 1
        return 2 * self.commits if self.method is Method.REBASE else self.commits + 1


@dataclass
class Planner:
    rng: Random
    people: tuple[Person, ...]
    layout: Layout
    start: int
    end: int
    busy: dict[str, int] = field(default_factory=dict)
    apps: list[str] = field(default_factory=list)
    tickets: int = 100
    hotfixes: int = 0

    security: tuple[Person, ...] = ()

    def __post_init__(self) -> None:
        self.apps = sorted(self.layout.apps)
        self.security = teams(self.people)["@acme/security"]

    def plan(self, budget: int) -> tuple[list[PullPlan], list[PushPlan]]:
        root, imported = self._bootstrap()
        drafts = self._timed(self._drafts(budget - 3))
        pulls = [imported]
        pushes = [root]
        for draft in drafts:
            if draft.kind in (Kind.IMAGE_UPDATE, Kind.HUMAN_PUSH):
                pushes.append(self._push(draft))
            else:
                pulls.append(self._pull(draft))
        return _numbered(self.rng, pulls), pushes

    def _bootstrap(self) -> tuple[PushPlan, PullPlan]:
        """The repository's creation commit and the pull request importing existing code."""
        founder = self.people[0]
        root = PushPlan(Kind.ROOT, founder, self.start + 9 * HOUR, ".", "direct-push")
        first = self.start + 10 * HOUR
        reviews = tuple(
            ReviewPlan(person, ReviewState.APPROVED, first + (index + 1) * HOUR, 0)
            for index, person in enumerate(self.people[1:3])
        )
        imported = PullPlan(
            number=0,
            kind=Kind.IMPORT,
            author=founder,
            method=Method.MERGE,
            scopes=(),
            commit_times=(first,),
            pushers=(founder,),
            opened_at=first + 15 * MINUTE,
            merged_at=first + 4 * HOUR,
            merged_by=founder,
            reviews=reviews,
            coauthor=None,
            ticket=self._ticket(),
            ticket_in="title",
            labels=("repo",),
            planted=None,
        )
        return root, imported

    def _drafts(self, budget: int) -> list[Draft]:
        rng = self.rng
        drafts: list[Draft] = []
        spent = 0
        while spent < budget:
            kind = rng.choices(
                (Kind.HUMAN, Kind.ONBOARD, Kind.RENOVATE, Kind.DEPENDABOT, Kind.IMAGE_UPDATE),
                weights=(57, 1, 14, 4, 24),
            )[0]
            draft = self._draft(kind)
            drafts.append(draft)
            spent += draft.cost
        planted = [self._draft(Kind.HUMAN, name) for name in PLANTED_PULLS]
        planted += [self._draft(Kind.HUMAN_PUSH, "direct-push") for _ in range(2)]
        planted.append(self._draft(Kind.RENOVATE, "bot-no-approval"))
        for index, draft in enumerate(planted):
            drafts.insert(len(drafts) * (index + 1) // (len(planted) + 1), draft)
        if self.start + 2 * DAY < FREEZE[0] and FREEZE[1] < self.end:
            drafts.append(self._draft(Kind.HUMAN, "freeze-window"))
        return drafts

    def _draft(self, kind: Kind, planted: str | None = None) -> Draft:
        rng = self.rng
        if kind is Kind.HUMAN:
            commits = rng.choices((1, 2, 3, 4), weights=(50, 28, 14, 8))[0]
            if planted in ("self-approval", "stale-approval", "unresolved-identity"):
                commits = max(commits, 2)
            method = rng.choices(tuple(Method), weights=(40, 40, 20))[0]
            if planted and method is Method.REBASE:
                method = Method.MERGE  # a planted violation lands as one change
            return Draft(kind, commits, method, planted)
        if kind is Kind.ONBOARD:
            return Draft(kind, rng.randint(1, 3), Method.MERGE)
        method = Method.SQUASH if kind is Kind.RENOVATE else Method.MERGE
        return Draft(kind, 1, method, planted)

    def _timed(self, drafts: list[Draft]) -> list[Draft]:
        first, last = self.start + 2 * DAY, self.end - 8 * DAY
        span = last - first
        timed = []
        for index, draft in enumerate(drafts):
            if draft.planted == "freeze-window":
                at = FREEZE[0] + DAY + 9 * HOUR + self.rng.randrange(4 * HOUR)
            else:
                at = first + int(span * (index + self.rng.random()) / len(drafts))
                if FREEZE[0] - FREEZE_MARGIN <= at < FREEZE[1] + FREEZE_MARGIN:
                    at = FREEZE[1] + FREEZE_MARGIN + self.rng.randrange(3 * DAY)
            timed.append(replace(draft, at=at))
        return sorted(timed, key=lambda draft: draft.at)

    def _ticket(self) -> str:
        self.tickets += self.rng.randint(1, 4)
        return f"OPS-{self.tickets}"

    def _free(self, candidates: list[str], at: int) -> str:
        free = [scope for scope in candidates if self.busy.get(scope, 0) < at]
        return self.rng.choice(free or candidates)

    def _push(self, draft: Draft) -> PushPlan:
        rng = self.rng
        if draft.kind is Kind.IMAGE_UPDATE:
            scope = self._free([f"k8s/apps/{app}" for app in self.apps], draft.at)
            return PushPlan(draft.kind, IMAGE_UPDATER, draft.at, scope, None)
        actor = rng.choice(self.people)
        at = working_time(rng, draft.at, actor)
        scope = self._free(list(QUIET_SCOPES), at)
        self.hotfixes += 1
        reviewer = self._other(actor) if self.hotfixes == 1 else None
        return PushPlan(draft.kind, actor, at, scope, draft.planted, reviewer, self._ticket())

    def _scopes(self, draft: Draft, at: int) -> tuple[str, ...]:
        if draft.planted:
            return (self._free(list(PLANTED_SCOPES.get(draft.planted, QUIET_SCOPES)), at),)
        if draft.kind is Kind.ONBOARD:
            app = app_name(len(self.apps))
            insort(self.apps, app)
            return (f"k8s/apps/{app}", "argocd")
        if draft.kind is Kind.DEPENDABOT:
            return (self._free([".github"], at),)
        envs = [f"envs/{env}/{component}" for env in tf.ENVS for component in tf.COMPONENTS]
        if draft.kind is Kind.RENOVATE:
            return (self._free(envs + [f"charts/{chart}" for chart in CHARTS], at),)
        group = self.rng.choices(("envs", "apps", "other"), weights=(35, 35, 30))[0]
        if group == "envs":
            candidates = envs
        elif group == "apps":
            candidates = [f"k8s/apps/{app}" for app in self.apps]
        else:
            candidates = [f"modules/{module}" for module in tf.MODULES]
            candidates += [f"charts/{chart}" for chart in CHARTS]
            candidates += ["k8s/platform/rbac", "docs", "argocd", ".github", "."]
        return (self._free(candidates, at),)

    def _pull(self, draft: Draft) -> PullPlan:
        rng = self.rng
        if draft.kind is Kind.RENOVATE:
            author: Actor = RENOVATE
        elif draft.kind is Kind.DEPENDABOT:
            author = DEPENDABOT
        else:
            author = rng.choice(self.people)
        first = working_time(rng, draft.at, author) if isinstance(author, Person) else draft.at
        if draft.planted == "freeze-window":
            first = draft.at
        opened = first + rng.randrange(2 * MINUTE, 40 * MINUTE)
        times = [first]
        for _ in range(draft.commits - 1):
            times.append(max(times[-1], opened) + rng.randrange(10 * MINUTE, 26 * HOUR))
        scopes = self._scopes(draft, first)
        pushers = self._pushers(draft, author)
        reviews, merged_at, merged_by = self._reviews(draft, author, pushers, scopes, times, opened)
        if draft.planted != "freeze-window" and FREEZE[0] - FREEZE_MARGIN <= merged_at < FREEZE[1]:
            merged_at = FREEZE[1] + FREEZE_MARGIN + rng.randrange(2 * DAY)
        for scope in scopes:
            self.busy[scope] = merged_at
        ticket_in = self._ticket_place(draft)
        return PullPlan(
            number=0,
            kind=draft.kind,
            author=author,
            method=draft.method,
            scopes=scopes,
            commit_times=tuple(times),
            pushers=pushers,
            opened_at=opened,
            merged_at=merged_at,
            merged_by=merged_by,
            reviews=reviews,
            coauthor=self._coauthor(draft, author, pushers, reviews),
            ticket=self._ticket() if ticket_in in ("title", "body", "commits") else None,
            ticket_in=ticket_in,
            labels=self._labels(draft, scopes),
            planted=draft.planted,
        )

    def _ticket_place(self, draft: Draft) -> str:
        if draft.planted == "missing-ticket":
            return ""
        if draft.kind in (Kind.RENOVATE, Kind.DEPENDABOT):
            return "bot"
        if draft.planted == "emergency-no-retro":
            return "body"
        return self.rng.choices(("title", "body", "commits"), weights=(60, 25, 15))[0]

    def _labels(self, draft: Draft, scopes: tuple[str, ...]) -> tuple[str, ...]:
        labels = {"dependencies"} if draft.kind in (Kind.RENOVATE, Kind.DEPENDABOT) else set()
        if draft.planted == "emergency-no-retro":
            labels.add("emergency")
        labels.update(scope.split("/")[0].lstrip(".") or "repo" for scope in scopes)
        if any(scope.startswith("envs/prod/") for scope in scopes):
            labels.add("production")
        return tuple(sorted(labels))

    def _pushers(self, draft: Draft, author: Actor) -> tuple[Actor, ...]:
        pushers = [author] * draft.commits
        if draft.planted == "self-approval":
            pushers[-1] = self._other(author)
        return tuple(pushers)

    def _other(self, *excluded: Actor) -> Person:
        return self.rng.choice([person for person in self.people if person not in excluded])

    def _coauthor(
        self,
        draft: Draft,
        author: Actor,
        pushers: tuple[Actor, ...],
        reviews: tuple[ReviewPlan, ...],
    ) -> Person | None:
        if draft.kind is not Kind.HUMAN or draft.planted or self.rng.random() >= 0.05:
            return None
        busy = {author, *pushers, *(review.reviewer for review in reviews)}
        others = [person for person in self.people if person not in busy]
        return self.rng.choice(others) if others else None

    def _reviews(
        self,
        draft: Draft,
        author: Actor,
        pushers: tuple[Actor, ...],
        scopes: tuple[str, ...],
        times: list[int],
        opened: int,
    ) -> tuple[tuple[ReviewPlan, ...], int, Actor]:
        rng = self.rng
        last = len(times) - 1
        head = max(times[-1], opened)
        planted = draft.planted
        if planted in ("bot-no-approval", "emergency-no-retro", "self-merge"):
            merged_at = head + rng.randrange(3 * MINUTE, 30 * MINUTE)
            merged_by = self._other(author) if planted == "emergency-no-retro" else author
            reviews = []
            if planted == "self-merge":
                reviews.append(
                    ReviewPlan(self._other(author), ReviewState.COMMENTED, merged_at - MINUTE, last)
                )
            return tuple(reviews), merged_at, merged_by
        if planted == "self-approval":
            at = head + rng.randrange(10 * MINUTE, 3 * HOUR)
            reviewer = pushers[-1]
            assert isinstance(reviewer, Person)
            approval = ReviewPlan(reviewer, ReviewState.APPROVED, at, last)
            return (approval,), at + 5 * MINUTE, self._other(author, reviewer)
        if planted == "stale-approval":
            reviewer = self._other(author)
            at = opened + (times[1] - opened) // 2
            return (ReviewPlan(reviewer, ReviewState.APPROVED, at, 0),), head + 20 * MINUTE, author
        if planted == "approval-after-merge":
            reviewer = self._other(author)
            merged_at = head + rng.randrange(10 * MINUTE, 2 * HOUR)
            late = ReviewPlan(reviewer, ReviewState.APPROVED, merged_at + 3 * HOUR, last)
            return (late,), merged_at, self._other(author, reviewer)
        return self._clean_reviews(draft, author, pushers, scopes, times, opened)

    def _clean_reviews(
        self,
        draft: Draft,
        author: Actor,
        pushers: tuple[Actor, ...],
        scopes: tuple[str, ...],
        times: list[int],
        opened: int,
    ) -> tuple[tuple[ReviewPlan, ...], int, Actor]:
        rng = self.rng
        eligible = [person for person in self.people if person not in (author, *pushers)]
        last = len(times) - 1
        production = any(scope.startswith("envs/prod/") for scope in scopes)
        count = 2 if production or rng.random() < 0.2 else 1
        if draft.planted == "secret-in-code":
            count = 2  # two reviewers, and both missed the credentials
        owners = [person for person in self.security if person in eligible]
        second = rng.choice(owners or eligible)
        approvers = [rng.choice([person for person in eligible if person != second]), second]
        if draft.planted == "sensitive-single-approval":
            approvers = [second]  # the security team approved, and nobody else
        reviews: list[ReviewPlan] = []
        if last >= 1 and rng.random() < 0.2:
            at = opened + (times[1] - opened) // 2
            reviews.append(ReviewPlan(approvers[0], ReviewState.CHANGES_REQUESTED, at, 0))
        if last >= 1 and rng.random() < 0.1:
            at = max(times[last - 1], opened) + (times[last] - max(times[last - 1], opened)) // 2
            reviews.append(ReviewPlan(approvers[-1], ReviewState.DISMISSED, at, last - 1))
        if rng.random() < 0.15:
            commenter = rng.choice([p for p in self.people if p != author])
            reviews.append(ReviewPlan(commenter, ReviewState.COMMENTED, times[-1] + MINUTE, last))
        approved = max(times[-1], opened)
        for index, approver in enumerate(approvers):
            approved += rng.randrange(5 * MINUTE, 9 * HOUR)
            conditional = index >= count
            reviews.append(ReviewPlan(approver, ReviewState.APPROVED, approved, last, conditional))
        merged_at = approved + rng.randrange(2 * MINUTE, 5 * HOUR)
        merged_by = author if isinstance(author, Person) and rng.random() < 0.7 else approvers[0]
        return tuple(sorted(reviews, key=lambda review: review.at)), merged_at, merged_by


def working_time(rng: Random, at: int, actor: Actor) -> int:
    """``at`` moved into the actor's working hours, on a weekday nine times out of ten."""
    offset = actor.zone.offset(datetime.fromtimestamp(at, UTC).month) * MINUTE
    day = (at + offset) // DAY
    weekday = (day + 3) % 7
    if weekday >= 5 and rng.random() < 0.9:
        day += 7 - weekday
    moved = day * DAY + rng.randrange(8 * HOUR + 30 * MINUTE, 18 * HOUR + 30 * MINUTE) - offset
    if FREEZE[0] - FREEZE_MARGIN <= moved < FREEZE[1] + FREEZE_MARGIN:
        return FREEZE[1] + FREEZE_MARGIN + rng.randrange(DAY)
    return moved


def _numbered(rng: Random, pulls: list[PullPlan]) -> list[PullPlan]:
    """Pull requests numbered by opening time, with the gaps issues leave in GitHub's sequence."""
    numbered = []
    number = 1
    for pull in sorted(pulls, key=lambda pull: pull.opened_at):
        numbered.append(replace(pull, number=number))
        number += rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    return numbered
