"""People: the roster, forge logins and Git identities resolved to one :class:`Person` each.

A Git identity resolves to its roster person (by email, case-insensitively), else to the forge
login the requests' commit metadata ties its email to, else to an unknown person keyed by its
email: reported, never guessed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from auditor.errors import DefinitionError
from auditor.ledger.commits import DEFAULT_BOTS, BotPolicy, Resolver
from auditor.ledger.contributors import Contribution, is_forge_identity
from auditor.model import Commit, Identity, Person
from auditor.reviews.interface import AccountType, RequestCommit

ROSTER_COLUMNS = ("person", "name", "emails", "logins", "start", "end")
REQUIRED_COLUMNS = ("person",)
"""Identities the forge itself commits as (GitHub's web-flow, GitLab's merge committer)."""
DELETED_ACCOUNT = Person(key="login:ghost", display="deleted account", known=False)

_GITHUB_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$", re.I)


@dataclass(frozen=True)
class RosterEntry:
    """One roster row: a person, their emails and logins, valid from ``start`` to ``end``."""

    person: str
    name: str
    emails: frozenset[str]
    logins: frozenset[str]
    start: date | None = None
    end: date | None = None

    def valid_at(self, when: datetime | None) -> bool:
        if when is None:
            return True
        day = when.astimezone(UTC).date()
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Roster:
    """The people an organisation declares, from a CSV file (see :meth:`load`)."""

    entries: tuple[RosterEntry, ...]
    _by_email: Mapping[str, tuple[RosterEntry, ...]] = field(init=False, repr=False)
    _by_login: Mapping[str, tuple[RosterEntry, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_email", _index(self.entries, lambda e: e.emails))
        object.__setattr__(self, "_by_login", _index(self.entries, lambda e: e.logins))

    @classmethod
    def load(cls, path: Path) -> Roster:
        """Read ``person, name, emails, logins, start, end`` (``;``-separated lists, ISO dates).

        Only ``person`` is required. Errors name the file, line and column.
        """
        rows = _rows(path)
        if not rows:
            raise DefinitionError(f"{path}: line 1: empty roster, expected a header row")
        header = [column.strip().lower() for column in rows[0][1]]
        for column in header:
            if column not in ROSTER_COLUMNS:
                raise DefinitionError(f"{path}: line 1: unknown column {column!r}")
        for column in REQUIRED_COLUMNS:
            if column not in header:
                raise DefinitionError(f"{path}: line 1: missing column {column!r}")
        entries = []
        for line, row in rows[1:]:
            if len(row) > len(header):
                raise DefinitionError(
                    f"{path}: line {line}: {len(row)} cells, but the header names {len(header)}"
                )
            if any(cell.strip() for cell in row):
                entries.append((line, _entry(path, line, dict(zip(header, row, strict=False)))))
        _check_emails(path, entries)
        return cls(tuple(entry for _, entry in entries))

    def by_email(self, email: str, when: datetime | None) -> RosterEntry | None:
        return _first_valid(self._by_email.get(email.lower(), ()), when)

    def by_login(self, login: str, when: datetime | None) -> RosterEntry | None:
        return _first_valid(self._by_login.get(login.lower(), ()), when)


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """The rows of the CSV file ``path``, each with the line it starts on. A cell running over
    several lines (in a roster, only an unterminated quote does that) is an error."""
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            start = 1
            for row in reader:
                if any("\n" in cell or "\r" in cell for cell in row):
                    raise DefinitionError(
                        f"{path}: line {start}: a quoted cell runs on to line {reader.line_num}"
                        " (a quote left open?)"
                    )
                rows.append((start, row))
                start = reader.line_num + 1
    except csv.Error as err:
        raise DefinitionError(f"{path}: line {start}: {err} (a quote left open?)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"{path}: cannot read roster: {err}") from None
    return rows


def _check_emails(path: Path, entries: Sequence[tuple[int, RosterEntry]]) -> None:
    """At any time, one email belongs to one person: the same email for two person ids whose
    rows' dates overlap is an error (a mailbox handed over from one date to the next is not)."""
    seen: dict[str, list[tuple[int, RosterEntry]]] = {}
    for line, entry in entries:
        for email in sorted(entry.emails):
            for first_line, first in seen.get(email, ()):
                if first.person != entry.person and _overlap(first, entry):
                    raise DefinitionError(
                        f"{path}: line {line}, column 'emails': {email} is already the email of"
                        f" {first.person!r} (line {first_line}); one email belongs to one person"
                    )
            seen.setdefault(email, []).append((line, entry))


