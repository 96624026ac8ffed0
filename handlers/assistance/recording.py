"""A need or offer recorded: proposed from a sentence and recorded on Confirm, or stated
plainly and recorded at once; either way checked first, and stored with where its words came
from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.assistance.receipt import confirmation, describe, to_day, to_fix
from handlers.drafts import (
    Origin,
    cancel_choice,
    confirm_choice,
    nothing_pending,
    open_draft,
    origin_of,
    revised_draft,
)
from handlers.entry_form import check_entry_fields, draft_form, edited
from handlers.i18n import Translator
from handlers.replies import Choice, Reply
from handlers.turns import Turn
from handlers.understanding.keywords import Intent
from storage.audit import Actor, Source
from storage.contacts import contact_by_id
from storage.models import Category, Draft, DraftStatus, Entry, EntryKind, Visibility
from storage.records import add_entry


def kind_of(intent: Intent) -> EntryKind:
    return EntryKind.NEED if intent is Intent.NEED else EntryKind.OFFER


def _confirm_choices(t: Translator, draft: Draft) -> tuple[Choice, ...]:
    return (
        confirm_choice(t, draft),
        Choice(Intent.EDIT, t.gettext("Edit"), "", str(draft.id)),
        cancel_choice(t, draft),
    )


def _serialisable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, Decimal) else v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in values.items()
    }


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
        return to_fix(t, checked.errors)
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
        actor(turn, source),
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
        period_start=to_day(payload.get("period_start")),
        period_end=to_day(payload.get("period_end")),
        visibility=Visibility(payload["visibility"]),
        via=origin.via,
        original_text=origin.original_text,
        original_language=origin.language,
        message_id=origin.message_id,
        logged_by_id=origin.contact_id,
        confirmed_by_id=turn.speaker.contact_id,
        confirmed_at=now,
    )


def actor(turn: Turn, source: Source | None) -> Actor:
    return Actor(turn.speaker.name, turn.via, turn.speaker.contact_id, source)
