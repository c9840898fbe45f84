"""``run``, ``runs`` and ``init``: scheduled runs from a config file."""

from __future__ import annotations
