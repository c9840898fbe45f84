"""``reviews export``: review data saved for air-gapped re-performance."""

from __future__ import annotations
