"""History that git can be made to show differently from the commit objects: grafts, replace
refs and commit-graph files. The ledger follows the objects, and says when git would not."""

from __future__ import annotations

import hashlib
import json
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.ledger import changes as ledger
from auditor.ledger.mining import mine
from auditor.ledger.store import Store
from auditor.model import CommitSha

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def linear(repo: GitRepo, count: int) -> list[str]:
    return [repo.commit(f"change {n}", {f"f{n}.tf": f"{n}\n"}) for n in range(count)]


def stored_shas(store: Store) -> list[str]:
    return [c.sha for c in store.changes(1, "main")]


def lie_in_commit_graph(graph: Path, child: str, parent: str) -> None:
    """Rewrite ``child``'s first parent in a commit-graph file (format: git's
    Documentation/gitformat-commit-graph), keeping its trailing checksum valid."""
    data = bytearray(graph.read_bytes())
    assert data[:4] == b"CGPH"
    offsets = {}
    for index in range(data[6] + 1):  # the chunk table, and its terminating entry
        chunk, offset = struct.unpack_from(">4sQ", data, 8 + 12 * index)
        offsets[chunk] = offset
    lookup, count = offsets[b"OIDL"], (offsets[b"CDAT"] - offsets[b"OIDL"]) // 20
    oids = [data[lookup + 20 * i : lookup + 20 * (i + 1)].hex() for i in range(count)]
    struct.pack_into(">I", data, offsets[b"CDAT"] + 36 * oids.index(child) + 20, oids.index(parent))
    data[-20:] = hashlib.sha1(bytes(data[:-20])).digest()
    graph.chmod(0o644)
    graph.write_bytes(bytes(data))


@pytest.mark.parametrize("split", [False, True], ids=["commit-graph", "commit-graph-chain"])
def test_a_commit_graph_that_skips_a_commit_loses_nothing_and_is_named(
    repo: GitRepo, tmp_path: Path, split: bool
) -> None:
    a, b, c = linear(repo, 3)
    repo.git("commit-graph", "write", "--reachable", *(["--split"] if split else []))
    with Store.open(tmp_path / "honest") as store:  # a graph git wrote agrees with the objects
        assert mine(store, repo.path, now=NOW).completeness.complete
    info = repo.path / ".git" / "objects" / "info"
    [graph] = list((info / "commit-graphs").glob("*.graph")) if split else [info / "commit-graph"]
    lie_in_commit_graph(graph, c, a)
    assert repo.git("rev-list", "HEAD").split() == [c, a]  # git itself trusts the graph
    with Store.open(tmp_path / "s") as store:
        result = mine(store, repo.path, now=NOW)
        changes = list(store.changes(1, "main"))
    assert [ch.sha for ch in changes] == [a, b, c]
    assert changes[2].commit.parents == (b,)
    assert [f.path for f in changes[2].files] == ["f2.tf"]  # the diff against its real parent
    assert result.completeness.reasons == (
        "main: the commit-graph file disagrees with the commit objects (git log, trusting it,"
        " shows another history); the ledger follows the commit objects",
    )


def test_grafts_in_the_common_directory_of_a_linked_worktree(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = linear(repo, 6)
    worktree = tmp_path / "worktree"
    repo.git("worktree", "add", "-q", str(worktree), "-b", "side")
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "grafts").write_text(f"{shas[5]} {shas[1]}\n")
    hidden = repo.git("-C", str(worktree), "rev-list", "main").split()
    assert hidden == [shas[5], shas[1], shas[0]]  # what git shows in the worktree
    with Store.open(tmp_path / "s") as store:
        result = mine(store, worktree, ["main"], now=NOW)
        assert stored_shas(store) == shas
    assert not result.completeness.complete
    assert any("grafts file present" in reason for reason in result.completeness.reasons)

    store = str(tmp_path / "cli")
    assert run(["mine", str(worktree), "--branch", "main", "--store", store]) == 4
    assert "evidence incomplete: grafts file present" in capsys.readouterr().err
    pack = tmp_path / "pack"
    code = run(["report", str(worktree), "--branch", "main", "--store", store, "--out", str(pack),
                "--format", "json", "-q"])  # fmt: skip
    assert code == ExitCode.INCOMPLETE
    evidence = (pack / "evidence.json").read_text(encoding="utf-8")
    assert "grafts file present (info/grafts)" in evidence
    assert json.loads(evidence)["complete"] is False


