"""Raw commit objects → :class:`~auditor.model.Commit` records.

Parses the object exactly as git stores it: headers (parents, author, committer, ``encoding``,
``gpgsig``), then the message in its declared encoding, then the trailer block the way
``git interpret-trailers`` finds it.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from auditor.model import (
    Commit,
    CommitSha,
    Identity,
    RequestKind,
    RequestRef,
    SignatureKind,
    Stamp,
    Trailer,
)

Resolver = Callable[[str, str], tuple[str, str]]

_IDENT = re.compile(rb"^(?P<name>.*?) ?<(?P<email>[^>]*)> (?P<ts>-?\d+) (?P<tz>[+-]\d{4})$")
_PERSON = re.compile(rb"^(?P<name>.*?) ?<(?P<email>[^>]*)>(?P<date>.*)$")  # a date git cannot read
_NUL_SHOWN = "⟨U+0000⟩"  # a NUL byte of a name or email, shown as the renderers show one
_GIT_TIME_MAX = (1 << 63) - 1  # git shows a later date as 1970-01-01 (its date_overflows)
# The instants a datetime can hold: the years 1 to 9999, in UTC.
_LATEST = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
_EARLIEST = int(datetime(1, 1, 1, tzinfo=UTC).timestamp())
_EPOCH = "1970-01-01T00:00:00Z"
_TRAILER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
_GIT_TRAILER_PREFIXES = ("signed-off-by:", "(cherry picked from commit ")

DEFAULT_BOT_PATTERNS = (
    r"\[bot\]",  # GitHub Apps: dependabot[bot], renovate[bot], github-actions[bot], ...
    r"^renovate\b",  # self-hosted Renovate ("Renovate Bot <bot@renovateapp.com>")
    r"@renovateapp\.com$",
    r"^renovate@whitesourcesoftware\.com$",
    r"^dependabot\b",  # dependabot-preview, and "dependabot <support@dependabot.com>"
    r"^github[- ]actions?\b",  # "github-actions", and "GitHub Action <action@github.com>"
    r"^action@github\.com$",
    r"semantic-release",  # "semantic-release-bot <semantic-release-bot@martynus.net>"
    r"release-please",
    r"^changesets?[- ]?bot\b",
    r"argocd-image-updater",
    r"image[- ]updater",
    r"^flux(cd)?[- ]?bot",  # Flux image automation ("fluxcdbot")
    r"^gitlab-bot\b",
    r"^(?:project|group)_\d+_bot",  # GitLab project and group access tokens
    r"^(ci|build|release|deploy)[-_ ]?bot\b",
    r"^snyk-bot\b",
    r"(?:^|-)(?:ci|merge)-robot\b",  # Prow's k8s-ci-robot, openshift-merge-robot
)
"""What counts as a bot author out of the box: the identities common release, update and CI
automation commits as. ``--bot-pattern`` and config ``bots`` add to it; ``--no-default-bots``
and config ``default_bots = false`` leave it out."""


def bot_patterns(extra: Sequence[str] = (), *, defaults: bool = True) -> tuple[str, ...]:
    """The patterns in force: the built-in list (unless ``defaults`` is false), then ``extra``."""
    return tuple(dict.fromkeys((*(DEFAULT_BOT_PATTERNS if defaults else ()), *extra)))


@dataclass(frozen=True)
class BotPolicy:
    """Regular expressions matched (case-insensitively) against a commit author's name and email."""

    patterns: tuple[str, ...] = DEFAULT_BOT_PATTERNS

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_compiled", re.compile("|".join(f"(?:{p})" for p in self.patterns), re.I)
        )
        object.__setattr__(self, "_answers", {})  # by identity: a history has few people

    def matches(self, identity: Identity) -> bool:
        answers: dict[Identity, bool] = self._answers  # type: ignore[attr-defined]
        answer = answers.get(identity)
        if answer is None:
            compiled: re.Pattern[str] = self._compiled  # type: ignore[attr-defined]
            answer = answers[identity] = any(
                compiled.search(value)
                for value in (identity.name, identity.email, identity.raw_name, identity.raw_email)
            )
        return answer


