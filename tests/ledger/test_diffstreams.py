"""Several git processes computing diffs at once give exactly what one gives."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gitrepo import GitRepo
from test_ledger import build_edge_case_repo

from auditor.errors import RepositoryError
from auditor.ledger import changes as ledger
from auditor.ledger import diffs as diffstreams
from auditor.ledger.diffs import DiffStreams, _parts


def chain_of(repo: GitRepo) -> list[str]:
    return [str(sha) for sha in ledger.first_parent_chain(repo.path, "main")]


@pytest.mark.parametrize("jobs", [1, 2, 5])
def test_every_split_gives_the_rows_of_one_git_log(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    build_edge_case_repo(repo, tmp_path)
    for i in range(9):
        repo.commit(f"change {i}", {f"env/{i % 3}.tf": f"v = {i}\n"})
    chain = chain_of(repo)
    monkeypatch.setattr(diffstreams, "BLOCK", 2)
    with DiffStreams(repo.path, chain, jobs, batch=3, part_min=2) as streams:
        assert len(streams._parts) == len(streams._running) == jobs
        batches = [*streams.ready(), *streams.rest()]
    assert all(len(batch) <= 3 for batch in batches)
    rows = [row for batch in batches for row in batch]
    assert sorted(rows) == sorted(ledger.change_rows(repo.path, chain))
    assert len(rows) == len(chain)


def test_parts_are_blocks_dealt_round_covering_everything_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(diffstreams, "BLOCK", 2)
    shas = [str(i) for i in range(10)]
    assert _parts(shas, 3, 2) == [["0", "1", "6", "7"], ["2", "3", "8", "9"], ["4", "5"]]
    assert _parts(shas, 8, 4) == [["0", "1", "4", "5", "8", "9"], ["2", "3", "6", "7"]]
    assert _parts(shas, 4, 100) == [shas]  # fewer than part_min: one part
    assert _parts([], 4, 1) == []


def test_a_failing_git_process_is_an_error_naming_the_repository(repo: GitRepo) -> None:
    repo.commit("one", {"a.tf": "x\n"})
    streams = DiffStreams(repo.path, ["0" * 40], 1, batch=10, part_min=1)
    with pytest.raises(RepositoryError, match=str(repo.path)), streams:
        list(streams.rest())


def test_leaving_early_leaves_no_git_process_behind(repo: GitRepo) -> None:
    for i in range(60):
        repo.commit(f"change {i}", {f"f{i % 5}.tf": f"x{i}\n" * 2000})
    chain = chain_of(repo)

    class Stop(Exception):
        pass

    assert _git_children() == set()
    with pytest.raises(Stop), DiffStreams(repo.path, chain, 2, batch=1, part_min=1) as streams:
        assert len(streams._running) == 2
        raise Stop
    assert _git_children() == set()  # killed and reaped: not running, not a zombie


def _git_children() -> set[int]:
    """Process ids of this process's git children, running or not yet reaped."""
    out = subprocess.run(
        ["ps", "-o", "pid=,comm=", "--ppid", str(os.getpid())],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        int(pid)
        for pid, command in (line.split(None, 1) for line in out.splitlines())
        if command.strip() == "git"
    }
