"""The contract's fixed column sets (../shared/CONTRACT.md), shared by the tests that check them."""

CONTRACT_CHANGE_COLUMNS = (
    "repo", "change_id", "commit", "authored_at", "author_name", "author_email",
    "committed_at", "committer_name", "committer_email", "landed_at", "subject",
    "files_changed", "lines_added", "lines_deleted", "signature", "change_request",
    "change_request_url", "approvers", "merged_by", "categories", "contributors",
)  # fmt: skip
CONTRACT_FINDING_COLUMNS = (
    "control_id", "framework_refs", "repo", "change_id", "commit", "change_request", "status",
    "reason", "waiver_id",
)  # fmt: skip
CONTRACT_STATUSES = ("pass", "fail", "unknown", "not_applicable", "waived")
