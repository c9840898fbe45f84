"""The process-wide settings: what a command's process keeps away from the collector."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run

SCRIPT = """
import gc, json, sys
from auditor import runtime
batch = sys.argv[1] == "batch"
if batch:
    runtime.for_batch_work()
kept = [[i] for i in range(1000)]  # built before: lives on
runtime.long_lived()
print(json.dumps({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()[0]}))
"""


def _run(mode: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    )
    result: dict[str, int] = json.loads(out.stdout)
    return result


def test_a_command_process_freezes_what_it_built() -> None:
    batch = _run("batch")
    assert batch["frozen"] >= 1000 and batch["threshold"] == 50_000


def test_elsewhere_nothing_is_frozen() -> None:
    """A program calling the library (a test run) keeps collecting everything it makes."""
    library = _run("library")
    assert library == {"frozen": 0, "threshold": gc.get_threshold()[0]}


def test_check_freezes_the_assessment_once_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``auditor check`` (one process, one command) ends with the facts and findings frozen,
    and prints the findings a run in this process prints, which freezes nothing."""
    repo = GitRepo(tmp_path / "infra")
    repo.commit("init", {"main.tf": 'resource "null_resource" "a" {}\n'})
    repo.commit("more", {"main.tf": 'resource "null_resource" "b" {}\n'})
    args = ["check", str(repo.path), "--store", str(tmp_path / "store")]
    args += ["--as-of", "2026-10-01T00:00:00Z", "--format", "csv"]
    script = (
        "import atexit, gc, sys\n"
        "from auditor.cli import main\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, check=False)
    assert out.returncode in (0, 1), out.stderr
    assert int(out.stderr.decode().strip().splitlines()[-1].removeprefix("frozen ")) > 0
    assert out.stdout.startswith(b"control_id,")
    assert run(args) == out.returncode
    assert capsys.readouterr().out == out.stdout.decode()
    assert gc.get_freeze_count() == 0
