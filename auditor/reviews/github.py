"""Merged pull requests, their commits and reviews from the GitHub REST API (v3)."""

from __future__ import annotations

from datetime import datetime

from auditor.reviews.http import ApiSource, Params
from auditor.reviews.interface import (
    AccountType,
    Bundle,
    ChangeRequest,
    Forge,
    Payload,
    PayloadError,
    RequestCommit,
    RequestNumber,
    RequestState,
    Review,
    ReviewId,
    ReviewState,
)

GITHUB_API = "https://api.github.com"
PAGE_SIZE = 100
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubSource(ApiSource):
    """Merged pull requests of one repository (``owner/name``).

    GitHub lists at most 250 commits of a pull request. A longer one is yielded with the commits
    GitHub gave, ``commit_count`` set to the real number, and an ``EvidenceGap`` in ``gaps``.
    """

    forge = Forge.GITHUB
    bundles_key = "pulls"

    def _listing(self, base_branch: str, updated_since: datetime | None) -> tuple[str, Params]:
        params: Params = {
            "state": "closed",
            "base": base_branch,
            "sort": "updated",
            "direction": "desc",
            "per_page": PAGE_SIZE,
        }
        return f"/repos/{self.repository}/pulls", params

    def _merged(self, item: Payload) -> bool:
        return item.opt_text("merged_at") is not None

    def _bundle(self, item: Payload) -> Bundle:
        path = f"/repos/{self.repository}/pulls/{item.number('number')}"
        per_page = {"per_page": PAGE_SIZE}
        return {
            "pull": self._client.get(path),
            "commits": self._client.collect(f"{path}/commits", per_page),
            "reviews": self._client.collect(f"{path}/reviews", per_page),
        }

    @staticmethod
    def parse(bundle: Payload) -> ChangeRequest:
        pull = bundle.obj("pull")
        author = pull.opt_obj("user")
        merged_at = pull.opt_time("merged_at")
        merged_by = pull.opt_obj("merged_by")
        head, base = pull.obj("head"), pull.obj("base")
        if merged_at is not None:
            state = RequestState.MERGED
        else:
            state = RequestState.CLOSED if pull.text("state") == "closed" else RequestState.OPEN
        return ChangeRequest(
            forge=Forge.GITHUB,
            number=RequestNumber(pull.number("number")),
            title=pull.text("title"),
            body=pull.opt_text("body") or "",
            url=pull.text("html_url"),
            author_login=author.text("login") if author else None,
            author_type=_account_type(author),
            state=state,
            created_at=pull.time("created_at"),
            updated_at=pull.time("updated_at"),
            merged_at=merged_at,
            closed_at=pull.opt_time("closed_at"),
            base_ref=base.text("ref"),
            head_ref=head.text("ref"),
            head_sha=head.text("sha"),
            base_sha=base.text("sha"),
            merge_commit_sha=pull.opt_text("merge_commit_sha"),
            squash_commit_sha=None,
            merged_by=merged_by.text("login") if merged_by else None,
            labels=tuple(label.text("name") for label in pull.objs("labels")),
            commits=tuple(_commit(item) for item in bundle.objs("commits")),
            reviews=tuple(_review(item) for item in bundle.objs("reviews")),
            commit_count=pull.opt_number("commits"),
        )


def _account_type(user: Payload | None) -> AccountType:
    if user is None:
        return AccountType.UNKNOWN
    return AccountType.BOT if user.opt_text("type") == "Bot" else AccountType.USER


def _commit(item: Payload) -> RequestCommit:
    git = item.obj("commit")
    author, committer = git.obj("author"), git.obj("committer")
    account, committer_account = item.opt_obj("author"), item.opt_obj("committer")
    verification = git.opt_obj("verification")
    reason = verification.opt_text("reason") if verification else None
    return RequestCommit(
        sha=item.text("sha"),
        parents=tuple(parent.text("sha") for parent in item.objs("parents")),
        author_name=author.text("name"),
        author_email=author.text("email"),
        authored_at=author.time("date"),
        committer_name=committer.text("name"),
        committer_email=committer.text("email"),
        committed_at=committer.time("date"),
        author_login=account.opt_text("login") if account else None,
        committer_login=committer_account.opt_text("login") if committer_account else None,
        message=git.text("message"),
        signed=None if reason is None else reason != "unsigned",
    )


_STATES = {state.name: state for state in ReviewState}


def _review(item: Payload) -> Review:
    user = item.opt_obj("user")
    state = item.text("state")
    if state not in _STATES:
        raise PayloadError(item.key("state"), f"unknown review state {state!r}")
    review_id = item.opt_number("id")
    return Review(
        id=None if review_id is None else ReviewId(str(review_id)),
        reviewer_login=user.text("login") if user else None,
        reviewer_type=_account_type(user),
        state=_STATES[state],
        submitted_at=item.opt_time("submitted_at"),
        commit_id=item.opt_text("commit_id"),
        url=item.opt_text("html_url"),
    )
