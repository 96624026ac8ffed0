"""Field names a correction may use: ``CORRECT N-2026-0042 amount is USD 300,000`` changes the
amount only, ``… description: …`` the description only (see
``handlers.assistance.reading.correction``).

Matched in folded text (no case, no accents), so "Descripción", "CATÉGORIE" and "montant" read
alike; the labels are the forms' own field names in the three languages.
"""

from __future__ import annotations

import re

from handlers.understanding._text import build_alternation, fold, normalise

# What a sentence can call each field it names (folded).
LABELS: dict[str, tuple[str, ...]] = {
    "description": ("description", "descripcion"),
    "amount": ("amount", "montant", "somme", "monto", "importe", "cantidad"),
    "currency": ("currency", "devise", "monnaie", "moneda", "divisa"),
    "category": ("category", "categorie", "categoria"),
    "article": ("article", "articulo"),
}
_NAMED = {
    field: re.compile(r"(?<!\w)(?:" + build_alternation(words) + r")(?!\w)")
    for field, words in LABELS.items()
}
# "description: …", "description : …", "descripción: …": the rest of the text is the new one.
_DESCRIPTION = re.compile(r"(?<!\w)(?:" + build_alternation(LABELS["description"]) + r")\s*:\s*")


def labelled_description(text: str) -> str | None:
    """The text after a ``description:`` label, if the sentence has one."""
    found = _DESCRIPTION.search(fold(normalise(text)))
    return normalise(text)[found.end() :].strip() if found else None


def named_fields(text: str) -> frozenset[str]:
    """The fields a sentence names by their label ("amount", "catégorie", "artículo")."""
    folded = fold(normalise(text))
    return frozenset(field for field, label in _NAMED.items() if label.search(folded))
