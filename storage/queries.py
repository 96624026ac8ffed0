"""Read-only questions the Coordinators and the ISU ask of the store.

Who needs what, who can help, who is late, what falls due: each function takes a session from its
caller and a ``Viewer``. What a viewer may not see is filtered in the SQL itself (the policy is
``storage.visibility``), never after the rows are fetched, so no listing, count or export can show
more than it should.

The treaty calendar's rules (when a report is due, how months add up) live in ``schedules``;
functions here take the dates they need as parameters, so the import direction stays inward.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    RowMapping,
    String,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, aliased, selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from storage.models import (
    AssistanceRecord,
    Category,
    Contact,
    CustomDeadline,
    Delivery,
    Direction,
    Entry,
    EntryKind,
    EntryStatus,
    Message,
    MessageStatus,
    Obligation,
    Report,
    ReportKind,
    State,
    StateStatus,
)
from storage.records import published
from storage.search_index import among, plan_for_the_words, rare_word_ids
from storage.states import latest_deadline
from storage.visibility import (
    Viewer,
    contacts_visible_to,
    reminders_visible_to,
    reports_visible_to,
    visible_to,
)

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

# A reminder about the annual report covering a year carries this item id (see schedules.calendar).
ANNUAL_ITEM = "art7-annual-{year}"
ESCALATION = "escalation"


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


# --- one State at a glance -----------------------------------------------------------------


@dataclass(frozen=True)
class StateOverview:
    """What the store knows of one State, as the viewer may see it.

    ``needs`` and ``offers`` are the newest open (or in discussion) ones, at most
    ``OVERVIEW_ENTRIES`` each; ``needs_total`` and ``offers_total`` count them all.
    ``last_reminder_at`` is when a reminder about any of its items last went out to anyone;
    ``last_answer_at`` when one of its people last answered a reminder. Both are None for a
    viewer who may not see reminders (``reminders_visible_to``).
    """

    state: State
    obligations: list[Obligation]
    reports: list[Report]
    needs: list[Entry]
    needs_total: int
    offers: list[Entry]
    offers_total: int
    contacts: list[Contact]
    custom_deadlines: list[CustomDeadline]
    last_reminder_at: datetime | None
    last_answer_at: datetime | None

    def deadline_in_force(self, obligation: Obligation) -> date | None:
        return latest_deadline(obligation)


ACTIVE_STATUSES = (EntryStatus.OPEN, EntryStatus.IN_DISCUSSION)
OVERVIEW_ENTRIES = 20


async def state_overview(session: AsyncSession, iso3: str, viewer: Viewer) -> StateOverview | None:
    """One State's obligations, reports by year, open needs and offers, people and reminders."""
    state = await session.scalar(
        select(State)
        .where(State.iso3 == iso3.upper())
        .options(selectinload(State.obligations).selectinload(Obligation.extensions))
    )
    if state is None:
        return None
    reports = await session.scalars(
        select(Report)
        .where(Report.state_iso3 == state.iso3, reports_visible_to(viewer))
        .order_by(Report.kind, Report.year)
    )
    active = [
        Entry.state_iso3 == state.iso3,
        Entry.status.in_(ACTIVE_STATUSES),
        visible_to(viewer),
    ]
    listed: dict[EntryKind, list[Entry]] = {}
    totals: dict[EntryKind, int] = {}
    for kind in EntryKind:
        rows = await session.scalars(
            select(Entry)
            .where(Entry.kind == kind, *active)
            .order_by(Entry.created_at.desc(), Entry.id.desc())
            .limit(OVERVIEW_ENTRIES)
        )
        listed[kind] = list(rows.all())
        totals[kind] = len(listed[kind])
        if totals[kind] == OVERVIEW_ENTRIES:
            counted = select(func.count()).select_from(Entry).where(Entry.kind == kind, *active)
            totals[kind] = await session.scalar(counted) or 0
    people = await session.scalars(
        select(Contact)
        .where(
            Contact.state_iso3 == state.iso3,
            Contact.active.is_(True),
            Contact.forgotten_at.is_(None),
            contacts_visible_to(viewer),
        )
        .order_by(Contact.name, Contact.id)
    )
    customs = await custom_deadlines_of(session, state.iso3)
    last_reminder = last_answer = None
    if reminders_visible_to(viewer, state.iso3):
        last_reminder = await session.scalar(
            select(func.max(Message.sent_at))
            .join(Delivery, Delivery.message_id == Message.id)
            .where(
                Delivery.state_iso3 == state.iso3,
                Delivery.cancelled.is_(False),
                Message.status == MessageStatus.SENT,
            )
        )
        last_answer = await session.scalar(
            select(func.max(Delivery.answered_at)).where(Delivery.state_iso3 == state.iso3)
        )
    return StateOverview(
        state=state,
        obligations=list(state.obligations),
        reports=list(reports.all()),
        needs=listed[EntryKind.NEED],
        needs_total=totals[EntryKind.NEED],
        offers=listed[EntryKind.OFFER],
        offers_total=totals[EntryKind.OFFER],
        contacts=list(people.all()),
        custom_deadlines=list(customs),
        last_reminder_at=last_reminder,
        last_answer_at=last_answer,
    )


