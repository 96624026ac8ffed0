"""Writing and reading needs, offers, reports and assistance records, each change audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import Actor, record_change, snapshot
from storage.models import (
    AssistanceRecord,
    Entry,
    EntryKind,
    EntryStatus,
    Report,
    ReportKind,
    Via,
)

REFERENCE_PREFIX = {EntryKind.NEED: "N", EntryKind.OFFER: "C"}


class UnknownReference(LookupError):
    """No need or offer carries that reference."""


def format_reference(kind: EntryKind, year: int, number: int) -> str:
    return f"{REFERENCE_PREFIX[kind]}-{year}-{number:04d}"


def normalise_reference(text: str) -> str:
    return text.strip().upper()


async def _next_number(session: AsyncSession, kind: EntryKind, year: int) -> int:
    # Writers on SQLite hold the database lock (BEGIN IMMEDIATE); on PostgreSQL the unique
    # constraint on (kind, ref_year, ref_number) turns a rare race into a retryable error.
    current = await session.scalar(
        select(func.max(Entry.ref_number)).where(Entry.kind == kind, Entry.ref_year == year)
    )
    return (current or 0) + 1


async def add_entry(session: AsyncSession, actor: Actor, now: datetime, **fields: Any) -> Entry:
    """Store a new need or offer with the next reference of its kind and year."""
    kind = EntryKind(fields.pop("kind"))
    year = now.year
    number = await _next_number(session, kind, year)
    entry = Entry(
        kind=kind,
        ref_year=year,
        ref_number=number,
        reference=format_reference(kind, year, number),
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(entry)
    await session.flush()
    record_change(session, actor, now, entry, "create", None)
    return entry


async def entry_by_reference(session: AsyncSession, reference: str) -> Entry:
    entry = await session.scalar(
        select(Entry).where(Entry.reference == normalise_reference(reference))
    )
    if entry is None:
        raise UnknownReference(reference)
    return entry


async def update_entry(
    session: AsyncSession, actor: Actor, now: datetime, entry: Entry, **changes: Any
) -> Entry:
    before = snapshot(entry)
    for name, value in changes.items():
        setattr(entry, name, value)
    entry.updated_at = now
    await session.flush()
    record_change(session, actor, now, entry, "update", before)
    return entry


async def withdraw_entry(session: AsyncSession, actor: Actor, now: datetime, entry: Entry) -> Entry:
    return await update_entry(session, actor, now, entry, status=EntryStatus.WITHDRAWN)


async def mark_report_submitted(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    *,
    state: str,
    kind: ReportKind,
    year: int,
    due: date,
    submitted_on: date,
    via: Via,
    note: str = "",
) -> Report:
    """Record that a State sent a report; reminders for it stop at the next sweep."""
    report = await session.scalar(
        select(Report).where(Report.state_iso3 == state, Report.kind == kind, Report.year == year)
    )
    before = snapshot(report) if report is not None else None
    if report is None:
        report = Report(state_iso3=state, kind=kind, year=year, due=due)
        session.add(report)
    report.submitted_on = submitted_on
    report.learned_via = via
    report.learned_note = note
    report.recorded_by_id = actor.contact_id
    report.recorded_at = now
    await session.flush()
    record_change(session, actor, now, report, "update" if before else "create", before)
    return report


async def reports_of(session: AsyncSession, state: str) -> Sequence[Report]:
    rows = await session.scalars(
        select(Report).where(Report.state_iso3 == state).order_by(Report.kind, Report.year)
    )
    return rows.all()


async def add_assistance(
    session: AsyncSession, actor: Actor, now: datetime, **fields: Any
) -> AssistanceRecord:
    record = AssistanceRecord(**fields)
    session.add(record)
    await session.flush()
    record_change(session, actor, now, record, "create", None)
    return record
