"""The evidence store: incremental mining, rewrites, interruptions, incomplete clones, bad input."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.errors import MissingObjectError, RepositoryError, StoreError
from auditor.ledger import mining
from auditor.ledger.mining import Progress, mine
from auditor.ledger.store import _MIGRATIONS, SCHEMA_VERSION, Store
from auditor.model import EventKind
from auditor.outcome import Outcome

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def linear(repo: GitRepo, count: int, start: int = 0) -> list[str]:
    return [
        repo.commit(f"change {i}", {f"f{i % 7}.tf": f"v = {i}\n"})
        for i in range(start, start + count)
    ]


def test_second_mine_processes_only_new_commits(repo: GitRepo, tmp_path: Path) -> None:
    linear(repo, 5)
    with Store.open(tmp_path / "s") as store:
        first = mine(store, repo.path, now=NOW).branches[0]
        same = mine(store, repo.path, now=NOW).branches[0]
        linear(repo, 2, start=5)
        again = mine(store, repo.path, now=NOW).branches[0]
        subjects = [c.commit.subject for c in store.changes(1, "main")]
    assert (first.new_changes, first.total_changes) == (5, 5)
    assert (same.new_changes, same.new_commits) == (0, 0)
    assert (again.new_changes, again.new_commits, again.total_changes) == (2, 2, 7)
    assert subjects == [f"change {i}" for i in range(7)]


def test_force_push_is_reported_and_old_records_kept(repo: GitRepo, tmp_path: Path) -> None:
    kept = linear(repo, 3)
    with Store.open(tmp_path / "s") as store:
        mine(store, repo.path, now=NOW)
        lost = linear(repo, 2, start=3)
        mine(store, repo.path, now=NOW)
        repo.git("reset", "-q", "--hard", kept[-1])
        replacement = repo.commit("rewritten history", {"x.tf": "y\n"})
        result = mine(store, repo.path, now=NOW).branches[0]
        [event] = store.events(1)
        remaining = [c.sha for c in store.changes(1, "main")]
        still_stored = store.missing(1, "commits", lost) == []
    assert result.event == event
    assert event.kind is EventKind.HISTORY_REWRITTEN and event.branch == "main"
    assert f"{event.kind}" == "history-rewritten"  # the words the pack and messages write
    assert set(event.lost) == set(lost)
    assert remaining == [*kept, replacement]
    assert still_stored


@pytest.mark.parametrize("jobs", [1, 2], ids=["one-git-diff", "two-git-diffs"])
def test_interrupted_mine_leaves_store_consistent_and_resumes(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    linear(repo, 12)
    monkeypatch.setattr(mining, "BATCH", 5)
    monkeypatch.setattr(mining, "PART_MIN", 3)

    class Interrupting(Progress):
        def advance(self, count: int) -> None:
            raise KeyboardInterrupt

    with Store.open(tmp_path / "s") as store:
        with pytest.raises(KeyboardInterrupt):
            mine(store, repo.path, now=NOW, jobs=jobs, progress=Interrupting())
        assert store.branch_tip(1, "main") is None
        assert list(store.changes(1, "main")) == []
        resumed = mine(store, repo.path, now=NOW, jobs=jobs).branches[0]
        assert resumed.new_commits == 7  # five were stored before the interruption
        assert len(list(store.changes(1, "main"))) == 12
    with Store.open(tmp_path / "fresh") as fresh:
        mine(fresh, repo.path, now=NOW)
        assert [c.sha for c in fresh.changes(1, "main")] == [
            c.sha for c in Store.open(tmp_path / "s").changes(1, "main")
        ]


def test_shallow_clone_is_incomplete(repo: GitRepo, tmp_path: Path) -> None:
    linear(repo, 4)
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone)], check=True
    )
    with Store.open(tmp_path / "s") as store:
        result = mine(store, clone, now=NOW)
    assert not result.completeness.complete
    assert "shallow" in result.completeness.reasons[0]


def test_grafts_and_partial_clone_are_incomplete(repo: GitRepo, tmp_path: Path) -> None:
    linear(repo, 2)
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "grafts").write_text("")
    repo.git("config", "remote.origin.promisor", "true")
    with Store.open(tmp_path / "s") as store:
        reasons = mine(store, repo.path, now=NOW).completeness.reasons
    assert any("grafts" in r for r in reasons) and any("partial" in r for r in reasons)


def test_bad_repositories_raise_one_line_errors(repo: GitRepo, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s") as store:
        with pytest.raises(RepositoryError, match="no commits"):
            mine(store, repo.path, now=NOW)
        with pytest.raises(RepositoryError, match="not a Git repository"):
            mine(store, tmp_path / "s", now=NOW)
        linear(repo, 1)
        with pytest.raises(RepositoryError, match="branch 'release' not found"):
            mine(store, repo.path, ["release"], now=NOW)


def test_corrupt_object_is_incomplete_evidence(repo: GitRepo, tmp_path: Path) -> None:
    shas = linear(repo, 3)
    obj = repo.path / ".git" / "objects" / shas[1][:2] / shas[1][2:]
    obj.chmod(0o644)
    obj.write_bytes(b"garbage")
    with Store.open(tmp_path / "s") as store, pytest.raises(MissingObjectError) as raised:
        mine(store, repo.path, now=NOW)
    assert raised.value.outcome is Outcome.INCOMPLETE
    assert "incomplete or corrupt" in str(raised.value) and shas[1] in str(raised.value)


def test_store_from_newer_schema_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path / "s").db.close()
    db = sqlite3.connect(tmp_path / "s" / "evidence.sqlite")
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this auditor supports"):
        Store.open(tmp_path / "s")


def test_a_schema_4_store_migrates_with_its_records_and_mining_resumes(
    repo: GitRepo, tmp_path: Path
) -> None:
    linear(repo, 4)
    with Store.open(tmp_path / "now") as current:
        mine(current, repo.path, now=NOW)
        rows = stored_rows(current)
        tables = {"repositories": current.db.execute("SELECT * FROM repositories").fetchall()}
        tables.update(branches=current.db.execute("SELECT * FROM branches").fetchall(), **rows)
    old = tmp_path / "old"
    old.mkdir()
    db = sqlite3.connect(old / "evidence.sqlite", isolation_level=None)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for version in (1, 2, 3, 4):
        db.executescript(_MIGRATIONS[version])
    for table, values in tables.items():
        width = len(db.execute(f"SELECT * FROM {table} LIMIT 0").description)
        for row in values:  # the columns of schema 4 (later ones are added at the end)
            db.execute(f"INSERT INTO {table} VALUES ({','.join('?' * width)})", row[:width])
    db.execute("INSERT INTO meta VALUES ('schema_version', '4')")
    db.close()
    linear(repo, 1, start=4)
    with Store.open(old) as migrated:
        assert stored_rows(migrated) == rows
        assert migrated.identities(1) == {
            ("Alice Admin", "alice@example.com"): ("Alice Admin", "alice@example.com")
        }
        again = mine(migrated, repo.path, now=NOW).branches[0]
        indexes = {row[0] for row in migrated.db.execute("SELECT name FROM sqlite_master")}
    assert (again.new_changes, again.total_changes) == (1, 5)
    assert {"commits_by_sha", "changes_by_sha", "custody_by_commit", "chain_by_sha"} <= indexes


def test_the_first_mining_of_each_branch_is_kept_through_later_minings_and_rewrites(
    repo: GitRepo, tmp_path: Path
) -> None:
    kept = linear(repo, 2)
    future = datetime(2099, 1, 1, tzinfo=UTC)  # later than any clock: the run's time decides
    with Store.open(tmp_path / "s") as store:
        mine(store, repo.path, now=future)
        linear(repo, 1, start=2)
        mine(store, repo.path, now=datetime(2099, 2, 1, tzinfo=UTC))
        repo.git("reset", "-q", "--hard", kept[-1])
        repo.commit("rewritten", {"x.tf": "y\n"})
        mine(store, repo.path, now=datetime(2099, 3, 1, tzinfo=UTC))
        assert store.watches(1) == {"main": future}
        assert len(store.events(1)) == 1
    with Store.open(tmp_path / "past") as store:
        mine(store, repo.path, now=NOW)  # a past --as-of does not date the first mining back
        (first,) = store.watches(1).values()
    assert first is not None and first > NOW


def test_a_schema_10_store_keeps_the_earliest_mining_record_as_the_first_mining(
    tmp_path: Path,
) -> None:
    db = sqlite3.connect(tmp_path / "evidence.sqlite", isolation_level=None)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for version in range(1, 11):
        db.executescript(_MIGRATIONS[version])
    mined, detected = 1_767_225_600, 1_764_547_200  # 2026-01-01, 2025-12-01 (a rewrite)
    db.execute("INSERT INTO branches VALUES (1, 'main', 'a', ?, '')", (mined,))
    db.execute("INSERT INTO branches VALUES (1, 'release', 'b', ?, '')", (mined,))
    db.execute(
        "INSERT INTO events VALUES (1, 1, 'history-rewritten', 'main', ?, 'x', 'a', '[]')",
        (detected,),
    )
    db.execute("INSERT INTO meta VALUES ('schema_version', '10')")
    db.close()
    with Store.open(tmp_path) as store:
        assert store.watches(1) == {
            "main": datetime.fromtimestamp(detected, UTC),
            "release": datetime.fromtimestamp(mined, UTC),
        }


def test_unreadable_store_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "evidence.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the evidence store"):
        Store.open(tmp_path / "s")


def test_one_store_holds_many_repositories(tmp_path: Path) -> None:
    one, two = GitRepo(tmp_path / "one"), GitRepo(tmp_path / "two")
    linear(one, 2)
    linear(two, 3)
    with Store.open(tmp_path / "s") as store:
        a, b = mine(store, one.path, now=NOW), mine(store, two.path, now=NOW)
        assert a.repo_id != b.repo_id
        assert len(list(store.changes(a.repo_id, "main"))) == 2
        assert len(list(store.changes(b.repo_id, "main"))) == 3


def stored_rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    tables = {
        "commits": "sha", "changes": "sha", "chain": "position", "custody": "commit_sha",
    }  # fmt: skip
    return {
        table: store.db.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
        for table, key in tables.items()
    }


def test_several_git_processes_store_exactly_what_one_stores(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linear(repo, 4)
    repo.checkout("-b", "feature")
    linear(repo, 5, start=4)
    repo.checkout("main")
    repo.commit("direct", {"README.md": "caf\xe9\n"}, author=("Ren\xe9", "rene@example.com"))
    repo.merge("feature", "Merge pull request #3 from acme/feature")
    linear(repo, 3, start=9)
    monkeypatch.setattr(mining, "BATCH", 2)  # many batches and parts: the work is really shared
    monkeypatch.setattr(mining, "PART_MIN", 2)
    stored = {}
    for jobs in (1, 3):
        with Store.open(tmp_path / f"jobs{jobs}") as store:
            result = mine(store, repo.path, now=NOW, jobs=jobs).branches[0]
            stored[jobs] = stored_rows(store)
        assert (result.new_changes, result.new_commits) == (9, 14)
    assert stored[1] == stored[3]
    assert len(stored[1]["custody"]) == 14


def test_opening_while_another_process_writes_neither_waits_nor_fails(tmp_path: Path) -> None:
    import time

    Store.open(tmp_path).db.close()
    writer = sqlite3.connect(tmp_path / "evidence.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a mining process does
    writer.execute("UPDATE meta SET value = value")
    try:
        started = time.monotonic()
        with Store.open(tmp_path) as store:
            assert store.db.execute("SELECT count(*) FROM meta").fetchone()[0] >= 1
        assert time.monotonic() - started < 2  # sqlite's busy timeout would be 5 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_run_outcome_is_stored_as_the_number_it_exits_with(tmp_path: Path) -> None:
    from auditor.cli.exitcodes import EXIT_CODES
    from auditor.ledger.store import _RUN_CODES
    from auditor.model import RunRecord, RunStatus

    assert {o: int(c) for o, c in EXIT_CODES.items()} == _RUN_CODES
    with Store.open(tmp_path / "store") as store:
        for outcome in Outcome:
            store.add_run(
                RunRecord(
                    as_of=datetime(2026, 1, 1, tzinfo=UTC),
                    period="2026-Q1",
                    since=None,
                    until=None,
                    config="auditor.toml",
                    config_sha256="0" * 64,
                    tool_version="0",
                    repositories=(),
                    outcome=outcome,
                )
            )
        stored = [(r.outcome, r.status) for r in store.runs()]
        raw = [code for (code,) in store.db.execute("SELECT exit_code FROM runs ORDER BY id")]
    assert [o for o, _ in stored] == list(Outcome)
    assert raw == [int(EXIT_CODES[o]) for o in Outcome]
    assert [s for _, s in stored] == [
        RunStatus.PASSED,
        RunStatus.FAILED,
        RunStatus.INCOMPLETE,
        RunStatus.ERROR,
        RunStatus.ERROR,
        RunStatus.ERROR,
    ]
