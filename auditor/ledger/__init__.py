"""The ledger stage: Git history → commits, changes, custody, period queries, diffs, analysis."""
