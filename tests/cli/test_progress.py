"""Progress after mining: drawn through analysis, evaluation and writing on a terminal only."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from gitrepo import GitRepo
from reportfactory import build_report

from auditor.progress import Progress
from auditor.render import Format, RenderOptions, write_pack

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Recorder(Progress):
    """Keeps every call, to check what a terminal would have drawn."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def start(self, label: str, total: int) -> None:
        self.calls.append(("start", (label, total)))

    def advance(self, count: int) -> None:
        self.calls.append(("advance", count))

    def describe(self, label: str) -> None:
        self.calls.append(("describe", label))

    def finish(self) -> None:
        self.calls.append(("finish", None))


def test_writing_a_pack_advances_once_per_format_and_for_the_manifest(tmp_path: Path) -> None:
    recorder = Recorder()
    formats = (Format.PDF, Format.HTML, Format.CSV, Format.JSON)
    write_pack(
        build_report(changes=12), tmp_path / "pack", RenderOptions(formats), progress=recorder
    )
    calls = recorder.calls
    assert calls[0] == ("start", ("writing the pack", len(formats) + 1))
    assert calls[-1] == ("finish", None)
    assert sum(n for kind, n in calls if kind == "advance") == len(formats) + 1  # type: ignore[misc]
    labels = [label for kind, label in calls if kind == "describe"]
    assert labels.index("writing the PDF") < labels.index("writing MANIFEST.sha256")
    assert labels[0] == "writing html, csv, json"  # at once, the PDF after them


def _history(repo: GitRepo) -> None:
    for i in range(4):
        repo.commit(f"Scale web {i}", {f"web{i}.tf": f'resource "aws_instance" "w{i}" {{}}\n'})


def _report_on_a_terminal(repo: GitRepo, tmp_path: Path, *extra: str) -> str:
    """``auditor report`` with stderr on a pseudo-terminal: what it drew there, as text."""
    primary, secondary = pty.openpty()
    command = [sys.executable, "-m", "auditor", "report", str(repo.path), "--out",
               str(tmp_path / "pack"), "--store", str(tmp_path / "store"), "--format", "csv,json",
               "--as-of", "2026-04-01T00:00:00Z", *extra]  # fmt: skip
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=secondary, env=env)
    os.close(secondary)
    drawn = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    proc.wait(timeout=120)
    os.close(primary)
    return ANSI.sub("", drawn.decode("utf-8", errors="replace"))


def test_report_draws_progress_after_mining_on_a_terminal(repo: GitRepo, tmp_path: Path) -> None:
    _history(repo)
    drawn = _report_on_a_terminal(repo, tmp_path)
    for label in ("analysing repo", "writing csv, json", "writing MANIFEST.sha256"):
        assert label in drawn, drawn
    assert re.search(r"evaluating \d+ controls", drawn), drawn
    assert "audit pack:" in drawn  # the summary still follows


def test_report_draws_nothing_with_quiet_or_off_a_terminal(repo: GitRepo, tmp_path: Path) -> None:
    _history(repo)
    quiet = _report_on_a_terminal(repo, tmp_path, "-q")
    assert "writing" not in quiet and "analysing" not in quiet
    command = [sys.executable, "-m", "auditor", "report", str(repo.path), "--out",
               str(tmp_path / "piped"), "--store", str(tmp_path / "store"), "--format", "csv",
               "--as-of", "2026-04-01T00:00:00Z"]  # fmt: skip
    piped = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert "audit pack:" in piped.stderr
    assert "writing" not in piped.stderr and "analysing" not in piped.stderr
