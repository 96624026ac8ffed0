"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (production).

SQLite gets WAL (readers never wait for the writer), a busy timeout (a second writer waits
instead of failing) and ``BEGIN IMMEDIATE`` (a transaction takes the write lock up front, so two
writers cannot both read, then deadlock on upgrade).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

BUSY_TIMEOUT_MS = 15_000


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Build the async engine for a ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy so "begin" below decides how to begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit, with no lazy load behind them.
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block ends, roll back if it raises."""
    async with sessions() as session, session.begin():
        yield session


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("storage") / "migrations"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run on every start."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


@dataclass
class Store:
    """The engine and its session factory, opened once by the composition root."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        return transaction(self.sessions)

    async def close(self) -> None:
        await self.engine.dispose()


async def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store, migrating it to the newest schema first unless told not to."""
    engine = create_engine(url)
    if migrate:
        await upgrade(engine)
    return Store(engine, session_factory(engine))
