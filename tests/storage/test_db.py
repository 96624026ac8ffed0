"""The store itself: migrations, SQLite's pragmas, aware times, the append-only audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select, text

from storage import search_index
from storage.audit import Actor, record_change
from storage.db import Store, current_revision, open_store
from storage.models import AuditEntry, Base, Contact, Role, Via


async def test_migrations_reach_head(store: Store) -> None:
    assert await current_revision(store.engine) is not None


async def test_open_store_migrates_a_fresh_sqlite_file(tmp_path) -> None:
    fresh = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        async with fresh.transaction() as session:
            assert (await session.scalars(select(Contact))).all() == []
        async with fresh.engine.connect() as connection:
            mode = await connection.scalar(text("PRAGMA journal_mode"))
            timeout = await connection.scalar(text("PRAGMA busy_timeout"))
        assert (mode, timeout) == ("wal", 15000)
    finally:
        await fresh.close()


async def test_times_come_back_aware_utc(store: Store) -> None:
    geneva_morning = datetime(2027, 3, 31, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    async with store.transaction() as session:
        session.add(
            Contact(name="A", email="a@example.org", role=Role.ISU, created_at=geneva_morning)
        )
    async with store.transaction() as session:
        contact = await session.scalar(select(Contact))
    assert contact is not None
    assert contact.created_at == datetime(2027, 3, 31, 7, 0, tzinfo=UTC)
    assert contact.created_at.tzinfo is not None


async def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with store.transaction() as session:
            session.add(
                Contact(name="A", email="a@x.org", role=Role.ISU, created_at=datetime(2027, 1, 1))
            )


async def test_audit_log_is_append_only(store: Store) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    async with store.transaction() as session:
        contact = Contact(name="A", email="a@example.org", role=Role.ISU, created_at=now)
        session.add(contact)
        await session.flush()
        record_change(session, Actor("test", Via.CLI), now, contact, "create", None)

    async def tamper() -> None:
        async with store.transaction() as session:
            entry = await session.scalar(select(AuditEntry))
            assert entry is not None
            entry.action = "tampered"

    with pytest.raises(PermissionError):
        await tamper()
    async with store.transaction() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    assert [(e.entity, e.action, e.after["email"] if e.after else None) for e in entries] == [
        ("contacts", "create", "a@example.org")
    ]


async def test_migrations_match_the_models(store: Store) -> None:
    """A model changed without a migration would show here as a difference."""

    def modelled(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        # The trigram indexes are the backends' own (migrations 0006 and 0008), not models.
        if kind == "table":
            return not (name or "").startswith(search_index.TABLE)
        return name != "ix_entries_description_trgm"

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "include_object": modelled}
        )
        return list(compare_metadata(context, Base.metadata))

    async with store.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