# --- who is late ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    """A State whose annual report is missing after its due date, and how it was reminded.

    ``reminders`` counts reminder deliveries that went out (one per person, channel and stage);
    ``reminded_at`` lists when, oldest first. ``escalated`` is True once the Coordinators were
    told.
    """

    iso3: str
    name: str
    due: date
    reminders: int
    reminded_at: tuple[datetime, ...]
    escalated: bool

    @property
    def last_reminder_at(self) -> datetime | None:
        return self.reminded_at[-1] if self.reminded_at else None


def owes_annual_report(state: State, year: int, due: date) -> bool:
    """A party in force during ``year`` owes its report, unless it had withdrawn by the due date."""
    if state.status is StateStatus.SIGNATORY or state.entry_into_force is None:
        return False
    if state.entry_into_force.year > year:
        return False
    return not (
        state.status is StateStatus.WITHDRAWN
        and state.status_date is not None
        and state.status_date <= due
    )


async def overdue(session: AsyncSession, year: int, *, due: date, today: date) -> list[Overdue]:
    """States whose annual report covering ``year`` (due on ``due``) was not received by today.

    Empty until the due date has passed. Ordered by name.
    """
    if today <= due:
        return []
    submitted = select(Report.state_iso3).where(
        Report.kind == ReportKind.ANNUAL,
        Report.year == year,
        Report.submitted_on.is_not(None),
        Report.submitted_on <= today,
    )
    candidates = await session.scalars(
        select(State)
        .where(
            State.status != StateStatus.SIGNATORY,
            State.entry_into_force.is_not(None),
            State.iso3.not_in(submitted),
        )
        .order_by(State.name_en)
    )
    late = [state for state in candidates.all() if owes_annual_report(state, year, due)]
    if not late:
        return []
    sent = await session.execute(
        select(Delivery.state_iso3, Message.purpose, Message.sent_at)
        .join(Message, Message.id == Delivery.message_id)
        .where(
            Delivery.item == ANNUAL_ITEM.format(year=year),
            Delivery.state_iso3.in_([state.iso3 for state in late]),
            Delivery.cancelled.is_(False),
            Message.status == MessageStatus.SENT,
        )
    )
    reminded: dict[str, list[datetime]] = defaultdict(list)
    escalated: set[str] = set()
    for iso3, purpose, sent_at in sent.all():
        if purpose == ESCALATION:
            escalated.add(iso3)
        elif sent_at is not None:
            reminded[iso3].append(sent_at)
    return [
        Overdue(
            iso3=state.iso3,
            name=state.name_en,
            due=due,
            reminders=len(reminded[state.iso3]),
            reminded_at=tuple(sorted(reminded[state.iso3])),
            escalated=state.iso3 in escalated,
        )
        for state in late
    ]


# --- what falls due ------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """An Article 3 or 4 deadline in force, or a date the ISU added (``article`` None)."""

    iso3: str
    name: str
    due: date
    article: int | None
    title: str
    extended: bool = False
    source: str = ""


async def deadlines(session: AsyncSession, *, start: date, end: date) -> list[Deadline]:
    """Deadlines in force from ``start`` to ``end`` (both included), soonest first.

    Article 3 and 4 obligations count while not completed, for parties (not signatories, not
    States that withdrew); a custom deadline counts whoever it is for.
    """
    found: list[Deadline] = []
    obligations = await session.scalars(
        select(Obligation)
        .join(State, State.iso3 == Obligation.state_iso3)
        .where(
            Obligation.article.in_((3, 4)),
            Obligation.completed_on.is_(None),
            Obligation.completed_note == "",
            State.status == StateStatus.PARTY,
        )
        .options(selectinload(Obligation.extensions), selectinload(Obligation.state))
    )
    for obligation in obligations.all():
        due = latest_deadline(obligation)
        if due is None or not start <= due <= end:
            continue
        extension = next((e for e in obligation.extensions if e.deadline == due), None)
        found.append(
            Deadline(
                iso3=obligation.state_iso3,
                name=obligation.state.name_en,
                due=due,
                article=obligation.article,
                title=f"Article {obligation.article}",
                extended=extension is not None and due != obligation.original_deadline,
                source=extension.source if extension else obligation.original_source,
            )
        )
    customs = await session.execute(
        select(CustomDeadline, State.name_en)
        .join(State, State.iso3 == CustomDeadline.state_iso3)
        .where(CustomDeadline.due >= start, CustomDeadline.due <= end)
    )
    for custom, name in customs.all():
        found.append(Deadline(custom.state_iso3, name, custom.due, None, custom.title))
    return sorted(found, key=lambda d: (d.due, d.name, d.article or 0, d.title))


async def open_entries_of(session: AsyncSession, viewer: Viewer) -> Sequence[Entry]:
    """The open needs and offers of the viewer's State and those they logged, that they may
    see, newest first: a delegate's own list (the Home tab, ``/ccm my``)."""
    mine: list[ColumnElement[bool]] = []
    if viewer.contact_id is not None:
        mine.append(Entry.logged_by_id == viewer.contact_id)
    if viewer.state:
        mine.append(Entry.state_iso3 == viewer.state)
    if not mine:
        return []
    rows = await session.scalars(
        select(Entry)
        .where(or_(*mine), visible_to(viewer), Entry.status.in_(ACTIVE_STATUSES))
        .order_by(Entry.created_at.desc(), Entry.id.desc())
    )
    return rows.all()


