"""Old Slack event ids are forgotten; recent ones are kept to recognise Slack's retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import Store
from storage.housekeeping import EVENT_MEMORY, forget_old_events
from storage.models import ProcessedEvent

NOW = datetime(2027, 3, 31, 12, 0, tzinfo=UTC)


async def test_only_events_older_than_the_memory_are_forgotten(store: Store) -> None:
    async with store.transaction() as session:
        session.add_all(
            [
                ProcessedEvent(event_id="Ev-old", received_at=NOW - EVENT_MEMORY - timedelta(1)),
                ProcessedEvent(event_id="Ev-edge", received_at=NOW - EVENT_MEMORY),
                ProcessedEvent(event_id="Ev-new", received_at=NOW - timedelta(minutes=5)),
            ]
        )
    async with store.transaction() as session:
        assert await forget_old_events(session, NOW) == 1
    async with store.transaction() as session:
        kept = set((await session.scalars(select(ProcessedEvent.event_id))).all())
    assert kept == {"Ev-edge", "Ev-new"}
