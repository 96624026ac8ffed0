"""What a person chose about their reminders: a snooze of one item, an opt-out of a kind."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OptOut, Snooze


async def snooze_item(
    session: AsyncSession, contact_id: int, state: str, item: str, until: date
) -> None:
    """Hold the contact's reminders of ``item`` until ``until``; a second snooze moves the day."""
    existing = await session.scalar(
        select(Snooze).where(
            Snooze.contact_id == contact_id, Snooze.state_iso3 == state, Snooze.item == item
        )
    )
    if existing is None:
        session.add(Snooze(contact_id=contact_id, state_iso3=state, item=item, until=until))
    else:
        existing.until = until


async def opt_out(
    session: AsyncSession, contact_id: int, kind: str, now: datetime
) -> OptOut | None:
    """Switch a kind of reminder off for the contact; the new opt-out, or None if it was off."""
    exists = await session.scalar(
        select(OptOut.id).where(OptOut.contact_id == contact_id, OptOut.kind == kind)
    )
    if exists is not None:
        return None
    optout = OptOut(contact_id=contact_id, kind=kind, created_at=now)
    session.add(optout)
    await session.flush()
    return optout
