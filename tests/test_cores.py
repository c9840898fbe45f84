"""auditor sizes its processes by the cores it may run on, not by the machine's."""

from __future__ import annotations

import os
import subprocess
import sys

from auditor.cores import available_cores


def test_every_core_this_process_may_use() -> None:
    assert available_cores() == len(os.sched_getaffinity(0)) >= 1


def test_a_process_held_to_one_core_sees_one() -> None:
    first = min(os.sched_getaffinity(0))
    out = subprocess.run(
        [sys.executable, "-c", "from auditor.cores import available_cores as a; print(a())"],
        preexec_fn=lambda: os.sched_setaffinity(0, {first}),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"
