"""Needs and offers: stated plainly (a form, ``NEED: …``) they are recorded at once with a
receipt; read from a sentence they are echoed back and recorded on Confirm; then edited."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.drafts import (
    Origin,
    cancel_choice,
    nothing_pending,
    open_draft,
    origin_of,
    revised_draft,
)
from handlers.entry_form import (
    ARTICLE_LABELS,
    CATEGORY_LABELS,
    FIELD_LABELS,
    VISIBILITY_LABELS,
    check_entry_fields,
    draft_form,
    edited,
    entry_form,
)
from handlers.i18n import Translator
from handlers.replies import Choice, Reply
from handlers.turns import Speaker, Turn
from handlers.understanding import Understanding
from handlers.understanding.fields import labelled_description, named_fields
from handlers.understanding.keywords import KEYWORDS, Intent
from storage.audit import Actor, Source
from storage.contacts import contact_by_id
from storage.models import (
    Category,
    Draft,
    DraftStatus,
    Entry,
    EntryKind,
    EntryStatus,
    Visibility,
)
from storage.records import add_entry, update_entry, withdraw_entry
from storage.visibility import entry_for, may_change, may_change_visibility

NOUNS = {EntryKind.NEED: "need", EntryKind.OFFER: "offer"}


def kind_of(intent: Intent) -> EntryKind:
    return EntryKind.NEED if intent is Intent.NEED else EntryKind.OFFER


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
    start, end = _day(values.get("period_start")), _day(values.get("period_end"))
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


def _confirm_choices(t: Translator, draft: Draft) -> tuple[Choice, ...]:
    return (
        Choice(
            Intent.CONFIRM,
            t.gettext("Confirm"),
            KEYWORDS[t.language][Intent.CONFIRM][0],
            str(draft.id),
        ),
        Choice(Intent.EDIT, t.gettext("Edit"), "", str(draft.id)),
        cancel_choice(t, draft),
    )


def _record_choices(t: Translator, reference: str) -> tuple[Choice, ...]:
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


def _serialisable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, Decimal) else v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in values.items()
    }


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


def _to_fix(t: Translator, errors: dict[str, str]) -> Reply:
    """The fields to fix, each with its explanation (Slack shows them next to the field)."""
    return Reply(
        language=t.language,
        subject=t.gettext("Something to fix"),
        intro=t.gettext("Please fix these fields and send again:"),
        fields=tuple((t.gettext(FIELD_LABELS.get(f, f)), msg) for f, msg in errors.items()),
        extra={f"error:{f}": msg for f, msg in errors.items()},
    )


async def _checked(
    session: AsyncSession, turn: Turn, intent: Intent, fields: dict[str, str]
) -> tuple[dict[str, Any], Draft | None] | Reply:
    """The fields as they will be stored (with the kind), and the pending draft this turn
    edits, if any; or the answer that says what to fix.

    An edit of a pending proposal (``turn.revises``) is applied to it field by field, as an
    edit of a record is: what the form empties is cleared, what it leaves out stays.
    """
    t = turn.speaker.t
    kind = kind_of(intent)
    revised = await revised_draft(session, turn, kind.value)
    if turn.revises is not None and revised is None:
        return nothing_pending(t)
    if revised is not None:
        fields = edited(draft_form(revised.payload), fields)
    checked = check_entry_fields(fields, kind, t)
    if checked.errors:
        return _to_fix(t, checked.errors)
    return _serialisable(checked.values) | {"kind": kind.value}, revised


async def propose(
    session: AsyncSession, turn: Turn, now: datetime, intent: Intent, fields: dict[str, str]
) -> Reply:
    """A need or offer read from a sentence: echo back what will be recorded, with Confirm,
    Edit and Cancel, or say what to fix. Nothing is stored but the draft."""
    checked = await _checked(session, turn, intent, fields)
    if isinstance(checked, Reply):
        return checked
    payload, revised = checked
    t = turn.speaker.t
    draft = await open_draft(session, turn, now, payload["kind"], payload, revised=revised)
    intro = (
        t.gettext("I will record this need for {state}:", state=turn.speaker.state_name)
        if kind_of(intent) is EntryKind.NEED
        else t.gettext(
            "I will record this offer from {state}:",
            state=turn.speaker.state_name or turn.speaker.name,
        )
    )
    return Reply(
        language=t.language,
        subject=t.gettext("Please confirm"),
        intro=intro,
        fields=describe(t, payload),
        choices=_confirm_choices(t, draft),
        footer=t.gettext("Nothing is recorded until you confirm."),
    )


async def record_stated(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    intent: Intent,
    fields: dict[str, str],
    source: Source,
) -> Reply:
    """A need or offer stated plainly (a submitted form, ``NEED: …``): recorded at once, and
    answered with its receipt; or, with a field to fix, the fix and nothing stored.

    A form that edits a pending proposal records it: the person has now stated every field.
    """
    checked = await _checked(session, turn, intent, fields)
    if isinstance(checked, Reply):
        return checked
    payload, revised = checked
    if revised is not None:
        revised.status = DraftStatus.CONFIRMED
    entry = await _store(session, turn, now, payload, origin_of(turn, revised), source)
    t = turn.speaker.t
    return confirmation(
        t,
        entry,
        t.gettext("Recorded as {reference}.", reference=entry.reference),
        intro=t.gettext(
            "Recorded at once as {reference}: there is nothing to confirm.",
            reference=entry.reference,
        ),
    )


async def record(session: AsyncSession, turn: Turn, now: datetime, draft: Draft) -> Reply:
    """A confirmed proposal, recorded."""
    t = turn.speaker.t
    entry = await _store(
        session, turn, now, draft.payload, Origin.of_draft(draft), Source.CONFIRMED
    )
    return confirmation(t, entry, t.gettext("Recorded as {reference}.", reference=entry.reference))


async def _store(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    payload: dict[str, Any],
    origin: Origin,
    source: Source,
) -> Entry:
    """The entry, for the speaker's State, with where its words came from. It is the
    organisation of whoever logged it (the form has no such field)."""
    logger = await contact_by_id(session, origin.contact_id)
    return await add_entry(
        session,
        _actor(turn, source),
        now,
        kind=EntryKind(payload["kind"]),
        state_iso3=turn.speaker.state,
        organisation=logger.organisation if logger else None,
        article=payload.get("article"),
        category=Category(payload["category"]),
        description=payload["description"],
        amount=Decimal(payload["amount"]) if payload.get("amount") else None,
        currency=payload.get("currency") or None,
        focus=payload.get("focus") or [],
        period_start=_day(payload.get("period_start")),
        period_end=_day(payload.get("period_end")),
        visibility=Visibility(payload["visibility"]),
        via=origin.via,
        original_text=origin.original_text,
        original_language=origin.language,
        message_id=origin.message_id,
        logged_by_id=origin.contact_id,
        confirmed_by_id=turn.speaker.contact_id,
        confirmed_at=now,
    )


def _actor(turn: Turn, source: Source | None) -> Actor:
    return Actor(turn.speaker.name, turn.via, turn.speaker.contact_id, source)


def _day(value: Any) -> date | None:
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
        choices=_record_choices(t, entry.reference),
        reference=entry.reference,
        stored=True,
        footer=t.gettext("Quote the reference to correct or withdraw it later."),
    )


def unknown_reference(t: Translator, reference: str) -> Reply:
    return Reply(
        t.language,
        t.gettext("Unknown reference"),
        t.gettext("I found no need or offer with the reference {reference}.", reference=reference),
    )


async def editable(session: AsyncSession, speaker: Speaker, reference: str) -> Entry | Reply:
    """The entry the speaker may change, or the answer that says why not.

    A record the speaker may not see answers exactly as a reference that does not exist; one
    they may see but not change says whose it is, which they can already read.
    """
    t = speaker.t
    viewer = speaker.viewer
    entry = await entry_for(session, viewer, reference)
    if entry is None:
        return unknown_reference(t, reference)
    if not may_change(viewer, entry):
        return Reply(
            t.language,
            t.gettext("Not yours"),
            t.gettext(
                "{reference} belongs to another State; only its delegates can change it.",
                reference=entry.reference,
            ),
        )
    return entry


async def correct(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    reference: str,
    fields: dict[str, str],
    source: Source | None,
) -> Reply:
    """Change a recorded need or offer (form edit, or ``CORRECT N-2026-0042 …`` by email).

    ``fields`` is the edit: a field given empty is cleared (a required one is refused, and
    nothing changes), a field left out keeps its recorded value.
    """
    found = await editable(session, turn.speaker, reference)
    if isinstance(found, Reply):
        return found
    t = turn.speaker.t
    checked = check_entry_fields(edited(entry_form(found), fields), found.kind, t)
    widened = checked.values.get("visibility", found.visibility) != found.visibility
    if widened and not may_change_visibility(turn.speaker.viewer):
        checked.errors["visibility"] = t.gettext(
            "Only the Coordinators and the ISU can change who may see a record."
        )
    if checked.errors:
        return _to_fix(t, checked.errors)
    await update_entry(session, _actor(turn, source), now, found, **checked.values)
    return confirmation(t, found, t.gettext("{reference} updated.", reference=found.reference))


async def withdraw(
    session: AsyncSession, turn: Turn, now: datetime, reference: str, source: Source | None
) -> Reply:
    found = await editable(session, turn.speaker, reference)
    if isinstance(found, Reply):
        return found
    t = turn.speaker.t
    if found.status is EntryStatus.WITHDRAWN:
        return Reply(
            t.language,
            t.gettext("Withdrawn"),
            t.gettext("{reference} was already withdrawn.", reference=found.reference),
            reference=found.reference,
        )
    await withdraw_entry(session, _actor(turn, source), now, found)
    return Reply(
        t.language,
        t.gettext("Withdrawn"),
        t.gettext(
            "{reference} is withdrawn. It stays in the records, marked withdrawn.",
            reference=found.reference,
        ),
        reference=found.reference,
        stored=True,
    )
