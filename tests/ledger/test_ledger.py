"""The change ledger equals git's own view of the history, edge cases included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.ledger import changes as ledger
from auditor.ledger import crosscheck, mining
from auditor.ledger.mining import mine
from auditor.ledger.store import Store
from auditor.model import ChangeType, SignatureKind

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def build_edge_case_repo(repo: GitRepo, tmp_path: Path) -> dict[str, str]:
    """Merges, renames, binary files, a submodule, empty commits and non-UTF-8 content."""
    shas = {}
    shas["root"] = repo.commit(
        "root", {"main.tf": 'resource "a" "b" {}\n' * 40, "logo.png": b"\x89PNG\x00\x01"}
    )
    repo.checkout("-b", "feature")
    repo.commit(
        "feature work", {"modules/vpc/main.tf": "x\ny\n"}, author=("Bob", "bob@example.com")
    )
    repo.commit("more feature", {"modules/vpc/vars.tf": "v\n"}, author=("Bob", "bob@example.com"))
    repo.checkout("main")
    shas["direct"] = repo.commit("direct push", {"README.md": "hello\n"})
    shas["merge"] = repo.merge("feature", "Merge pull request #7 from acme/feature")
    shas["rename"] = repo.commit(
        "rename", {"main.tf": None, "network.tf": 'resource "a" "b" {}\n' * 40 + "z\n"}
    )
    shas["binary"] = repo.commit("binary", {"logo.png": b"\x89PNG\x00\x02\x03"})
    shas["empty"] = repo.commit("empty commit")
    shas["latin1"] = repo.commit(
        "latin-1 content", {"notes.txt": "caf\xe9\n".encode("latin-1"), "na\xefve.txt": "x\n"}
    )
    sub = GitRepo(tmp_path / "sub")
    sub_one = sub.commit("sub one", {"f": "1\n"})
    sub_two = sub.commit("sub two", {"f": "2\n"})
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sub_one},vendor/sub")
    shas["submodule-add"] = repo.commit("add submodule")
    repo.git("update-index", "--cacheinfo", f"160000,{sub_two},vendor/sub")
    shas["submodule-bump"] = repo.commit("bump submodule")
    repo.git("rm", "-q", "--cached", "vendor/sub")
    shas["typechange"] = repo.commit("symlink", {"link": "target\n"})
    (repo.path / "link").unlink()
    (repo.path / "link").symlink_to("network.tf")
    repo.git("add", "link")
    shas["typechange"] = repo.commit("type change")
    return shas


@pytest.fixture
def edge_repo(repo: GitRepo, tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    return repo, build_edge_case_repo(repo, tmp_path)


def test_ledger_equals_git_numstat_on_edge_cases(edge_repo: tuple[GitRepo, dict[str, str]]) -> None:
    repo, _ = edge_repo
    assert crosscheck.compare(repo.path) == []
    assert len(crosscheck.baseline(repo.path, "main")) == 11


def changes_by_sha(store: Store, repo: GitRepo) -> dict[str, object]:
    result = mine(store, repo.path, now=NOW)
    return {c.sha: c for c in store.changes(result.repo_id, "main")}


def test_change_types_binary_submodule_and_merge_diff(
    edge_repo: tuple[GitRepo, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = edge_repo
    with Store.open(tmp_path / "store") as store:
        changes = changes_by_sha(store, repo)
    merge = changes[shas["merge"]]
    assert {(f.path, f.lines_added) for f in merge.files} == {
        ("modules/vpc/main.tf", 2),
        ("modules/vpc/vars.tf", 1),
    }  # type: ignore[attr-defined]
    [renamed] = [f for f in changes[shas["rename"]].files]  # type: ignore[attr-defined]
    assert (renamed.change_type, renamed.old_path, renamed.path) == (
        ChangeType.RENAMED,
        "main.tf",
        "network.tf",
    )
    assert (renamed.lines_added, renamed.lines_deleted) == (1, 0)
    [binary] = changes[shas["binary"]].files  # type: ignore[attr-defined]
    assert binary.binary and (binary.lines_added, binary.lines_deleted) == (0, 0)
    assert changes[shas["empty"]].files == ()  # type: ignore[attr-defined]
    [sub] = changes[shas["submodule-bump"]].files  # type: ignore[attr-defined]
    assert sub.submodule and sub.change_type is ChangeType.MODIFIED
    [link] = changes[shas["typechange"]].files  # type: ignore[attr-defined]
    assert link.change_type is ChangeType.TYPE_CHANGED
    paths = {f.path for f in changes[shas["latin1"]].files}  # type: ignore[attr-defined]
    assert "notes.txt" in paths and "naïve.txt" in paths


def test_custody_assigns_side_commits_to_the_merge(
    edge_repo: tuple[GitRepo, dict[str, str]],
) -> None:
    repo, shas = edge_repo
    chain = ledger.first_parent_chain(repo.path, "main")
    graph = ledger.commit_graph(repo.path, "main")
    owners = ledger.custody(chain, graph)
    side = repo.git("rev-list", "feature").split()[:2]
    assert all(owners[s] == shas["merge"] for s in side)
    assert owners[shas["direct"]] == shas["direct"]
    assert set(owners) == set(graph)


def test_chain_within_the_graph_is_git_first_parent_chain(
    edge_repo: tuple[GitRepo, dict[str, str]],
) -> None:
    repo, shas = edge_repo
    repo.checkout("-b", "late", shas["direct"])
    repo.commit("late work", {"late.tf": "x\n"})
    repo.checkout("main")
    tip = repo.merge("late", "Merge pull request #9 from acme/late")
    for stop in (None, shas["root"], shas["direct"], shas["merge"], shas["binary"]):
        graph = ledger.commit_graph(repo.path, tip, stop)
        assert ledger.chain_in(graph, tip) == ledger.first_parent_chain(repo.path, tip, stop)
    assert ledger.chain_in({}, tip) == []


def test_nested_merge_is_claimed_by_the_outer_change(repo: GitRepo) -> None:
    repo.commit("root", {"a": "1\n"})
    repo.checkout("-b", "outer")
    repo.checkout("-b", "inner")
    inner = repo.commit("inner work", {"b": "1\n"})
    repo.checkout("outer")
    inner_merge = repo.merge("inner", "Merge pull request #2 from acme/inner")
    repo.checkout("main")
    outer_merge = repo.merge("outer", "Merge pull request #3 from acme/outer")
    owners = ledger.custody(
        ledger.first_parent_chain(repo.path, "main"), ledger.commit_graph(repo.path, "main")
    )
    assert owners[inner] == owners[inner_merge] == outer_merge


def test_pydriller_agrees_on_non_merge_changes(
    edge_repo: tuple[GitRepo, dict[str, str]], tmp_path: Path
) -> None:
    import pydriller

    repo, _ = edge_repo
    with Store.open(tmp_path / "store") as store:
        ours = changes_by_sha(store, repo)
    compared = 0
    for commit in pydriller.Repository(
        str(repo.path), only_in_branch="main", only_no_merge=True
    ).traverse_commits():
        if commit.hash not in ours or any(f.submodule for f in ours[commit.hash].files):  # type: ignore[attr-defined]
            continue
        by_path: dict[str, tuple[int, int]] = {}
        for m in commit.modified_files:  # GitPython splits a type change into delete + add
            added, deleted = by_path.get(m.new_path or m.old_path, (0, 0))
            by_path[m.new_path or m.old_path] = (added + m.added_lines, deleted + m.deleted_lines)
        theirs = sorted((path, *counts) for path, counts in by_path.items())
        mine_ = sorted((f.path, f.lines_added, f.lines_deleted) for f in ours[commit.hash].files)  # type: ignore[attr-defined]
        assert theirs == mine_, commit.hash
        compared += 1
    assert compared >= 6


def test_commit_metadata_offsets_mailmap_and_trailers(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit(".mailmap", {".mailmap": "Bob Builder <bob@example.com> <bob@home.example>\n"})
    sha = repo.commit(
        "Open port 443 (#12)\n\nBody text.\n\n"
        "Signed-off-by: Bob <bob@home.example>\nCo-authored-by: Carol <carol@example.com>",
        {"sg.tf": "x\n"},
        author=("bobby", "bob@home.example"),
        committer=("GitHub", "noreply@github.com"),
        offset="+0530",
    )
    with Store.open(tmp_path / "store") as store:
        change = changes_by_sha(store, repo)[sha]
    commit = change.commit  # type: ignore[attr-defined]
    assert (commit.author.identity.name, commit.author.identity.email) == (
        "Bob Builder",
        "bob@example.com",
    )
    assert (commit.author.identity.raw_name, commit.author.identity.raw_email) == (
        "bobby",
        "bob@home.example",
    )
    assert commit.author.when.utcoffset().total_seconds() == 5.5 * 3600
    assert [(t.key, t.value) for t in commit.trailers] == [
        ("Signed-off-by", "Bob <bob@home.example>"),
        ("Co-authored-by", "Carol <carol@example.com>"),
    ]
    assert change.request.number == 12  # type: ignore[attr-defined]
    assert commit.subject == "Open port 443 (#12)" and commit.body.startswith("Body text.")


def test_mailmap_change_re_resolves_stored_identities(repo: GitRepo, tmp_path: Path) -> None:
    first = repo.commit("one", {"a": "1\n"}, author=("bobby", "bob@home.example"))
    with Store.open(tmp_path / "store") as store:
        assert changes_by_sha(store, repo)[first].commit.author.identity.name == "bobby"  # type: ignore[attr-defined]
        repo.commit("mailmap", {".mailmap": "Bob Builder <bob@example.com> <bob@home.example>\n"})
        identity = changes_by_sha(store, repo)[first].commit.author.identity  # type: ignore[attr-defined]
    assert (identity.name, identity.email, identity.raw_name) == (
        "Bob Builder",
        "bob@example.com",
        "bobby",
    )


def test_known_people_are_resolved_from_the_store_and_new_ones_by_the_mailmap(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("mailmap", {".mailmap": "Bob Builder <bob@example.com> <bob@home.example>\n"})
    repo.commit("one", {"a": "1\n"}, author=("bobby", "bob@home.example"))
    with Store.open(tmp_path / "store") as store:
        mine(store, repo.path, now=NOW)
        reads: list[Path] = []
        real = mining._read_mailmap
        monkeypatch.setattr(
            mining, "_read_mailmap", lambda path, blob: reads.append(path) or real(path, blob)
        )
        second = repo.commit("two", {"a": "2\n"}, author=("bobby", "bob@home.example"))
        mine(store, repo.path, now=NOW)
        assert reads == []  # everyone already known: the mailmap is not read
        third = repo.commit("three", {"a": "3\n"}, author=("Carol", "carol@example.com"))
        changes = changes_by_sha(store, repo)
        assert reads == [repo.path]
        assert store.identities(1)[("bobby", "bob@home.example")] == (
            "Bob Builder", "bob@example.com",
        )  # fmt: skip
    assert changes[second].commit.author.identity.name == "Bob Builder"  # type: ignore[attr-defined]
    assert changes[third].commit.author.identity.email == "carol@example.com"  # type: ignore[attr-defined]


def test_signature_kinds_and_encoding_header(repo: GitRepo, tmp_path: Path) -> None:
    base = repo.commit("base", {"a": "1\n"})
    tree = repo.git("rev-parse", "HEAD^{tree}")

    def raw(extra: bytes, message: bytes, parent: str) -> bytes:
        ident = b"Ren\xe9 <rene@example.com> 1735700000 +0100"
        return (
            b"tree " + tree.encode() + b"\nparent " + parent.encode() + b"\nauthor " + ident
            + b"\ncommitter " + ident + b"\n" + extra + b"\n" + message
        )  # fmt: skip

    ssh = repo.raw_commit(
        raw(
            b"gpgsig -----BEGIN SSH SIGNATURE-----\n abc\n -----END SSH SIGNATURE-----\n",
            b"ssh\n",
            base,
        )
    )
    gpg = repo.raw_commit(
        raw(
            b"gpgsig -----BEGIN PGP SIGNATURE-----\n abc\n -----END PGP SIGNATURE-----\n",
            b"gpg\n",
            ssh,
        )
    )
    latin = repo.raw_commit(
        raw(b"encoding ISO-8859-1\n", "Caf\xe9 ouvert\n".encode("latin-1"), gpg)
    )
    with Store.open(tmp_path / "store") as store:
        changes = changes_by_sha(store, repo)
    assert changes[ssh].commit.signature is SignatureKind.SSH  # type: ignore[attr-defined]
    assert changes[gpg].commit.signature is SignatureKind.GPG  # type: ignore[attr-defined]
    assert changes[base].commit.signature is SignatureKind.NONE  # type: ignore[attr-defined]
    latin_commit = changes[latin].commit  # type: ignore[attr-defined]
    assert latin_commit.subject == "Café ouvert"
    assert latin_commit.author.identity.raw_name == "René"
    assert latin_commit.encoding == "ISO-8859-1"


def test_bot_detection_default_and_custom(repo: GitRepo, tmp_path: Path) -> None:
    bot = repo.commit(
        "Update helm release",
        {"a": "1\n"},
        author=("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"),
    )
    human = repo.commit("human", {"a": "2\n"}, author=("Deploy Robot", "robot@example.com"))
    with Store.open(tmp_path / "store") as store:
        result = mine(store, repo.path, now=NOW)
        default = {c.sha: c.commit.is_bot for c in store.changes(result.repo_id, "main")}
        from auditor.ledger.commits import BotPolicy

        custom = {
            c.sha: c.commit.is_bot
            for c in store.changes(result.repo_id, "main", bots=BotPolicy((r"robot@",)))
        }
    assert default == {bot: True, human: False}
    assert custom == {bot: False, human: True}