DEFAULT_BOTS = BotPolicy()


def parse_commit(sha: str, raw: bytes, resolve: Resolver, bots: BotPolicy | None = None) -> Commit:
    """Parse the raw bytes of a commit object (as ``git cat-file commit`` prints them)."""
    return commit_from_columns(commit_columns(sha, raw, resolve), bots or DEFAULT_BOTS)


def commit_columns(
    sha: str, raw: bytes, resolve: Resolver, identities: Identities | None = None
) -> tuple[object, ...]:
    """A raw commit object as the store keeps it, without building records (mining's hot path).

    Columns: sha, parents (space-separated), author and committer (each name, email, raw name,
    raw email, epoch seconds, UTC offset in minutes), subject, body, trailers (JSON pairs),
    signature kind, encoding, notes (JSON list: what of the object's headers could not be
    recorded as written, and what was recorded instead). :func:`commit_from_columns` turns them
    into a :class:`Commit`. Pass the same ``identities`` to many calls to parse each person's
    name once.
    """
    identities = {} if identities is None else identities
    head, _, message_bytes = raw.partition(b"\n\n")
    parents: list[str] = []
    author = committer = b""
    encoding = ""
    gpgsig = b""
    current = b""
    for line in head.split(b"\n"):
        if line.startswith(b" "):
            if current in (b"gpgsig", b"gpgsig-sha256"):
                gpgsig += b"\n" + line[1:]
            continue
        key, _, value = line.partition(b" ")
        current = key
        if key == b"parent":
            parents.append(value.decode("ascii"))
        elif key == b"author":
            author = value
        elif key == b"committer":
            committer = value
        elif key == b"encoding":
            encoding = value.decode("ascii", errors="replace")
        elif key in (b"gpgsig", b"gpgsig-sha256") and not gpgsig:
            gpgsig = value
    message = decode_text(message_bytes, encoding)
    subject, body = split_message(message)
    trailers = parse_trailers(message)
    notes: list[str] = []
    return (
        sha,
        " ".join(parents),
        *_stamp("author", author, encoding, resolve, identities, notes),
        *_stamp("committer", committer, encoding, resolve, identities, notes),
        subject,
        body,
        _TRAILERS_JSON([[t.key, t.value] for t in trailers]) if trailers else "[]",
        signature_kind(gpgsig).value,
        encoding or "UTF-8",
        _TRAILERS_JSON(notes) if notes else "[]",
    )


_TRAILERS_JSON = json.JSONEncoder(ensure_ascii=False).encode


def commit_from_columns(row: Sequence[object], bots: BotPolicy) -> Commit:
    """The :class:`Commit` of stored columns (see :func:`commit_columns`)."""
    (sha, parents, an, ae, arn, are, at, ao, cn, ce, crn, cre, ct, co, subject, body, trailers,
     signature, encoding, notes) = row  # fmt: skip
    author = Stamp(_identity(str(an), str(ae), str(arn), str(are)), _when(at, ao))
    return Commit(
        sha=CommitSha(str(sha)),
        parents=tuple(CommitSha(p) for p in str(parents).split()),
        author=author,
        committer=Stamp(_identity(str(cn), str(ce), str(crn), str(cre)), _when(ct, co)),
        subject=str(subject),
        body=str(body),
        trailers=tuple(Trailer(k, v) for k, v in json.loads(str(trailers))),
        signature=SignatureKind(signature),
        encoding=str(encoding),
        is_bot=bots.matches(author.identity),
        notes=tuple(json.loads(str(notes))),
    )


@functools.lru_cache(maxsize=8192)
def _identity(name: str, email: str, raw_name: str, raw_email: str) -> Identity:
    """One record per person: a history has few people and many commits (less memory, and
    a repository's facts pickle each person once when sent between processes)."""
    return Identity(name, email, raw_name, raw_email)


def _when(seconds: object, offset_minutes: object) -> datetime:
    return datetime.fromtimestamp(int(seconds), _zone(int(offset_minutes)))  # type: ignore[call-overload]


