"""A long ``ccm-bot import`` never keeps the running bot's writers waiting, on either backend,
and nobody sees any of its rows before all of them.

The import runs in its own process, as the ISU runs it next to the bot. Meanwhile this test
records needs the way the bot does, one short transaction each, giving up after Slack's 3 s (the
bot's busy timeout is 15 s): every one must succeed, and the two writers' references must not
collide. Before imports were written in one short publish, the import held SQLite's lock for the
whole run, and on PostgreSQL the bot's next reference waited on the import's uncommitted rows;
before they were staged in batches, the final transaction of 20,000 needs held it 4.7 s.

The staging tests catch the import between two batches by holding the writers' lock (SQLite's
``BEGIN IMMEDIATE``, PostgreSQL's ``LOCK TABLE``) as soon as staged rows appear: the import
cannot go on while every read path is checked, so no timing decides the outcome.
"""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from schedules.clock import FixedClock
from schedules.jobs import Housekeeping
from storage.audit import SYSTEM
from storage.db import Store, create_engine, session_factory
from storage.housekeeping import ABANDONED_AFTER
from storage.listings import export_entries, needs
from storage.models import Category, Entry, EntryKind, StagedAudit, Via
from storage.overview import state_overview
from storage.records import add_entry, published
from storage.visibility import ISU, entry_for
from storage.yearly_figures import year_facts

ROWS = 5_000
WAIT_SECONDS = 3.0
NOW = datetime(2027, 3, 31, tzinfo=UTC)


def needs_file(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["state", "category", "description"])
        for number in range(rows):
            writer.writerow(["TCD", "survey_clearance", f"Survey of area {number} near Faya"])
    return path


