"""The ISU's yearly analysis on the example records, every number with the States behind it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from handlers.imports import ImportKind, run_import
from handlers.stats import compare_totals, yearly_analysis
from storage.audit import Actor
from storage.db import Store
from storage.models import Via
from storage.state_names import StateIndex
from storage.treaty_data import load_treaty_data

EXAMPLES = Path(__file__).parents[2] / "examples"
ISU = Actor("isu@ccm-isu.example", Via.IMPORT)
# Assistance the example States reported for 2024, to compare 2025 with.
ASSISTANCE_2024 = """state,direction,provider,recipient,year,article,amount,currency,source
NOR,provided,Norway,Lebanon,2024,4,"20,000,000",NOK,Norway 2024
NOR,provided,Norway,Iraq,2024,4,"5,000,000",NOK,Norway 2024
DEU,provided,Germany,Afghanistan,2024,5,2000000,EUR,Germany 2024
FRA,provided,France,Senegal,2024,6,90000,USD,France 2024
"""


@cache
def resolve_state(text: str) -> str | None:
    found = StateIndex(load_treaty_data().states).find(text)
    return found.iso3 if found else None


async def import_examples(store: Store, tmp_path: Path, *, entries_at: datetime) -> None:
    """The example files, needs and offers recorded at ``entries_at``, the rest in late 2026."""
    extra = tmp_path / "assistance-2024.csv"
    extra.write_text(ASSISTANCE_2024)
    later = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for kind, path, now in (
        (ImportKind.CONTACTS, EXAMPLES / "contacts.csv", entries_at),
        (ImportKind.NEEDS, EXAMPLES / "needs.csv", entries_at),
        (ImportKind.CAPACITIES, EXAMPLES / "capacities.csv", entries_at),
        (ImportKind.REPORTS, EXAMPLES / "reports.csv", later),
        (ImportKind.ASSISTANCE, EXAMPLES / "assistance.csv", later),
        (ImportKind.ASSISTANCE, extra, later),
    ):
        async with store.transaction() as session:
            await run_import(session, kind, path, actor=ISU, now=now, resolve_state=resolve_state)


@pytest.fixture
async def examples(loaded_store: Store, tmp_path: Path) -> Store:
    await import_examples(loaded_store, tmp_path, entries_at=datetime(2025, 6, 2, tzinfo=UTC))
    return loaded_store


async def test_2025_figures_and_the_states_behind_them(examples: Store) -> None:
    async with examples.transaction() as session:
        analysis = await yearly_analysis(session, 2025, date(2026, 11, 1))
    figures, names = analysis.figures(), analysis.names()

    def codes(group: str, article: str | None = None) -> list[str]:
        listed = names["by_article"][article][group] if article else names[group]
        return [state["iso3"] for state in listed]

    assert (figures["year"], figures["due"]) == (2025, date(2026, 4, 30))
    # 112 parties: Vanuatu (in force March 2026) counts, Lithuania (withdrew 2025) does not.
    assert figures["states_parties"] == 112
    assert "VUT" in codes("states_parties")
    assert "LTU" not in codes("states_parties")
    # Senegal's report covers 2024; reports are listed by English name.
    assert codes("reports_submitted") == ["AFG", "CHL", "FRA", "DEU", "LBN", "NOR"]
    # Chile (12 May) and Afghanistan (19 June) were late; Lebanon on the day is on time.
    assert codes("reports_on_time") == ["FRA", "DEU", "LBN", "NOR"]
    # Needs recorded in 2025 by States that reported; Senegal's need counts not (no report).
    assert codes("requested") == ["AFG", "CHL", "LBN"]
    assert codes("provided") == ["CHL", "FRA", "DEU", "NOR"]
    assert codes("received") == ["AFG", "LBN"]
    # Norway 30.5m NOK against 25m; Germany 1.5m EUR against 2m; France changed currency and
    # Chile gave no amount, so they are not compared.
    assert codes("provided_increased") == ["NOR"]
    assert codes("provided_decreased") == ["DEU"]
    assert codes("provided_not_comparable") == ["CHL", "FRA"]
    assert figures["by_article"] == {
        "3": {"with_obligations": 0, "requested": 0, "received": 0, "providers": 0},
        "4": {"with_obligations": 6, "requested": 2, "received": 1, "providers": 1},
        "5": {"with_obligations": 2, "requested": 2, "received": 2, "providers": 1},
    }
    assert codes("with_obligations", "4") == ["AFG", "CHL", "DEU", "IRQ", "LAO", "LBN"]
    assert codes("requested", "4") == ["CHL", "LBN"]
    assert codes("received", "4") == ["LBN"]
    assert codes("providers", "4") == ["NOR"]
    assert codes("with_obligations", "5") == ["AFG", "LBN"]
    assert codes("providers", "5") == ["DEU"]
    assert names["received"] == [
        {"iso3": "AFG", "name": "Afghanistan"},
        {"iso3": "LBN", "name": "Lebanon"},
    ]
    # Every number is the length of the list behind it.
    for group, listed in names.items():
        if group != "by_article":
            assert figures[group] == len(listed), group


async def test_an_earlier_as_of_day_counts_what_was_known_then(examples: Store) -> None:
    async with examples.transaction() as session:
        may = await yearly_analysis(session, 2025, date(2026, 5, 15))
    assert list(may.reports_submitted) == ["CHL", "FRA", "DEU", "LBN", "NOR"]  # not AFG yet
    assert list(may.received) == ["LBN"]
    assert list(may.requested) == ["CHL", "LBN"]


async def test_needs_recorded_in_another_year_are_not_2025_requests(
    loaded_store: Store, tmp_path: Path
) -> None:
    await import_examples(loaded_store, tmp_path, entries_at=datetime(2026, 1, 5, tzinfo=UTC))
    async with loaded_store.transaction() as session:
        analysis = await yearly_analysis(session, 2025, date(2026, 11, 1))
    assert analysis.requested == ()
    assert analysis.figures()["by_article"]["5"]["requested"] == 0
    # Article 5 assistance received in 2025 still marks Afghanistan and Lebanon.
    assert list(analysis.by_article["5"].with_obligations) == ["AFG", "LBN"]


@pytest.mark.parametrize(
    ("this_year", "last_year", "verdict"),
    [
        ({"EUR": "10"}, {"EUR": "5"}, "increased"),
        ({"EUR": "5"}, {"EUR": "10"}, "decreased"),
        ({"EUR": "5"}, {"EUR": "5"}, None),
        ({"EUR": "10", "USD": "1"}, {"EUR": "5"}, "increased"),  # USD is new: not compared
        ({"EUR": "10", "USD": "1"}, {"EUR": "5", "USD": "2"}, "not_comparable"),
        ({"EUR": "10", "USD": "2"}, {"EUR": "5", "USD": "2"}, "increased"),
        ({"USD": "10"}, {"EUR": "5"}, "not_comparable"),
        ({}, {"EUR": "5"}, "not_comparable"),
        ({"EUR": "5"}, {}, "not_comparable"),
    ],
)
def test_providers_are_compared_currency_by_currency(
    this_year: dict[str, str], last_year: dict[str, str], verdict: str | None
) -> None:
    def money(sums: dict[str, str]) -> dict[str, Decimal]:
        return {currency: Decimal(amount) for currency, amount in sums.items()}

    assert compare_totals(money(this_year), money(last_year)) == verdict