def _overlap(one: RosterEntry, other: RosterEntry) -> bool:
    return (one.start is None or other.end is None or one.start <= other.end) and (
        other.start is None or one.end is None or other.start <= one.end
    )


def _entry(path: Path, line: int, row: Mapping[str, str]) -> RosterEntry:
    def cell(column: str) -> str:
        return (row.get(column) or "").strip()

    person = cell("person")
    if not person:
        raise DefinitionError(f"{path}: line {line}, column 'person': empty person id")
    entry = RosterEntry(
        person=person,
        name=cell("name") or person,
        emails=_split(cell("emails")),
        logins=_split(cell("logins")),
        start=_date(path, line, "start", cell("start")),
        end=_date(path, line, "end", cell("end")),
    )
    if entry.start and entry.end and entry.end < entry.start:
        raise DefinitionError(f"{path}: line {line}, column 'end': before start")
    return entry


def _split(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.split(";") if part.strip())


def _date(path: Path, line: int, column: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DefinitionError(
            f"{path}: line {line}, column {column!r}: not a date (YYYY-MM-DD): {value!r}"
        ) from None


def _index(
    entries: Iterable[RosterEntry], keys: Callable[[RosterEntry], frozenset[str]]
) -> Mapping[str, tuple[RosterEntry, ...]]:
    index: dict[str, list[RosterEntry]] = {}
    for entry in entries:
        for key in keys(entry):
            index.setdefault(key, []).append(entry)
    return {key: tuple(found) for key, found in index.items()}


def _first_valid(entries: Sequence[RosterEntry], when: datetime | None) -> RosterEntry | None:
    return next((e for e in entries if e.valid_at(when)), None)


@dataclass(frozen=True)
class People:
    """Resolves Git identities and forge logins of one repository to persons."""

    roster: Roster | None
    logins: Mapping[str, str]
    """Lower-cased email → the one forge login the requests' commits tie it to."""
    bots: BotPolicy = DEFAULT_BOTS
    mailmap: Resolver | None = None
    """The repository's ``.mailmap``, for identities the forge reports raw (request commits)."""
    _cache: dict[tuple[Identity, date | None, str | None, bool], Person] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def build(
        cls,
        roster: Roster | None,
        commits: Iterable[RequestCommit] = (),
        bots: BotPolicy = DEFAULT_BOTS,
        mailmap: Resolver | None = None,
    ) -> People:
        """Link emails to logins through the forge's commit metadata.

        An email seen with two different logins is linked to neither.
        """
        seen: dict[str, set[str]] = {}
        for commit in commits:
            for email, login in (
                (commit.author_email, commit.author_login),
                (commit.committer_email, commit.committer_login),
            ):
                if login and not is_forge_identity(email):
                    seen.setdefault(email.lower(), set()).add(login.lower())
        logins = {email: next(iter(found)) for email, found in seen.items() if len(found) == 1}
        return cls(roster, logins, bots, mailmap)

    def raw(self, name: str, email: str) -> Identity:
        """The identity of a name and email the forge reports as written in the commit, with
        its ``.mailmap`` resolution (none without a mailmap)."""
        mapped_name, mapped_email = self.mailmap(name, email) if self.mailmap else (name, email)
        return Identity(mapped_name, mapped_email, name, email)

    def identity(
        self,
        identity: Identity,
        when: datetime | None,
        *,
        login: str | None = None,
        bot: bool = False,
    ) -> Person:
        """The person behind a Git identity (mailmap email first, then the raw email)."""
        day = when.astimezone(UTC).date() if when is not None and self.roster else None
        key = (identity, day, login, bot)
        if (found := self._cache.get(key)) is None:
            found = self._cache[key] = self._identity(identity, when, login, bot)
        return found

    def _identity(
        self, identity: Identity, when: datetime | None, login: str | None, bot: bool
    ) -> Person:
        is_bot = bot or self.bots.matches(identity)
        emails = dict.fromkeys(e.lower() for e in (identity.email, identity.raw_email) if e)
        for email in emails:
            entry = self.roster.by_email(email, when) if self.roster else None
            if entry is not None:
                return Person(entry.person, entry.name, known=True, is_bot=is_bot)
        login = login or next(filter(None, map(self._login_of, emails)), None)
        if login:
            return self.login(login, AccountType.BOT if is_bot else AccountType.USER, when)
        email = next(iter(emails), "")
        display = f"{identity.name} <{identity.email}>"
        return Person(f"email:{email}", display, known=is_bot, is_bot=is_bot)

    def merger(
        self, identity: Identity | None, when: datetime | None, forge: Person | None = None
    ) -> Person | None:
        """Who merged: the account the forge names (``forge``), else the merger the landing
        commit names (``identity``, a merge commit's author). Written as the ``contributors``
        column writes a person, ``Name <email>`` after the mailmap, wherever the commit records
        them (a merge commit's author is whoever clicked Merge); a forge account the commit
        does not record, or records as someone else, keeps its login."""
        if identity is None:
            return forge
        person = self.identity(identity, when)
        if forge is not None and person.key != forge.key and not person.key.startswith("email:"):
            return forge  # the commit's author resolves to someone else than the forge says
        text = f"{identity.name} <{identity.email}>" if identity.email else identity.name
        return replace(forge or person, display=text)

    def login(self, login: str | None, account: AccountType, when: datetime | None) -> Person:
        """The person behind a forge account; ``None`` is a deleted account."""
        if login is None:
            return DELETED_ACCOUNT
        is_bot = account is AccountType.BOT or self.bots.matches(Identity(login, "", login, ""))
        entry = self.roster.by_login(login, when) if self.roster else None
        if entry is not None:
            return Person(entry.person, entry.name, known=True, is_bot=is_bot)
        return Person(f"login:{login.lower()}", login, known=True, is_bot=is_bot)

    def named(self, name: str, when: datetime | None) -> Person:
        """The person a bare name stands for: a roster login, else nobody known."""
        is_bot = self.bots.matches(Identity(name, "", name, ""))
        entry = self.roster.by_login(name, when) if self.roster else None
        if entry is not None:
            return Person(entry.person, entry.name, known=True, is_bot=is_bot)
        return Person(f"name:{name}", name, known=is_bot, is_bot=is_bot)

    def _login_of(self, email: str) -> str | None:
        if found := self.logins.get(email):
            return found
        match = _GITHUB_NOREPLY.match(email)
        return match["login"].lower() if match else None


@dataclass(frozen=True)
class Involvement:
    """Who wrote a change (its contributors, and the persons they are), who committed it, who
    else took part (opened its request), and the identities that map to nobody."""

    contributors: tuple[Identity, ...]
    authors: tuple[Person, ...]
    committers: tuple[Person, ...]
    unresolved: tuple[str, ...]
    opened_by: Person | None = None

    @property
    def keys(self) -> frozenset[str]:
        """Everyone whose approval of the change is not independent."""
        opener = (self.opened_by,) if self.opened_by else ()
        return frozenset(p.key for p in (*self.authors, *self.committers, *opener))


def involvement(
    people: People,
    contributions: Iterable[Contribution],
    commits: Iterable[Commit],
    request_commits: Iterable[RequestCommit] = (),
    *,
    skip: Collection[str] = (),
    forge_committed: Collection[str] = (),
    opened_by: Person | None = None,
) -> Involvement:
    """The persons behind ``contributions``, and who committed ``commits`` (less those in
    ``skip``) and ``request_commits``.

    The forge's own identity is never a committer: it commits on behalf of the user who acted;
    so are the committers of ``forge_committed`` (commits the forge wrote for the user who
    merged, such as rebased copies). ``opened_by`` is who opened the request.
    """
    authors: dict[str, Person] = {}
    committers: dict[str, Person] = {}
    unresolved: dict[str, None] = {}

    def add(role: str, found: dict[str, Person], identity: Identity, person: Person) -> None:
        if is_forge_identity(identity.raw_email) or is_forge_identity(identity.email):
            return
        found.setdefault(person.key, person)
        if not person.known:
            unresolved[f"{role}: {identity.name} <{identity.email}>"] = None

    contributors: list[Identity] = []  # one identity per person: the first seen
    for item in contributions:
        person = people.identity(item.identity, item.when, login=item.login)
        if person.key not in authors:
            contributors.append(item.identity)
        add("author", authors, item.identity, person)
    for commit in commits:
        if commit.sha not in skip and commit.sha not in forge_committed:
            c = commit.committer
            add("committer", committers, c.identity, people.identity(c.identity, c.when))
    for rc in request_commits:
        committer = people.raw(rc.committer_name, rc.committer_email)
        person = people.identity(committer, rc.committed_at, login=rc.committer_login)
        add("committer", committers, committer, person)
    return Involvement(
        tuple(contributors),
        tuple(authors.values()),
        tuple(committers.values()),
        tuple(unresolved),
        opened_by,
    )