def test_a_replace_ref_that_hides_a_commit_is_named_and_ignored(
    repo: GitRepo, tmp_path: Path
) -> None:
    a, b, c = linear(repo, 3)
    repo.git("replace", "--graft", c, a)
    assert repo.git("rev-list", "HEAD").split() == [c, a]
    with Store.open(tmp_path / "s") as store:
        result = mine(store, repo.path, now=NOW)
        assert stored_shas(store) == [a, b, c]
        [commit] = [ch.commit for ch in store.changes(1, "main") if ch.sha == c]
    assert commit.parents == (b,)
    assert any("replace refs present" in reason for reason in result.completeness.reasons)


def test_a_ledger_missing_a_parent_says_so_and_is_read_again(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = linear(repo, 3)
    lying = {CommitSha(c): (CommitSha(a),), CommitSha(a): ()}
    with Store.open(tmp_path / "s") as store:
        with monkeypatch.context() as patch:  # a walk that skips b, as a lying cache gives
            patch.setattr(ledger, "commit_graph", lambda *args, **kw: dict(lying))
            misled = mine(store, repo.path, now=NOW)
            assert stored_shas(store) == [a, c]
        assert misled.completeness.reasons == (
            f"main: 1 parent(s) named by commit objects are not in the ledger ({c[:12]} → "
            f"{b[:12]}): the history was read with commits missing",
            f"main: 1 change(s) of the first-parent chain do not follow their commit object's "
            f"first parent ({c[:12]})",
        )
        healed = mine(store, repo.path, now=NOW)  # the branch has not moved: read again anyway
        assert healed.completeness.complete, healed.completeness.reasons
        assert stored_shas(store) == [a, b, c]


def test_history_gaps_name_a_chain_that_skips_a_first_parent() -> None:
    a, b, c, d = (CommitSha(x * 40) for x in "abcd")
    parents = {a: (), b: (a,), c: (b,), d: (a, c)}
    assert ledger.history_gaps("main", [a, b, c], parents) == ()
    assert ledger.history_gaps("main", [a, d], parents) == ()  # b and c came in by the merge
    assert ledger.history_gaps("main", [a, c], parents) == (
        f"main: 1 change(s) of the first-parent chain do not follow their commit object's "
        f"first parent ({c[:12]})",
    )
    assert ledger.history_gaps("main", [b, c], parents) == (
        f"main: 1 change(s) of the first-parent chain do not follow their commit object's "
        f"first parent ({b[:12]})",
    )


def test_a_shallow_clone_is_incomplete_only_for_being_shallow(
    repo: GitRepo, tmp_path: Path
) -> None:
    linear(repo, 4)
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone))
    with Store.open(tmp_path / "s") as store:
        reasons = mine(store, clone, now=NOW).completeness.reasons
        assert len(reasons) == 1 and reasons[0].startswith("shallow clone")
        assert len(stored_shas(store)) == 2
        repo.git("-C", str(clone), "fetch", "-q", "--unshallow")
        deepened = mine(store, clone, now=NOW)  # the same tip, more history
        assert deepened.completeness.complete, deepened.completeness.reasons
        assert len(stored_shas(store)) == 4


def test_a_whole_ledger_is_checked_once_per_tip(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linear(repo, 3)
    reads: list[str] = []
    real = Store.stored_history

    def counted(store: Store, repo_id: int, branch: str) -> object:
        reads.append(branch)
        return real(store, repo_id, branch)

    monkeypatch.setattr(Store, "stored_history", counted)
    with Store.open(tmp_path / "s") as store:
        mine(store, repo.path, now=NOW)
        mine(store, repo.path, now=NOW)  # nothing new: the check at this tip stands
        assert reads == ["main"]
        linear(repo, 1)
        assert mine(store, repo.path, now=NOW).completeness.complete
        assert reads == ["main", "main"]


def test_variables_that_redirect_grafts_and_replacements_change_nothing(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = linear(repo, 3)
    grafts = tmp_path / "grafts"
    grafts.write_text(f"{c} {a}\n")
    repo.git("replace", "--graft", c, a)
    repo.git("update-ref", f"refs/elsewhere/{c}", repo.head(f"refs/replace/{c}"))
    repo.git("update-ref", "-d", f"refs/replace/{c}")
    redirect = {"GIT_GRAFT_FILE": str(grafts), "GIT_REPLACE_REF_BASE": "refs/elsewhere/"}
    for key, value in redirect.items():
        assert repo.git("rev-list", "HEAD", env={key: value}).split() == [c, a]
        monkeypatch.setenv(key, value)
    with Store.open(tmp_path / "s") as store:
        result = mine(store, repo.path, now=NOW)
        assert stored_shas(store) == [a, b, c]
    assert result.completeness.complete, result.completeness.reasons
