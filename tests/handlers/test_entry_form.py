"""Editing a need or an offer: what an edit carries is applied, emptied fields included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from handlers.entry_form import check_entry_fields, edited
from handlers.i18n import translator
from storage.models import Category, EntryKind, Visibility

# A recorded offer as its form shows it (handlers.entry_form.entry_form).
OFFER = {
    "description": "Risk education trainers",
    "article": "4",
    "category": "risk_education",
    "amount": "40000.00",
    "currency": "EUR",
    "period_start": "2027-01-01",
    "period_end": "2027-12-31",
    "focus": "Africa, Asia",
    "visibility": "public",
}
KEPT: dict[str, Any] = {
    "description": "Risk education trainers",
    "article": 4,
    "category": Category.RISK_EDUCATION,
    "amount": Decimal("40000.00"),
    "currency": "EUR",
    "period_start": date(2027, 1, 1),
    "period_end": date(2027, 12, 31),
    "focus": ["Africa", "Asia"],
    "visibility": Visibility.PUBLIC,
}
DESCRIBE = "Describe what is needed or offered."
CATEGORY = "Choose one of the categories."


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        pytest.param({}, {}, id="nothing-carried-nothing-changed"),
        pytest.param(
            {"amount": "", "currency": "EUR"},
            {"amount": None, "currency": None},
            id="amount-emptied-currency-goes-with-it",
        ),
        pytest.param(
            {"amount": ""},
            {"amount": None, "currency": None},
            id="amount-emptied-currency-not-in-the-edit",
        ),
        pytest.param({"article": ""}, {"article": None}, id="article-emptied"),
        pytest.param({"period_end": ""}, {"period_end": None}, id="one-end-of-the-period-emptied"),
        pytest.param(
            {"period_start": "", "period_end": ""},
            {"period_start": None, "period_end": None},
            id="period-emptied",
        ),
        pytest.param({"focus": ""}, {"focus": []}, id="focus-emptied"),
        pytest.param(
            {"amount": "12000", "currency": "USD"},
            {"amount": Decimal(12000), "currency": "USD"},
            id="amount-replaced",
        ),
        pytest.param(
            {"amount": "12000"}, {"amount": Decimal(12000)}, id="amount-replaced-currency-kept"
        ),
        pytest.param({"organisation": "", "status": ""}, {}, id="not-fields-of-the-form-ignored"),
    ],
)
def test_an_edit_clears_what_it_empties_and_keeps_what_it_leaves_out(
    edit: dict[str, str], changed: dict[str, Any]
) -> None:
    checked = check_entry_fields(edited(OFFER, edit), EntryKind.OFFER, translator("en"))
    assert checked.errors == {}
    assert checked.values == KEPT | changed


@pytest.mark.parametrize(
    ("edit", "errors"),
    [
        pytest.param({"description": ""}, {"description": DESCRIBE}, id="description"),
        pytest.param({"description": "   "}, {"description": DESCRIBE}, id="description-blank"),
        pytest.param({"category": ""}, {"category": CATEGORY}, id="category"),
        pytest.param({"visibility": ""}, {"visibility": "Choose who may see it."}, id="visibility"),
        pytest.param(
            {"currency": ""},
            {"currency": "Give the currency as a code, e.g. USD or EUR."},
            id="currency-of-an-amount",
        ),
        pytest.param(
            {"description": "", "category": ""},
            {"description": DESCRIBE, "category": CATEGORY},
            id="two-at-once",
        ),
    ],
)
def test_a_required_field_emptied_is_refused_next_to_it(
    edit: dict[str, str], errors: dict[str, str]
) -> None:
    checked = check_entry_fields(edited(OFFER, edit), EntryKind.OFFER, translator("en"))
    assert checked.errors == errors


def test_a_required_field_left_out_of_a_new_entry_gets_its_default() -> None:
    """A sentence names no category or audience: left out is not emptied."""
    checked = check_entry_fields({"description": "Deminers"}, EntryKind.NEED, translator("en"))
    assert checked.errors == {}
    assert (checked.values["category"], checked.values["visibility"]) == (
        Category.OTHER,
        Visibility.STATES_PARTIES,
    )


def test_the_refusal_is_in_the_readers_language() -> None:
    checked = check_entry_fields(
        edited(OFFER, {"description": ""}), EntryKind.OFFER, translator("fr")
    )
    assert checked.errors == {"description": "Veuillez décrire le besoin ou l'offre."}


NEED = {"description": "Clearance in the north", "currency": "USD"}
AS_A_NUMBER = "Write the amount as a number, e.g. 250000."
CENTS = "Give the amount with two decimals at most (cents), such as 250000.50."
ZEROS = "The amount must be less than 10,000,000,000,000; check the number of zeros."
ABOVE_ZERO = "The amount must be more than 0; leave it out if it is unknown."


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        pytest.param("250 000", (Decimal(250000), "USD"), id="french-grouping"),
        pytest.param("250.000,50", (Decimal("250000.50"), "USD"), id="continental-cents"),
        pytest.param("1,5 million", (Decimal(1500000), "USD"), id="million"),
        pytest.param("2 M EUR", (Decimal(2000000), "USD"), id="currency-field-wins"),
        pytest.param("NaN", AS_A_NUMBER, id="nan"),
        pytest.param("sNaN", AS_A_NUMBER, id="signalling-nan"),
        pytest.param("Infinity", AS_A_NUMBER, id="infinity"),
        pytest.param("1e308", AS_A_NUMBER, id="e-notation-not-308"),
        pytest.param("USD 1E+2", AS_A_NUMBER, id="e-notation-with-its-currency"),
        pytest.param("0.001", CENTS, id="not-stored-as-0"),
        pytest.param("0.001 USD", CENTS, id="not-stored-as-0-with-its-currency"),
        pytest.param("99999999999999999999", ZEROS, id="not-stored-as-1e20"),
        pytest.param("100000000000000", ZEROS, id="not-an-overflow-at-confirm"),
        pytest.param("-0", ABOVE_ZERO, id="minus-zero"),
    ],
)
def test_the_amount_field_keeps_what_the_store_holds_or_says_how_to_fix_it(
    amount: str, expected: tuple[Decimal, str] | str
) -> None:
    checked = check_entry_fields(NEED | {"amount": amount}, EntryKind.NEED, translator("en"))
    if isinstance(expected, str):
        assert checked.errors == {"amount": expected}
        assert checked.values["amount"] is None
    else:
        assert checked.errors == {}
        assert (checked.values["amount"], checked.values["currency"]) == expected


def test_the_currency_typed_with_the_amount_is_taken_when_its_field_is_empty() -> None:
    fields = {"description": "Deminers", "amount": "€1.2m"}
    checked = check_entry_fields(fields, EntryKind.NEED, translator("en"))
    assert (checked.errors, checked.values["amount"], checked.values["currency"]) == (
        {},
        Decimal(1200000),
        "EUR",
    )


def test_the_amount_refusal_is_in_the_readers_language() -> None:
    checked = check_entry_fields(NEED | {"amount": "0,001"}, EntryKind.NEED, translator("fr"))
    assert checked.errors == {
        "amount": "Indiquez le montant avec deux décimales au plus (les centimes), par exemple "
        "250000,50."
    }
