"""Listings of needs and offers, the filters that narrow them, and the rows an export writes.

Each function takes a session from its caller and a ``Viewer``. What a viewer may not see is
filtered in the SQL itself (the policy is ``storage.visibility``), never after the rows are
fetched, so no page, count or export can show more than it should. ``REGIONS`` are the CCM's
regional groupings as people write them, and ``state_names`` names the States a listing mentions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Generic, TypeVar

from sqlalchemy import Boolean, ColumnElement, RowMapping, String, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from storage.models import Category, Contact, Entry, EntryKind, EntryStatus, Report, State
from storage.search_index import among, plan_for_the_words, rare_word_ids
from storage.visibility import Viewer, contacts_visible_to, reports_visible_to, visible_to

T = TypeVar("T")

DEFAULT_PAGE = 50
MAX_PAGE = 500
# A listing counts its matches up to this many, and then says "more than".
COUNT_CAP = 1_000

# The CCM's regional groupings (as in the shipped States file), with the names people write in
# English, French and Spanish. An offer's focus is free text in any language, so these are also
# the words looked for there.
REGIONS: Mapping[str, tuple[str, ...]] = {
    "Africa": ("Africa", "Afrique", "África"),
    "Americas": ("Americas", "America", "Amériques", "Amérique", "Américas", "América"),
    "Asia": ("Asia", "Asie"),
    "Europe": ("Europe", "Europa"),
    "Middle East": ("Middle East", "Moyen-Orient", "Moyen Orient", "Oriente Medio"),
    "Pacific": ("Pacific", "Pacifique", "Pacífico"),
}


# --- needs and offers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a listing of needs or offers is narrowed to; every field left empty matches all.

    ``text`` terms must all appear in the description (case-insensitive). ``region`` is one of
    ``REGIONS``: the State's region, or for offers also a focus that names the region.
    ``year`` is the year the entry was recorded (its reference year).
    """

    article: int | None = None
    category: Category | None = None
    state: str | None = None
    region: str | None = None
    status: EntryStatus | None = None
    since: date | None = None
    year: int | None = None
    text: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, newest first, and how many match in all.

    ``exact`` is False when counting stopped at a cap: then more than ``total`` match.
    """

    items: list[T]
    total: int
    limit: int
    offset: int
    exact: bool = True

    @property
    def more(self) -> bool:
        return self.offset + len(self.items) < self.total or not self.exact


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


class folded_like(FunctionElement[bool]):
    """``folded_like(column, pattern)``: the column's text matches a LIKE pattern, ignoring case.

    Written per backend, because ``ILIKE`` is slow: PostgreSQL compares ``lower(column)`` (its
    case mapping covers all of Unicode); SQLite's own ``LIKE`` already ignores case, for ASCII
    letters only, as its ``lower()`` does. The pattern is lowercased before it is sent.
    """

    type = Boolean()
    inherit_cache = True
    name = "folded_like"


@compiles(folded_like)
def _folded_like(element: folded_like, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(lower({column}) LIKE {pattern} ESCAPE '/')"


@compiles(folded_like, "sqlite")
def _folded_like_sqlite(element: folded_like, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({column} LIKE {pattern} ESCAPE '/')"


def contains_text(
    column: ColumnElement[Any] | InstrumentedAttribute[str], text: str
) -> ColumnElement[bool]:
    """The column contains ``text``, ignoring case; ``%`` and ``_`` are plain characters."""
    escaped = text.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return folded_like(column, literal(f"%{escaped}%", String))


def _json_forms(word: str) -> set[str]:
    # JSON columns are stored as json.dumps writes them: accents escaped as \u00e9.
    return {word, json.dumps(word)[1:-1]}


def entry_conditions(kind: EntryKind, filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE clause of a listing, visibility aside."""
    conditions: list[ColumnElement[bool]] = [Entry.kind == kind]
    if filters.article is not None:
        conditions.append(Entry.article == filters.article)
    if filters.category is not None:
        conditions.append(Entry.category == filters.category)
    if filters.state is not None:
        conditions.append(Entry.state_iso3 == filters.state)
    if filters.region is not None:
        in_region: ColumnElement[bool] = Entry.state_iso3.in_(
            select(State.iso3).where(State.region == filters.region).scalar_subquery()
        )
        if kind is EntryKind.OFFER:
            focus = cast(Entry.focus, String)
            words = {form for name in REGIONS.get(filters.region, ()) for form in _json_forms(name)}
            in_region = or_(in_region, *(contains_text(focus, word) for word in sorted(words)))
        conditions.append(in_region)
    if filters.status is not None:
        conditions.append(Entry.status == filters.status)
    if filters.since is not None:
        conditions.append(Entry.created_at >= start_of(filters.since))
    if filters.year is not None:
        conditions.append(Entry.ref_year == filters.year)
    for term in filters.text:
        conditions.append(contains_text(Entry.description, term))
    return conditions


