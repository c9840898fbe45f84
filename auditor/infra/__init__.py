"""Infrastructure awareness: file kinds, resource changes, categories, secrets, environments.

Pure functions over file paths and contents; no Git access.
"""

from __future__ import annotations

from auditor.infra.analyse import MAX_PARSE_BYTES, analyse_file
from auditor.infra.kinds import classify
from auditor.infra.model import (
    AttributeChange,
    Category,
    FileAnalysis,
    FileKind,
    Operation,
    Pinning,
    Reference,
    RefKind,
    ResourceChange,
    ResourceKind,
    SecretHit,
    SecretKind,
    Signal,
    SignalKind,
)
from auditor.infra.rules import Rules
from auditor.infra.scope import EnvironmentPatterns, environment_of

__all__ = [
    "MAX_PARSE_BYTES",
    "AttributeChange",
    "Category",
    "EnvironmentPatterns",
    "FileAnalysis",
    "FileKind",
    "Operation",
    "Pinning",
    "RefKind",
    "Reference",
    "ResourceChange",
    "ResourceKind",
    "Rules",
    "SecretHit",
    "SecretKind",
    "Signal",
    "SignalKind",
    "analyse_file",
    "classify",
    "environment_of",
]
