"""The review data GitHub's REST API (v3) would return for the sample repository's pull requests.

Payloads follow ``GET /repos/{owner}/{repo}/pulls/{n}``, ``.../pulls/{n}/commits`` and
``.../pulls/{n}/reviews``; only the fields an audit reads and their neighbours are kept.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from random import Random
from typing import Any

from auditor.demo import guard
from auditor.demo.history import LandedPull
from auditor.demo.objects import Commit, Stamp
from auditor.demo.people import (
    CONTRACTOR,
    DEPENDABOT,
    RENOVATE,
    WEB_FLOW,
    Account,
    Actor,
    Person,
)
from auditor.demo.plan import ReviewState

REPOSITORY = "acme/infra-live"
API = "https://api.github.com"
WEB = "https://github.com"
PULLS = f"{API}/repos/{REPOSITORY}/pulls"
LABEL_COLORS = {
    "dependencies": "0366d6",
    "emergency": "b60205",
    "production": "d93f0b",
}
SIGNATURE_REASONS = {"PGP": (True, "valid"), "SSH": (True, "valid")}


def timestamp(when: int) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export(
    pulls: tuple[LandedPull, ...],
    people: tuple[Person, ...],
    seed: int,
    end: int,
    start: int | None = None,
) -> dict[str, Any]:
    """The export document ``auditor reviews export`` would write for these pull requests,
    with the branch protection snapshots of ``main`` the scheduled runs took from ``start`` and
    the checks of each pull request (see :mod:`auditor.demo.guard`)."""
    accounts = _accounts(people)
    ids = Random(seed)
    return {
        "schema_version": 1,
        "forge": "github",
        "repository": REPOSITORY,
        "base_url": API,
        "exported_at": timestamp(end),
        "complete": True,
        "pulls": [_bundle(pull, accounts, ids) for pull in pulls],
        "protection": guard.protection(end if start is None else start, end),
        "checks": guard.checks(pulls),
    }


def _accounts(people: tuple[Person, ...]) -> dict[str, Account | None]:
    identities = [identity for person in people for identity in person.identities]
    identities += [RENOVATE.identity, DEPENDABOT.identity, WEB_FLOW, CONTRACTOR]
    return {identity.email: identity.account for identity in identities}


def user(account: Account) -> dict[str, Any]:
    web = f"{WEB}/apps/{account.login.removesuffix('[bot]')}" if account.type == "Bot" else ""
    return {
        "login": account.login,
        "id": account.id,
        "type": account.type,
        "site_admin": False,
        "url": f"{API}/users/{account.login}",
        "html_url": web or f"{WEB}/{account.login}",
    }


def _actor(actor: Actor) -> dict[str, Any] | None:
    return user(actor.account) if actor.account else None


def _bundle(pull: LandedPull, accounts: dict[str, Account | None], ids: Random) -> dict[str, Any]:
    plan = pull.plan
    number = plan.number
    reviews = [_review(pull, index, ids) for index in range(len(pull.reviews))]
    updated = max([plan.merged_at] + [review.at for review in pull.reviews])
    association = "MEMBER" if isinstance(plan.author, Person) else "NONE"
    payload = {
        "url": f"{PULLS}/{number}",
        "id": 1_800_000_000 + number * 1000 + ids.randrange(1000),
        "html_url": f"{WEB}/{REPOSITORY}/pull/{number}",
        "number": number,
        "state": "closed",
        "locked": False,
        "title": pull.title,
        "user": _actor(plan.author),
        "body": pull.body,
        "labels": [_label(name) for name in plan.labels],
        "created_at": timestamp(plan.opened_at),
        "updated_at": timestamp(updated),
        "closed_at": timestamp(plan.merged_at),
        "merged_at": timestamp(plan.merged_at),
        "merge_commit_sha": pull.merge_sha,
        "assignees": [],
        "requested_reviewers": [],
        "head": _ref(pull.branch, pull.commits[-1].sha),
        "base": _ref("main", pull.base),
        "author_association": association,
        "auto_merge": None,
        "draft": False,
        "merged": True,
        "mergeable": None,
        "merged_by": _actor(plan.merged_by),
        "comments": 0,
        "review_comments": 0,
        "commits": len(pull.commits),
    }
    return {
        "pull": payload,
        "commits": [_commit(commit, accounts) for commit in pull.commits],
        "reviews": reviews,
    }


def _label(name: str) -> dict[str, Any]:
    return {
        "id": 5_000_000_000 + sum(ord(char) * 31**i for i, char in enumerate(name)) % 10**9,
        "name": name,
        "color": LABEL_COLORS.get(name, "ededed"),
        "default": False,
        "description": None,
    }


def _ref(name: str, sha: str) -> dict[str, Any]:
    return {"label": f"acme:{name}", "ref": name, "sha": sha}


def _review(pull: LandedPull, index: int, ids: Random) -> dict[str, Any]:
    plan = pull.plan
    review = pull.reviews[index]
    review_id = 2_000_000_000 + plan.number * 100 + index * 10 + ids.randrange(10)
    body = {
        ReviewState.APPROVED: "LGTM",
        ReviewState.CHANGES_REQUESTED: "Please split the plan output per environment.",
        ReviewState.COMMENTED: "Checked the plan, one question inline.",
        ReviewState.DISMISSED: "Looks good.",
    }[review.state]
    return {
        "id": review_id,
        "user": user(review.reviewer.account),
        "body": body,
        "state": review.state.value,
        "html_url": f"{WEB}/{REPOSITORY}/pull/{plan.number}#pullrequestreview-{review_id}",
        "pull_request_url": f"{PULLS}/{plan.number}",
        "author_association": "MEMBER",
        "submitted_at": timestamp(review.at),
        "commit_id": pull.commits[review.commit].sha,
    }


def _person(stamp: Stamp) -> dict[str, str]:
    return {"name": stamp.name, "email": stamp.email, "date": timestamp(stamp.when)}


def _commit(commit: Commit, accounts: dict[str, Account | None]) -> dict[str, Any]:
    sha = commit.sha
    author = accounts.get(commit.author.email)
    committer = accounts.get(commit.committer.email)
    return {
        "sha": sha,
        "url": f"{API}/repos/{REPOSITORY}/commits/{sha}",
        "html_url": f"{WEB}/{REPOSITORY}/commit/{sha}",
        "commit": {
            "author": _person(commit.author),
            "committer": _person(commit.committer),
            "message": commit.message.rstrip("\n"),
            "tree": {"sha": commit.tree},
            "comment_count": 0,
            "verification": _verification(commit),
        },
        "author": user(author) if author else None,
        "committer": user(committer) if committer else None,
        "parents": [
            {"sha": parent, "url": f"{API}/repos/{REPOSITORY}/commits/{parent}"}
            for parent in commit.parents
        ],
    }


def _verification(commit: Commit) -> dict[str, Any]:
    if not commit.signature:
        return {"verified": False, "reason": "unsigned", "signature": None, "payload": None}
    kind = "SSH" if "SSH SIGNATURE" in commit.signature else "PGP"
    verified, reason = SIGNATURE_REASONS[kind]
    payload = replace(commit, signature=None).raw().decode(commit.codec)
    return {
        "verified": verified,
        "reason": reason,
        "signature": commit.signature,
        "payload": payload,
    }
