"""How the tool words facts for people, the same in the pack and on the terminal: statuses in
words, counts with their nouns."""

from __future__ import annotations

from auditor.model import Status

_STATUS_WORDS = {
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.UNKNOWN: "unknown",
    Status.NOT_APPLICABLE: "not applicable",
    Status.WAIVED: "waived",
}


def status_text(status: Status | str) -> str:
    """A status as people read it ("not applicable"); CSV, JSON and OSCAL keep the machine value
    (``not_applicable``). Takes the status or its value, as view models carry the value."""
    return _STATUS_WORDS[Status(status)]


def noun(count: int, singular: str, plural: str = "") -> str:
    """``singular`` or its plural as ``count`` asks: 1 change, 2 changes, 0 repositories. The
    plural is ``plural`` when given, else the English regular one (-ies after a consonant's y)."""
    if count == 1:
        return singular
    if plural:
        return plural
    if singular.endswith("y") and singular[-2:-1] not in ("a", "e", "i", "o", "u"):
        return singular[:-1] + "ies"
    return singular + "s"


def counted(count: int, singular: str, plural: str = "") -> str:
    """A count with its noun: "1 repository", "3 repositories"."""
    return f"{count} {noun(count, singular, plural)}"
