"""Commit objects whose headers git stores but no clock can show: recorded, flagged, no crash."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.ledger.mining import mine
from auditor.ledger.store import Store
from auditor.model import Commit

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ZONE_2400 = "author time zone +2400 is not a valid offset: the time is given in UTC"


def odd_commit(repo: GitRepo, author: bytes, committer: bytes = b"C <c@x> 1767225600 +0000") -> str:
    """A commit object with the given ident lines on top of HEAD, written as git stores it."""
    tree, parent = repo.head("HEAD^{tree}"), repo.head()
    headers = b"tree %s\nparent %s\n" % (tree.encode(), parent.encode())
    raw = headers + b"author %s\ncommitter %s\n\nodd\n" % (author, committer)
    sha = repo.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=raw)
    repo.git("update-ref", "HEAD", sha)
    return sha


def mined_commit(repo: GitRepo, tmp_path: Path, sha: str) -> Commit:
    with Store.open(tmp_path / "s") as store:
        mine(store, repo.path, now=NOW)
        [commit] = [c.commit for c in store.changes(1, "main") if c.sha == sha]
    return commit


@pytest.fixture
def based(repo: GitRepo) -> GitRepo:
    repo.commit("base", {"a.tf": "a\n"})
    return repo


def test_fsck_strict_accepts_what_crashed_the_audit(based: GitRepo) -> None:
    odd_commit(based, b"A <a@x> 1767225600 +2400")
    odd_commit(based, b"B <b@x> 253402300800 +0000")  # 10000-01-01: git shows it as such
    based.git("fsck", "--strict", "--no-dangling")  # raises if git finds fault


@pytest.mark.parametrize(
    ("ident", "when", "notes"),
    [
        (b"A <a@x> 1767225600 +2400", datetime(2026, 1, 1, tzinfo=UTC), [ZONE_2400]),
        (b"A <a@x> 1767225600 -0060", datetime(2026, 1, 1, tzinfo=UTC),
         ["author time zone -0060 is not a valid offset: the time is given in UTC"]),
        (b"A <a@x> 1767225600 -2359", datetime(2026, 1, 1, tzinfo=UTC), []),
        (b"A <a@x> 99999999999999999999 +0000", datetime(1970, 1, 1, tzinfo=UTC),
         ["author date 99999999999999999999 overflows: recorded as git shows it, "
          "1970-01-01T00:00:00Z"]),
        (b"A <a@x> 253402300800 +0000", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
         ["author date 253402300800 is outside the years 1 to 9999: recorded as "
          "9999-12-31T23:59:59Z"]),
        (b"A <a@x> 253402300799 +0100", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
         ["author local time at +0100 is outside the years 1 to 9999: given in UTC"]),
        (b"A <a@x> 1767225600", datetime(1970, 1, 1, tzinfo=UTC),
         ["author date '1767225600' is not 'seconds \u00b1hhmm': unknown, recorded as "
          "1970-01-01T00:00:00Z"]),
    ],
    ids=["offset-24h", "offset-60-minutes", "offset-valid", "20-digits", "year-10000",
         "local-year-10000", "no-zone"],
)  # fmt: skip
def test_odd_dates_are_recorded_with_a_note(
    based: GitRepo, tmp_path: Path, ident: bytes, when: datetime, notes: list[str]
) -> None:
    commit = mined_commit(based, tmp_path, odd_commit(based, ident))
    assert commit.author.when == when
    assert commit.author.identity.raw_name == "A"
    assert list(commit.notes) == notes
    assert commit.committer.when == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_valid_offset_keeps_its_zone(based: GitRepo, tmp_path: Path) -> None:
    commit = mined_commit(based, tmp_path, odd_commit(based, b"A <a@x> 1767225600 -2359"))
    assert commit.author.when.utcoffset() == -timedelta(hours=23, minutes=59)


def test_a_nul_in_a_name_is_made_visible_and_skips_no_commit(
    based: GitRepo, tmp_path: Path
) -> None:
    first = odd_commit(based, b"Ev\0e <e@x> 1767225600 +0000")
    second = odd_commit(based, b"Ev\0e <e@x> 1767229200 +0000")
    with Store.open(tmp_path / "s") as store:
        mine(store, based.path, now=NOW)
        commits = {c.sha: c.commit for c in store.changes(1, "main")}
    for sha in (first, second):  # the same person twice: each commit carries its note
        assert commits[sha].author.identity.name == "Ev⟨U+0000⟩e"
        assert commits[sha].notes == ("author name holds a NUL byte, recorded as ⟨U+0000⟩",)


def test_report_over_odd_commits_writes_every_format_and_the_notes(
    based: GitRepo, tmp_path: Path
) -> None:
    zone = odd_commit(based, b"A <a@x> 1767225600 +2400")
    odd_commit(based, b"A <a@x> 99999999999999999999 +0000", b"C <c@x> 99999999999999999999 +0000")
    odd_commit(based, b"Ev\0e <e@x> 253402300800 +0000")
    odd_commit(based, b"A <a@x> -62135596800 +0000", b"C <c@x> 253402300799 +0000")
    pack = tmp_path / "pack"
    code = run(["report", str(based.path), "--store", str(tmp_path / "s"), "--out", str(pack),
                "--format", "pdf,html,csv,json,oscal", "--as-of", "2026-12-01", "-q"])  # fmt: skip
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    with (pack / "csv" / "changes.csv").open(encoding="utf-8", newline="") as f:
        rows = {row["commit"]: row for row in csv.DictReader(f)}
    assert rows[zone]["authored_at"] == "2026-01-01T00:00:00Z"
    assert rows[zone]["commit_notes"] == ZONE_2400
    evidence = json.loads((pack / "evidence.json").read_text(encoding="utf-8"))
    [change] = [c for c in evidence["changes"] if c["change"]["commit"]["sha"] == zone]
    assert change["change"]["commit"]["notes"] == [ZONE_2400]
    page = next((pack / "changes").glob(f"*-{zone[:12]}-*.html")).read_text(encoding="utf-8")
    assert f"commit {zone[:12]}: {ZONE_2400}" in page


def test_a_scheduled_run_audits_the_repository(based: GitRepo, tmp_path: Path) -> None:
    zone = odd_commit(based, b"A <a@x> 1767225600 +2400")
    config = tmp_path / "ops" / "auditor.toml"
    config.parent.mkdir()
    config.write_text(
        '[audit]\norganisation = "Acme"\nsince = "2025-01-01"\nuntil = "2026-12-31"\n'
        f'formats = ["csv", "json"]\n[[repository]]\npath = "{based.path}"\n',
        encoding="utf-8",
    )
    code = run(["run", "--config", str(config), "--as-of", "2026-12-01T00:00:00Z", "--jobs", "1"])
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    [pack] = (tmp_path / "ops" / "audit-packs").iterdir()
    evidence = json.loads((pack / "evidence.json").read_text(encoding="utf-8"))
    [scope] = evidence["repositories"]
    assert scope["complete"] is True, scope["incomplete_reasons"]
    [change] = [c for c in evidence["changes"] if c["change"]["commit"]["sha"] == zone]
    assert change["change"]["commit"]["notes"] == [ZONE_2400]
