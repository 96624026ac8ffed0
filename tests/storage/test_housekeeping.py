"""Old Slack event ids are forgotten, recent ones kept to recognise Slack's retries; rows a
killed import staged are deleted, a batch per transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from storage.audit import SYSTEM
from storage.db import Store
from storage.housekeeping import (
    ABANDONED_AFTER,
    EVENT_MEMORY,
    forget_abandoned_imports,
    forget_old_events,
)
from storage.models import Category, Entry, EntryKind, ProcessedEvent, StagedAudit, Via
from storage.records import publish_entries, stage_entries
from tests.storage.test_contacts import add_example_states

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


async def test_rows_of_killed_imports_go_in_batches_and_nothing_else(store: Store) -> None:
    """Rows staged more than ABANDONED_AFTER ago are a killed import's; newer ones may be an
    import still under way, and published rows are nobody's to delete."""
    rows = [{"state_iso3": "FRA", "category": Category.FUNDING, "via": Via.IMPORT}] * 600
    abandoned, running = NOW - ABANDONED_AFTER - timedelta(seconds=1), NOW - timedelta(minutes=5)
    async with store.transaction() as session:
        await add_example_states(session)
        for at, staged_by in ((abandoned, "killed"), (running, "running"), (abandoned, "done")):
            described = [row | {"description": f"{staged_by} {n}"} for n, row in enumerate(rows)]
            await stage_entries(session, SYSTEM, at, EntryKind.NEED, staged_by, described)
        await publish_entries(session, "done", len(rows))
    removed = []
    while batch := await _in_own_transaction(store, forget_abandoned_imports):
        removed.append(batch)
    assert removed == [500, 100, 600]  # the entries, a batch at a time, then their audit rows
    async with store.transaction() as session:
        tally = select(Entry.staged_by, func.count()).group_by(Entry.staged_by)
        left = (await session.execute(tally)).all()
        audits = await session.scalar(select(func.count(StagedAudit.id)))
    assert sorted(left, key=str) == sorted([(None, 600), ("running", 600)], key=str)
    assert audits == 600


async def _in_own_transaction(store: Store, tidy: Callable[..., Awaitable[int]]) -> int:
    async with store.transaction() as session:
        return await tidy(session, NOW)
