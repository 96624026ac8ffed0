"""Who is late and what falls due: overdue annual reports and the deadlines in force.

The treaty calendar's rules (when a report is due, how months add up) live in ``schedules``;
functions here take the dates they need as parameters, so the import direction stays inward.
``storage.items.annual_item_id`` and ``ESCALATION`` are how a reminder about an annual report
is recognised.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.items import annual_item_id
from storage.models import (
    CustomDeadline,
    Delivery,
    Message,
    MessageStatus,
    Obligation,
    Report,
    ReportKind,
    State,
    StateStatus,
)
from storage.states import latest_deadline
from storage.yearly_figures import owes_annual_report

ESCALATION = "escalation"


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
            Delivery.item == annual_item_id(year),
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
