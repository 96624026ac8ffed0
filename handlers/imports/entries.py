"""Needs (requests for assistance) and capacities (offers to assist).

A row without a reference is a new entry and gets the next one (N-2027-0001, C-2027-0001); a row
with the reference of a stored entry updates it, so an export edited and imported again updates.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.imports.common import Batch, Cells, Context, Importer, Outcome, Plan, Staging, Step
from handlers.tables import Row
from storage.models import Category, Contact, Entry, EntryKind, EntryStatus, Via, Visibility
from storage.records import (
    REFERENCE_PREFIX,
    discard_staged,
    normalise_reference,
    publish_entries,
    published,
    stage_audit,
    stage_entries,
    update_audit_rows,
    update_entries,
)

REQUIRED = ("category", "description")
OPTIONAL = (
    "reference",
    "state",
    "organisation",
    "article",
    "amount",
    "currency",
    "period_start",
    "period_end",
    "focus",
    "status",
    "visibility",
    "logged_by",
)
PAIRS = (("amount", "currency"), ("period_start", "period_end"))
_REFERENCE = re.compile(r"^([NC])-(\d{4})-(\d{4,})$")
# New rows per staging transaction: on SQLite about 0.1 s of holding the lock (the description
# index is updated row by row), so the running bot's writers interleave.
STAGE_BATCH = 500


@dataclass
class _Row:
    line: int
    reference: str | None
    fields: dict[str, Any]


def _read(cells: Cells, kind: EntryKind) -> tuple[str | None, dict[str, Any], str | None]:
    reference = None
    if cells.raw("reference"):
        reference = normalise_reference(cells.raw("reference"))
        match = _REFERENCE.match(reference)
        prefix = REFERENCE_PREFIX[kind]
        if match is None or match[1] != prefix:
            cells.error(
                "reference",
                f"reference {cells.raw('reference')!r} is not a {_noun(kind)} reference like "
                f"{prefix}-2027-0042; leave it empty to add a new {_noun(kind)}",
            )
            reference = None
    fields: dict[str, Any] = {
        "category": cells.choice("category", Category, required=True),
        "description": cells.text("description", required=True, max_length=10_000),
    }
    if cells.has("state"):
        fields["state_iso3"] = cells.state("state")
    if cells.has("organisation"):
        fields["organisation"] = cells.text("organisation")
    if cells.has("article"):
        fields["article"] = cells.article()
    if cells.has("amount"):
        fields["amount"], fields["currency"] = cells.money()
    if cells.has("period_start"):
        start, end = cells.day("period_start"), cells.day("period_end")
        if start and end and end < start:
            cells.error("period_end", f"period_end {end} is before period_start {start}")
        fields["period_start"], fields["period_end"] = start, end
    if cells.has("focus"):
        items = (item.strip() for item in cells.raw("focus").split(";"))
        fields["focus"] = list(dict.fromkeys(item for item in items if item))
    # An empty status or visibility keeps the stored one (or the default for a new entry).
    if cells.raw("status"):
        fields["status"] = cells.choice("status", EntryStatus)
    if cells.raw("visibility"):
        fields["visibility"] = cells.choice("visibility", Visibility)
    logged_by = cells.email("logged_by") if cells.has("logged_by") else None
    return reference, fields, logged_by


def _check_owner(
    cells: Cells, kind: EntryKind, fields: dict[str, Any], entry: Entry | None
) -> None:
    """Whose entry it is, looking at the stored values for columns the file leaves out."""
    state = fields.get("state_iso3", entry.state_iso3 if entry else None)
    organisation = fields.get("organisation", entry.organisation if entry else None)
    if kind is EntryKind.NEED and not state:
        cells.error("state", "a need needs the ISO3 code of the State that has it")
    if kind is EntryKind.OFFER and not (state or organisation):
        cells.error("organisation", "a capacity needs a state or an organisation")


def _match_unreferenced(
    cells: Cells,
    kind: EntryKind,
    fields: dict[str, Any],
    identities: dict[tuple[object, ...], Entry],
    identity_lines: dict[tuple[object, ...], int],
) -> str | None:
    """A row without reference that the store already holds: the same entry, imported again."""
    identity = _identity(fields)
    if identity in identity_lines:
        cells.error(
            "description",
            f"the same {_noun(kind)} is on line {identity_lines[identity]}; keep one row",
        )
        return None
    identity_lines[identity] = cells.line
    entry = identities.get(identity)
    if entry is None:
        return None
    if any(getattr(entry, name) != value for name, value in fields.items()):
        cells.error(
            "reference",
            f"this {_noun(kind)} is stored as {entry.reference}; put {entry.reference} in the "
            "reference column to update it",
        )
        return None
    return entry.reference


def _noun(kind: EntryKind) -> str:
    return "need" if kind is EntryKind.NEED else "capacity"


async def _stored_entries(context: Context, kind: EntryKind) -> list[Entry]:
    # Every entry of the kind: the ISU keeps hundreds, and a file may name any of them. Not the
    # rows another import has staged: they are nobody's yet.
    return await context.scalars(select(Entry).where(Entry.kind == kind, published()))


def _identity(fields: dict[str, Any]) -> tuple[object, ...]:
    """What makes a row without reference the same need or capacity as a stored one."""
    return (
        fields.get("state_iso3"),
        (fields.get("organisation") or "").casefold(),
        fields.get("category"),
        " ".join(str(fields.get("description") or "").split()).casefold(),
    )


def _same_as_stored(entry: Entry) -> tuple[object, ...]:
    return _identity(
        {
            "state_iso3": entry.state_iso3,
            "organisation": entry.organisation,
            "category": entry.category,
            "description": entry.description,
        }
    )


async def _contact_ids(context: Context) -> dict[str, int]:
    rows = await context.rows(select(Contact.email, Contact.id).where(Contact.email.is_not(None)))
    return {email or "": contact_id for email, contact_id in rows}


def planner(kind: EntryKind) -> Callable[[Context, Sequence[Row]], Awaitable[Plan]]:
    async def plan(context: Context, rows: Sequence[Row]) -> Plan:
        read = []
        for row in rows:
            cells = context.cells(row)
            read.append((cells, *_read(cells, kind)))
        stored = await _stored_entries(context, kind)
        entries = {entry.reference: entry for entry in stored}
        identities = {_same_as_stored(entry): entry for entry in stored}
        contacts = await _contact_ids(context) if "logged_by" in context.columns else {}
        reference_lines: dict[str, int] = {}
        identity_lines: dict[tuple[object, ...], int] = {}
        valid = []
        for cells, reference, fields, logged_by in read:
            entry = None
            if reference is None and cells.ok:
                reference = _match_unreferenced(cells, kind, fields, identities, identity_lines)
                entry = entries.get(reference) if reference else None
            elif reference is not None:
                entry = entries.get(reference)
                if reference in reference_lines:
                    cells.error(
                        "reference",
                        f"{reference} is also on line {reference_lines[reference]}; keep one row",
                    )
                elif entry is None or entry.kind is not kind:
                    cells.error(
                        "reference",
                        f"no {_noun(kind)} {reference} is stored; leave the reference empty to "
                        f"add a new {_noun(kind)}",
                    )
                reference_lines.setdefault(reference, cells.line)
            if logged_by is not None:
                if logged_by in contacts:
                    fields["logged_by_id"] = contacts[logged_by]
                else:
                    cells.error(
                        "logged_by", f"{logged_by} is not a known contact; import contacts first"
                    )
            if cells.ok:
                _check_owner(cells, kind, fields, entry)
            if cells.ok:
                valid.append(_Row(cells.line, reference, fields))
        return _write_plan(context, kind, valid, entries)

    return plan


def _write_plan(
    context: Context, kind: EntryKind, rows: list[_Row], entries: dict[str, Entry]
) -> Plan:
    """New rows and every audit row staged in batches, then published with the updates in
    ``finish``: thousands of rows take a few statements there."""
    steps, created, updated = [], [], []
    for row in rows:
        entry = entries.get(row.reference) if row.reference else None
        if entry is None:
            created.append(row.fields | {"via": Via.IMPORT})
            steps.append(Step(row.line, Outcome.CREATED))
            continue
        changes = {
            name: value for name, value in row.fields.items() if getattr(entry, name) != value
        }
        steps.append(Step(row.line, Outcome.UPDATED if changes else Outcome.UNCHANGED))
        if changes:
            updated.append((entry, changes))
    actor, now = context.actor, context.now
    staged_by = secrets.token_hex(16)

    def batch(rows: list[dict[str, Any]]) -> Batch:
        async def stage(session: AsyncSession) -> int:
            await stage_entries(session, actor, now, kind, staged_by, rows)
            return len(rows)

        return stage

    async def audit_updates(session: AsyncSession) -> int:
        await stage_audit(session, staged_by, update_audit_rows(actor, now, updated))
        return 0  # rows of the file are counted as they are written

    async def discard(session: AsyncSession) -> int:
        return await discard_staged(session, staged_by)

    async def finish(session: AsyncSession) -> None:
        await update_entries(session, now, updated)
        await publish_entries(session, staged_by, len(created))

    batches = [audit_updates] * bool(updated) + [
        batch(created[start : start + STAGE_BATCH]) for start in range(0, len(created), STAGE_BATCH)
    ]
    return Plan(steps, finish, Staging(batches, discard))


NEEDS = Importer(required=REQUIRED, optional=OPTIONAL, plan=planner(EntryKind.NEED), pairs=PAIRS)
CAPACITIES = Importer(
    required=REQUIRED, optional=OPTIONAL, plan=planner(EntryKind.OFFER), pairs=PAIRS
)