@functools.cache
def _zone(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def decode_text(data: bytes, encoding: str = "") -> str:
    """Decode commit text in its declared encoding, else UTF-8, else Latin-1 (as git does)."""
    if encoding:
        try:
            return data.decode(codecs.lookup(encoding).name)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


Identities = dict[tuple[bytes, str], tuple[str, str, str, str]]


def _stamp(
    role: str,
    value: bytes,
    encoding: str,
    resolve: Resolver,
    identities: Identities,
    notes: list[str],
) -> tuple[str, str, str, str, int, int]:
    """Name, email (resolved), raw name, raw email, epoch seconds, UTC offset in minutes.

    ``identities`` caches the names of ``Name <email`` byte strings: a history has few people
    and many commits. What cannot be recorded as written (a NUL byte, a date or offset no clock
    can show) is recorded as the note in ``notes`` says.
    """
    ident, _, when = value.rpartition(b"> ")
    seconds, _, zone = when.partition(b" ")
    offset = _offset(zone)
    names = identities.get((ident, encoding))
    if names is None or offset is None or not _is_plain_epoch(seconds):
        return _odd_stamp(role, value, encoding, resolve, identities, notes)
    return (*names, int(seconds), offset)


def _odd_stamp(
    role: str,
    value: bytes,
    encoding: str,
    resolve: Resolver,
    identities: Identities,
    notes: list[str],
) -> tuple[str, str, str, str, int, int]:
    """:func:`_stamp` for a person not seen yet, or a date off the common path."""
    match = _IDENT.match(value) or _PERSON.match(value)
    if match is None:
        raw = _visible(role, "line", decode_text(value, encoding), notes)
        notes.append(f"{role} line has no <email>: its date is unknown, recorded as {_EPOCH}")
        return (*resolve(raw, ""), raw, "", 0, 0)
    ident = value[: match.end("email")]  # ``Name <email``, as _stamp looks it up
    names = identities.get((ident, encoding))
    if names is None:
        raw_name = _visible(role, "name", decode_text(match["name"], encoding), notes)
        raw_email = _visible(role, "email", decode_text(match["email"], encoding), notes)
        names = (*resolve(raw_name, raw_email), raw_name, raw_email)
        if b"\0" not in ident:  # else not cached, so that each commit gets its note
            identities[(ident, encoding)] = names
    if "ts" not in match.groupdict():
        date = decode_text(match["date"], encoding).strip()
        notes.append(f"{role} date {date!r} is not 'seconds ±hhmm': unknown, recorded as {_EPOCH}")
        return (*names, 0, 0)
    return (*names, *_instant(role, match["ts"].decode(), match["tz"].decode(), notes))


def _visible(role: str, part: str, text: str, notes: list[str]) -> str:
    if "\0" not in text:
        return text
    notes.append(f"{role} {part} holds a NUL byte, recorded as {_NUL_SHOWN}")
    return text.replace("\0", _NUL_SHOWN)


def _instant(role: str, seconds_text: str, zone: str, notes: list[str]) -> tuple[int, int]:
    """Epoch seconds and offset in minutes of a date git parses, as close to it as a clock can
    show (with a note where that differs)."""
    seconds = int(seconds_text)
    offset = _offset(zone.encode())
    if offset is None:
        notes.append(f"{role} time zone {zone} is not a valid offset: the time is given in UTC")
        offset = 0
    if seconds > _GIT_TIME_MAX:
        notes.append(f"{role} date {seconds_text} overflows: recorded as git shows it, {_EPOCH}")
        return 0, 0
    if not _EARLIEST <= seconds <= _LATEST:
        bound = _LATEST if seconds > _LATEST else _EARLIEST
        shown = datetime.fromtimestamp(bound, UTC).isoformat().replace("+00:00", "Z")
        notes.append(
            f"{role} date {seconds_text} is outside the years 1 to 9999: recorded as {shown}"
        )
        return bound, 0
    if offset and not _EARLIEST <= seconds + offset * 60 <= _LATEST:
        notes.append(f"{role} local time at {zone} is outside the years 1 to 9999: given in UTC")
        offset = 0
    return seconds, offset


@functools.cache
def _offset(zone: bytes) -> int | None:
    """Minutes east of UTC of a ``+hhmm`` zone, None if it is not a valid one (hours up to 23,
    minutes up to 59; git accepts any four digits)."""
    if len(zone) != 5 or zone[:1] not in (b"+", b"-") or not zone[1:].isdigit():
        return None
    hours, minutes = int(zone[1:3]), int(zone[3:5])
    if hours > 23 or minutes > 59:
        return None
    return (hours * 60 + minutes) * (-1 if zone[:1] == b"-" else 1)


def _is_plain_epoch(seconds: bytes) -> bool:
    """Digits of a date every clock can show (under 10^11 seconds: before the year 5138)."""
    return 0 < len(seconds) <= 11 and seconds.isdigit()


def split_message(message: str) -> tuple[str, str]:
    """Subject (the first paragraph, joined into one line) and body, as ``%s`` and ``%b``."""
    text = message.strip("\n")
    subject, _, body = text.partition("\n\n")
    return " ".join(subject.split("\n")).strip(), body.strip("\n")


def signature_kind(gpgsig: bytes) -> SignatureKind:
    if not gpgsig:
        return SignatureKind.NONE
    if b"BEGIN PGP SIGNATURE" in gpgsig:
        return SignatureKind.GPG
    if b"BEGIN SSH SIGNATURE" in gpgsig:
        return SignatureKind.SSH
    if b"BEGIN SIGNED MESSAGE" in gpgsig:
        return SignatureKind.X509
    return SignatureKind.UNKNOWN


def parse_trailers(message: str) -> tuple[Trailer, ...]:
    """The trailer block of a message, found the way ``git interpret-trailers`` finds it.

    The block is the last paragraph (never the subject). It counts when every line is a trailer
    or continuation, or when at least a quarter are and one of them is git-generated.
    """
    lines = _strip_comments_and_cut_line(message).rstrip("\n").split("\n")
    start = len(lines)
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start == 0:
        return ()
    block = lines[start:]
    trailers: list[list[str]] = []
    trailer_lines = other_lines = 0
    generated = False
    for line in block:
        if line[:1] in (" ", "\t") and trailers:
            trailers[-1][1] += " " + line.strip()
            continue
        match = _TRAILER.match(line)
        if match:
            trailer_lines += 1
            generated = generated or line.lower().startswith(_GIT_TRAILER_PREFIXES)
            trailers.append([match[1], match[2].strip()])
        else:
            other_lines += 1
            generated = generated or line.startswith(_GIT_TRAILER_PREFIXES[1])
    if trailer_lines == 0:
        return ()
    if other_lines and not (generated and trailer_lines * 3 >= other_lines):
        return ()
    return tuple(Trailer(key, value) for key, value in trailers)


def _strip_comments_and_cut_line(message: str) -> str:
    cut = message.find("\n# ------------------------ >8 ------------------------")
    return message if cut < 0 else message[:cut]


_GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from ")
_GITHUB_SQUASH = re.compile(r"\(#(\d+)\)\s*$")
_GITLAB = re.compile(r"^See merge request (\S+?)!(\d+)\s*$", re.M)
_BITBUCKET = re.compile(r"\(pull request #(\d+)\)")


def request_ref(subject: str, body: str) -> RequestRef | None:
    """The merged-request number a commit message names, if any."""
    if match := _GITHUB_MERGE.match(subject):
        return RequestRef(RequestKind.GITHUB_MERGE, int(match[1]))
    if match := _GITLAB.search(body):
        return RequestRef(RequestKind.GITLAB, int(match[2]), match[1])
    if match := _BITBUCKET.search(subject):
        return RequestRef(RequestKind.BITBUCKET, int(match[1]))
    if match := _GITHUB_SQUASH.search(subject):
        return RequestRef(RequestKind.GITHUB_SQUASH, int(match[1]))
    return None
