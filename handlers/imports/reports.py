"""Article 7 reports received: one row per report, matched on State, kind and year.

Only submissions are imported: what a State still owes follows from the treaty calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.imports.common import Context, Importer, Outcome, Plan, Step
from handlers.tables import Row
from schedules.calendar import annual_report_due
from storage.audit import record_change, snapshot
from storage.models import Report, ReportKind, Via
from storage.records import mark_report_submitted

REQUIRED = ("state", "kind", "year", "submitted_on")
OPTIONAL = ("due", "note")


@dataclass
class _Submission:
    line: int
    state: str
    kind: ReportKind
    year: int
    due: date
    submitted_on: date
    note: str | None  # None: the file has no note column, keep the stored one
    existing: Report | None


async def plan(context: Context, rows: Sequence[Row]) -> Plan:
    stored = await context.scalars(select(Report))
    reports = {(r.state_iso3, r.kind, r.year): r for r in stored}
    lines: dict[tuple[str, ReportKind, int], int] = {}
    today = context.now.date()
    submissions = []
    for row in rows:
        cells = context.cells(row)
        state = cells.state("state", required=True)
        kind = cells.choice("kind", ReportKind, required=True)
        year = cells.year("year", required=True)
        due = cells.day("due") if cells.has("due") else None
        submitted_on = cells.day("submitted_on", required=True)
        note = (cells.text("note", max_length=2000) or "") if cells.has("note") else None
        if submitted_on is not None and submitted_on > today:
            cells.error(
                "submitted_on", f"{submitted_on} is after today; give the day it was received"
            )
        if state is None or kind is None or year is None:
            continue
        key = (state, kind, year)
        if key in lines:
            cells.error(
                "year",
                f"the {kind.value} report of {state} for {year} is also on line {lines[key]}; "
                "keep one row",
            )
        lines.setdefault(key, row.line)
        existing = reports.get(key)
        if due is None and existing is not None:
            due = existing.due
        elif due is None and kind is ReportKind.ANNUAL:
            due = annual_report_due(year)
        elif due is None and cells.raw("due") == "":
            cells.error(
                "due", "an initial report needs its due date (180 days after entry into force)"
            )
        if cells.ok and due is not None and submitted_on is not None:
            submissions.append(
                _Submission(row.line, state, kind, year, due, submitted_on, note, existing)
            )
    return Plan([_step(context, submission) for submission in submissions])


def _step(context: Context, submission: _Submission) -> Step:
    existing = submission.existing
    note = submission.note
    if note is None:
        note = existing.learned_note if existing else ""
    if (
        existing is not None
        and existing.submitted_on == submission.submitted_on
        and existing.due == submission.due
        and existing.learned_note == note
    ):
        return Step(submission.line, Outcome.UNCHANGED)

    async def write(session: AsyncSession) -> None:
        report = await mark_report_submitted(
            session,
            context.actor,
            context.now,
            state=submission.state,
            kind=submission.kind,
            year=submission.year,
            due=submission.due,
            submitted_on=submission.submitted_on,
            via=Via.IMPORT,
            note=note,
        )
        if report.due != submission.due:
            # mark_report_submitted keeps the due date of a report it already knows.
            before = snapshot(report)
            report.due = submission.due
            await session.flush()
            record_change(session, context.actor, context.now, report, "update", before)

    return Step(submission.line, Outcome.UPDATED if existing else Outcome.CREATED, write)


IMPORTER = Importer(required=REQUIRED, optional=OPTIONAL, plan=plan)
