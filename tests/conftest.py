"""Fixtures shared by every test: a migrated store on SQLite and on PostgreSQL, and a clock.

Every store test runs twice, once per backend. PostgreSQL is the production store: where the
server is unreachable the PostgreSQL half is skipped with a visible reason, except in CI
(``CI`` set), where an unreachable server is a failure, never a silent skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from schedules.clock import FixedClock
from storage.audit import SYSTEM
from storage.db import Store, create_engine, open_store, upgrade
from storage.models import Base
from storage.states import load_states
from storage.treaty_data import load_treaty_data

pytest_plugins = ["tests.fakes.fixtures"]

POSTGRES_URL = os.environ.get(
    "CCM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgres"]


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


async def _create_database(admin_url: str, name: str) -> str:
    """A database of this run's own, so parallel runs on one server never meet."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrated = create_engine(url)
    await upgrade(migrated)
    await migrated.dispose()
    return url


async def _drop_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


async def _migrate_sqlite(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Migrate each backend once per run; tests then start from an emptied copy."""
    template = tmp_path_factory.mktemp("template") / "ccm-bot.db"
    asyncio.run(_migrate_sqlite(f"sqlite+aiosqlite:///{template}"))
    urls = {"sqlite": str(template)}
    name = f"ccm_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    if _postgres_reachable():
        urls["postgres"] = asyncio.run(_create_database(POSTGRES_URL, name))
    yield urls
    if "postgres" in urls:
        asyncio.run(_drop_database(POSTGRES_URL, name))


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, migrated_urls: dict[str, str], tmp_path: Path
) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        target = tmp_path / "ccm-bot.db"
        shutil.copyfile(migrated_urls["sqlite"], target)
        return f"sqlite+aiosqlite:///{target}"
    if "postgres" not in migrated_urls:
        message = "PostgreSQL is not reachable on 127.0.0.1:5432"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the PostgreSQL half")
        pytest.skip(message)
    asyncio.run(_truncate(migrated_urls["postgres"]))
    return migrated_urls["postgres"]


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await open_store(database_url, migrate=False)
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 3, 31, 6, 0, tzinfo=UTC))


@pytest.fixture
async def loaded_store(store: Store) -> Store:
    """A store with the shipped treaty data loaded (112 States Parties, signatories)."""
    async with store.transaction() as session:
        await load_states(session, load_treaty_data(), SYSTEM, datetime(2026, 11, 1, tzinfo=UTC))
    return store
