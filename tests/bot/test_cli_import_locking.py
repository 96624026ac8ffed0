"""A long ``ccm-bot import`` never keeps the running bot's writers waiting, on either backend.

The import runs in its own process, as the ISU runs it next to the bot. Meanwhile this test
records needs the way the bot does, one short transaction each, giving up after Slack's 3 s (the
bot's busy timeout is 15 s): every one must succeed, and the two writers' references must not
collide. Before imports were written in one short publish, the import held SQLite's lock for the
whole run, and on PostgreSQL the bot's next reference waited on the import's uncommitted rows.
"""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.audit import SYSTEM
from storage.db import Store, create_engine, session_factory
from storage.models import Category, Entry, EntryKind, Via
from storage.records import add_entry

ROWS = 5_000
WAIT_SECONDS = 3.0


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


async def test_a_long_import_keeps_the_bots_writers_waiting_less_than_slack_allows(
    bot_store: Store, tmp_path: Path
) -> None:
    path = needs_file(tmp_path / "needs.csv", ROWS)
    url = bot_store.engine.url.render_as_string(hide_password=False)
    environment = os.environ | {"CCM_DATABASE_URL": url, "CCM_OUTBOX_DIR": str(tmp_path)}
    environment.pop("CCM_CONFIG", None)
    importer = await asyncio.create_subprocess_exec(
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
    now = datetime(2027, 3, 31, tzinfo=UTC)
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
                    now,
                    kind=EntryKind.NEED,
                    via=Via.SLACK,
                    state_iso3="LBN",
                    category=Category.FUNDING,
                    description=f"Need {len(references)} recorded by the bot",
                )
                imported = await session.scalar(select(func.count()).where(Entry.via == Via.IMPORT))
            waits.append(time.monotonic() - started)
            references.append(entry.reference)
            if imported or importer.returncode is not None:
                break
            await asyncio.sleep(0)
        output = (await asyncio.wait_for(importer.communicate(), 120))[0].decode()
    finally:
        if importer.returncode is None:
            importer.kill()
            await importer.wait()
    assert importer.returncode == 0, output
    assert imported == ROWS
    async with bot_store.transaction() as session:
        stored = (await session.scalars(select(Entry.reference))).all()
    assert len(stored) == len(set(stored)) == ROWS + len(references)
    assert len(waits) > 3, "the import finished before the bot wrote anything"
    print(f"{len(waits)} writes by the bot, the slowest {max(waits):.3f} s")
