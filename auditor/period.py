"""The audit period: ``--since``/``--until`` dates or timestamps, and ``--as-of``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time

from auditor.errors import UsageError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_when(text: str, *, option: str, end_of_day: bool = False) -> datetime:
    """A date (start or end of that UTC day) or an ISO 8601 timestamp (UTC unless it says)."""
    value = text.strip()
    try:
        if _DATE.match(value):
            day = datetime.fromisoformat(value).date()
            return datetime.combine(day, time.max if end_of_day else time.min, UTC).replace(
                microsecond=0
            )
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not a date (YYYY-MM-DD) or ISO 8601 timestamp"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    """An inclusive time range; ``None`` ends are open (the whole history)."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise UsageError("--since is after --until")

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Period:
        return cls(
            since=parse_when(since, option="--since") if since else None,
            until=parse_when(until, option="--until", end_of_day=True) if until else None,
        )

    def label(self) -> str:
        def day(when: datetime | None, default: str) -> str:
            return when.astimezone(UTC).date().isoformat() if when else default

        return f"{day(self.since, 'beginning')}..{day(self.until, 'now')}"


def as_of(text: str | None) -> datetime:
    """The time written into outputs: ``--as-of`` or now, to the second, in UTC."""
    if text:
        return parse_when(text, option="--as-of").astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)
