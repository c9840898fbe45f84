"""Who wrote a change, and who merged it, as its commits say.

A change's contributors are the authors and co-authors (``Co-authored-by`` trailers) of the
commits it brought in. A merge commit's author is who merged, not who wrote: GitHub's "Merge
pull request" commit is authored by whoever clicked Merge, and the work is in the commits
behind it. So a merge commit counts only when it brought in nothing else. A squash keeps the
request's other authors as ``Co-authored-by`` trailers; a rebased or fast-forwarded commit
keeps its author. Identities are resolved through ``.mailmap`` (a commit's own when it was
mined; a trailer's here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from auditor.ledger.commits import Resolver, parse_trailers
from auditor.model import Commit, Identity

CO_AUTHOR_KEY = "co-authored-by"

_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>\s*$")


@dataclass(frozen=True)
class Contribution:
    """One contributor of a change as first seen: who, when their commit was authored, and
    the forge login the forge gave for them (forge-listed commits only)."""

    identity: Identity
    when: datetime
    login: str | None = None


def display(identity: Identity) -> str:
    """``Name <email>``, as the ``contributors`` column spells each contributor."""
    return f"{identity.name} <{identity.email}>" if identity.email else identity.name


def writing_commits(commits: Sequence[Commit], landing: Commit) -> tuple[Commit, ...]:
    """The commits whose authors wrote the change, the landing commit first: every commit it
    brought in but merges; the landing commit itself when it brought in merges only (an
    empty or resolving merge)."""
    ordered = (landing, *(c for c in commits if c.sha != landing.sha))
    return tuple(c for c in ordered if not c.is_merge) or (landing,)


def contributions(
    commits: Sequence[Commit], landing: Commit, resolve: Resolver | None = None
) -> tuple[Contribution, ...]:
    """The contributors of a change that brought in ``commits``, each once, in commit order."""
    found: list[Contribution] = []
    for commit in writing_commits(commits, landing):
        when = commit.author.when
        found.append(Contribution(commit.author.identity, when))
        named = co_authors(commit.trailer_values(CO_AUTHOR_KEY), resolve)
        found += (Contribution(identity, when) for identity in named)
    return distinct(found)


def message_contributions(
    name: str,
    email: str,
    when: datetime,
    message: str,
    resolve: Resolver | None,
    login: str | None = None,
) -> tuple[Contribution, ...]:
    """The author and co-authors of a commit the forge lists (raw name, email and message)."""
    author = _identity(name, email, resolve)
    values = [t.value for t in parse_trailers(message) if t.key.lower() == CO_AUTHOR_KEY]
    return (
        Contribution(author, when, login),
        *(Contribution(i, when) for i in co_authors(values, resolve)),
    )


def distinct(found: Iterable[Contribution]) -> tuple[Contribution, ...]:
    """Each contributor once (by email, else name; the first seen wins), forge identities out."""
    seen: dict[str, Contribution] = {}
    for item in found:
        identity = item.identity
        if is_forge_identity(identity.email) or is_forge_identity(identity.raw_email):
            continue
        key = identity.email.lower() if identity.email else f"name:{identity.name}"
        seen.setdefault(key, item)
    return tuple(seen.values())


def co_authors(values: Iterable[str], resolve: Resolver | None) -> tuple[Identity, ...]:
    """The identities ``Co-authored-by`` trailer values name (``Name <email>``, or a bare name)."""
    found = []
    for value in values:
        match = _NAME_EMAIL.match(value.strip())
        name, email = (match["name"], match["email"].strip()) if match else (value.strip(), "")
        if name or email:
            found.append(_identity(name, email, resolve))
    return tuple(found)


def _identity(name: str, email: str, resolve: Resolver | None) -> Identity:
    mapped_name, mapped_email = resolve(name, email) if resolve and email else (name, email)
    return Identity(mapped_name, mapped_email, name, email)


def merger(commit: Commit) -> Identity | None:
    """Who merged, where the landing commit says so: a merge commit's author (whoever clicked
    Merge on GitHub, the merging user on GitLab, who ran ``git merge``); None for other
    commits, and for a merge authored by the forge's own identity."""
    author = commit.author.identity
    if not commit.is_merge or is_forge_identity(author.raw_email):
        return None
    return author


FORGE_EMAILS = frozenset({"noreply@github.com", "noreply@gitlab.com"})


def is_forge_identity(email: str) -> bool:
    """True for the identity a forge commits as when it merges or edits on a user's behalf."""
    return email.lower() in FORGE_EMAILS
