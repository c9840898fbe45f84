"""Checks as code: each is a small function registered by name and referenced by control files.

``CHECKS`` maps a name to a :class:`ChangeCheck` (run on every change of a control's
population) or a :class:`RepositoryCheck` (run once per repository). Importing this package
registers every check.
"""

from __future__ import annotations

from auditor.evaluation.checks import deployment, guard, infra, integrity, policy, review, workflow
from auditor.evaluation.checks.registry import (
    CHECKS,
    ChangeCheck,
    Check,
    CheckContext,
    CheckFn,
    DeploymentCheck,
    ItemOutcome,
    Outcome,
    Params,
    RepositoryCheck,
    RepositoryCheckFn,
    check,
    repository_check,
)

__all__ = [
    "CHECKS",
    "ChangeCheck",
    "Check",
    "CheckContext",
    "CheckFn",
    "DeploymentCheck",
    "ItemOutcome",
    "Outcome",
    "Params",
    "RepositoryCheck",
    "RepositoryCheckFn",
    "check",
    "deployment",
    "guard",
    "infra",
    "integrity",
    "policy",
    "repository_check",
    "review",
    "workflow",
]
