"""Drafts: what the bot will record once the person confirms, kept between the two turns.

Only guesses wait here (a sentence the bot read without a keyword); what a person stated
plainly (a form, a button, a reply starting with its keyword) is recorded at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator
from handlers.replies import Choice, Reply
from handlers.turns import Turn
from handlers.understanding.keywords import KEYWORDS, Intent
from storage.drafts import draft_by_id, newest_pending_draft, replace_pending_drafts
from storage.models import Draft, DraftStatus, Via


@dataclass(frozen=True)
class Origin:
    """Where a record's words came from: the channel, what was written, in which language, the
    message it answers, and who said it. A record keeps it as its provenance."""

    via: Via
    original_text: str | None
    language: str
    message_id: str | None
    contact_id: int

    @classmethod
    def of_turn(cls, turn: Turn) -> Origin:
        return cls(
            turn.via, turn.text, turn.speaker.language, turn.message_id, turn.speaker.contact_id
        )

    @classmethod
    def of_draft(cls, draft: Draft) -> Origin:
        return cls(
            draft.via, draft.original_text, draft.language, draft.message_id, draft.contact_id
        )


def origin_of(turn: Turn, revised: Draft | None) -> Origin:
    """An edit of a draft is still the answer to the message the draft came from, so it keeps
    that message and the words it was read from: the record's provenance, and how a reminder
    answered by "Report submitted" is found again once recorded."""
    return Origin.of_draft(revised) if revised is not None else Origin.of_turn(turn)


async def open_draft(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    intent: str,
    payload: dict[str, Any],
    *,
    revised: Draft | None = None,
) -> Draft:
    """Replace the person's pending drafts with this one: only the newest can be confirmed."""
    origin = origin_of(turn, revised)
    draft = Draft(
        contact_id=turn.speaker.contact_id,
        intent=intent,
        payload=payload,
        via=origin.via,
        original_text=origin.original_text,
        language=origin.language,
        message_id=origin.message_id,
        created_at=now,
    )
    return await replace_pending_drafts(session, draft)


async def pending_draft(session: AsyncSession, turn: Turn) -> Draft | None:
    """The draft a Confirm or a Cancel answers: the one a button names, else the newest."""
    named = int(turn.value) if turn.value.isdigit() else None
    return await newest_pending_draft(session, turn.speaker.contact_id, named)


def nothing_pending(t: Translator) -> Reply:
    """The answer to a confirmation, or an edit, of a proposal that is no longer waiting."""
    return Reply(
        t.language,
        t.gettext("Nothing to confirm"),
        t.gettext(
            "There is nothing waiting for your confirmation (it may have been confirmed "
            "already, or replaced by a newer message)."
        ),
    )


def confirm_choice(t: Translator, draft: Draft) -> Choice:
    """*Confirm* on a proposal; by email its keyword (CONFIRM, CONFIRMER, CONFIRMAR)."""
    return Choice(
        Intent.CONFIRM, t.gettext("Confirm"), KEYWORDS[t.language][Intent.CONFIRM][0], str(draft.id)
    )


def cancel_choice(t: Translator, draft: Draft) -> Choice:
    """*Cancel* on a proposal; by email its keyword (CANCEL, ANNULER, CANCELAR)."""
    return Choice(
        Intent.CANCEL, t.gettext("Cancel"), KEYWORDS[t.language][Intent.CANCEL][0], str(draft.id)
    )


async def cancel(session: AsyncSession, turn: Turn) -> Reply:
    """Drop the proposal waiting for Confirm (``cancel``, ``annuler``, ``cancelar``, the
    *Cancel* button): nothing is recorded, and its Confirm button answers "nothing to confirm"."""
    t = turn.speaker.t
    draft = await pending_draft(session, turn)
    if draft is None:
        return nothing_pending(t)
    draft.status = DraftStatus.DISCARDED
    return Reply(
        t.language,
        t.gettext("Cancelled"),
        t.gettext("Cancelled: nothing was recorded."),
    )


async def revised_draft(session: AsyncSession, turn: Turn, intent: str) -> Draft | None:
    """The person's pending draft of ``intent`` that this turn edits, if it names one.

    A draft confirmed (or replaced) since its form was opened is not: editing it would propose,
    and could store, the same record a second time.
    """
    if turn.revises is None:
        return None
    draft = await draft_by_id(session, turn.revises)
    if (
        draft is None
        or draft.contact_id != turn.speaker.contact_id
        or draft.intent != intent
        or draft.status is not DraftStatus.PENDING
    ):
        return None
    return draft
