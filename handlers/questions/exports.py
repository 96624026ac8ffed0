"""Exports: needs, offers, reports or contacts as a table in the columns their import reads, so
an edited export imports back. Only what the viewer may see leaves the store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.imports import ImportKind, columns_of
from handlers.tables import write_table
from storage.listings import Filters, export_contacts, export_entries, export_reports
from storage.models import EntryKind
from storage.visibility import Viewer


class ExportKind(StrEnum):
    NEEDS = "needs"
    OFFERS = "offers"
    REPORTS = "reports"
    CONTACTS = "contacts"

    @property
    def import_kind(self) -> ImportKind:
        return {
            ExportKind.NEEDS: ImportKind.NEEDS,
            ExportKind.OFFERS: ImportKind.CAPACITIES,
            ExportKind.REPORTS: ImportKind.REPORTS,
            ExportKind.CONTACTS: ImportKind.CONTACTS,
        }[self]

    def may_export(self, viewer: Viewer) -> bool:
        """Contacts' addresses leave the store for the Coordinators and the ISU only."""
        return self is not ExportKind.CONTACTS or viewer.sees_everything

    def holds_back(self, viewer: Viewer) -> bool:
        """Whether the viewer's export of needs or offers leaves out the Coordinators' only."""
        return not viewer.sees_everything and self in (ExportKind.NEEDS, ExportKind.OFFERS)


async def export_rows(
    session: AsyncSession,
    kind: ExportKind,
    viewer: Viewer,
    filters: Filters = Filters(),  # noqa: B008 - frozen
    *,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """The header and rows of an export, in the columns its import reads, so it re-imports.

    Only what ``viewer`` may see: a record for the Coordinators leaves the store only in a
    Coordinator's or the ISU's export. ``filters``, ``limit`` and ``offset`` apply to needs
    and offers.
    """
    headers = columns_of(kind.import_kind)
    if kind in (ExportKind.NEEDS, ExportKind.OFFERS):
        entry_kind = EntryKind.NEED if kind is ExportKind.NEEDS else EntryKind.OFFER
        found = await export_entries(
            session, entry_kind, viewer, filters, limit=limit, offset=offset
        )
        return headers, [dict(row) for row in found]
    if kind is ExportKind.REPORTS:
        reports = await export_reports(session, viewer)
        return headers, [
            {
                "state": report.state_iso3,
                "kind": report.kind,
                "year": report.year,
                "submitted_on": report.submitted_on,
                "due": report.due,
                "note": report.learned_note,
            }
            for report in reports
        ]
    people = await export_contacts(session, viewer)
    return headers, [
        {
            "name": contact.name,
            "email": contact.email,
            "role": contact.role,
            "slack_user_id": contact.slack_user_id,
            "state": contact.state_iso3,
            "organisation": contact.organisation,
            "language": contact.language,
            "timezone": contact.timezone,
            "channel": contact.channel,
            "alternate_email": alternate,
        }
        for contact, alternate in people
    ]


async def export_table(
    session: AsyncSession,
    kind: ExportKind,
    viewer: Viewer,
    path: Path,
    filters: Filters = Filters(),  # noqa: B008 - frozen
    *,
    limit: int | None = None,
    offset: int = 0,
) -> int:
    """Write an export to a .csv or .xlsx file; returns the number of rows written."""
    headers, rows = await export_rows(session, kind, viewer, filters, limit=limit, offset=offset)
    return write_table(path, headers, rows)
