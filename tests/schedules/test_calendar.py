"""The treaty calendar: entry into force, Article 7, 3 and 4 deadlines, what is open."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from schedules.calendar import (
    CustomDeadline,
    DueItem,
    ItemKind,
    StateCalendar,
    add_months,
    annual_report_due,
    art3_original_deadline,
    art4_original_deadline,
    initial_report_due,
    items_open,
)
from schedules.policy import ReminderPolicy, open_items
from storage.treaty_data import article17_entry_into_force

FAR = 10_000  # a window wide enough to see every item


def ids(items: list[DueItem]) -> list[str]:
    return [item.item for item in items]


@pytest.mark.parametrize(
    ("deposited", "expected"),
    [
        (date(2009, 6, 16), date(2010, 8, 1)),  # among the first 30 instruments
        (date(2010, 2, 16), date(2010, 8, 1)),  # the 30th instrument itself
        (date(2010, 2, 17), date(2010, 8, 1)),  # first day of the sixth month after February
        (date(2013, 4, 9), date(2013, 10, 1)),
        (date(2011, 9, 8), date(2012, 3, 1)),
        (date(2010, 7, 31), date(2011, 1, 1)),  # across the year end
        (date(2012, 12, 31), date(2013, 6, 1)),
        (date(2024, 2, 29), date(2024, 8, 1)),
        (date(2024, 3, 1), date(2024, 9, 1)),
    ],
)
def test_entry_into_force_follows_article_17(deposited: date, expected: date) -> None:
    assert article17_entry_into_force(deposited) == expected


@pytest.mark.parametrize(
    ("eif", "due"),
    [
        (date(2010, 8, 1), date(2011, 1, 28)),
        (date(2011, 9, 1), date(2012, 2, 28)),
        (date(2011, 10, 1), date(2012, 3, 29)),  # crosses 29 February 2012
        (date(2012, 3, 1), date(2012, 8, 28)),
        (date(2027, 1, 1), date(2027, 6, 30)),
    ],
)
def test_initial_report_due_180_days_after_entry_into_force(eif: date, due: date) -> None:
    assert initial_report_due(eif) == due


@pytest.mark.parametrize(
    ("covers", "due"),
    [(2010, date(2011, 4, 30)), (2026, date(2027, 4, 30)), (2027, date(2028, 4, 30))],
)
def test_annual_report_due_30_april_of_next_year(covers: int, due: date) -> None:
    assert annual_report_due(covers) == due


@pytest.mark.parametrize(
    ("eif", "art3", "art4"),
    [
        (date(2010, 8, 1), date(2018, 8, 1), date(2020, 8, 1)),
        (date(2012, 2, 29), date(2020, 2, 29), date(2022, 2, 28)),  # 2020 leap, 2022 not
        (date(2016, 2, 29), date(2024, 2, 29), date(2026, 2, 28)),
        (date(2013, 12, 31), date(2021, 12, 31), date(2023, 12, 31)),
    ],
)
def test_original_treaty_deadlines(eif: date, art3: date, art4: date) -> None:
    assert art3_original_deadline(eif) == art3
    assert art4_original_deadline(eif) == art4


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2028, 3, 31), -1, date(2028, 2, 29)),
        (date(2027, 3, 31), -3, date(2026, 12, 31)),
        (date(2027, 1, 15), -1, date(2026, 12, 15)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2027, 8, 31), -6, date(2027, 2, 28)),
        (date(2027, 5, 31), -24, date(2025, 5, 31)),
        (date(2027, 5, 31), 0, date(2027, 5, 31)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# A State that joined in 2013 and is up to date except for the report covering 2026.
UP_TO_DATE = StateCalendar(
    iso3="IRQ",
    entry_into_force=date(2013, 11, 1),
    initial_report_submitted=True,
    submitted_annual_years=frozenset(range(2013, 2026)),
)


@pytest.mark.parametrize(
    ("today", "lookahead", "lookback", "expected"),
    [
        (date(2027, 3, 1), 60, 0, ["art7-annual-2026"]),  # due on the window's last day
        (date(2027, 3, 1), 59, 0, []),
        (date(2027, 6, 25), 0, 56, ["art7-annual-2026"]),  # due on the window's first day
        (date(2027, 6, 26), 0, 56, []),
        (date(2030, 1, 1), 0, None, ["art7-annual-2026", "art7-annual-2027", "art7-annual-2028"]),
    ],
)
def test_items_open_window_is_inclusive(
    today: date, lookahead: int, lookback: int | None, expected: list[str]
) -> None:
    found = items_open(UP_TO_DATE, today, lookahead_days=lookahead, lookback_days=lookback)
    assert ids(found) == expected


def test_annual_item_carries_article_and_covered_year() -> None:
    [item] = items_open(UP_TO_DATE, date(2027, 4, 1), lookahead_days=60, lookback_days=0)
    assert item == DueItem(
        state="IRQ",
        item="art7-annual-2026",
        kind=ItemKind.ART7,
        due=date(2027, 4, 30),
        article=7,
        covers_year=2026,
        title=None,
    )


def test_report_submitted_between_reminders_disappears() -> None:
    today = date(2027, 4, 20)
    before = open_items(UP_TO_DATE, today, ReminderPolicy())
    after = open_items(
        replace(UP_TO_DATE, submitted_annual_years=UP_TO_DATE.submitted_annual_years | {2026}),
        today,
        ReminderPolicy(),
    )
    assert "art7-annual-2026" in ids(before)
    assert "art7-annual-2026" not in ids(after)


def test_new_state_owes_initial_and_entry_year_reports_in_due_order() -> None:
    # EIF on 1 December: the report covering that first month is due before the initial one.
    cal = StateCalendar(iso3="XAA", entry_into_force=date(2012, 12, 1))
    found = items_open(cal, date(2012, 12, 1), lookahead_days=200, lookback_days=0)
    assert [(item.item, item.due) for item in found] == [
        ("art7-annual-2012", date(2013, 4, 30)),
        ("art7-initial", date(2013, 5, 30)),
    ]


def test_no_annual_report_before_entry_into_force_year() -> None:
    cal = StateCalendar(iso3="XAA", entry_into_force=date(2027, 1, 1))
    found = items_open(cal, date(2027, 1, 1), lookahead_days=FAR, lookback_days=None)
    assert ids(found)[:3] == ["art7-initial", "art7-annual-2027", "art7-annual-2028"]
    assert "art7-annual-2026" not in ids(found)


@pytest.mark.parametrize(
    ("withdrawn_on", "expected"),
    [
        # Withdrawal took effect before 30 April 2025: the 2024 report is no longer owed.
        (date(2025, 3, 6), ["art7-annual-2023"]),
        (date(2025, 4, 30), ["art7-annual-2023"]),  # not a party on its due date
        (date(2025, 5, 1), ["art7-annual-2023", "art7-annual-2024"]),
        (None, ["art7-annual-2023", "art7-annual-2024", "art7-annual-2025", "art4"]),
    ],
)
def test_withdrawn_state_owes_nothing_due_after_withdrawal(
    withdrawn_on: date | None, expected: list[str]
) -> None:
    cal = StateCalendar(
        iso3="LTU",
        entry_into_force=date(2011, 9, 1),
        withdrawn_on=withdrawn_on,
        initial_report_submitted=True,
        submitted_annual_years=frozenset(range(2011, 2023)),
        art4_deadline=date(2026, 8, 1),
    )
    found = items_open(cal, date(2025, 1, 15), lookahead_days=600, lookback_days=None)
    assert ids(found) == expected


def test_withdrawal_ends_custom_deadlines_too() -> None:
    cal = StateCalendar(
        iso3="LTU",
        entry_into_force=date(2011, 9, 1),
        withdrawn_on=date(2025, 3, 6),
        initial_report_submitted=True,
        submitted_annual_years=frozenset(range(2011, 2024)),
        custom_deadlines=(
            CustomDeadline(1, "Before withdrawal", date(2025, 3, 5)),
            CustomDeadline(2, "After withdrawal", date(2025, 3, 6)),
        ),
    )
    found = items_open(cal, date(2025, 1, 1), lookahead_days=FAR, lookback_days=None)
    assert ids(found) == ["custom-1"]


@pytest.mark.parametrize(
    ("art3_completed", "art4_completed", "expected"),
    [
        (False, False, ["art3", "art4"]),
        (True, False, ["art4"]),
        (False, True, ["art3"]),
        (True, True, []),
    ],
)
def test_completed_treaty_obligations_are_not_open(
    art3_completed: bool, art4_completed: bool, expected: list[str]
) -> None:
    cal = replace(
        UP_TO_DATE,
        submitted_annual_years=frozenset(range(2013, 2100)),
        art3_deadline=date(2026, 11, 1),  # extended from the 2021 original
        art3_completed=art3_completed,
        art4_deadline=date(2028, 11, 1),
        art4_completed=art4_completed,
    )
    found = items_open(cal, date(2026, 1, 1), lookahead_days=FAR, lookback_days=0)
    assert ids(found) == expected
    assert all(item.kind is ItemKind.TREATY for item in found)
    assert [item.article for item in found] == [int(name[-1]) for name in expected]


def test_custom_deadline_keeps_its_title_and_id() -> None:
    cal = replace(
        UP_TO_DATE,
        submitted_annual_years=frozenset(range(2013, 2100)),
        custom_deadlines=(CustomDeadline(7, "Intersessional meeting input", date(2027, 5, 1)),),
    )
    [item] = items_open(cal, date(2027, 4, 1), lookahead_days=FAR, lookback_days=0)
    assert (item.item, item.kind, item.title, item.article) == (
        "custom-7",
        ItemKind.CUSTOM,
        "Intersessional meeting input",
        None,
    )


def test_items_on_the_same_day_are_ordered_by_id() -> None:
    cal = replace(
        UP_TO_DATE,
        art4_deadline=date(2027, 4, 30),
        custom_deadlines=(CustomDeadline(3, "Same day", date(2027, 4, 30)),),
    )
    found = items_open(cal, date(2027, 4, 1), lookahead_days=29, lookback_days=0)
    assert ids(found) == ["art4", "art7-annual-2026", "custom-3"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iso3": "irq"}, "three capital letters"),
        ({"iso3": "IRQX"}, "three capital letters"),
        ({"withdrawn_on": date(2013, 11, 1)}, "must take effect after"),
        (
            {"custom_deadlines": (CustomDeadline(1, "a", date(2027, 1, 1)),) * 2},
            "ids repeat",
        ),
    ],
)
def test_state_calendar_rejects_inconsistent_records(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        replace(UP_TO_DATE, **changes)  # type: ignore[arg-type]


def test_negative_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        items_open(UP_TO_DATE, date(2027, 1, 1), lookahead_days=-1, lookback_days=0)
