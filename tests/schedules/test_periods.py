"""Periods at their edges: ISO weeks across year ends and DST, reporting years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedules.periods import (
    Period,
    iso_week,
    local_instant,
    parse_iso_week,
    previous_week,
    reporting_year_period,
    week_containing,
    weeks_in_year,
)

ZURICH = ZoneInfo("Europe/Zurich")
SANTIAGO = ZoneInfo("America/Santiago")
SYDNEY = ZoneInfo("Australia/Sydney")
TEHRAN = ZoneInfo("Asia/Tehran")  # skipped Monday midnight on 22 March 2021


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-W13", (2027, 13)),
        ("2027-W01", (2027, 1)),
        ("2026-W53", (2026, 53)),
        ("2020-W53", (2020, 53)),
        ("2032-W53", (2032, 53)),
    ],
)
def test_parse_iso_week(text: str, expected: tuple[int, int]) -> None:
    assert parse_iso_week(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-13", "expected an ISO week like 2027-W13"),
        ("2027-W1", "expected an ISO week"),
        ("2027W13", "expected an ISO week"),
        ("2027-w13", "expected an ISO week"),
        (" 2027-W13", "expected an ISO week"),
        ("2027-W13\n", "expected an ISO week"),
        ("٢٠٢٧-W13", "expected an ISO week"),  # Arabic-Indic digits match \d, not [0-9]
        ("2027-W00", "2027 has no ISO week 0"),
        ("2027-W53", "2027 has no ISO week 53; its weeks run 1 to 52"),
        ("2026-W54", "2026 has no ISO week 54; its weeks run 1 to 53"),
    ],
)
def test_parse_iso_week_rejects_bad_input(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_iso_week(text)


@pytest.mark.parametrize(
    ("year", "weeks"), [(2015, 53), (2020, 53), (2021, 52), (2026, 53), (2027, 52), (2032, 53)]
)
def test_weeks_in_year(year: int, weeks: int) -> None:
    assert weeks_in_year(year) == weeks


@pytest.mark.parametrize(
    ("year", "week", "tz", "start", "end"),
    [
        (2026, 53, UTC, utc(2026, 12, 28), utc(2027, 1, 4)),  # spans 31 December
        (2026, 1, UTC, utc(2025, 12, 29), utc(2026, 1, 5)),  # starts the year before
        (2027, 1, UTC, utc(2027, 1, 4), utc(2027, 1, 11)),
        (2027, 12, ZURICH, utc(2027, 3, 21, 23), utc(2027, 3, 28, 22)),  # 167 hours
        (2027, 43, ZURICH, utc(2027, 10, 24, 22), utc(2027, 10, 31, 23)),  # 169 hours
        (2027, 35, SANTIAGO, utc(2027, 8, 30, 4), utc(2027, 9, 6, 3)),
        (2027, 1, SYDNEY, utc(2027, 1, 3, 13), utc(2027, 1, 10, 13)),
        # Monday 22 March 2021 00:00 never happened in Tehran: the week starts at 01:00.
        (2021, 12, TEHRAN, utc(2021, 3, 21, 20, 30), utc(2021, 3, 28, 19, 30)),
    ],
)
def test_iso_week_edges(year: int, week: int, tz: ZoneInfo, start: datetime, end: datetime) -> None:
    assert iso_week(year, week, tz) == Period(start, end)


@pytest.mark.parametrize(("year", "week"), [(2027, 53), (2027, 0), (2026, 54)])
def test_iso_week_rejects_missing_week(year: int, week: int) -> None:
    with pytest.raises(ValueError, match=f"{year} has no ISO week {week}"):
        iso_week(year, week, UTC)


@pytest.mark.parametrize("tz", [UTC, ZURICH, SANTIAGO, SYDNEY, TEHRAN])
def test_consecutive_weeks_leave_no_gap_or_overlap(tz: ZoneInfo) -> None:
    for year in (2020, 2021, 2026, 2027, 2028):
        for week in range(1, weeks_in_year(year) + 1):
            period = iso_week(year, week, tz)
            following = (year, week + 1) if week < weeks_in_year(year) else (year + 1, 1)
            assert period.end == iso_week(*following, tz).start
            assert previous_week(iso_week(*following, tz), tz) == period


@pytest.mark.parametrize(
    ("instant", "tz", "expected"),
    [
        (utc(2027, 1, 4), UTC, (2027, 1)),  # the start belongs to the week
        (utc(2027, 1, 4) - timedelta(microseconds=1), UTC, (2026, 53)),
        (utc(2027, 1, 3, 13), SYDNEY, (2027, 1)),  # Monday 00:00 in Sydney, Sunday in UTC
        (utc(2027, 1, 3, 12, 59), SYDNEY, (2026, 53)),
        (utc(2027, 3, 28, 21, 59), ZURICH, (2027, 12)),  # Sunday 23:59 CEST
        (utc(2027, 3, 28, 22), ZURICH, (2027, 13)),
        (utc(2021, 3, 21, 20, 29), TEHRAN, (2021, 11)),
        (utc(2021, 3, 21, 20, 30), TEHRAN, (2021, 12)),
    ],
)
def test_week_containing(instant: datetime, tz: ZoneInfo, expected: tuple[int, int]) -> None:
    period = week_containing(instant, tz)
    assert period == iso_week(*expected, tz)
    assert period.contains(instant)


def test_previous_week_across_the_year_end() -> None:
    assert previous_week(iso_week(2027, 1, ZURICH), ZURICH) == iso_week(2026, 53, ZURICH)


@pytest.mark.parametrize(
    ("tz", "start", "end"),
    [
        (UTC, utc(2026, 1, 1), utc(2027, 1, 1)),
        (ZURICH, utc(2025, 12, 31, 23), utc(2026, 12, 31, 23)),
        (SYDNEY, utc(2025, 12, 31, 13), utc(2026, 12, 31, 13)),
    ],
)
def test_reporting_year_period(tz: ZoneInfo, start: datetime, end: datetime) -> None:
    period = reporting_year_period(2026, tz)
    assert period == Period(start, end)
    assert period.contains(start)
    assert not period.contains(end)
    assert not period.contains(start - timedelta(microseconds=1))


def test_reporting_year_defaults_to_utc() -> None:
    assert reporting_year_period(2028) == Period(utc(2028, 1, 1), utc(2029, 1, 1))


@pytest.mark.parametrize(
    ("day", "at", "tz", "expected"),
    [
        (date(2027, 3, 28), time(2, 30), ZURICH, utc(2027, 3, 28, 1)),  # end of the gap
        (date(2027, 10, 31), time(2, 30), ZURICH, utc(2027, 10, 31, 0, 30)),  # first of two
        (date(2027, 9, 5), time(0), SANTIAGO, utc(2027, 9, 5, 4)),
        (date(2027, 7, 1), time(0, 15), SANTIAGO, utc(2027, 7, 1, 4, 15)),
    ],
)
def test_local_instant(day: date, at: time, tz: ZoneInfo, expected: datetime) -> None:
    assert local_instant(day, at, tz) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2027, 1, 1), utc(2027, 1, 2), "timezone-aware"),
        (utc(2027, 1, 2), utc(2027, 1, 2), "must start before it ends"),
        (utc(2027, 1, 3), utc(2027, 1, 2), "must start before it ends"),
    ],
)
def test_period_rejects_bad_bounds(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Period(start, end)


def test_period_contains_refuses_naive_instants() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        iso_week(2027, 1, UTC).contains(datetime(2027, 1, 5))
