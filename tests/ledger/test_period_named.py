"""Rolling and calendar periods of a scheduled run, computed from fixed ``--as-of`` times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from auditor.errors import UsageError
from auditor.ledger.period import Period, named_period, period_label


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def span(name: str, as_of: str) -> tuple[str, str, str]:
    named = named_period(name, at(as_of))
    since, until = named.period.since, named.period.until
    assert since is not None and until is not None
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return since.strftime(iso), until.strftime(iso), named.label


@pytest.mark.parametrize(
    ("name", "as_of", "expected"),
    [
        # the previous full calendar quarter
        ("last-quarter", "2026-10-01T02:00:00Z",
         ("2026-07-01T00:00:00Z", "2026-09-30T23:59:59Z", "2026-Q3")),
        ("last-quarter", "2026-01-15T10:00:00Z",  # across the year boundary
         ("2025-10-01T00:00:00Z", "2025-12-31T23:59:59Z", "2025-Q4")),
        ("last-quarter", "2026-03-31T23:59:59Z",
         ("2025-10-01T00:00:00Z", "2025-12-31T23:59:59Z", "2025-Q4")),
        ("last-quarter", "2026-04-01T00:00:00Z",
         ("2026-01-01T00:00:00Z", "2026-03-31T23:59:59Z", "2026-Q1")),
        ("last-quarter", "2026-04-01T01:00:00+02:00",  # still 31 March in UTC
         ("2025-10-01T00:00:00Z", "2025-12-31T23:59:59Z", "2025-Q4")),
        # the previous full calendar month
        ("last-month", "2026-01-01T00:00:00Z",
         ("2025-12-01T00:00:00Z", "2025-12-31T23:59:59Z", "2025-12")),
        ("last-month", "2026-03-15T08:00:00Z",
         ("2026-02-01T00:00:00Z", "2026-02-28T23:59:59Z", "2026-02")),
        ("last-month", "2024-03-10T08:00:00Z",  # a leap year's February
         ("2024-02-01T00:00:00Z", "2024-02-29T23:59:59Z", "2024-02")),
        # the 90 whole days before the day of the run
        ("last-90-days", "2026-01-15T10:00:00Z",
         ("2025-10-17T00:00:00Z", "2026-01-14T23:59:59Z", "2025-10-17_2026-01-14")),
        # from 1 January to the run itself
        ("year-to-date", "2026-05-05T12:30:00Z",
         ("2026-01-01T00:00:00Z", "2026-05-05T12:30:00Z", "2026-YTD")),
        ("year-to-date", "2026-01-01T00:00:00Z",
         ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-YTD")),
        # calendar periods named outright
        ("2026-Q4", "2020-01-01T00:00:00Z",
         ("2026-10-01T00:00:00Z", "2026-12-31T23:59:59Z", "2026-Q4")),
        ("2024-02", "2020-01-01T00:00:00Z",
         ("2024-02-01T00:00:00Z", "2024-02-29T23:59:59Z", "2024-02")),
        ("2025", "2020-01-01T00:00:00Z",
         ("2025-01-01T00:00:00Z", "2025-12-31T23:59:59Z", "2025")),
    ],
)  # fmt: skip
def test_named_periods_on_fixed_dates(
    name: str, as_of: str, expected: tuple[str, str, str]
) -> None:
    assert span(name, as_of) == expected


def test_last_90_days_is_ninety_whole_days() -> None:
    period = named_period("last-90-days", at("2024-03-01T23:00:00Z")).period
    assert period.since is not None and period.until is not None
    assert period.until + timedelta(seconds=1) - period.since == timedelta(days=90)
    assert period.since.tzinfo is UTC


def test_as_of_in_another_offset_is_taken_in_utc() -> None:
    as_of = datetime(2026, 7, 1, 1, 0, tzinfo=timezone(timedelta(hours=3)))  # 30 June, UTC
    assert named_period("last-month", as_of).label == "2026-05"


@pytest.mark.parametrize("name", ["last-week", "2026-13", "2026-Q5", "Q1", ""])
def test_unknown_period_names_are_usage_errors(name: str) -> None:
    with pytest.raises(UsageError, match="unknown period"):
        named_period(name, at("2026-01-01T00:00:00Z"))


def test_labels_of_explicit_periods() -> None:
    assert period_label(Period.parse("2026-01-01", "2026-03-31")) == "2026-01-01_2026-03-31"
    assert period_label(Period.parse("2026-01-01", None)) == "2026-01-01_now"
    assert period_label(Period.parse(None, "2026-03-31")) == "beginning_2026-03-31"
    assert period_label(Period()) == "all-history"
