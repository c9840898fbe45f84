"""Playing a planned history: every commit, merge and push, written as it happens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from random import Random

from auditor.demo import messages
from auditor.demo.content import security_owned
from auditor.demo.edits import Change, Editor
from auditor.demo.gitwrite import PackWriter
from auditor.demo.objects import EMPTY_TREE, Branch, Changes, Commit, Overlay, Stamp, Tree
from auditor.demo.people import CONTRACTOR, WEB_FLOW, Actor, Bot, Identity, Person
from auditor.demo.plan import Kind, Method, PullPlan, PushPlan, ReviewPlan

LATIN1_LIMIT = 3
NOTES = {
    "direct-push": "pushed straight to main without a pull request",
    "self-approval": "the only approval comes from someone who pushed a commit to the pull request",
    "stale-approval": "a non-trivial commit was pushed after the only approval; no re-approval",
    "self-merge": "the author merged their own pull request without any approval",
    "approval-after-merge": "the only approval was submitted after the merge",
    "unresolved-identity": "commit author is in neither .mailmap nor linked to a forge account",
    "emergency-no-retro": "emergency change merged without approval, never reviewed afterwards",
    "missing-ticket": "no ticket key in the title, body or commit messages",
    "freeze-window": "landed during the 2025-12-22..2026-01-02 change freeze",
    "bot-no-approval": "Renovate pull request auto-merged without a human approval",
    "secret-in-code": "adds an AWS access key and a private key to a tfvars file",
    "sensitive-single-approval": "changes envs/prod/iam with a single approval",
}


@dataclass(frozen=True)
class Planted:
    """A deliberate control violation, for checking that the auditor finds it."""

    kind: str
    pull: int | None
    commit: str
    """The commit at fault (on the pull request's branch, or on main)."""
    note: str
    change: str = ""
    """The change on main that brought ``commit`` in (its landing commit)."""


@dataclass(frozen=True)
class LandedPull:
    """A merged pull request with the commits and SHAs it produced."""

    plan: PullPlan
    title: str
    body: str
    branch: str
    base: str
    commits: tuple[Commit, ...]
    merge_sha: str
    landed: int
    """Number of commits the merge added to main's first-parent line."""
    reviews: tuple[ReviewPlan, ...]
    """The reviews given: the plan's, less a conditional approval the change did not need."""
    copies: tuple[str, ...] = ()
    """For a rebase merge, the SHA each commit landed as on main, in order."""


@dataclass(frozen=True)
class History:
    people: tuple[Person, ...]
    head: str
    pulls: tuple[LandedPull, ...]
    planted: tuple[Planted, ...]
    commits: int
    changes: int
    direct_pushes: int
    bot_changes: int


class Simulation:
    def __init__(
        self,
        rng: Random,
        writer: PackWriter,
        people: tuple[Person, ...],
        initial: dict[str, bytes],
    ) -> None:
        self.rng = rng
        self.people = people
        self.writer = writer
        self.editor = Editor(rng, initial)
        self.tree = EMPTY_TREE
        self.head = ""
        self.branches: dict[int, Branch] = {}
        self.landed: list[LandedPull] = []
        self.planted: list[Planted] = []
        self.written = 0
        self.latin1 = 0
        self.slots = 0
        self.pushes = 0
        self.bot_changes = 0

    def run(self, pulls: list[PullPlan], pushes: list[PushPlan]) -> History:
        events: list[tuple[int, int, PullPlan | PushPlan, int]] = []
        for pull in pulls:
            events += [(at, len(events), pull, index) for index, at in enumerate(pull.commit_times)]
            events.append((pull.merged_at, len(events), pull, -1))
        events += [(push.at, len(events), push, 0) for push in pushes]
        for _, _, plan, index in sorted(events, key=lambda event: (event[0], event[1])):
            if isinstance(plan, PushPlan):
                self._push(plan)
            elif index >= 0:
                self._pull_commit(plan, index)
            else:
                self._merge(plan)
        self.writer.set_ref("refs/heads/main", self.head)
        for slot in range(self.slots):
            self.writer.delete_ref(_slot_ref(slot))
        return History(
            people=self.people,
            head=self.head,
            pulls=tuple(sorted(self.landed, key=lambda pull: pull.plan.number)),
            planted=tuple(self.planted),
            commits=self.written,
            changes=self.pushes + sum(pull.landed for pull in self.landed),
            direct_pushes=self.pushes,
            bot_changes=self.bot_changes,
        )

    def _write(self, ref: str, commit: Commit, changes: Changes, tree: Tree) -> str:
        self.written += 1
        return self.writer.commit(ref, commit, changes, tree)

    def _land(self, commit: Commit, changes: Changes, tree: Tree) -> str:
        self.head = self._write("refs/heads/main", commit, changes, tree)
        self.tree = tree
        self.editor.record(changes)
        return self.head

    def _push(self, plan: PushPlan) -> None:
        if plan.kind is Kind.ROOT:
            changes: Overlay = {"README.md": b"# infra-live\n"}
            message = "Initial commit\n"
        elif plan.kind is Kind.IMAGE_UPDATE:
            changes, message = self.editor.image_update(plan.scope)
        else:
            changes, summary = self.editor.human(plan.scope, {})
            message = messages.hotfix(plan.scope, summary, plan.reviewed_by, plan.ticket)
        actor = plan.actor
        identity = actor.work if isinstance(actor, Person) else actor.identity
        author = _stamp(identity, plan.at, actor)
        web = plan.kind is Kind.ROOT
        committer = _stamp(WEB_FLOW, plan.at, actor) if web else author
        parents = (self.head,) if self.head else ()
        tree = self.tree.apply(changes)
        signature = self._signature(None if web else actor)
        commit = Commit(tree.oid.hex(), parents, author, committer, message, signature=signature)
        sha = self._land(commit, changes, tree)
        self.pushes += 1
        if isinstance(actor, Bot):
            self.bot_changes += 1
        if plan.planted:
            note = NOTES[plan.planted]
            if plan.kind is Kind.ROOT:
                note = "the repository's creation commit, " + note
            self.planted.append(Planted(plan.planted, None, sha, note, sha))

    def _pull_changes(self, branch: Branch, index: int) -> Change:
        plan, editor, overlay = branch.plan, self.editor, branch.overlay
        scope = plan.scopes[0] if plan.scopes else ""
        if plan.kind is Kind.IMPORT:
            return editor.import_all()
        if plan.kind is Kind.ONBOARD and index == 0:
            return editor.onboard(scope.rsplit("/", 1)[1])
        if plan.planted == "secret-in-code" and index == 0:
            return editor.leak(scope, overlay)
        if plan.planted == "sensitive-single-approval" and index == 0:
            return editor.grant(scope, overlay)
        if plan.kind is Kind.RENOVATE:
            return editor.renovate(scope, overlay)
        if plan.kind is Kind.DEPENDABOT:
            return editor.dependabot(overlay)
        return editor.human(scope, overlay)

    def _pull_commit(self, plan: PullPlan, index: int) -> None:
        if index == 0:
            free = sorted(set(range(self.slots + 1)) - {b.slot for b in self.branches.values()})
            self.slots = max(self.slots, free[0] + 1)
            self.branches[plan.number] = Branch(plan, free[0], self.head, self.tree)
        branch = self.branches[plan.number]
        changes, summary = self._pull_changes(branch, index)
        author_identity, committer_identity, encoding = self._identities(plan, index)
        actor = plan.pushers[index]
        by_forge = committer_identity is WEB_FLOW
        when = plan.commit_times[index]
        if index == 0:
            messages.describe(self.rng, branch, summary)
        message = messages.commit(self.rng, branch, index, summary, author_identity, encoding)
        tree = branch.tree.apply(changes)
        commit = Commit(
            tree.oid.hex(),
            (branch.head,),
            _stamp(author_identity, when, actor),
            _stamp(committer_identity, when, actor),
            message,
            encoding=encoding,
            signature=self._signature(None if by_forge else actor),
        )
        self._write(_slot_ref(branch.slot), commit, changes, tree)
        branch.tree = tree
        branch.commits.append(commit)
        branch.changesets.append(changes)
        branch.overlay.update(changes)

    def _identities(self, plan: PullPlan, index: int) -> tuple[Identity, Identity, str | None]:
        """Author and committer of a branch commit, and the legacy encoding of its message."""
        actor = plan.pushers[index]
        if isinstance(actor, Bot):
            return actor.identity, WEB_FLOW, None  # apps commit through GitHub's API
        if plan.planted == "unresolved-identity" and index == len(plan.pushers) - 1:
            return CONTRACTOR, actor.work, None
        if self._writes_latin1(actor):
            ascii_identity = actor.identities[1]
            return ascii_identity, ascii_identity, "ISO-8859-1"
        identity = actor.pick_identity(self.rng)
        if identity.email.endswith("users.noreply.github.com"):
            return identity, WEB_FLOW, None
        return identity, identity, None

    def _writes_latin1(self, person: Person) -> bool:
        """François's old editor saved a few messages in Latin-1, with an ASCII name."""
        if not person.name.startswith("François") or self.latin1 >= LATIN1_LIMIT:
            return False
        if self.rng.random() >= 0.3:
            return False
        self.latin1 += 1
        return True

    def _signature(self, actor: Actor | None) -> str | None:
        """The signature ``actor`` puts on a commit; GitHub's (PGP) for ``None``, the commits
        GitHub writes itself. Apps committing through the API are signed by GitHub too."""
        method = "pgp" if actor is None else actor.signing
        return messages.signature(self.rng, method) if method else None

    def _merge(self, plan: PullPlan) -> None:
        branch = self.branches.pop(plan.number)
        touched = set(branch.overlay)
        needed = any(security_owned(path) for path in touched)
        reviews = tuple(r for r in plan.reviews if needed or not r.conditional)
        merger = plan.merged_by
        merger_identity = merger.work if isinstance(merger, Person) else merger.identity
        when = plan.merged_at
        overlay = branch.overlay
        copies: list[str] = []
        if plan.method is Method.REBASE:
            for original, changes in zip(branch.commits, branch.changesets, strict=True):
                tree = self.tree.apply(changes)
                replay = Commit(
                    tree.oid.hex(),
                    (self.head,),
                    original.author,
                    _stamp(merger_identity, when, merger),
                    original.message,
                    encoding=original.encoding,
                )  # GitHub cannot sign a rebased commit for its author: it stays unsigned
                copies.append(self._land(replay, changes, tree))
            landed = len(branch.commits)
        else:
            parents: tuple[str, ...] = (self.head,)
            if plan.method is Method.MERGE:
                parents = (self.head, branch.head)
                author = _stamp(merger_identity, when, merger)
                message = messages.merge(branch)
            else:
                author_actor = plan.author
                identity = (
                    author_actor.work if isinstance(author_actor, Person) else author_actor.identity
                )
                author = _stamp(identity, when, author_actor)
                message = messages.squash(branch)
            tree = self.tree.apply(overlay)
            committer = _stamp(WEB_FLOW, when, merger)
            signature = self._signature(None)
            commit = Commit(
                tree.oid.hex(), parents, author, committer, message, signature=signature
            )
            self._land(commit, overlay, tree)
            landed = 1
        if isinstance(plan.author, Bot):
            self.bot_changes += landed
        pull = LandedPull(
            plan, branch.title, branch.body, branch.name, branch.base, tuple(branch.commits),
            self.head, landed, reviews, tuple(copies),
        )  # fmt: skip
        self.landed.append(pull)
        if plan.planted:
            self.planted.append(_planted(pull))


def _planted(pull: LandedPull) -> Planted:
    kind = pull.plan.planted
    assert kind is not None
    on_branch = {"self-approval", "stale-approval", "unresolved-identity"}
    index = len(pull.commits) - 1
    if kind in on_branch:
        sha = pull.commits[-1].sha
    elif kind == "secret-in-code":
        sha, index = pull.commits[0].sha, 0
    else:
        sha = pull.merge_sha
    change = pull.copies[index] if pull.copies else pull.merge_sha
    return Planted(kind, pull.plan.number, sha, NOTES[kind], change)


def _slot_ref(slot: int) -> str:
    return f"refs/scratch/{slot}"


def _stamp(identity: Identity, when: int, actor: Actor) -> Stamp:
    month = datetime.fromtimestamp(when, UTC).month
    offset = 0 if identity is WEB_FLOW else actor.zone.offset(month)
    return Stamp(identity.name, identity.email, when, offset)
