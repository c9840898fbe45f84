"""Work shared out to forked processes, which inherit what they work on (a report, compiled
rules, file contents) instead of receiving it pickled (Linux, more than one core)."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from auditor.cores import available_cores

_SHARED: list[Any] = []  # what the forked processes inherit, set while a pool is open


def can_fork() -> bool:
    """Whether forked workers can help here: a platform that forks safely, spare cores."""
    return sys.platform == "linux" and available_cores() > 1


@contextmanager
def forked_pool(shared: object, workers: int) -> Iterator[Callable[..., Future[Any]]]:
    """A pool of ``workers`` forked processes that see ``shared``; yields ``submit``:
    ``submit(fn, *args)`` runs ``fn(shared, *args)`` in one of them (``fn`` at module level).
    Leaving the block waits for every submitted call."""
    _SHARED[:] = [shared]
    try:
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=fork) as pool:
            yield lambda fn, *args: pool.submit(_call, fn, *args)
    finally:
        _SHARED.clear()


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(_SHARED[0], *args)
