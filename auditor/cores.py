"""How many cores auditor may use: the ones this process is allowed to run on."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The processors this process may run on (its CPU affinity, which ``taskset`` and container
    CPU sets narrow), else every processor of the machine; at least 1. "Every core" means these
    wherever auditor sizes its worker processes and git processes."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # no affinity on this platform (macOS)
        return os.cpu_count() or 1
