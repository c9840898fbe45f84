"""The per-repository work of a run on a Dask cluster: one task per repository.

``auditor run --scheduler tcp://host:8786`` connects to an existing Dask distributed scheduler and
submits :func:`auditor.runs.workers.work` once per repository; the results come back to this
process, which evaluates, reports and writes the pack exactly as a local run does, so the pack is
the same. Workers need auditor installed (``pip install 'auditor[dask]'``) and must see the run's
store directory and local repository paths at the same paths (a shared filesystem); repositories
named by URL are cloned by the workers into the store's mirror cache. Dask is an optional extra: it
is imported here only, and its absence is a clear usage error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from auditor.errors import UsageError
from auditor.ledger.mining import Progress
from auditor.runs.workers import RepoOutcome, RepoTask, work

CONNECT_TIMEOUT = "30s"


def run_on_dask(
    address: str, tasks: Sequence[RepoTask], progress: Progress
) -> Iterator[RepoOutcome]:
    """Run ``tasks`` on the cluster whose scheduler listens at ``address``; their outcomes as
    they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError(
            "--scheduler needs Dask distributed: pip install 'auditor[dask]'"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise UsageError(
            f"--scheduler: cannot reach a Dask scheduler at {address}: {err}"
        ) from None
    with client:
        futures: dict[Any, RepoTask] = {
            client.submit(work, task, pure=False): task for task in tasks
        }
        for future in as_completed(futures, loop=client.loop):
            try:
                outcome = future.result()
            except Exception as err:  # the cluster lost the task (a worker died): that
                # repository is missing from the pack, like an unreachable one
                task = futures[future]
                reason = f"cluster task failed: {type(err).__name__}: {err}"
                outcome = RepoOutcome(task.index, None, reason)
            yield outcome
            progress.advance(1)
