"""One State at a glance, and a delegate's own open needs and offers.

What the store knows of a State (obligations, reports, open needs and offers, people, the dates
the ISU added, when it was last reminded), filtered in the SQL for the ``Viewer`` asking, as the
policy in ``storage.visibility`` says; the App Home and ``/ccm my`` read from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Contact,
    CustomDeadline,
    Delivery,
    Entry,
    EntryKind,
    EntryStatus,
    Message,
    MessageStatus,
    Obligation,
    Report,
    State,
)
from storage.states import latest_deadline
from storage.visibility import (
    Viewer,
    contacts_visible_to,
    reminders_visible_to,
    reports_visible_to,
    visible_to,
)


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
