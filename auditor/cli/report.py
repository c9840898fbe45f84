"""``report`` and ``verify``: the audit pack."""

from __future__ import annotations