async def custom_deadlines_of(session: AsyncSession, iso3: str) -> Sequence[CustomDeadline]:
    """The dates the ISU added for a State, soonest first."""
    rows = await session.scalars(
        select(CustomDeadline)
        .where(CustomDeadline.state_iso3 == iso3)
        .order_by(CustomDeadline.due, CustomDeadline.id)
    )
    return rows.all()


# --- the ISU's yearly figures --------------------------------------------------------------


@dataclass(frozen=True)
class ObligationLine:
    state: str
    article: int
    completed_on: date | None
    completed_without_date: bool


@dataclass
class YearFacts:
    """Everything the yearly analysis counts, read in a few queries (see handlers.stats).

    ``parties``: ISO3 of States Parties on ``as_of`` (in force, not withdrawn by then).
    ``reports``: annual reports covering ``year`` received by ``as_of``, by State.
    ``need_articles``: (State, article) of needs recorded in ``year`` by ``as_of``.
    ``assisted``: (State, direction, article) of assistance records of ``year``.
    ``provided_totals``: amounts a State reported providing, by (State, year) for ``year`` and
    ``year - 1``, summed by currency (records without an amount are not in them).
    ``art5_history``: States that recorded an Article 5 need, or reported receiving Article 5
    assistance, in ``year`` or before.
    """

    year: int
    as_of: date
    names: dict[str, str]
    parties: set[str]
    reports: dict[str, Report]
    need_articles: set[tuple[str, int | None]]
    assisted: set[tuple[str, Direction, int | None]]
    provided_totals: dict[tuple[str, int], dict[str, Decimal]]
    obligations: list[ObligationLine]
    art5_history: set[str] = field(default_factory=set)


