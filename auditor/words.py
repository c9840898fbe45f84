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
