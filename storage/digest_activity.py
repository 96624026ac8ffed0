"""What happened in the CCM community during a digest's window, as the store knows it: needs
and offers new or changed, Article 7 reports received, reminders without an answer, and States
escalated to the Coordinators.

What a reader may see is decided in SQL, as everywhere (``storage.visibility``). Every
function takes its session from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.deadlines import ESCALATION
from storage.items import report_item_id
from storage.models import (
    Delivery,
    Entry,
    EntryKind,
    Message,
    MessageStatus,
    Obligation,
    Report,
    ReportKind,
    Role,
)
from storage.visibility import Viewer, visible_to

# Reminders count as "unanswered" in a digest if one went out this long before its end.
UNANSWERED_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class ChangedEntries:
    """Needs or offers recorded (``new``) or changed (``updated``) in a window, oldest first."""

    new: list[Entry]
    updated: list[Entry]


async def changed_entries(
    session: AsyncSession, kind: EntryKind, viewer: Viewer, since: datetime, until: datetime
) -> ChangedEntries:
    """What the viewer may see of the needs or offers created or changed in [since, until)."""
    rows = await session.scalars(
        select(Entry)
        .where(
            Entry.kind == kind,
            visible_to(viewer),
            or_(
                and_(Entry.created_at >= since, Entry.created_at < until),
                and_(Entry.updated_at >= since, Entry.updated_at < until),
            ),
        )
        .order_by(Entry.created_at, Entry.id)
    )
    new: list[Entry] = []
    updated: list[Entry] = []
    for entry in rows.all():
        (new if since <= entry.created_at < until else updated).append(entry)
    return ChangedEntries(new, updated)


async def reports_received(
    session: AsyncSession, since: datetime, until: datetime, first_day: date, last_day: date
) -> list[Report]:
    """Reports received in the window: dated in it, or recorded in it (learned late)."""
    rows = await session.scalars(
        select(Report)
        .where(
            Report.submitted_on.is_not(None),
            or_(
                and_(Report.submitted_on >= first_day, Report.submitted_on <= last_day),
                and_(Report.recorded_at >= since, Report.recorded_at < until),
            ),
        )
        .order_by(Report.submitted_on, Report.state_iso3, Report.kind, Report.year)
    )
    return list(rows.all())


async def annual_reports_received(session: AsyncSession, year: int, as_of: date) -> set[str]:
    """States whose annual report covering ``year`` was received by ``as_of``."""
    rows = await session.scalars(
        select(Report.state_iso3).where(
            Report.kind == ReportKind.ANNUAL,
            Report.year == year,
            Report.submitted_on.is_not(None),
            Report.submitted_on <= as_of,
        )
    )
    return set(rows.all())


def _reminders_visible(viewer: Viewer) -> ColumnElement[bool]:
    """``storage.visibility.reminders_visible_to`` as SQL on Delivery."""
    if viewer.sees_everything:
        return true()
    if viewer.role is Role.DELEGATE and viewer.state:
        return Delivery.state_iso3 == viewer.state
    return false()


@dataclass(frozen=True)
class Unanswered:
    """Reminders about one item of one State that nobody answered, past the item's due date."""

    state: str
    item: str
    due: date
    reminders: int
    last_sent_at: datetime


async def unanswered_reminders(
    session: AsyncSession, viewer: Viewer, until: datetime, today: date
) -> list[Unanswered]:
    """Items past due whose reminders went out (in the last 90 days) and got no answer.

    An item drops out once anyone of the State answered any of its reminders, or once it is
    done: the report received, the Article 3 or 4 obligation completed.
    """
    rows = await session.execute(
        select(
            Delivery.state_iso3,
            Delivery.item,
            func.max(Delivery.due),
            func.count(Delivery.id),
            func.max(Message.sent_at),
            func.max(Delivery.answered_at),
        )
        .join(Message, Message.id == Delivery.message_id)
        .where(
            _reminders_visible(viewer),
            Message.purpose != ESCALATION,
            Message.status == MessageStatus.SENT,
            Delivery.cancelled.is_(False),
            Delivery.due < today,
        )
        .group_by(Delivery.state_iso3, Delivery.item)
        .having(func.max(Message.sent_at) >= until - UNANSWERED_LOOKBACK)
    )
    found = [
        Unanswered(state, item, due, count, last)
        for state, item, due, count, last, answered in rows.all()
        if answered is None and last is not None
    ]
    if not found:
        return []
    done = await _items_done(session, {u.state for u in found})
    return sorted(
        (u for u in found if (u.state, u.item) not in done),
        key=lambda u: (u.due, u.state, u.item),
    )


async def _items_done(session: AsyncSession, states: set[str]) -> set[tuple[str, str]]:
    done: set[tuple[str, str]] = set()
    reports = await session.execute(
        select(Report.state_iso3, Report.kind, Report.year).where(
            Report.state_iso3.in_(states), Report.submitted_on.is_not(None)
        )
    )
    for iso3, kind, year in reports.all():
        done.add((iso3, report_item_id(kind, year)))
    completed = await session.execute(
        select(Obligation.state_iso3, Obligation.article).where(
            Obligation.state_iso3.in_(states),
            or_(Obligation.completed_on.is_not(None), Obligation.completed_note != ""),
        )
    )
    done |= {(iso3, f"art{article}") for iso3, article in completed.all()}
    return done


@dataclass(frozen=True)
class Escalated:
    """A State whose item was escalated to the Coordinators in the window."""

    state: str
    item: str
    due: date
    escalated_at: datetime


async def escalations(
    session: AsyncSession, viewer: Viewer, since: datetime, until: datetime
) -> list[Escalated]:
    """Escalations sent to the Coordinators in [since, until), one per State and item."""
    rows = await session.execute(
        select(Delivery.state_iso3, Delivery.item, Delivery.due, Message.sent_at)
        .join(Message, Message.id == Delivery.message_id)
        .where(
            _reminders_visible(viewer),
            Message.purpose == ESCALATION,
            Message.status == MessageStatus.SENT,
            Delivery.cancelled.is_(False),
            Message.sent_at >= since,
            Message.sent_at < until,
        )
    )
    first: dict[tuple[str, str], Escalated] = {}
    for state, item, due, sent_at in rows.all():
        if sent_at is None:  # pragma: no cover - a sent message has its time
            continue
        known = first.get((state, item))
        if known is None or sent_at < known.escalated_at:
            first[(state, item)] = Escalated(state, item, due, sent_at)
    return sorted(first.values(), key=lambda e: (e.escalated_at, e.state, e.item))
