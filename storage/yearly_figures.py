"""The ISU's yearly figures: who was a party, who owes a report, and what ``year_facts`` counts.

``party_on`` and ``owes_annual_report`` are the one definition of who is a State Party on a day
and who owes the annual report covering a year; ``year_facts`` reads everything the yearly
analysis (``handlers.stats``) counts in a few queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.listings import start_of
from storage.models import (
    AssistanceRecord,
    Direction,
    Entry,
    EntryKind,
    Obligation,
    Report,
    ReportKind,
    State,
    StateStatus,
)
from storage.records import published


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
