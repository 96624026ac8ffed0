"""What a person reads about a need or offer: its fields as they will be recorded, the receipt
with its reference and how to change it, and the fields to fix when something is wrong."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from handlers.entry_form import ARTICLE_LABELS, CATEGORY_LABELS, FIELD_LABELS, VISIBILITY_LABELS
from handlers.i18n import Translator
from handlers.replies import Choice, Reply
from handlers.understanding.keywords import KEYWORDS, Intent
from storage.models import Category, Entry, Visibility


def describe(t: Translator, values: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The fields as the person will see them recorded."""
    rows: list[tuple[str, str]] = [(t.gettext(FIELD_LABELS["description"]), values["description"])]
    if values.get("article"):
        rows.append(
            (t.gettext(FIELD_LABELS["article"]), t.gettext(ARTICLE_LABELS[str(values["article"])]))
        )
    rows.append(
        (
            t.gettext(FIELD_LABELS["category"]),
            t.gettext(CATEGORY_LABELS[Category(values["category"])]),
        )
    )
    if values.get("amount"):
        rows.append(
            (
                t.gettext(FIELD_LABELS["amount"]),
                t.money(Decimal(str(values["amount"])), values["currency"]),
            )
        )
    start, end = to_day(values.get("period_start")), to_day(values.get("period_end"))
    if start or end:
        rows.append(
            (
                t.gettext("Period"),
                t.gettext(
                    "{start} to {end}",
                    start=t.date(start) if start else "…",
                    end=t.date(end) if end else "…",
                ),
            )
        )
    if values.get("focus"):
        rows.append((t.gettext(FIELD_LABELS["focus"]), ", ".join(values["focus"])))
    rows.append(
        (
            t.gettext(FIELD_LABELS["visibility"]),
            t.gettext(VISIBILITY_LABELS[Visibility(values["visibility"])]),
        )
    )
    return tuple(rows)


def record_choices(t: Translator, reference: str) -> tuple[Choice, ...]:
    """Edit and Withdraw; by email the keywords to type, with the reference they need."""
    words = KEYWORDS[t.language]
    return (
        Choice(
            Intent.EDIT, t.gettext("Edit"), f"{words[Intent.CORRECT][0]} {reference}", reference
        ),
        Choice(
            Intent.WITHDRAW,
            t.gettext("Withdraw"),
            f"{words[Intent.WITHDRAW][0]} {reference}",
            reference,
        ),
    )


def to_fix(t: Translator, errors: dict[str, str]) -> Reply:
    """The fields to fix, each with its explanation (Slack shows them next to the field)."""
    return Reply(
        language=t.language,
        subject=t.gettext("Something to fix"),
        intro=t.gettext("Please fix these fields and send again:"),
        fields=tuple((t.gettext(FIELD_LABELS.get(f, f)), msg) for f, msg in errors.items()),
        extra={f"error:{f}": msg for f, msg in errors.items()},
    )


def to_day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else None


def confirmation(t: Translator, entry: Entry, subject: str, *, intro: str = "") -> Reply:
    """The receipt: the reference, what is stored field by field, and how to change it."""
    values = {
        "description": entry.description,
        "article": entry.article,
        "category": entry.category,
        "amount": entry.amount,
        "currency": entry.currency,
        "focus": entry.focus,
        "period_start": entry.period_start,
        "period_end": entry.period_end,
        "visibility": entry.visibility,
    }
    return Reply(
        language=t.language,
        subject=subject,
        intro=intro or subject,
        fields=describe(t, values),
        choices=record_choices(t, entry.reference),
        reference=entry.reference,
        stored=True,
        footer=t.gettext("Quote the reference to correct or withdraw it later."),
    )
