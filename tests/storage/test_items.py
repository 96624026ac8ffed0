"""Item ids are written and read by one pair of functions: every report round-trips, and
nothing else reads as a report."""

from __future__ import annotations

import pytest

from storage.items import INITIAL_ITEM, item_of, report_item_id, report_of_item
from storage.models import ReportKind


@pytest.mark.parametrize(
    ("kind", "year", "item"),
    [
        (ReportKind.INITIAL, 0, INITIAL_ITEM),
        (ReportKind.ANNUAL, 2026, "art7-annual-2026"),
        (ReportKind.ANNUAL, 2010, "art7-annual-2010"),
    ],
)
def test_a_report_and_its_item_round_trip(kind: ReportKind, year: int, item: str) -> None:
    assert report_item_id(kind, year) == item
    assert report_of_item(item) == (kind, year)


@pytest.mark.parametrize(
    "item", ["art3", "art4", "custom-7", "art7-annual-", "art7-annual-20x6", "escalation", ""]
)
def test_other_items_are_no_report(item: str) -> None:
    assert report_of_item(item) is None


@pytest.mark.parametrize(
    ("about", "item"),
    [("LAO:art4", "art4"), ("IRL:art7-annual-2026", "art7-annual-2026"), (None, ""), ("", "")],
)
def test_the_item_of_a_reminder_key(about: str | None, item: str) -> None:
    assert item_of(about) == item
