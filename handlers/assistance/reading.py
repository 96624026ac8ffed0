"""The fields of a need or offer read from a sentence: a new one prefilled for the form, or
only what a correction (``CORRECT N-2026-0042 …``) states."""

from __future__ import annotations

from decimal import Decimal

from handlers.understanding import Understanding
from handlers.understanding.fields import labelled_description, named_fields
from storage.models import Category


def from_understanding(found: Understanding) -> dict[str, str]:
    """Form fields prefilled from a sentence, so the person only corrects what was misread."""
    return {
        "description": found.text,
        "article": str(found.article or ""),
        "category": str(found.category or Category.OTHER),
        "amount": _figure(found.amount),
        "currency": found.currency or "",
    }


def _figure(amount: Decimal | None) -> str:
    """An amount read from a sentence as the form field would hold it: digits, never "1E-7"."""
    return "" if amount is None else f"{amount:f}"


def correction(found: Understanding) -> dict[str, str]:
    """What a sentence correcting a record (``CORRECT N-2026-0042 …``) changes: only what it
    states. A description labelled as one (``description: …``) changes the description alone;
    an amount, or a category or article named by its label, changes that field alone; a
    sentence naming no field is the new description. A sentence has no way to say "no amount",
    so it never empties a field, and what it does not name is left as recorded."""
    text = found.text.replace(found.reference or "", "", 1).strip(" :,-")
    described = labelled_description(text)
    if described is not None:
        return {"description": described} if described else {}
    named = named_fields(text)
    fields = {
        "amount": _figure(found.amount),
        "currency": found.currency or "",
        "category": str(found.category or "") if "category" in named else "",
        "article": str(found.article or "") if "article" in named else "",
    }
    stated = {name: value for name, value in fields.items() if value}
    if stated or named:
        return stated
    return {"description": text} if text else {}
