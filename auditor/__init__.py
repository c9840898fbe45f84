"""auditor: turns the Git history of infrastructure repositories into audit evidence."""

from __future__ import annotations

__version__ = "0.1.0"
