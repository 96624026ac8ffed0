"""A delegate's State at a glance, for the Home tab and ``/ccm my``.

Open items come from the same calendar and window as the reminders, so the Home tab never shows
a deadline the bot would not remind of, nor hides one it would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.turns import Speaker
from schedules.delivery import ReminderItem
from schedules.planner import calendar_of
from schedules.policy import ReminderPolicy, open_items
from storage.items import report_item_id
from storage.models import EntryKind, EntryStatus
from storage.overview import custom_deadlines_of, open_entries_of
from storage.records import reports_of
from storage.states import state_by_code

RECENT_REPORTS = 5


@dataclass(frozen=True)
class SubmittedReport:
    item: str  # "art7-initial" or "art7-annual-YEAR", named like the reminders name it
    submitted_on: date


@dataclass(frozen=True)
class OpenEntry:
    reference: str
    kind: EntryKind
    status: EntryStatus
    description: str


@dataclass(frozen=True)
class Overview:
    state_name: str | None
    today: date
    due: tuple[ReminderItem, ...]
    reports: tuple[SubmittedReport, ...]
    entries: tuple[OpenEntry, ...]


async def overview_of(
    session: AsyncSession, speaker: Speaker, now: datetime, policy: ReminderPolicy
) -> Overview:
    """What the speaker's State owes within ``policy``'s reminder window (the configured one:
    an operator who reminds 90 days ahead sees those items here too), its latest reports and
    the open records the speaker may see."""
    today = speaker.today(now)
    due: list[ReminderItem] = []
    submitted: list[SubmittedReport] = []
    state = await state_by_code(session, speaker.state) if speaker.state else None
    if state is not None and state.entry_into_force is not None:
        reports = [r for r in await reports_of(session, state.iso3) if r.submitted_on]
        customs = await custom_deadlines_of(session, state.iso3)
        name = state.name(speaker.language)
        due = [
            ReminderItem(item.state, name, item.item, "", item.due, item.title)
            for item in open_items(calendar_of(state, reports, customs), today, policy)
        ]
        submitted = [
            SubmittedReport(
                report_item_id(r.kind, r.year),
                r.submitted_on,
            )
            for r in sorted(reports, key=lambda r: r.submitted_on or today, reverse=True)
            if r.submitted_on is not None
        ][:RECENT_REPORTS]
    entries = tuple(
        OpenEntry(e.reference, e.kind, e.status, e.description)
        for e in await open_entries_of(session, speaker.viewer)
    )
    return Overview(speaker.state_name, today, tuple(due), tuple(submitted), entries)
