"""Drafts in the store: what a person is asked to confirm, one pending at a time."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Draft, DraftStatus


async def replace_pending_drafts(session: AsyncSession, draft: Draft) -> Draft:
    """Store ``draft`` and discard its author's other pending drafts: only the newest can be
    confirmed, so an old proposal's button cannot store a record next to its correction."""
    await session.execute(
        update(Draft)
        .where(Draft.contact_id == draft.contact_id, Draft.status == DraftStatus.PENDING)
        .values(status=DraftStatus.DISCARDED)
    )
    session.add(draft)
    await session.flush()
    return draft


async def newest_pending_draft(
    session: AsyncSession, contact_id: int, draft_id: int | None = None
) -> Draft | None:
    """The contact's newest pending draft, or the pending one ``draft_id`` names."""
    query = select(Draft).where(Draft.contact_id == contact_id, Draft.status == DraftStatus.PENDING)
    if draft_id is not None:
        query = query.where(Draft.id == draft_id)
    return await session.scalar(query.order_by(Draft.id.desc()).limit(1))


async def draft_by_id(session: AsyncSession, draft_id: int) -> Draft | None:
    return await session.get(Draft, draft_id)
