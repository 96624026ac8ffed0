"""The fields of a need or an offer: their names, choices and validation, for every channel.

Slack's modal, an email ``CORRECT`` and the terminal all validate through here, so the same
mistake gets the same explanation, next to the field it concerns, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import list_currencies

from handlers.i18n import Translator, _
from handlers.money import AmountProblem, check_amount, explain, read_amount
from handlers.turns import Speaker
from handlers.understanding import parse_amount
from storage.models import Category, Entry, EntryKind, EntryStatus, Visibility

CATEGORY_LABELS: Mapping[Category, str] = {
    Category.STOCKPILE_DESTRUCTION: _("Stockpile destruction"),
    Category.SURVEY_CLEARANCE: _("Survey and clearance"),
    Category.RISK_EDUCATION: _("Risk education"),
    Category.VICTIM_ASSISTANCE: _("Victim assistance"),
    Category.SOCIO_ECONOMIC: _("Socio-economic recovery"),
    Category.NATIONAL_PLANNING: _("National planning"),
    Category.EQUIPMENT: _("Equipment"),
    Category.TRAINING_EXPERTISE: _("Training and expertise"),
    Category.FUNDING: _("Funding"),
    Category.OTHER: _("Other"),
}
ARTICLE_LABELS: Mapping[str, str] = {
    "3": _("Article 3 — stockpile destruction"),
    "4": _("Article 4 — clearance and risk education"),
    "5": _("Article 5 — victim assistance"),
    "6": _("Article 6 — international cooperation"),
}
VISIBILITY_LABELS: Mapping[Visibility, str] = {
    Visibility.PUBLIC: _("Public"),
    Visibility.STATES_PARTIES: _("States Parties"),
    Visibility.COORDINATORS: _("Coordinators only"),
}
STATUS_LABELS: Mapping[EntryStatus, str] = {
    EntryStatus.OPEN: _("Open"),
    EntryStatus.IN_DISCUSSION: _("In discussion"),
    EntryStatus.MET: _("Met"),
    EntryStatus.WITHDRAWN: _("Withdrawn"),
}
FIELD_LABELS: Mapping[str, str] = {
    "description": _("Description"),
    "article": _("Article"),
    "category": _("Category"),
    "amount": _("Amount"),
    "currency": _("Currency"),
    "period_start": _("From"),
    "period_end": _("Until"),
    "focus": _("Countries or regions of focus"),
    "visibility": _("Who may see it"),
    "status": _("Status"),
}
MAX_DESCRIPTION = 3000
# The form of a need or an offer, field by field (an offer has "focus" too).
FORM_FIELDS = (
    "description",
    "article",
    "category",
    "amount",
    "currency",
    "period_start",
    "period_end",
    "focus",
    "visibility",
)


@dataclass(frozen=True)
class Checked:
    values: dict[str, Any]
    errors: dict[str, str]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def entry_intro(speaker: Speaker, kind: EntryKind) -> str:
    """What a need or an offer is recorded as: a form's first line, and its proposal's."""
    t = speaker.t
    if kind is EntryKind.NEED:
        return t.gettext("I will record this need for {state}:", state=speaker.state_name)
    return t.gettext(
        "I will record this offer from {state}:", state=speaker.state_name or speaker.name
    )


def entry_form(entry: Entry) -> dict[str, str]:
    """A recorded need or offer as its form shows it: what an edit starts from."""
    return {
        "description": entry.description,
        "article": str(entry.article or ""),
        "category": entry.category.value,
        "amount": "" if entry.amount is None else str(entry.amount),
        "currency": entry.currency or "",
        "period_start": entry.period_start.isoformat() if entry.period_start else "",
        "period_end": entry.period_end.isoformat() if entry.period_end else "",
        "focus": ", ".join(entry.focus),
        "visibility": entry.visibility.value,
    }


def draft_form(payload: Mapping[str, Any]) -> dict[str, str]:
    """A pending need or offer (a draft's payload) as its form shows it."""
    fields = {
        name: "" if payload.get(name) is None else str(payload[name])
        for name in FORM_FIELDS
        if name != "focus"
    }
    fields["focus"] = ", ".join(payload.get("focus") or [])
    return fields


def edited(current: Mapping[str, str], edit: Mapping[str, str]) -> dict[str, str]:
    """The form once ``edit`` is applied to ``current``.

    A field the edit carries replaces the current value, and one it carries empty clears it: a
    wrong amount that was removed must not come back. A field it does not carry (not in that
    form, not said in that sentence) is left as it was. Required fields emptied are refused
    by ``check_entry_fields``, next to the field.
    """
    return {**current, **{name: edit[name] for name in FORM_FIELDS if name in edit}}


def check_entry_fields(fields: Mapping[str, str], kind: EntryKind, t: Translator) -> Checked:
    """Validate form fields (all strings, as every channel delivers them); errors by field.

    A category or visibility left out gets its default (a sentence rarely names them); one
    given empty is a required field emptied, and refused.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    description = (fields.get("description") or "").strip()
    if not description:
        errors["description"] = t.gettext("Describe what is needed or offered.")
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = t.gettext(
            "Keep the description under {count} characters.", count=MAX_DESCRIPTION
        )
    values["description"] = description
    article = (fields.get("article") or "").strip()
    if article and article not in ARTICLE_LABELS:
        errors["article"] = t.gettext("Choose Article 3, 4, 5 or 6.")
    values["article"] = int(article) if article in ARTICLE_LABELS else None
    category = fields.get("category", Category.OTHER.value).strip()
    try:
        values["category"] = Category(category)
    except ValueError:
        errors["category"] = t.gettext("Choose one of the categories.")
    amount_text = (fields.get("amount") or "").strip()
    currency = (fields.get("currency") or "").strip().upper()
    values["amount"] = values["currency"] = None
    if amount_text:
        amount, currency = _amount(amount_text, currency)
        if isinstance(amount, AmountProblem):
            errors["amount"] = explain(amount, t)
        else:
            values["amount"] = amount
            if currency not in list_currencies():
                errors["currency"] = t.gettext("Give the currency as a code, e.g. USD or EUR.")
            values["currency"] = currency
    start, end = fields.get("period_start") or "", fields.get("period_end") or ""
    values["period_start"], values["period_end"] = _date(start), _date(end)
    for name, text in (("period_start", start), ("period_end", end)):
        if text.strip() and values[name] is None:
            errors[name] = t.gettext("Write the date as YYYY-MM-DD.")
    if (
        values["period_start"]
        and values["period_end"]
        and values["period_end"] < values["period_start"]
    ):
        errors["period_end"] = t.gettext("The end comes before the start.")
    values["focus"] = [f.strip() for f in (fields.get("focus") or "").split(",") if f.strip()]
    visibility = fields.get("visibility", Visibility.STATES_PARTIES.value).strip()
    try:
        values["visibility"] = Visibility(visibility)
    except ValueError:
        errors["visibility"] = t.gettext("Choose who may see it.")
    if kind is EntryKind.NEED:
        values.pop("focus")
    return Checked(values, errors)


def _amount(text: str, currency: str) -> tuple[Decimal | AmountProblem, str]:
    """The amount field, and the currency typed in it when the currency field has none.

    A figure on its own ("250 000,50", "1,5 million") or with its currency ("2 M USD",
    "€1.2m", as a sentence writes it); either way the one amount rule judges the value.
    """
    amount = read_amount(text)
    if amount is AmountProblem.NOT_A_NUMBER:
        found = parse_amount(text)
        if found is not None:
            return check_amount(found[0]), currency or found[1]
    return amount, currency
