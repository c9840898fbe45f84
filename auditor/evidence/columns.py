"""The column contract: every table auditor writes, its columns defined once.

Every writer of a table takes its columns from here — the pack's ``csv/`` files, ``auditor
changes``, ``auditor check --format csv|json`` — and every header profile spells these columns
(:func:`title_header` for ``--header-profile title``), so a file has one layout wherever it is
written. The README lists the same columns (a test reads it and compares).
"""

from __future__ import annotations

CHANGE_COLUMNS = (
    "repo", "change_id", "commit", "branch", "authored_at", "author_name", "author_email",
    "committed_at", "committer_name", "committer_email", "landed_at", "subject",
    "files_changed", "lines_added", "lines_deleted", "signature", "signature_kind",
    "change_request", "change_request_url", "approvers", "merged_by", "contributors", "categories",
    "environments", "parents", "is_merge", "is_bot", "author_raw_name", "author_raw_email",
    "committer_raw_name", "committer_raw_email", "co_authors", "trailers", "paths",
    "commit_notes", "rewritten", "review_evidence", "deployment_status", "deployed_to",
    "first_deployed_at", "lead_time_minutes",
)  # fmt: skip

DEPLOYMENT_COLUMNS = (
    "repo", "system", "environment", "revision", "change_id", "deployed_at", "actor",
    "automated", "source", "record_id", "kind", "forced", "on_branch", "commit",
    "changes_brought", "replaced_at", "url",
)  # fmt: skip

COMMIT_COLUMNS = (
    "repo", "commit", "change_id", "change_commit", "branch", "parents", "authored_at",
    "author_name", "author_email", "committed_at", "committer_name", "committer_email",
    "subject", "signature", "signature_kind", "is_bot", "author_raw_name", "author_raw_email",
    "committer_raw_name", "committer_raw_email", "trailers", "commit_notes",
)  # fmt: skip

RESOURCE_COLUMNS = (
    "repo", "change_id", "commit", "landed_at", "author_name", "author_email", "path",
    "file_kind", "environment", "address", "resource_kind", "type", "operation",
    "changed_attributes", "categories",
)  # fmt: skip

FINDING_COLUMNS = (
    "control_id", "framework_refs", "repo", "change_id", "commit", "change_request", "status",
    "reason", "waiver_id", "severity", "landed_at", "change_request_url", "control_title",
)  # fmt: skip
CONTROL_COLUMNS = (
    "control_id", "title", "framework_refs", "population", "passed", "failed", "unknown",
    "not_applicable", "waived", "status", "severity", "check",
)  # fmt: skip
SAMPLE_COLUMNS = (
    "control_id", "position", "change_id", "repo", "commit", "landed_at", "subject",
    "change_request", "change_request_url", "status", "reason", "waiver_id",
)  # fmt: skip

POPULATION_COLUMNS = (
    "control_id", "change_id", "position", "draw_key", "sampled", "status", "repo", "commit",
    "landed_at",
)  # fmt: skip

PROTECTION_COLUMNS = (
    "repo", "branch", "collected_at", "collection", "setting", "value", "sources", "reason",
)  # fmt: skip
BYPASS_COLUMNS = ("repo", "branch", "collected_at", "actor", "kind", "mode", "source")
CHECK_COLUMNS = (
    "repo", "change_request", "change_id", "commit", "name", "kind", "app", "conclusion",
    "started_at", "completed_at", "on_merge_commit", "url", "collection", "reason",
)  # fmt: skip

_TITLE_WORDS = {"id": "ID", "url": "URL", "sha": "SHA"}


def title_header(column: str) -> str:
    """``change_request_url`` → ``Change Request URL``."""
    return " ".join(_TITLE_WORDS.get(w, w.capitalize()) for w in column.split("_"))


# Every table by the name the README gives it: the pack's csv/<name>.csv, and ``resources``,
# which only ``auditor changes --level resource`` writes.
TABLES: dict[str, tuple[str, ...]] = {
    "changes": CHANGE_COLUMNS,
    "commits": COMMIT_COLUMNS,
    "resources": RESOURCE_COLUMNS,
    "findings": FINDING_COLUMNS,
    "controls": CONTROL_COLUMNS,
    "sample": SAMPLE_COLUMNS,
    "populations": POPULATION_COLUMNS,
    "deployments": DEPLOYMENT_COLUMNS,
    "protection": PROTECTION_COLUMNS,
    "bypass_actors": BYPASS_COLUMNS,
    "checks": CHECK_COLUMNS,
}
