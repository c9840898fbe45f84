"""A small infrastructure repository built on the fly, with the payloads its forge would serve.

``build`` writes the history of a well-run team (a merged and a squashed pull request, each
approved by someone else) and, with ``violations``, a request its author merged unapproved and
a direct push. The payloads are shaped by ``forge_server``'s GitHub or GitLab helpers from the
real commits, so ``auditor check --forge ... --forge-url <server>`` links them as it would the
real forge's.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forge_server import (
    github_commit,
    github_protection,
    github_pull,
    github_review,
    gitlab_approvals,
    gitlab_commit,
    gitlab_merge_request,
    gitlab_project_approvals,
    gitlab_protected_branch,
)
from gitrepo import BASE_TIME, GitRepo

ALICE = ("Alice Admin", "alice@example.com")
BOB = ("Bob Builder", "bob@example.com")
CAROL = ("Carol Coder", "carol@example.com")
DAVE = ("Dave Merger", "dave@example.com")
ERIN = ("Erin Eager", "erin@example.com")
WEB_FLOW = ("GitHub", "noreply@github.com")
LOGINS = {email: name.split()[0].lower() for name, email in (ALICE, BOB, CAROL, DAVE, ERIN)}
GITHUB_REPO = "acme/infra-live"
GITLAB_PROJECT = "acme/platform/infra-live"
REMOTES = {
    "github": f"https://github.com/{GITHUB_REPO}.git",
    "gitlab": f"https://gitlab.example.com/{GITLAB_PROJECT}.git",
}
PERIOD_START = "2025-01-02"
"""The day after the root commit: a period that leaves the repository's creation out."""
DAY = 86400


