"""SQLite's trigram index over descriptions, consulted when a searched word is rare.

A search for a word (``description LIKE '%word%'``) reads every entry when the word is rare:
nothing stops the scan early. Migration 0008 keeps an FTS5 trigram index of descriptions
(``entries_fts``) on SQLite, and a rare word is looked up there first, which narrows the
listing to the few entries that may hold it. The index is a pre-filter only: the ``LIKE``
stays in the query, so a search matches exactly what it matched without the index.

A common word is left to the ordinary scan, which is then fast: the newest page is found in the
first rows read, and the count stops at its cap (``queries.COUNT_CAP``). Looking a common word up
in the index would be slower than that, because the index returns tens of thousands of rows.

PostgreSQL needs none of this: its trigram index (migration 0006) serves ``LIKE`` directly.
An SQLite built without FTS5's trigram tokenizer (before 3.34) has no ``entries_fts``; its
searches work unindexed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Boolean, ColumnElement, func, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Entry

TABLE = "entries_fts"
# A word in fewer entries than this is rare: the listing reads just those entries.
RARE = 2_000
# A trigram index matches nothing shorter than three characters.
SHORTEST = 3


def phrase(term: str) -> str:
    """``term`` as an FTS5 string: quoted, so every character is matched as written."""
    return '"' + term.replace('"', '""') + '"'


async def plan_for_the_words(session: AsyncSession) -> None:
    """Have PostgreSQL plan this transaction's statements for the words actually searched.

    asyncpg prepares every statement, and after a few runs PostgreSQL reuses a generic plan made
    without knowing the pattern: one plan for a word in half the entries and for a word in none.
    Planned for the word, a common word reads the newest rows until it has enough, and a rare one
    takes the trigram index (migration 0006).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def has_index(session: AsyncSession) -> bool:
    """Whether this SQLite database has the index; asked once per database connection (the
    answer is kept in the connection's ``info``, which lives as long as the connection)."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    connection = await session.connection()
    known = connection.info.get(TABLE)
    if known is None:
        found = await connection.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": TABLE},
        )
        known = connection.info[TABLE] = found is not None
    return bool(known)


async def rare_word_ids(session: AsyncSession, terms: Iterable[str]) -> set[int] | None:
    """The ids of the entries that may hold every rare term; None if no term is rare.

    Each term long enough to index costs one index lookup of at most ``RARE`` ids.
    """
    indexable = [term for term in terms if len(term) >= SHORTEST]
    if not indexable or not await has_index(session):
        return None
    candidates: set[int] | None = None
    for term in indexable:
        ids = await session.scalars(
            text(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :phrase LIMIT :limit"),
            {"phrase": phrase(term), "limit": RARE},
        )
        found = set(ids.all())
        if len(found) < RARE:
            candidates = found if candidates is None else candidates & found
    return candidates


def among(ids: set[int], conditions: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """``conditions`` restricted to ``ids``, so that each of those rows is read by its id.

    Each other condition is wrapped in SQLite's ``likely()``, which tells its planner that the
    condition narrows nothing: without ANALYZE's statistics it would rather walk an index of one
    of them (say, of every need) and read a hundred thousand rows to find the few it was given.
    """
    return [Entry.id.in_(sorted(ids)), *(func.likely(c, type_=Boolean) for c in conditions)]
