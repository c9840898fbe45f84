"""Guard rails from a forge: branch protection snapshots (a timeline) and the checks of requests.

One module per forge (:mod:`auditor.guard.github`, :mod:`auditor.guard.gitlab`) collects raw
answers (:mod:`auditor.guard.answers`) and parses them into the records of
:mod:`auditor.guard.interface` (:mod:`auditor.guard.sources` picks the module);
:mod:`auditor.guard.collect` keeps them in the store and reads them from a review export.
:class:`GuardData` is what the rest of auditor sees; importing this package loads no forge code.
"""

from __future__ import annotations

from auditor.guard.interface import (
    SETTINGS,
    SNAPSHOT_GRACE,
    BypassActor,
    CheckKind,
    CheckRun,
    Collection,
    Conclusion,
    GuardData,
    ProtectionSettings,
    ProtectionSnapshot,
    RequestChecks,
    merged,
    pending,
)

__all__ = [
    "SETTINGS",
    "SNAPSHOT_GRACE",
    "BypassActor",
    "CheckKind",
    "CheckRun",
    "Collection",
    "Conclusion",
    "GuardData",
    "ProtectionSettings",
    "ProtectionSnapshot",
    "RequestChecks",
    "merged",
    "pending",
]
