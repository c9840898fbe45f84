"""The roster, forge logins and Git identities resolve to one person each, or are reported."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.errors import DefinitionError
from auditor.facts.identities import People, Roster, involvement
from auditor.ledger.contributors import contributions
from auditor.model import Commit, CommitSha, Identity, SignatureKind, Stamp
from auditor.reviews.interface import AccountType, RequestCommit

NOW = datetime(2026, 2, 1, tzinfo=UTC)


def roster(tmp_path: Path, text: str) -> Roster:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return Roster.load(path)


def identity(name: str, email: str) -> Identity:
    return Identity(name, email, name, email)


def commit(author: Identity, committer: Identity) -> Commit:
    return Commit(
        sha=CommitSha("a" * 40),
        parents=(),
        author=Stamp(author, NOW),
        committer=Stamp(committer, NOW),
        subject="s",
        body="",
        trailers=(),
        signature=SignatureKind.NONE,
        encoding="UTF-8",
        is_bot=False,
    )


def test_roster_unifies_two_emails_and_a_login(tmp_path: Path) -> None:
    people = People.build(
        roster(
            tmp_path,
            "person,name,emails,logins\nalice,Alice Admin,alice@work.example; Alice@Home.example,"
            "alice-gh\n",
        )
    )
    found = {
        people.identity(identity("Alice", "alice@work.example"), NOW),
        people.identity(identity("A. Admin", "ALICE@home.example"), NOW),
        people.login("Alice-GH", AccountType.USER, NOW),
    }
    assert {(p.key, p.display, p.known) for p in found} == {("alice", "Alice Admin", True)}


def test_roster_rows_apply_only_within_their_dates(tmp_path: Path) -> None:
    people = People.build(
        roster(
            tmp_path,
            "person,emails,start,end\n"
            "old,ops@example.com,2020-01-01,2025-12-31\n"
            "new,ops@example.com,2026-01-01,\n",
        )
    )
    assert people.identity(identity("Ops", "ops@example.com"), NOW).key == "new"
    earlier = datetime(2024, 6, 1, tzinfo=UTC)
    assert people.identity(identity("Ops", "ops@example.com"), earlier).key == "old"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("person,email\nx,x@example.com\n", "line 1: unknown column 'email'"),
        ("emails\nx@example.com\n", "line 1: missing column 'person'"),
        ("person,start\nx,2026-13-01\n", "line 2, column 'start': not a date"),
        ("person,emails\nx,x@example.com\n,y@example.com\n", "line 3, column 'person'"),
        ("person,start,end\nx,2026-02-01,2026-01-01\n", "line 2, column 'end': before start"),
    ],
)
def test_bad_roster_names_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message) as error:
        roster(tmp_path, text)
    assert "people.csv" in str(error.value)


def test_forge_login_links_a_git_email() -> None:
    rc = RequestCommit(
        sha="b" * 40,
        parents=(),
        author_name="Carol",
        author_email="carol@laptop.local",
        authored_at=NOW,
        committer_name="Carol",
        committer_email="carol@laptop.local",
        committed_at=NOW,
        author_login="carol",
        committer_login="carol",
        message="m",
    )
    people = People.build(None, [rc])

    person = people.identity(identity("Carol", "Carol@Laptop.local"), NOW)

    assert (person.key, person.known) == ("login:carol", True)


def test_github_noreply_email_names_its_login() -> None:
    person = People.build(None).identity(
        identity("Carol", "1234+carol@users.noreply.github.com"), NOW
    )
    assert person.key == "login:carol"


def test_unresolved_identity_is_reported_and_the_forge_committer_ignored() -> None:
    mallory = identity("Mallory", "mallory@example.net")
    commits = [commit(mallory, identity("GitHub", "noreply@github.com"))]
    found = involvement(People.build(None), contributions(commits, commits[0]), commits)

    assert [(p.key, p.known) for p in found.authors] == [("email:mallory@example.net", False)]
    assert found.committers == ()
    assert found.unresolved == ("author: Mallory <mallory@example.net>",)


def test_bots_are_known_by_name_or_account_type() -> None:
    people = People.build(None)
    renovate = people.identity(identity("renovate[bot]", "bot@renovateapp.com"), NOW)
    assert (renovate.known, renovate.is_bot) == (True, True)
    assert people.login("deployer", AccountType.BOT, NOW).is_bot


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "person,emails\nalice,alice@example.com,admin\n",
            "line 2: 3 cells, but the header names 2",
        ),
        (
            'person,emails\nalice,"alice@example.com\nbob,bob@example.com\ncarol,c@example.com\n',
            "line 2: unexpected end of data (a quote left open?)",
        ),
        (
            'person,emails\nalice,"alice@example.com\nbob,bob@example.com"\n',
            "line 2: a quoted cell runs on to line 3 (a quote left open?)",
        ),
        (
            "person,emails\nalice,alice@example.com\nbob,b@example.com; Alice@Example.com\n",
            "line 3, column 'emails': alice@example.com is already the email of 'alice' (line 2);"
            " one email belongs to one person",
        ),
        (
            "person,emails,start,end\nold,ops@example.com,,2026-01-31\n"
            "new,ops@example.com,2026-01-31,\n",
            "line 3, column 'emails': ops@example.com is already the email of 'old' (line 2);"
            " one email belongs to one person",
        ),
    ],
    ids=[
        "extra-cell",
        "unterminated-quote",
        "quote-across-lines",
        "one-email-two-people",
        "one-email-two-people-on-one-day",
    ],
)
def test_roster_mistakes_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DefinitionError) as err:
        roster(tmp_path, text)
    assert str(err.value) == f"{tmp_path / 'people.csv'}: {message}"


def test_one_person_may_repeat_an_email_over_several_periods(tmp_path: Path) -> None:
    found = roster(
        tmp_path,
        "person,emails,start,end\nalice,a@example.com,,2025-12-31\nalice,a@example.com,2026-01-01,\n",
    )
    assert [e.person for e in found.entries] == ["alice", "alice"]
