"""The names of what a State is reminded of: the ledger's item ids, written and read in one place.

An item id travels far: in the reminder ledger, in a Slack message's metadata and a button's
value ("ISO3:item"), in an email's token and in the digest. Every writer and reader goes through
these functions, so the names never drift between them.
"""

from __future__ import annotations

from storage.models import ReportKind

INITIAL_ITEM = "art7-initial"
_ANNUAL_PREFIX = "art7-annual-"
# The Article 3 and Article 4 deadlines, and the article each is about.
ARTICLE_ITEMS = {"art3": 3, "art4": 4}


def annual_item_id(covers_year: int) -> str:
    """The annual report covering ``covers_year`` (due 30 April of the next)."""
    return f"{_ANNUAL_PREFIX}{covers_year}"


def custom_item_id(custom_id: int) -> str:
    """A deadline the ISU added by hand."""
    return f"custom-{custom_id}"


def report_item_id(kind: ReportKind, year: int) -> str:
    """The item of a report: the initial one, or the annual one covering ``year``."""
    return INITIAL_ITEM if kind is ReportKind.INITIAL else annual_item_id(year)


def report_of_item(item: str) -> tuple[ReportKind, int] | None:
    """The report an item names (initial: year 0), None for any other item."""
    if item == INITIAL_ITEM:
        return ReportKind.INITIAL, 0
    year = item.removeprefix(_ANNUAL_PREFIX)
    if item.startswith(_ANNUAL_PREFIX) and year.isdigit():
        return ReportKind.ANNUAL, int(year)
    return None


def item_of(about: str | None) -> str:
    """The item of a reminder's "ISO3:item" key ("" when there is none)."""
    return (about or "").partition(":")[2]
