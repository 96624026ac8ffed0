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
