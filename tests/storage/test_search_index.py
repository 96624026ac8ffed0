"""Searching descriptions: SQLite's index of rare words finds what a scan finds, kept in step by
its triggers; listings count up to a cap and say when there are more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from storage import listings, search_index
from storage.audit import SYSTEM
from storage.db import Store
from storage.listings import Filters, entries, export_entries
from storage.models import Category, Entry, EntryKind
from storage.records import add_entry
from storage.visibility import ISU

NOW = datetime(2027, 3, 31, 6, 0, tzinfo=UTC)


async def add_needs(store: Store, *descriptions: str) -> list[int]:
    ids = []
    async with store.transaction() as session:
        for n, description in enumerate(descriptions):
            entry = await add_entry(
                session,
                SYSTEM,
                NOW + timedelta(minutes=n),
                kind=EntryKind.NEED,
                category=Category.OTHER,
                description=description,
                via="import",
            )
            ids.append(entry.id)
    return ids


async def found(store: Store, *words: str) -> list[str]:
    async with store.transaction() as session:
        page = await entries(session, EntryKind.NEED, ISU, Filters(text=words))
    return sorted(entry.description for entry in page.items)


async def candidates(store: Store, *words: str) -> set[int] | None:
    async with store.transaction() as session:
        return await search_index.rare_word_ids(session, words)


async def test_sqlite_looks_rare_words_up_in_its_index_and_postgresql_does_not(
    loaded_store: Store,
) -> None:
    kandahar, herat = await add_needs(loaded_store, "Survey in Kandahar", "Deminers for Herat")
    looked_up = await candidates(loaded_store, "kandahar")
    if loaded_store.backend == "sqlite":
        assert looked_up == {kandahar}
        assert await candidates(loaded_store, "survey", "herat") == set()
        assert await candidates(loaded_store, "deminers", "herat") == {herat}
    else:
        assert looked_up is None  # PostgreSQL's trigram index serves LIKE itself
    assert await found(loaded_store, "KANDAHAR") == ["Survey in Kandahar"]


async def test_the_index_follows_every_insert_update_and_delete(loaded_store: Store) -> None:
    first, second = await add_needs(loaded_store, "Survey in Kandahar", "Survey in Herat")
    async with loaded_store.transaction() as session:
        await session.execute(
            update(Entry).where(Entry.id == first).values(description="Survey in Nabatieh")
        )
        await session.execute(delete(Entry).where(Entry.id == second))
    assert await found(loaded_store, "kandahar") == []
    assert await found(loaded_store, "herat") == []
    assert await found(loaded_store, "nabatieh") == ["Survey in Nabatieh"]
    if loaded_store.backend == "sqlite":
        assert await candidates(loaded_store, "kandahar") == set()
        assert await candidates(loaded_store, "nabatieh") == {first}


async def test_short_and_common_words_are_left_to_the_scan(
    loaded_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "RARE", 3)
    await add_needs(loaded_store, *(f"Clearance of area {n}" for n in range(4)), "Survey, Kandahar")
    assert await candidates(loaded_store, "of") is None
    assert await candidates(loaded_store, "clearance") is None
    if loaded_store.backend == "sqlite":
        # A common word with a rare one: the rare one narrows, the scan checks both.
        assert await candidates(loaded_store, "clearance", "kandahar") is not None
    assert len(await found(loaded_store, "clearance")) == 4
    assert await found(loaded_store, "clearance", "kandahar") == []
    assert await found(loaded_store, "survey", "kandahar") == ["Survey, Kandahar"]


@pytest.mark.parametrize(
    "word",
    ['say "yes"', "NEAR(a b)", "kand*", "a OR b", "-herat", "^start", "'; DROP TABLE entries; --"],
)
async def test_search_syntax_in_a_word_is_plain_text(loaded_store: Store, word: str) -> None:
    """FTS5 has its own query language; a word typed by a person is never read as one."""
    await add_needs(loaded_store, f"Described as {word} here", "Survey in Herat")
    assert await found(loaded_store, word) == [f"Described as {word} here"]
    assert len(await found(loaded_store, "described")) == 1


async def test_counts_stop_at_the_cap_and_say_there_are_more(
    loaded_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listings, "COUNT_CAP", 5)
    await add_needs(loaded_store, *(f"Need number {n}" for n in range(8)))
    async with loaded_store.transaction() as session:
        first = await entries(session, EntryKind.NEED, ISU, limit=2)
        exact = await entries(session, EntryKind.NEED, ISU, limit=2, exact_total=True)
        # Past the cap, the count reaches one beyond the page, so "more" stays right.
        beyond = await entries(session, EntryKind.NEED, ISU, limit=2, offset=5)
        last = await entries(session, EntryKind.NEED, ISU, limit=2, offset=6)
    assert (first.total, first.exact, first.more) == (5, False, True)
    assert (exact.total, exact.exact, exact.more) == (8, True, True)
    assert (beyond.total, beyond.exact, beyond.more, len(beyond.items)) == (7, False, True, 2)
    assert (last.total, last.exact, last.more, len(last.items)) == (8, True, False, 2)


async def test_exports_search_the_same_way(loaded_store: Store) -> None:
    await add_needs(loaded_store, "Survey in Kandahar", "Survey in Herat")
    async with loaded_store.transaction() as session:
        rows = await export_entries(session, EntryKind.NEED, ISU, Filters(text=("kandahar",)))
    assert [row["description"] for row in rows] == ["Survey in Kandahar"]
