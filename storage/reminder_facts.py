"""What a reminder sweep reads: every State that owes something and everyone it may remind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Contact,
    CustomDeadline,
    Obligation,
    OptOut,
    Report,
    Snooze,
    State,
    StateStatus,
)


@dataclass(frozen=True)
class ReminderFacts:
    """The rows, in a few queries; ``schedules.planner`` groups them and applies the rules."""

    states: Sequence[State]  # parties in force, with obligations and extensions, by ISO3
    contacts: Sequence[Contact]  # active ones
    reports: Sequence[Report]  # submitted ones
    customs: Sequence[CustomDeadline]
    snoozes: dict[tuple[int, str, str], date]  # (contact, State, item) → first day again
    opt_outs: set[tuple[int, str]]  # (contact, kind or "all")


async def load_reminder_facts(session: AsyncSession) -> ReminderFacts:
    states = await session.scalars(
        select(State)
        .where(State.status != StateStatus.SIGNATORY, State.entry_into_force.is_not(None))
        .options(selectinload(State.obligations).selectinload(Obligation.extensions))
        .order_by(State.iso3)
    )
    contacts = await session.scalars(select(Contact).where(Contact.active.is_(True)))
    reports = await session.scalars(select(Report).where(Report.submitted_on.is_not(None)))
    customs = await session.scalars(select(CustomDeadline))
    snoozes = {
        (s.contact_id, s.state_iso3, s.item): s.until for s in await session.scalars(select(Snooze))
    }
    opt_outs = {(o.contact_id, o.kind) for o in await session.scalars(select(OptOut))}
    return ReminderFacts(
        states.all(), contacts.all(), reports.all(), customs.all(), snoozes, opt_outs
    )