async def listing_conditions(
    session: AsyncSession, kind: EntryKind, viewer: Viewer, filters: Filters
) -> list[ColumnElement[bool]]:
    """The WHERE clause of a listing the viewer may see, narrowed by the index of rare words."""
    conditions = [visible_to(viewer), *entry_conditions(kind, filters)]
    if not filters.text:
        return conditions
    await plan_for_the_words(session)
    if filters.state is not None:
        return conditions  # one State's entries are few: its index reads them, and no more
    ids = await rare_word_ids(session, filters.text)
    return conditions if ids is None else among(ids, conditions)


async def count_up_to(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], bound: int | None
) -> int:
    """How many entries match, counting no further than ``bound`` (None: all of them)."""
    matching = select(Entry.id).where(*conditions).limit(bound).subquery()
    return await session.scalar(select(func.count()).select_from(matching)) or 0


async def entries(
    session: AsyncSession,
    kind: EntryKind,
    viewer: Viewer,
    filters: Filters = Filters(),
    *,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
    exact_total: bool = False,
) -> Page[Entry]:
    """One page of the entries of a kind that match and that the viewer may see, newest first.

    The total is counted up to ``COUNT_CAP`` (or just past this page, if further), unless
    ``exact_total``: a common word would otherwise cost a count of a third of the store, for a
    figure nobody reads beyond "more than 1,000".
    """
    if limit < 1 or offset < 0:
        raise ValueError("limit must be positive and offset not negative")
    limit = min(limit, MAX_PAGE)
    conditions = await listing_conditions(session, kind, viewer, filters)
    bound = None if exact_total else max(COUNT_CAP, offset + limit) + 1
    total = await count_up_to(session, conditions, bound)
    rows = await session.scalars(
        select(Entry)
        .where(*conditions)
        .order_by(Entry.created_at.desc(), Entry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if bound is not None and total == bound:
        return Page(list(rows.all()), bound - 1, limit, offset, exact=False)
    return Page(list(rows.all()), total, limit, offset)


async def needs(
    session: AsyncSession,
    viewer: Viewer,
    filters: Filters = Filters(),
    *,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
) -> Page[Entry]:
    """Requests for assistance the viewer may see, newest first."""
    return await entries(session, EntryKind.NEED, viewer, filters, limit=limit, offset=offset)


async def offers(
    session: AsyncSession,
    viewer: Viewer,
    filters: Filters = Filters(),
    *,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
) -> Page[Entry]:
    """Capacities to assist the viewer may see, newest first."""
    return await entries(session, EntryKind.OFFER, viewer, filters, limit=limit, offset=offset)


async def state_names(session: AsyncSession) -> dict[str, State]:
    """Every State by ISO3, to name the States a listing mentions."""
    return {state.iso3: state for state in await session.scalars(select(State))}


# --- exports -------------------------------------------------------------------------------


async def export_entries(
    session: AsyncSession,
    kind: EntryKind,
    viewer: Viewer,
    filters: Filters = Filters(),
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[RowMapping]:
    """Entries the viewer may see, newest first, as rows keyed like the import's columns
    (``state``, ``logged_by``: the email of who logged it). Plain rows, not objects: an export
    of every entry must not build a hundred thousand of them.
    """
    logger = aliased(Contact)
    query = (
        select(
            Entry.category,
            Entry.description,
            Entry.reference,
            Entry.state_iso3.label("state"),
            Entry.organisation,
            Entry.article,
            Entry.amount,
            Entry.currency,
            Entry.period_start,
            Entry.period_end,
            Entry.focus,
            Entry.status,
            Entry.visibility,
            logger.email.label("logged_by"),
        )
        .outerjoin(logger, logger.id == Entry.logged_by_id)
        .where(*await listing_conditions(session, kind, viewer, filters))
        .order_by(Entry.created_at.desc(), Entry.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).mappings().all())


async def export_reports(session: AsyncSession, viewer: Viewer) -> Sequence[Report]:
    """Reports received (an import only takes submitted ones), by State, kind and year."""
    rows = await session.scalars(
        select(Report)
        .where(reports_visible_to(viewer), Report.submitted_on.is_not(None))
        .order_by(Report.state_iso3, Report.kind, Report.year)
    )
    return rows.all()


async def export_contacts(
    session: AsyncSession, viewer: Viewer
) -> list[tuple[Contact, str | None]]:
    """Contacts the viewer may see, each with their alternate's email; forgotten ones left out."""
    alternate = aliased(Contact)
    rows = await session.execute(
        select(Contact, alternate.email)
        .outerjoin(alternate, alternate.id == Contact.alternate_id)
        .where(contacts_visible_to(viewer), Contact.email.is_not(None))
        .order_by(Contact.state_iso3, Contact.name, Contact.id)
    )
    return [(contact, email) for contact, email in rows.all()]
