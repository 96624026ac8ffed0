"""What each State Party owes under the Convention, and when.

Pure functions of dates: the caller supplies "today" (in the State's own zone) and the
State's record; nothing here reads a clock, a database or the environment. Both the
reminder planner and the "status of my State" screens read the same `items_open` answer,
so a delegate never sees a deadline the bot would not remind them of, or the reverse.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from storage.items import INITIAL_ITEM, annual_item_id, custom_item_id
from storage.treaty_data import INITIAL_REPORT_DAYS  # Article 7(1)

ANNUAL_REPORT_MONTH, ANNUAL_REPORT_DAY = 4, 30  # Article 7(2): 30 April
STOCKPILE_DESTRUCTION_YEARS = 8  # Article 3(2)
CLEARANCE_YEARS = 10  # Article 4(1)

_ISO3 = re.compile(r"[A-Z]{3}")


class ItemKind(StrEnum):
    """Which family of reminder stages an item gets (see `schedules.policy`)."""

    ART7 = "art7"
    TREATY = "treaty"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class DueItem:
    """One obligation of one State with its due date; `item` is a stable id for ledgers.

    `title` is only set for custom items: treaty items are named by the message catalog,
    in the reader's language, from `item`, `article` and `covers_year`.
    """

    state: str
    item: str
    kind: ItemKind
    due: date
    article: int | None = None
    covers_year: int | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class CustomDeadline:
    """A deadline the coordinators added by hand (a meeting, a request for information)."""

    id: int
    title: str
    due: date


@dataclass(frozen=True, slots=True)
class StateCalendar:
    """Everything about one State that decides what it owes.

    `art3_deadline`/`art4_deadline` are the latest deadlines, extensions included; None
    when the State never had the obligation. `withdrawn_on` is the day the withdrawal
    took effect (Article 20), not the day it was notified.
    """

    iso3: str
    entry_into_force: date
    withdrawn_on: date | None = None
    initial_report_submitted: bool = False
    submitted_annual_years: frozenset[int] = field(default_factory=frozenset)
    art3_deadline: date | None = None
    art3_completed: bool = False
    art4_deadline: date | None = None
    art4_completed: bool = False
    custom_deadlines: tuple[CustomDeadline, ...] = ()

    def __post_init__(self) -> None:
        if not _ISO3.fullmatch(self.iso3):
            raise ValueError(f"iso3 must be three capital letters, got {self.iso3!r}")
        if self.withdrawn_on is not None and self.withdrawn_on <= self.entry_into_force:
            raise ValueError(
                f"{self.iso3}: withdrawal ({self.withdrawn_on}) must take effect after "
                f"entry into force ({self.entry_into_force})"
            )
        ids = [custom.id for custom in self.custom_deadlines]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.iso3}: custom deadline ids repeat: {sorted(ids)}")


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic, the day clamped to the month's end (31 Mar - 1 = 28 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = _stdlib_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def initial_report_due(eif: date) -> date:
    """Article 7(1): no later than 180 days after entry into force."""
    return eif + timedelta(days=INITIAL_REPORT_DAYS)


def annual_report_due(covers_year: int) -> date:
    """Article 7(2): the report covering a calendar year is due on 30 April of the next."""
    return date(covers_year + 1, ANNUAL_REPORT_MONTH, ANNUAL_REPORT_DAY)


def art3_original_deadline(eif: date) -> date:
    """Article 3(2): stockpiles destroyed within 8 years of entry into force."""
    return add_months(eif, 12 * STOCKPILE_DESTRUCTION_YEARS)


def art4_original_deadline(eif: date) -> date:
    """Article 4(1)(a): contaminated areas cleared within 10 years of entry into force."""
    return add_months(eif, 12 * CLEARANCE_YEARS)


def items_open(
    cal: StateCalendar,
    today: date,
    *,
    lookahead_days: int,
    lookback_days: int | None,
) -> list[DueItem]:
    """Every unsatisfied item due in [today - lookback, today + lookahead], by due date.

    `lookback_days=None` means no lower bound: the status screen lists every overdue
    report since entry into force, while the planner only needs its reminder window.
    A withdrawn State owes nothing falling due on or after the day its withdrawal took
    effect, since on that day it is no longer a party.
    """
    if lookahead_days < 0 or (lookback_days is not None and lookback_days < 0):
        raise ValueError("lookahead_days and lookback_days must not be negative")
    latest = today + timedelta(days=lookahead_days)
    earliest = None if lookback_days is None else today - timedelta(days=lookback_days)

    def owed(due: date) -> bool:
        if cal.withdrawn_on is not None and due >= cal.withdrawn_on:
            return False
        return (earliest is None or earliest <= due) and due <= latest

    candidates: list[DueItem] = []
    if not cal.initial_report_submitted:
        candidates.append(
            DueItem(
                cal.iso3,
                INITIAL_ITEM,
                ItemKind.ART7,
                initial_report_due(cal.entry_into_force),
                article=7,
            )
        )
    last_covered = latest.year - 1  # the last year whose report can be due by `latest`
    if cal.withdrawn_on is not None:
        last_covered = min(last_covered, cal.withdrawn_on.year)
    for year in range(cal.entry_into_force.year, last_covered + 1):
        if year not in cal.submitted_annual_years:
            candidates.append(
                DueItem(
                    cal.iso3,
                    annual_item_id(year),
                    ItemKind.ART7,
                    annual_report_due(year),
                    article=7,
                    covers_year=year,
                )
            )
    for article, deadline, completed in (
        (3, cal.art3_deadline, cal.art3_completed),
        (4, cal.art4_deadline, cal.art4_completed),
    ):
        if deadline is not None and not completed:
            candidates.append(
                DueItem(cal.iso3, f"art{article}", ItemKind.TREATY, deadline, article=article)
            )
    for custom in cal.custom_deadlines:
        candidates.append(
            DueItem(
                cal.iso3,
                custom_item_id(custom.id),
                ItemKind.CUSTOM,
                custom.due,
                title=custom.title,
            )
        )
    return sorted(
        (item for item in candidates if owed(item.due)),
        key=lambda item: (item.due, item.item),
    )
