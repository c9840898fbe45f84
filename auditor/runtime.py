"""Process-wide settings for auditor's own processes: the command line and the run's workers."""

from __future__ import annotations

import gc

# CPython collects its youngest generation every 700 net allocations and, every so often,
# re-scans everything older: with the large, long-lived and acyclic structures auditor builds
# (the ledger, the facts, 100,000s of findings, a laid-out PDF), that re-scanning took about an
# eighth of a 5,195-change report of every format (31.7 s -> 27.5-28.1 s; 16 MB more at peak).
YOUNG_GENERATION = 50_000


_batch = False  # set by for_batch_work: this process runs one command, then ends


def for_batch_work() -> None:
    """Collect cyclic garbage less often: auditor makes few cycles and many objects."""
    global _batch
    _batch = True
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, old)


def long_lived() -> None:
    """What the process has built so far lives until it ends (the ledger, the change facts,
    the findings): the collector stops re-scanning it. Each full collection scans every object
    not frozen, and the 51,875-change ``check`` holds tens of millions of them: a quarter of its
    CPU time went to scanning them again and again. Only in a process that ends with its command
    (one :func:`for_batch_work` set up), as cyclic garbage made before the call stays; a no-op
    elsewhere (a test run, a program calling the library)."""
    if _batch:
        gc.freeze()