def party_on(state: State, day: date) -> bool:
    """A State Party on ``day``: the Convention in force for it and no withdrawal in effect."""
    if state.status is StateStatus.SIGNATORY or state.entry_into_force is None:
        return False
    if state.entry_into_force > day:
        return False
    return not (
        state.status is StateStatus.WITHDRAWN
        and state.status_date is not None
        and state.status_date <= day
    )


async def year_facts(session: AsyncSession, year: int, as_of: date) -> YearFacts:
    states = (await session.scalars(select(State))).all()
    names = {state.iso3: state.name_en for state in states}
    parties = {state.iso3 for state in states if party_on(state, as_of)}
    reports = await session.scalars(
        select(Report).where(
            Report.kind == ReportKind.ANNUAL,
            Report.year == year,
            Report.submitted_on.is_not(None),
            Report.submitted_on <= as_of,
        )
    )
    # An entry's reference year is the year it was recorded, so a day after the year's end
    # needs no test on created_at, and the year's needs are read from one index alone.
    cutoff = start_of(as_of + timedelta(days=1))
    known = [Entry.created_at < cutoff] if as_of < date(year, 12, 31) else []
    need_rows = await session.execute(
        select(Entry.state_iso3, Entry.article)
        .where(
            Entry.kind == EntryKind.NEED,
            Entry.ref_year == year,
            Entry.state_iso3.is_not(None),
            published(),
            *known,
        )
        .distinct()
    )
    assisted = await session.execute(
        select(AssistanceRecord.state_iso3, AssistanceRecord.direction, AssistanceRecord.article)
        .where(AssistanceRecord.year == year)
        .distinct()
    )
    totals = await session.execute(
        select(
            AssistanceRecord.state_iso3,
            AssistanceRecord.year,
            AssistanceRecord.currency,
            func.sum(AssistanceRecord.amount),
        )
        .where(
            AssistanceRecord.year.in_((year - 1, year)),
            AssistanceRecord.direction == Direction.PROVIDED,
            AssistanceRecord.amount.is_not(None),
            AssistanceRecord.currency.is_not(None),
        )
        .group_by(AssistanceRecord.state_iso3, AssistanceRecord.year, AssistanceRecord.currency)
    )
    provided_totals: dict[tuple[str, int], dict[str, Decimal]] = defaultdict(dict)
    for iso3, total_year, currency, total in totals.all():
        if currency and total is not None:
            provided_totals[(iso3, total_year)][currency] = Decimal(total)
    obligations = await session.execute(
        select(
            Obligation.state_iso3,
            Obligation.article,
            Obligation.completed_on,
            Obligation.completed_note,
        ).where(Obligation.article.in_((3, 4, 5)))
    )
    art5_need = (
        select(Entry.id)
        .where(
            Entry.state_iso3 == State.iso3,
            Entry.kind == EntryKind.NEED,
            Entry.article == 5,
            Entry.ref_year <= year,
            published(),
            *known,
        )
        .exists()
    )
    art5_received = (
        select(AssistanceRecord.id)
        .where(
            AssistanceRecord.state_iso3 == State.iso3,
            AssistanceRecord.direction == Direction.RECEIVED,
            AssistanceRecord.article == 5,
            AssistanceRecord.year <= year,
        )
        .exists()
    )
    art5 = await session.scalars(select(State.iso3).where(or_(art5_need, art5_received)))
    return YearFacts(
        year=year,
        as_of=as_of,
        names=names,
        parties=parties,
        reports={report.state_iso3: report for report in reports.all()},
        need_articles={(iso3, article) for iso3, article in need_rows.all() if iso3},
        assisted={(iso3, direction, article) for iso3, direction, article in assisted.all()},
        provided_totals=dict(provided_totals),
        obligations=[
            ObligationLine(iso3, article, completed_on, completed_on is None and bool(note))
            for iso3, article, completed_on, note in obligations.all()
        ],
        art5_history={iso3 for iso3 in art5.all() if iso3},
    )
