"""The audit period: ``--since``/``--until`` dates or timestamps, and ``--as-of``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

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

    def unstarted(self, as_of: datetime) -> str | None:
        """Why the period cannot be audited at ``as_of``: it starts after it (nothing can
        have landed in it yet, and every control would read ``not_applicable``); else None."""
        if self.since is None or self.since <= as_of:
            return None
        return (
            f"the period starts at {_stamp(self.since)}, after --as-of {_stamp(as_of)}:"
            " nothing can have landed in it yet"
        )

    def require_started(self, as_of: datetime, *, option: str = "--since") -> Period:
        """This period, or :class:`UsageError` naming ``option`` when it starts after ``as_of``."""
        why = self.unstarted(as_of)
        if why is not None:
            raise UsageError(f"{option}: {why}")
        return self


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_of(text: str | None) -> datetime:
    """The time written into outputs: ``--as-of`` or now, to the second, in UTC."""
    if text:
        return parse_when(text, option="--as-of").astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)


# -- named periods: what a scheduled run's config says -------------------------------------------

ROLLING_PERIODS = ("last-quarter", "last-month", "last-90-days", "year-to-date")
_QUARTER = re.compile(r"^(?P<year>\d{4})-[Qq](?P<quarter>[1-4])$")
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
_YEAR = re.compile(r"^(?P<year>\d{4})$")
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class NamedPeriod:
    """A period with the short label that names the packs written for it (``2026-Q3``)."""

    period: Period
    label: str


def named_period(name: str, as_of: datetime) -> NamedPeriod:
    """A rolling period computed from ``as_of`` (UTC), or a calendar one named outright.

    - ``last-quarter``: the previous full calendar quarter (``2026-Q3`` when run in October);
    - ``last-month``: the previous full calendar month (``2026-09``);
    - ``last-90-days``: the 90 whole UTC days before the day of ``as_of``;
    - ``year-to-date``: from 1 January of ``as_of``'s year up to ``as_of`` itself;
    - ``2026-Q1``, ``2026-03``, ``2026``: that quarter, month or year.

    Raises :class:`UsageError` for any other name.
    """
    today = as_of.astimezone(UTC).date()
    text = name.strip()
    if text == "last-quarter":
        quarter = (today.month - 1) // 3  # 0-based index of the current quarter
        year, quarter = (today.year - 1, 4) if quarter == 0 else (today.year, quarter)
        return _quarter(year, quarter)
    if text == "last-month":
        year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
        return _month(year, month)
    if text == "last-90-days":
        since = _start(today - timedelta(days=90))
        until = _start(today) - _SECOND
        return NamedPeriod(Period(since, until), f"{since.date()}_{until.date()}")
    if text == "year-to-date":
        since = _start(date(today.year, 1, 1))
        return NamedPeriod(Period(since, as_of.astimezone(UTC)), f"{today.year}-YTD")
    if match := _QUARTER.match(text):
        return _quarter(int(match["year"]), int(match["quarter"]))
    if (match := _MONTH.match(text)) and 1 <= int(match["month"]) <= 12:
        return _month(int(match["year"]), int(match["month"]))
    if match := _YEAR.match(text):
        year = int(match["year"])
        return NamedPeriod(_between(date(year, 1, 1), date(year + 1, 1, 1)), str(year))
    choices = ", ".join(ROLLING_PERIODS)
    raise UsageError(f"unknown period {name!r}; expected {choices}, YYYY-Qn, YYYY-MM or YYYY")


def period_label(period: Period) -> str:
    """The label of an explicit period: ``2026-01-01_2026-03-31``, ``all-history``."""
    if period.since is None and period.until is None:
        return "all-history"

    def day(when: datetime | None, default: str) -> str:
        return str(when.astimezone(UTC).date()) if when else default

    return f"{day(period.since, 'beginning')}_{day(period.until, 'now')}"


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _between(first: date, after: date) -> Period:
    """From the start of ``first`` to the last second before ``after``."""
    return Period(_start(first), _start(after) - _SECOND)


def _quarter(year: int, quarter: int) -> NamedPeriod:
    first = date(year, 3 * (quarter - 1) + 1, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return NamedPeriod(_between(first, after), f"{year}-Q{quarter}")


def _month(year: int, month: int) -> NamedPeriod:
    after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return NamedPeriod(_between(date(year, month, 1), after), f"{year}-{month:02d}")
