"""Writing and reading needs, offers, reports and assistance records, each change audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, inspect, select, update
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
    StagedAudit,
    Via,
)

REFERENCE_PREFIX = {EntryKind.NEED: "N", EntryKind.OFFER: "C"}
_REFERENCE_LOCK = 0x43434D  # "CCM": PostgreSQL advisory locks of entry references
_CHUNK = 500  # keeps IN (...) lists well under SQLite's and asyncpg's parameter limits
# What an audit row says, copied from an import's staged audit rows when it is published.
_AUDITED = tuple(column.key for column in AuditEntry.__table__.columns if not column.primary_key)


class ChangedMeanwhile(RuntimeError):
    """An entry changed after an import read it; the import must be checked again."""


class StagedRowsLost(RuntimeError):
    """Rows an import staged were removed before it published them; it must run again."""


def format_reference(kind: EntryKind, year: int, number: int) -> str:
    return f"{REFERENCE_PREFIX[kind]}-{year}-{number:04d}"


def normalise_reference(text: str) -> str:
    return text.strip().upper()


def published() -> ColumnElement[bool]:
    """Entries that exist for every reader: not the rows an import has staged and not yet
    published (``stage_entries``), which no read path may show."""
    return Entry.staged_by.is_(None)


async def _next_number(session: AsyncSession, kind: EntryKind, year: int) -> int:
    # Writers on SQLite hold the database lock (BEGIN IMMEDIATE). On PostgreSQL a lock per kind
    # and year, held to the end of the transaction, keeps two writers from taking one number:
    # without it a delegate's need recorded during an import would wait on the import's rows
    # and then fail on the unique constraint on (kind, ref_year, ref_number). Staged rows count:
    # they keep the numbers they will be published with.
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


async def stage_entries(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    kind: EntryKind,
    staged_by: str,
    rows: Sequence[dict[str, Any]],
) -> None:
    """Write a batch of an import's new entries and their audit rows, numbered now but hidden
    from every reader until ``publish_entries``: the import commits batch by batch, so the
    running bot's writers wait for one batch (on SQLite the description index is updated row by
    row), never for the file."""
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
            "staged_by": staged_by,
        }
        for index, fields in enumerate(rows)
    ]
    stored = await session.execute(insert(Entry).returning(Entry.ref_number, Entry.id), values)
    ids = {number: entry_id for number, entry_id in stored.all()}
    published_as = [
        Entry(**value | {"id": ids[value["ref_number"]], "staged_by": None}) for value in values
    ]
    await stage_audit(session, staged_by, audit_rows(actor, now, [(e, None) for e in published_as]))


async def stage_audit(
    session: AsyncSession, staged_by: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Keep audit rows (``audit_rows``) for ``publish_entries`` to copy into the audit log."""
    if rows:
        await session.execute(insert(StagedAudit), [row | {"staged_by": staged_by} for row in rows])


async def publish_entries(session: AsyncSession, staged_by: str, count: int) -> None:
    """Show every entry the import staged (one statement) and audit them (one more), in the
    import's final transaction: each is a copy within the database, with no row passing
    through Python.

    Raises :class:`StagedRowsLost` (and the caller rolls back) unless all ``count`` are there:
    housekeeping removes rows staged before ``storage.housekeeping.ABANDONED_AFTER``.
    """
    result = await session.execute(
        update(Entry)
        .where(Entry.staged_by == staged_by)
        .values(staged_by=None)
        .execution_options(synchronize_session=False)
    )
    found = int(result.rowcount)  # type: ignore[attr-defined]
    if found != count:
        raise StagedRowsLost(f"{count - found} of the {count} staged rows are gone")
    await session.execute(
        insert(AuditEntry).from_select(
            _AUDITED,
            select(*(getattr(StagedAudit, name) for name in _AUDITED))
            .where(StagedAudit.staged_by == staged_by)
            .order_by(StagedAudit.id),
        )
    )
    await session.execute(delete(StagedAudit).where(StagedAudit.staged_by == staged_by))


async def discard_staged(session: AsyncSession, staged_by: str) -> int:
    """Remove a batch of what an import staged and will not publish; returns how many."""
    return await delete_staged(
        session, Entry.staged_by == staged_by, StagedAudit.staged_by == staged_by
    )


async def delete_staged(
    session: AsyncSession, entries: ColumnElement[bool], audits: ColumnElement[bool]
) -> int:
    """Delete up to a batch of staged entries, or when none is left their audit rows; returns
    how many. Each deleted entry updates the description index row by row, so callers remove
    many in several short transactions."""
    batch = select(Entry.id).where(Entry.staged_by.is_not(None), entries).limit(_CHUNK)
    result = await session.execute(
        delete(Entry).where(Entry.id.in_(batch)).execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        result = await session.execute(delete(StagedAudit).where(audits))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def check_unchanged(session: AsyncSession, entries: Sequence[Entry]) -> None:
    """Raise :class:`ChangedMeanwhile` when one of the entries an import read has changed."""
    seen = {entry.id: entry.updated_at for entry in entries}
    ids = list(seen)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = await session.execute(
            select(Entry.id, Entry.reference, Entry.updated_at).where(Entry.id.in_(chunk))
        )
        for entry_id, reference, updated_at in rows.all():
            if updated_at != seen[entry_id]:
                raise ChangedMeanwhile(reference)


async def update_entries(
    session: AsyncSession, now: datetime, changes: Sequence[tuple[Entry, dict[str, Any]]]
) -> None:
    """Apply an import's changes to entries it read earlier, in a few statements.

    Raises :class:`ChangedMeanwhile` when one of them was changed after it was read.
    """
    if not changes:
        return
    await check_unchanged(session, [entry for entry, _ in changes])
    await session.execute(
        update(Entry), [{"id": entry.id, **fields, "updated_at": now} for entry, fields in changes]
    )


def update_audit_rows(
    actor: Actor, now: datetime, changes: Sequence[tuple[Entry, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The audit rows of ``update_entries``' changes, built before its transaction."""
    columns = [attribute.key for attribute in Entry.__mapper__.column_attrs]
    audited = []
    for entry, fields in changes:
        stored = {name: getattr(entry, name) for name in columns}
        audited.append((Entry(**stored | fields | {"updated_at": now}), snapshot(entry)))
    return audit_rows(actor, now, audited)


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


def audit_rows(
    actor: Actor, now: datetime, rows: Sequence[tuple[Entry, dict[str, Any] | None]]
) -> list[dict[str, Any]]:
    """What ``record_change`` adds for each row, as values of one statement."""
    return [
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


async def update_entry(
    session: AsyncSession, actor: Actor, now: datetime, entry: Entry, **changes: Any
) -> Entry:
    """Apply the changes; one that changes nothing writes nothing, not even an audit row."""
    changes = {k: v for k, v in changes.items() if getattr(entry, k) != v}
    if not changes:
        return entry
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
