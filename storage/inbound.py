"""Inbound mail in the store: each delivered message kept before its 250, then its outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboundMail, InboundStatus


async def add_inbound(session: AsyncSession, mail: InboundMail) -> int:
    session.add(mail)
    await session.flush()
    return mail.id


async def unprocessed_inbound_ids(session: AsyncSession) -> Sequence[int]:
    """What was accepted but not processed (a stop or crash between the two), oldest first."""
    rows = await session.scalars(
        select(InboundMail.id)
        .where(InboundMail.status == InboundStatus.RECEIVED)
        .order_by(InboundMail.id)
    )
    return rows.all()


async def lock_inbound(session: AsyncSession, inbound_id: int) -> InboundMail | None:
    """The row, locked until the transaction ends: two processes never decide it both."""
    return await session.scalar(
        select(InboundMail).where(InboundMail.id == inbound_id).with_for_update()
    )


async def earlier_copy_of(session: AsyncSession, mail: InboundMail) -> int | None:
    """The first inbound mail with the same Message-ID, if ``mail`` came again."""
    return await session.scalar(
        select(InboundMail.id)
        .where(InboundMail.message_id == mail.message_id, InboundMail.id < mail.id)
        .order_by(InboundMail.id)
        .limit(1)
    )


async def record_inbound_outcome(
    session: AsyncSession, inbound_id: int, status: InboundStatus, text: str, now: datetime
) -> None:
    row = await session.get(InboundMail, inbound_id)
    if row is not None:
        row.status = status
        row.outcome = text
        row.processed_at = now
