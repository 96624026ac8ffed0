"""Email corrections mean what they say: ``CORRECT N-… amount is USD 300,000`` changes the
amount only; a description changes only when labelled, or when the sentence names no field."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.assistance.reading import correction
from handlers.understanding import understand

TODAY = date(2027, 5, 2)


@pytest.mark.parametrize(
    ("text", "changes"),
    [
        pytest.param(
            "CORRECT N-2026-0042 amount is USD 300,000",
            {"amount": "300000", "currency": "USD"},
            id="en-amount",
        ),
        pytest.param(
            "CORRIGER N-2026-0042 le montant est de 300 000 EUR",
            {"amount": "300000", "currency": "EUR"},
            id="fr-amount",
        ),
        pytest.param(
            "CORREGIR N-2026-0042 el monto es 300.000 USD",
            {"amount": "300000", "currency": "USD"},
            id="es-amount",
        ),
        pytest.param(
            "CORRECT N-2026-0042 description: Survey of 40 villages, about USD 5,000 each",
            {"description": "Survey of 40 villages, about USD 5,000 each"},
            id="en-labelled-description-keeps-its-amount-words",
        ),
        pytest.param(
            "CORRIGER N-2026-0042 description : enquête non technique dans le nord",
            {"description": "enquête non technique dans le nord"},
            id="fr-labelled-description",
        ),
        pytest.param(
            "CORREGIR N-2026-0042 Descripción: estudio no técnico en el norte",
            {"description": "estudio no técnico en el norte"},
            id="es-labelled-description",
        ),
        pytest.param(
            "CORRECT N-2026-0042 Technical survey of 40 villages in Xieng Khouang",
            {"description": "Technical survey of 40 villages in Xieng Khouang"},
            id="no-field-named-is-the-description",
        ),
        pytest.param(
            "CORRECT N-2026-0042 category: risk education",
            {"category": "risk_education"},
            id="en-category",
        ),
        pytest.param(
            "CORRIGER N-2026-0042 catégorie : éducation aux risques",
            {"category": "risk_education"},
            id="fr-category",
        ),
        pytest.param("CORRECT N-2026-0042", {}, id="nothing-said"),
    ],
)
def test_a_correction_changes_only_what_it_says(text: str, changes: dict[str, str]) -> None:
    found = understand(text, today=TODAY)
    assert found.reference == "N-2026-0042"
    assert correction(found) == changes