def impatient(engine: AsyncEngine) -> AsyncEngine:
    """A writer that gives up after ``WAIT_SECONDS`` instead of the store's 15 s."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if engine.dialect.name == "sqlite":
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(WAIT_SECONDS * 1000)}")
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'")

    return engine


@pytest.fixture
async def bot_store(loaded_store: Store) -> AsyncIterator[Store]:
    engine = create_engine(loaded_store.engine.url.render_as_string(hide_password=False))
    # A second "begin" listener after the store's own BEGIN IMMEDIATE (SQLite).
    store = Store(impatient(engine), session_factory(engine))
    yield store
    await store.close()


def start_import(store: Store, path: Path, tmp_path: Path) -> Any:
    """``ccm-bot import needs PATH`` in a process of its own, as the ISU runs it."""
    url = store.engine.url.render_as_string(hide_password=False)
    environment = os.environ | {"CCM_DATABASE_URL": url, "CCM_OUTBOX_DIR": str(tmp_path)}
    environment.pop("CCM_CONFIG", None)
    return asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "import",
        "needs",
        str(path),
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def finished(importer: asyncio.subprocess.Process) -> str:
    output = (await asyncio.wait_for(importer.communicate(), 120))[0].decode()
    assert importer.returncode == 0, output
    return output


async def count(store: Store, *conditions: Any) -> int:
    async with store.transaction() as session:
        return await session.scalar(select(func.count(Entry.id)).where(*conditions)) or 0


async def test_a_long_import_keeps_the_bots_writers_waiting_less_than_slack_allows(
    bot_store: Store, tmp_path: Path
) -> None:
    importer = await start_import(bot_store, needs_file(tmp_path / "needs.csv", ROWS), tmp_path)
    waits: list[float] = []
    references: list[str] = []
    try:
        # Until the import's rows are there, so the bot's writes cover its publishing too.
        while True:
            started = time.monotonic()
            async with bot_store.transaction() as session:
                entry = await add_entry(
                    session,
                    SYSTEM,
                    NOW,
                    kind=EntryKind.NEED,
                    via=Via.SLACK,
                    state_iso3="LBN",
                    category=Category.FUNDING,
                    description=f"Need {len(references)} recorded by the bot",
                )
                imported = await session.scalar(
                    select(func.count()).where(Entry.via == Via.IMPORT, published())
                )
            waits.append(time.monotonic() - started)
            references.append(entry.reference)
            assert imported in (0, ROWS), "part of the import was visible"
            if imported or importer.returncode is not None:
                break
            await asyncio.sleep(0)
        await finished(importer)
    finally:
        if importer.returncode is None:
            importer.kill()
            await importer.wait()
    assert imported == ROWS
    async with bot_store.transaction() as session:
        stored = (await session.scalars(select(Entry.reference))).all()
    assert len(stored) == len(set(stored)) == ROWS + len(references)
    assert len(waits) > 3, "the import finished before the bot wrote anything"
    print(f"{len(waits)} writes by the bot, the slowest {max(waits):.3f} s")


@asynccontextmanager
async def held_while_staged(
    store: Store, importer: asyncio.subprocess.Process
) -> AsyncIterator[AsyncSession]:
    """A transaction holding the writers' lock while the import has staged rows and published
    none: it waits for them by reading without the lock, then takes it and looks again."""
    peek = create_async_engine(store.engine.url)  # plain reads: no BEGIN IMMEDIATE, no wait
    try:
        while True:
            async with peek.connect() as connection:
                staged = await connection.scalar(
                    select(func.count()).where(Entry.staged_by.is_not(None))
                )
            assert importer.returncode is None, "the import ended before it was seen staging"
            if staged:
                async with store.transaction() as session:
                    if store.backend == "postgresql":
                        await session.execute(text("LOCK TABLE entries IN EXCLUSIVE MODE"))
                    if not await session.scalar(
                        select(func.count()).where(Entry.via == Via.IMPORT, published())
                    ):
                        yield session
                        return
            await asyncio.sleep(0.01)  # a poll interval; nothing depends on it
    finally:
        await peek.dispose()


async def assert_nothing_imported_is_seen(session: AsyncSession) -> None:
    staged = await session.scalar(select(Entry.reference).where(Entry.staged_by.is_not(None)))
    assert staged is not None
    page = await needs(session, ISU)
    assert (page.total, page.items) == (0, [])
    assert await export_entries(session, EntryKind.NEED, ISU) == []
    overview = await state_overview(session, "TCD", ISU)
    assert overview is not None
    assert (overview.needs_total, overview.needs) == (0, [])
    facts = await year_facts(session, datetime.now(UTC).year, datetime.now(UTC).date())
    assert not {iso3 for iso3, _ in facts.need_articles}
    assert "TCD" not in facts.art5_history
    assert await entry_for(session, ISU, staged) is None


async def test_rows_being_staged_are_seen_by_no_reader(loaded_store: Store, tmp_path: Path) -> None:
    importer = await start_import(loaded_store, needs_file(tmp_path / "n.csv", ROWS), tmp_path)
    try:
        async with held_while_staged(loaded_store, importer) as session:
            await assert_nothing_imported_is_seen(session)
        await finished(importer)
    finally:
        if importer.returncode is None:
            importer.kill()
            await importer.wait()
    assert await count(loaded_store, published()) == ROWS
    assert await count(loaded_store) == ROWS


async def test_a_killed_import_leaves_nothing_seen_and_a_rerun_imports_every_row_once(
    loaded_store: Store, tmp_path: Path
) -> None:
    path = needs_file(tmp_path / "needs.csv", ROWS)
    importer = await start_import(loaded_store, path, tmp_path)
    async with held_while_staged(loaded_store, importer) as session:
        importer.kill()  # SIGKILL: no cleanup of its own
        await importer.wait()
        await assert_nothing_imported_is_seen(session)
    left = await count(loaded_store)
    assert left
    assert not await count(loaded_store, published())

    await finished(await start_import(loaded_store, path, tmp_path))
    async with loaded_store.transaction() as session:
        references = (await session.scalars(select(Entry.reference).where(published()))).all()
    assert len(references) == len(set(references)) == ROWS

    later = FixedClock(datetime.now(UTC) + ABANDONED_AFTER + timedelta(minutes=1))
    await Housekeeping(loaded_store, later).run()
    assert await count(loaded_store) == ROWS
    async with loaded_store.transaction() as session:
        assert not await session.scalar(select(func.count(StagedAudit.id)))
