"""Needs and offers: understood or filled in, echoed back, recorded on Confirm, then edited."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.drafts import open_draft
from handlers.entry_form import (
    ARTICLE_LABELS,
    CATEGORY_LABELS,
    FIELD_LABELS,
    VISIBILITY_LABELS,
    check_entry_fields,
)
from handlers.i18n import Translator
from handlers.replies import Choice, Reply
from handlers.turns import Turn
from handlers.understanding import Understanding
from handlers.understanding.keywords import KEYWORDS, Intent
from storage.audit import Actor
from storage.models import Category, Draft, Entry, EntryKind, Visibility
from storage.records import (
    UnknownReference,
    add_entry,
    entry_by_reference,
    update_entry,
    withdraw_entry,
)

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
    )


def _record_choices(t: Translator, reference: str) -> tuple[Choice, ...]:
    return (
        Choice(Intent.EDIT, t.gettext("Edit"), KEYWORDS[t.language][Intent.CORRECT][0], reference),
        Choice(
            Intent.WITHDRAW,
            t.gettext("Withdraw"),
            KEYWORDS[t.language][Intent.WITHDRAW][0],
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
        "amount": str(found.amount or ""),
        "currency": found.currency or "",
    }


async def propose(
    session: AsyncSession, turn: Turn, now: datetime, intent: Intent, fields: dict[str, str]
) -> Reply:
    """Check the fields and echo back what will be recorded, or say what to fix."""
    t = turn.speaker.t
    kind = kind_of(intent)
    checked = check_entry_fields(fields, kind, t)
    if checked.errors:
        return Reply(
            language=t.language,
            subject=t.gettext("Something to fix"),
            intro=t.gettext("Please fix these fields and send again:"),
            fields=tuple(
                (t.gettext(FIELD_LABELS.get(f, f)), msg) for f, msg in checked.errors.items()
            ),
            extra={f"error:{f}": msg for f, msg in checked.errors.items()},
        )
    payload = _serialisable(checked.values) | {"kind": kind.value}
    draft = await open_draft(session, turn, now, kind.value, payload)
    intro = (
        t.gettext("I will record this need for {state}:", state=turn.speaker.state_name)
        if kind is EntryKind.NEED
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


async def record(session: AsyncSession, turn: Turn, now: datetime, draft: Draft) -> Reply:
    t = turn.speaker.t
    payload = dict(draft.payload)
    kind = EntryKind(payload.pop("kind"))
    actor = Actor(turn.speaker.name, turn.via, turn.speaker.contact_id)
    entry = await add_entry(
        session,
        actor,
        now,
        kind=kind,
        state_iso3=turn.speaker.state,
        article=payload.get("article"),
        category=Category(payload["category"]),
        description=payload["description"],
        amount=Decimal(payload["amount"]) if payload.get("amount") else None,
        currency=payload.get("currency") or None,
        focus=payload.get("focus") or [],
        period_start=_day(payload.get("period_start")),
        period_end=_day(payload.get("period_end")),
        visibility=Visibility(payload["visibility"]),
        via=draft.via,
        original_text=draft.original_text,
        original_language=draft.language,
        message_id=draft.message_id,
        logged_by_id=draft.contact_id,
        confirmed_by_id=turn.speaker.contact_id,
        confirmed_at=now,
    )
    return confirmation(t, entry, t.gettext("Recorded as {reference}.", reference=entry.reference))


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else None


def confirmation(t: Translator, entry: Entry, intro: str) -> Reply:
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
        subject=intro,
        intro=intro,
        fields=describe(t, values),
        choices=_record_choices(t, entry.reference),
        reference=entry.reference,
        stored=True,
        footer=t.gettext("Quote the reference to correct or withdraw it later."),
    )


async def _own_entry(session: AsyncSession, turn: Turn, reference: str) -> Entry | Reply:
    t = turn.speaker.t
    try:
        entry = await entry_by_reference(session, reference)
    except UnknownReference:
        return Reply(
            t.language,
            t.gettext("Unknown reference"),
            t.gettext(
                "I found no need or offer with the reference {reference}.", reference=reference
            ),
        )
    mine = entry.state_iso3 is not None and entry.state_iso3 == turn.speaker.state
    if not mine and entry.logged_by_id != turn.speaker.contact_id:
        return Reply(
            t.language,
            t.gettext("Not yours"),
            t.gettext(
                "{reference} belongs to another State; only its delegates can change it.",
                reference=reference,
            ),
        )
    return entry


async def correct(
    session: AsyncSession, turn: Turn, now: datetime, reference: str, fields: dict[str, str]
) -> Reply:
    """Change a recorded need or offer (form edit, or ``CORRECT N-2026-0042 …`` by email)."""
    found = await _own_entry(session, turn, reference)
    if isinstance(found, Reply):
        return found
    t = turn.speaker.t
    current = {
        "description": found.description,
        "article": str(found.article or ""),
        "category": found.category.value,
        "amount": str(found.amount or ""),
        "currency": found.currency or "",
        "visibility": found.visibility.value,
        "focus": ", ".join(found.focus),
    }
    checked = check_entry_fields(current | {k: v for k, v in fields.items() if v}, found.kind, t)
    if checked.errors:
        return Reply(
            t.language,
            t.gettext("Something to fix"),
            t.gettext("Please fix these fields and send again:"),
            fields=tuple((t.gettext(FIELD_LABELS.get(f, f)), m) for f, m in checked.errors.items()),
            extra={f"error:{f}": m for f, m in checked.errors.items()},
        )
    actor = Actor(turn.speaker.name, turn.via, turn.speaker.contact_id)
    await update_entry(session, actor, now, found, **checked.values)
    return confirmation(t, found, t.gettext("{reference} updated.", reference=found.reference))


async def withdraw(session: AsyncSession, turn: Turn, now: datetime, reference: str) -> Reply:
    found = await _own_entry(session, turn, reference)
    if isinstance(found, Reply):
        return found
    t = turn.speaker.t
    await withdraw_entry(
        session, Actor(turn.speaker.name, turn.via, turn.speaker.contact_id), now, found
    )
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
