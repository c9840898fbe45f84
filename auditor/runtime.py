"""Process-wide settings for auditor's own processes: the command line and the run's workers."""

from __future__ import annotations

import gc

# CPython collects its youngest generation every 700 net allocations and, every so often,
# re-scans everything older: with the large, long-lived and acyclic structures auditor builds
# (the ledger, the facts, 100,000s of findings, a laid-out PDF), that re-scanning took about an
# eighth of a 5,195-change report of every format (31.7 s -> 27.5-28.1 s; 16 MB more at peak).
YOUNG_GENERATION = 50_000


def for_batch_work() -> None:
    """Collect cyclic garbage less often: auditor makes few cycles and many objects."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, old)
