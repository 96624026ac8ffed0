"""Periods (an ISO week, a reporting year) as half-open [start, end) values in UTC.

Digests and queries ask "what happened this week", which only has an answer once the
week's edges are fixed instants: local midnight moves against UTC with daylight saving,
and a few zones (Santiago, Beirut) skip or repeat the midnight hour itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_ISO_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")  # [0-9], not \d: no Arabic-Indic digits


@dataclass(frozen=True, slots=True)
class Period:
    """The instants from `start` (included) to `end` (excluded), both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise ValueError(f"period bounds must be timezone-aware: {self.start}, {self.end}")
        if self.start >= self.end:
            raise ValueError(f"period must start before it ends: {self.start} >= {self.end}")

    def contains(self, instant: datetime) -> bool:
        """Whether `instant` falls in [start, end)."""
        _require_aware(instant)
        return self.start <= instant < self.end


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant when the wall clock in `tz` shows `at` on `day`.

    A repeated wall time (autumn) means its first occurrence (fold=0). A skipped one
    (spring) means the first instant after the gap: a 09:00 reminder is late rather than
    early, and a week starting at a skipped midnight starts when the clocks resume.
    """
    wall = datetime.combine(day, at, tzinfo=tz)  # fold=0
    instant = wall.astimezone(UTC)
    naive = wall.replace(tzinfo=None)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    # In a gap, the two folds read the wall time with the offsets either side of the
    # transition, so the transition lies between them: bisect on whole seconds, the
    # resolution of the tz database.
    ends = (instant.timestamp(), wall.replace(fold=1).astimezone(UTC).timestamp())
    low, high = math.floor(min(ends)) - 1, math.ceil(max(ends))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def parse_iso_week(text: str) -> tuple[int, int]:
    """Parse "2027-W13" into (2027, 13), rejecting weeks the year does not have."""
    match = _ISO_WEEK.fullmatch(text)
    if match is None:
        raise ValueError(f"expected an ISO week like 2027-W13, got {text!r}")
    year, week = int(match[1]), int(match[2])
    _monday_of(year, week)
    return year, week


def iso_week(year: int, week: int, tz: tzinfo) -> Period:
    """ISO week `week` of `year`: Monday 00:00 to the next Monday 00:00, local to `tz`."""
    monday = _monday_of(year, week)
    return Period(
        local_instant(monday, time(0), tz),
        local_instant(monday + timedelta(days=7), time(0), tz),
    )


def week_containing(instant: datetime, tz: tzinfo) -> Period:
    """The local ISO week (in `tz`) that `instant` falls in."""
    _require_aware(instant)
    iso = instant.astimezone(tz).isocalendar()
    return iso_week(iso.year, iso.week, tz)


def previous_week(period: Period, tz: tzinfo) -> Period:
    """The local ISO week just before `period` starts: the week a Monday digest reports on."""
    return week_containing(period.start - timedelta(microseconds=1), tz)


def reporting_year_period(year: int, tz: tzinfo = UTC) -> Period:
    """The calendar year an Article 7 annual report covers, 1 January to 1 January."""
    return Period(
        local_instant(date(year, 1, 1), time(0), tz),
        local_instant(date(year + 1, 1, 1), time(0), tz),
    )


def weeks_in_year(year: int) -> int:
    """52 or 53: 28 December always falls in the year's last ISO week."""
    return date(year, 12, 28).isocalendar().week


def _monday_of(year: int, week: int) -> date:
    if not 1 <= year <= 9998:
        raise ValueError(f"year {year} is out of range")
    if not 1 <= week <= weeks_in_year(year):
        raise ValueError(f"{year} has no ISO week {week}; its weeks run 1 to {weeks_in_year(year)}")
    return date.fromisocalendar(year, week, 1)


def _require_aware(instant: datetime) -> None:
    if instant.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {instant}")
