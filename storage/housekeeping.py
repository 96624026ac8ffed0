"""Keeping the store from growing without purpose."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Entry, ProcessedEvent, StagedAudit
from storage.records import delete_staged

# Slack retries an event for about an hour; a week of ids is plenty to recognise retries.
EVENT_MEMORY = timedelta(days=7)
# An import checks a file of the most rows in about a minute and stages it in seconds: rows
# staged longer ago belong to an import that was killed before it could publish or discard them.
ABANDONED_AFTER = timedelta(hours=1)


async def forget_old_events(session: AsyncSession, now: datetime) -> int:
    """Drop the ids of Slack events older than Slack's retry window; returns how many."""
    result = await session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < now - EVENT_MEMORY)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_abandoned_imports(session: AsyncSession, now: datetime) -> int:
    """Delete a batch of the rows killed imports staged (nobody ever saw them); returns how
    many. Call it in fresh transactions until it returns 0, so none holds the lock for long."""
    cutoff = now - ABANDONED_AFTER
    return await delete_staged(session, Entry.created_at < cutoff, StagedAudit.at < cutoff)
