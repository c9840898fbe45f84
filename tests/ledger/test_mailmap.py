"""Identities are resolved by the ``.mailmap`` committed at the audited branch's tip, never by
the working tree or a git setting, and the pack names the blob."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.ledger.mining import mine
from auditor.ledger.store import Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
COMMITTED = "Bob Builder <bob@example.com> <bob@home.example>\n"
FORGED = "Mallory <mallory@example.com> <bob@home.example>\n"


@pytest.fixture
def mapped(repo: GitRepo) -> GitRepo:
    repo.commit("mailmap", {".mailmap": COMMITTED})
    repo.commit("one", {"a.tf": "1\n"}, author=("bobby", "bob@home.example"))
    return repo


def author_names(store: Store, branch: str = "main") -> set[str]:
    return {c.commit.author.identity.name for c in store.changes(1, branch)}


def test_an_uncommitted_mailmap_changes_no_identity(mapped: GitRepo, tmp_path: Path) -> None:
    committed = mapped.git("rev-parse", "HEAD:.mailmap")
    with Store.open(tmp_path / "s") as store:
        first = mine(store, mapped.path, now=NOW)
        mapped.write(".mailmap", FORGED)  # edited, not committed
        other = tmp_path / "other.mailmap"
        other.write_text(FORGED, encoding="utf-8")
        mapped.git("config", "mailmap.file", str(other))
        again = mine(store, mapped.path, now=NOW)
        assert author_names(store) == {"Alice Admin", "Bob Builder"}
    with Store.open(tmp_path / "fresh") as fresh:  # and a first mine in that state
        assert mine(fresh, mapped.path, now=NOW).mailmap == committed
        assert author_names(fresh) == {"Alice Admin", "Bob Builder"}
    assert first.mailmap == again.mailmap == committed


def test_without_a_committed_mailmap_identities_are_as_written(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.commit("one", {"a.tf": "1\n"}, author=("bobby", "bob@home.example"))
    repo.write(".mailmap", COMMITTED)  # untracked
    with Store.open(tmp_path / "s") as store:
        assert mine(store, repo.path, now=NOW).mailmap == ""
        assert author_names(store) == {"bobby"}


def test_the_audited_branch_tip_gives_the_mailmap(mapped: GitRepo, tmp_path: Path) -> None:
    mapped.checkout("-b", "release")
    mapped.commit("remap", {".mailmap": FORGED})
    release = mapped.git("rev-parse", "release:.mailmap")
    mapped.checkout("main")
    with Store.open(tmp_path / "s") as store:
        assert mine(store, mapped.path, ["release"], now=NOW).mailmap == release
        assert author_names(store, "release") == {"Alice Admin", "Mallory"}
        # the stored identities were resolved by another blob: resolved again by main's
        assert mine(store, mapped.path, ["main"], now=NOW).mailmap != release
        assert author_names(store, "release") == {"Alice Admin", "Bob Builder"}


def test_a_store_resolved_by_an_older_rule_is_resolved_again(
    mapped: GitRepo, tmp_path: Path
) -> None:
    with Store.open(tmp_path / "s") as store:
        mine(store, mapped.path, now=NOW)
        with store.transaction():  # as an earlier auditor left it: a digest, forged names
            store.set_mailmap_digest(1, "0" * 64)
            store.reresolve_identities(
                1, {("bobby", "bob@home.example"): ("Mallory", "mallory@example.com")}
            )
        mine(store, mapped.path, now=NOW)
        assert author_names(store) == {"Alice Admin", "Bob Builder"}


def test_the_pack_names_the_mailmap_blob(mapped: GitRepo, tmp_path: Path) -> None:
    committed = mapped.git("rev-parse", "HEAD:.mailmap")
    mapped.write(".mailmap", FORGED)
    pack = tmp_path / "pack"
    code = run(["report", str(mapped.path), "--store", str(tmp_path / "s"), "--out", str(pack),
                "--format", "html,json,csv", "--as-of", "2026-12-01", "-q"])  # fmt: skip
    assert code in (0, 1)
    [scope] = json.loads((pack / "evidence.json").read_text(encoding="utf-8"))["repositories"]
    assert scope["mailmap"] == committed
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert f"identities by the .mailmap committed at main (blob {committed[:12]})" in index
    assert "Mallory" not in (pack / "csv" / "changes.csv").read_text(encoding="utf-8")
