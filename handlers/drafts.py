"""Drafts: what the bot will record once the person confirms, kept between the two turns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.turns import Turn
from storage.models import Draft, DraftStatus


async def open_draft(
    session: AsyncSession, turn: Turn, now: datetime, intent: str, payload: dict[str, Any]
) -> Draft:
    """Replace the person's pending drafts with this one: only the newest can be confirmed."""
    await session.execute(
        update(Draft)
        .where(Draft.contact_id == turn.speaker.contact_id, Draft.status == DraftStatus.PENDING)
        .values(status=DraftStatus.DISCARDED)
    )
    draft = Draft(
        contact_id=turn.speaker.contact_id,
        intent=intent,
        payload=payload,
        via=turn.via,
        original_text=turn.text,
        language=turn.speaker.language,
        message_id=turn.message_id,
        created_at=now,
    )
    session.add(draft)
    await session.flush()
    return draft


async def pending_draft(session: AsyncSession, turn: Turn) -> Draft | None:
    """The draft a Confirm answers: the one a button names, else the person's newest."""
    query = select(Draft).where(
        Draft.contact_id == turn.speaker.contact_id, Draft.status == DraftStatus.PENDING
    )
    if turn.value.isdigit():
        query = query.where(Draft.id == int(turn.value))
    return await session.scalar(query.order_by(Draft.id.desc()).limit(1))
