"""Slack event ids already acted on, so a redelivered event is acted on once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent


async def first_delivery(session: AsyncSession, event_id: str, received_at: datetime) -> bool:
    """Record the event id; False when it was recorded already (a redelivery).

    The primary key decides, not a read first: two deliveries racing each other cannot both
    pass. The savepoint keeps the caller's transaction usable after the duplicate.
    """
    try:
        async with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, received_at=received_at))
    except IntegrityError:
        return False
    return True
