"""Writing and reading needs, offers, reports and assistance records, each change audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import Actor, record_change, snapshot
from storage.models import (
    AssistanceRecord,
    AuditEntry,
    Entry,
    EntryKind,
    EntryStatus,
    Report,
    ReportKind,
    Via,
)

REFERENCE_PREFIX = {EntryKind.NEED: "N", EntryKind.OFFER: "C"}
_REFERENCE_LOCK = 0x43434D  # "CCM": PostgreSQL advisory locks of entry references
_CHUNK = 500  # keeps IN (...) lists well under SQLite's and asyncpg's parameter limits


class UnknownReference(LookupError):
    """No need or offer carries that reference."""


class ChangedMeanwhile(RuntimeError):
    """An entry changed after an import read it; the import must be checked again."""


def format_reference(kind: EntryKind, year: int, number: int) -> str:
    return f"{REFERENCE_PREFIX[kind]}-{year}-{number:04d}"


def normalise_reference(text: str) -> str:
    return text.strip().upper()


async def _next_number(session: AsyncSession, kind: EntryKind, year: int) -> int:
    # Writers on SQLite hold the database lock (BEGIN IMMEDIATE). On PostgreSQL a lock per kind
    # and year, held to the end of the transaction, keeps two writers from taking one number:
    # without it a delegate's need recorded during an import would wait on the import's rows
    # and then fail on the unique constraint on (kind, ref_year, ref_number).
    if session.get_bind().dialect.name == "postgresql":
        key = year * len(REFERENCE_PREFIX) + list(REFERENCE_PREFIX).index(kind)
        await session.execute(select(func.pg_advisory_xact_lock(_REFERENCE_LOCK, key)))
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


async def add_entries(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    kind: EntryKind,
    rows: Sequence[dict[str, Any]],
) -> None:
    """Store many new entries of one kind, numbered in one go: an import's rows, written in a
    few statements so the transaction that publishes them stays short."""
    if not rows:
        return
    year = now.year
    first = await _next_number(session, kind, year)
    values = [
        _with_defaults(fields)
        | {
            "kind": kind,
            "ref_year": year,
            "ref_number": first + index,
            "reference": format_reference(kind, year, first + index),
            "created_at": now,
            "updated_at": now,
        }
        for index, fields in enumerate(rows)
    ]
    await session.execute(insert(Entry), values)
    ids = dict(
        (
            await session.execute(
                select(Entry.ref_number, Entry.id).where(
                    Entry.kind == kind, Entry.ref_year == year, Entry.ref_number >= first
                )
            )
        ).all()
    )
    created = [Entry(id=ids[value["ref_number"]], **value) for value in values]
    await _audit(session, actor, now, [(entry, None) for entry in created])


async def update_entries(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    changes: Sequence[tuple[Entry, dict[str, Any]]],
) -> None:
    """Apply an import's changes to entries it read earlier, in a few statements.

    Raises :class:`ChangedMeanwhile` when one of them was changed after it was read.
    """
    if not changes:
        return
    seen = {entry.id: entry.updated_at for entry, _ in changes}
    ids = list(seen)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = await session.execute(
            select(Entry.id, Entry.reference, Entry.updated_at).where(Entry.id.in_(chunk))
        )
        for entry_id, reference, updated_at in rows.all():
            if updated_at != seen[entry_id]:
                raise ChangedMeanwhile(reference)
    columns = [attribute.key for attribute in Entry.__mapper__.column_attrs]
    audited = []
    for entry, fields in changes:
        stored = {name: getattr(entry, name) for name in columns}
        audited.append((Entry(**stored | fields | {"updated_at": now}), snapshot(entry)))
    await session.execute(
        update(Entry), [{"id": entry.id, **fields, "updated_at": now} for entry, fields in changes]
    )
    await _audit(session, actor, now, audited)


def _with_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new entry, so one statement inserts them all and the audit sees them."""
    row: dict[str, Any] = {}
    for column in inspect(Entry).columns:
        if column.primary_key:
            continue
        default = column.default
        if column.key in fields:
            row[column.key] = fields[column.key]
        elif default is not None and default.is_callable:
            row[column.key] = default.arg(None)  # type: ignore[attr-defined]
        else:
            row[column.key] = default.arg if default is not None else None  # type: ignore[attr-defined]
    return row


async def _audit(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    rows: Sequence[tuple[Entry, dict[str, Any] | None]],
) -> None:
    """What ``record_change`` adds for each row, inserted in one statement."""
    entries = [
        {
            "at": now,
            "actor_id": actor.contact_id,
            "actor": actor.label,
            "via": actor.via,
            "entity": Entry.__tablename__,
            "entity_id": str(entry.id),
            "action": "create" if before is None else "update",
            "before": before,
            "after": snapshot(entry),
        }
        for entry, before in rows
    ]
    await session.execute(insert(AuditEntry), entries)


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
