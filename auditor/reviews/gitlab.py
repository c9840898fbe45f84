"""Merged merge requests, their commits and approvals from the GitLab REST API (v4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from auditor.reviews.http import ApiSource, Params
from auditor.reviews.interface import (
    AccountType,
    Bundle,
    ChangeRequest,
    Forge,
    Payload,
    RequestCommit,
    RequestNumber,
    RequestState,
    Review,
    ReviewState,
)

GITLAB_API = "https://gitlab.com/api/v4"
PAGE_SIZE = 100
_TOKEN_BOT = re.compile(r"^(?:project|group)_\d+_bot(?:_|$)")
_STATES = {"merged": RequestState.MERGED, "closed": RequestState.CLOSED}


def project_id(path: str) -> str:
    """GitLab's URL-encoded project path: ``group/sub/project`` → ``group%2Fsub%2Fproject``."""
    return quote(path.strip("/"), safe="")


class GitLabSource(ApiSource):
    """Merged merge requests of one project (``group/…/project``).

    Approvals become APPROVED reviews. GitLab does not say which commit an approval was given
    on, and older versions do not say when: those fields are None.
    """

    forge = Forge.GITLAB
    bundles_key = "merge_requests"

    def _listing(self, base_branch: str, updated_since: datetime | None) -> tuple[str, Params]:
        params: dict[str, str | int] = {
            "state": "merged",
            "target_branch": base_branch,
            "order_by": "updated_at",
            "sort": "desc",
            "per_page": PAGE_SIZE,
        }
        if updated_since is not None:
            since = updated_since.astimezone(UTC).isoformat(timespec="seconds")
            params["updated_after"] = since.replace("+00:00", "Z")
        return f"{self._project}/merge_requests", params

    @property
    def _project(self) -> str:
        return f"/projects/{project_id(self.repository)}"

    def _bundle(self, item: Payload) -> Bundle:
        path = f"{self._project}/merge_requests/{item.number('iid')}"
        return {
            "merge_request": dict(item.data),
            "commits": self._client.collect(f"{path}/commits", {"per_page": PAGE_SIZE}),
            "approvals": self._client.get(f"{path}/approvals"),
        }

    @staticmethod
    def parse(bundle: Payload) -> ChangeRequest:
        request = bundle.obj("merge_request")
        author = request.opt_obj("author")
        merger = request.opt_obj("merge_user") or request.opt_obj("merged_by")
        diff_refs = request.opt_obj("diff_refs")
        approvals = bundle.obj("approvals")
        return ChangeRequest(
            forge=Forge.GITLAB,
            number=RequestNumber(request.number("iid")),
            title=request.text("title"),
            body=request.opt_text("description") or "",
            url=request.text("web_url"),
            author_login=author.text("username") if author else None,
            author_type=_account_type(author),
            state=_STATES.get(request.text("state"), RequestState.OPEN),
            created_at=request.time("created_at"),
            updated_at=request.time("updated_at"),
            merged_at=request.opt_time("merged_at"),
            closed_at=request.opt_time("closed_at"),
            base_ref=request.text("target_branch"),
            head_ref=request.text("source_branch"),
            head_sha=request.text("sha"),
            base_sha=diff_refs.opt_text("base_sha") if diff_refs else None,
            merge_commit_sha=request.opt_text("merge_commit_sha"),
            squash_commit_sha=request.opt_text("squash_commit_sha"),
            merged_by=merger.text("username") if merger else None,
            labels=tuple(
                _label(label, request.key(f"labels[{index}]"))
                for index, label in enumerate(request.items("labels"))
            ),
            commits=tuple(_commit(item) for item in bundle.objs("commits")),
            reviews=tuple(_approval(item) for item in approvals.objs("approved_by")),
        )


def _account_type(user: Payload | None) -> AccountType:
    if user is None:
        return AccountType.UNKNOWN
    if user.flag("bot") or _TOKEN_BOT.match(user.text("username")):
        return AccountType.BOT
    return AccountType.USER


def _label(label: Any, where: str) -> str:
    return label if isinstance(label, str) else Payload.of(label, where).text("name")


def _commit(item: Payload) -> RequestCommit:
    return RequestCommit(
        sha=item.text("id"),
        parents=item.texts("parent_ids"),
        author_name=item.text("author_name"),
        author_email=item.text("author_email"),
        authored_at=item.time("authored_date"),
        committer_name=item.text("committer_name"),
        committer_email=item.text("committer_email"),
        committed_at=item.time("committed_date"),
        author_login=None,
        committer_login=None,
        message=item.text("message"),
    )


def _approval(item: Payload) -> Review:
    user = item.obj("user")
    return Review(
        id=None,
        reviewer_login=user.text("username"),
        reviewer_type=_account_type(user),
        state=ReviewState.APPROVED,
        submitted_at=item.opt_time("approved_at"),
        commit_id=None,
        url=None,
    )