@dataclass
class ForgeRepo:
    """The repository, the bundles its forge serves, and the change SHA of each step."""

    repo: GitRepo
    forge: str
    bundles: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[str, str] = field(default_factory=dict)
    protection: list[dict[str, Any]] = field(default_factory=list)
    """Raw branch protection snapshots, as ``auditor reviews export`` writes them."""

    @property
    def path(self) -> Path:
        return self.repo.path

    def roster(self, path: Path) -> Path:
        """A people roster naming everyone with their email and login."""
        lines = ["person,emails,logins"]
        lines += [f"{LOGINS[email]},{email},{LOGINS[email]}" for email in sorted(LOGINS)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def export(self) -> dict[str, Any]:
        """The review export document of these bundles, as `reviews export` writes it."""
        key = "pulls" if self.forge == "github" else "merge_requests"
        return {
            "schema_version": 1,
            "forge": self.forge,
            "repository": GITHUB_REPO if self.forge == "github" else GITLAB_PROJECT,
            "base_url": "https://api.github.com",
            "exported_at": "2026-01-01T00:00:00Z",
            "complete": True,
            key: self.bundles,
            "protection": self.protection,
        }

    def write_export(self, path: Path) -> Path:
        path.write_text(json.dumps(self.export(), indent=2), encoding="utf-8")
        return path


def build(repo: GitRepo, forge: str, *, violations: bool = True) -> ForgeRepo:
    """The history of ``repo`` on ``github`` or ``gitlab`` (see the module docstring)."""
    history = ForgeRepo(repo, forge, protection=protected_main(forge))
    repo.git("remote", "add", "origin", REMOTES[forge])
    history.changes["root"] = repo.commit(
        "Initial commit", {"README.md": "# infra-live\n"}, author=ALICE, when=BASE_TIME
    )
    repo.clock = BASE_TIME + 2 * DAY
    _merged(history, 1, CAROL, DAVE, DAVE, "OPS-1: describe the layout", "docs/layout.md")
    _merged(history, 2, BOB, CAROL, BOB, "OPS-2: add the on-call runbook", "docs/oncall.md")
    if violations:
        _merged(history, 3, ERIN, None, ERIN, "OPS-3: note the backup window", "docs/backup.md")
        history.changes["direct"] = repo.commit(
            "Fix a typo in the layout notes", {"docs/layout.md": "layout, fixed\n"}, author=BOB
        )
    return history


def _merged(
    history: ForgeRepo,
    number: int,
    author: tuple[str, str],
    approver: tuple[str, str] | None,
    merger: tuple[str, str],
    title: str,
    path: str,
) -> None:
    """A request of two commits by ``author``, approved on its head by ``approver`` (if any)
    before ``merger`` merges it with a merge commit, as the forge makes one."""
    repo = history.repo
    branch = f"change-{number}"
    repo.checkout("-b", branch)
    first = repo.commit(f"{title}\n\nFirst draft.", {path: "draft\n"}, author=author)
    head = repo.commit("Address review comments", {path: "final\n"}, author=author)
    repo.checkout("main")
    base = repo.head()
    approved_at = repo.clock + 600
    repo.clock += 3600
    stamp = f"@{repo.clock} +0000"
    if history.forge == "github":
        message = f"Merge pull request #{number} from acme/{branch}\n\n{title}"
        committer = WEB_FLOW
    else:
        message = f"Merge branch '{branch}' into 'main'\n\n{title}\n\nSee merge request "
        message += f"{GITLAB_PROJECT}!{number}"
        committer = merger
    repo.git(
        "merge", "-q", "--no-ff", "--no-gpg-sign", "-m", message, branch,
        env={
            "GIT_AUTHOR_NAME": merger[0], "GIT_AUTHOR_EMAIL": merger[1],
            "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1], "GIT_COMMITTER_DATE": stamp,
        },
    )  # fmt: skip
    merge = repo.head()
    history.changes[f"#{number}"] = merge
    merged_at = _iso(repo.clock)
    login = LOGINS[author[1]]
    if history.forge == "github":
        commits = [
            github_commit(sha, parents=(parent,), author=author[0], email=author[1], login=login,
                          date=_iso(_time(repo, sha)), message=_message(repo, sha))
            for sha, parent in ((first, _parent(repo, first)), (head, first))
        ]  # fmt: skip
        pull = github_pull(
            number, head_sha=head, author=login, merged_by=LOGINS[merger[1]],
            created_at=_iso(_time(repo, first)), updated_at=merged_at, merged_at=merged_at,
            commits=2,
        )  # fmt: skip
        pull |= {"title": title, "merge_commit_sha": merge, "base": {**pull["base"], "sha": base}}
        pull["head"]["ref"] = branch
        reviews = []
        if approver is not None:
            login, submitted = LOGINS[approver[1]], _iso(approved_at)
            reviews.append(
                github_review(number * 10, login, commit_id=head, submitted_at=submitted,
                              number=number)
            )  # fmt: skip
        history.bundles.append({"pull": pull, "commits": commits, "reviews": reviews})
    else:
        request = gitlab_merge_request(
            number, author=login, merge_user=LOGINS[merger[1]], updated_at=merged_at,
            merged_at=merged_at,
        )  # fmt: skip
        request |= {"title": title, "sha": head, "merge_commit_sha": merge, "source_branch": branch}
        request["diff_refs"] = {"base_sha": base, "head_sha": head, "start_sha": base}
        commits = [
            gitlab_commit(sha, parents=(parent,), author=author[0], email=author[1],
                          date=_iso(_time(repo, sha)), message=_message(repo, sha))
            for sha, parent in ((head, first), (first, _parent(repo, first)))
        ]  # fmt: skip
        approvers = (LOGINS[approver[1]],) if approver is not None else ()
        approvals = gitlab_approvals(number, *approvers, approved_at=_iso(approved_at))
        history.bundles.append(
            {"merge_request": request, "commits": commits, "approvals": approvals}
        )


def protected_main(forge: str, *, every: int = 30, until: int = BASE_TIME + 800 * DAY) -> list[Any]:
    """Raw snapshots of a well protected ``main`` (a request with one approval, no force push
    or deletion, admins included), one every ``every`` days from the repository's creation."""
    snapshots = []
    for moment in range(BASE_TIME, until, every * DAY):
        raw: dict[str, Any] = {"branch": "main", "collected_at": _iso(moment)}
        if forge == "github":
            raw |= {
                "protection": {"status": 200, "body": github_protection()},
                "rules": {"status": 200, "body": []},
                "rulesets": [],
            }
        else:
            raw |= {
                "protected_branches": {"status": 200, "body": [gitlab_protected_branch()]},
                "approvals": {"status": 200, "body": gitlab_project_approvals(1)},
                "approval_rules": {"status": 200, "body": []},
                "push_rule": {"status": 404, "body": {"message": "404 Not found"}},
            }
        snapshots.append(raw)
    return snapshots


def _parent(repo: GitRepo, sha: str) -> str:
    return repo.git("rev-parse", f"{sha}^")


def _time(repo: GitRepo, sha: str) -> int:
    return int(repo.git("log", "-1", "--format=%ct", sha))


def _message(repo: GitRepo, sha: str) -> str:
    return repo.git("log", "-1", "--format=%B", sha)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shallow_clone(source: Path, target: Path) -> Path:
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{source}", str(target)], check=True
    )
    return target
