"""Drafts: what the bot will record once the person confirms, kept between the two turns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator
from handlers.replies import Reply
from handlers.turns import Turn
from storage.drafts import draft_by_id, newest_pending_draft, replace_pending_drafts
from storage.models import Draft, DraftStatus


async def open_draft(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    intent: str,
    payload: dict[str, Any],
    *,
    revised: Draft | None = None,
) -> Draft:
    """Replace the person's pending drafts with this one: only the newest can be confirmed.

    An edit of a draft (``revised``) is still the answer to the message the first one came
    from, so it keeps that message and the words it was read from: the record's provenance,
    and how a reminder answered by "Report submitted" is found again once confirmed.
    """
    draft = Draft(
        contact_id=turn.speaker.contact_id,
        intent=intent,
        payload=payload,
        via=revised.via if revised else turn.via,
        original_text=revised.original_text if revised else turn.text,
        language=turn.speaker.language,
        message_id=revised.message_id if revised else turn.message_id,
        created_at=now,
    )
    return await replace_pending_drafts(session, draft)


async def pending_draft(session: AsyncSession, turn: Turn) -> Draft | None:
    """The draft a Confirm answers: the one a button names, else the person's newest."""
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
