"""Keeping the store from growing without purpose."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent

# Slack retries an event for about an hour; a week of ids is plenty to recognise retries.
EVENT_MEMORY = timedelta(days=7)


async def forget_old_events(session: AsyncSession, now: datetime) -> int:
    """Drop the ids of Slack events older than Slack's retry window; returns how many."""
    result = await session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < now - EVENT_MEMORY)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
