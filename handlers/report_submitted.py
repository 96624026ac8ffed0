"""A delegate says their Article 7 report is submitted: recorded at once when they say it
plainly (the button, the date form, ``SUBMITTED …``), after Confirm when read from a sentence."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.drafts import (
    Origin,
    cancel_choice,
    confirm_choice,
    nothing_pending,
    open_draft,
    origin_of,
    revised_draft,
)
from handlers.replies import AnsweredItem, Choice, Reply
from handlers.turns import Turn
from handlers.understanding.keywords import KEYWORDS, Intent
from schedules.calendar import annual_report_due, initial_report_due
from storage.audit import Actor, Source
from storage.items import item_of, report_item_id, report_of_item
from storage.ledger import cancel_unsent
from storage.models import Draft, DraftStatus, ReportKind
from storage.records import mark_report_submitted
from storage.states import state_by_code

INTENT = "report_submitted"


def which_report(turn: Turn, today: date, year: int | None) -> tuple[ReportKind, int]:
    """The report meant: the one the reminder was about, a year they named, else last year's."""
    named = report_of_item(item_of(turn.about))
    if named is not None and (named[0] is ReportKind.INITIAL or year is None):
        return named
    return ReportKind.ANNUAL, year if year is not None else today.year - 1


def report_name(turn: Turn, kind: ReportKind, year: int) -> str:
    t = turn.speaker.t
    if kind is ReportKind.INITIAL:
        return t.gettext("the initial Article 7 report")
    return t.gettext("the Article 7 report covering {year}", year=year)


async def _checked(
    session: AsyncSession, turn: Turn, now: datetime, *, on: date | None, year: int | None
) -> tuple[dict[str, Any], Draft | None] | Reply:
    """The report as it will be recorded, and the pending draft this turn edits, if any; or
    the answer that says why not (no State, a date to come, a proposal no longer waiting)."""
    t = turn.speaker.t
    if turn.speaker.state is None:
        return Reply(
            t.language,
            t.gettext("No State"),
            t.gettext(
                "Reports are recorded for a State, and you are not registered for one. "
                "The ISU can add you as a delegate."
            ),
        )
    today = turn.speaker.today(now)
    submitted = on or today
    if submitted > today:
        return Reply(
            t.language,
            t.gettext("Date in the future"),
            t.gettext(
                "The date {date} is still to come. Tell me the day the report was sent.",
                date=t.date(submitted),
            ),
        )
    # A date changed on the proposal still answers the reminder the proposal came from.
    revised = await revised_draft(session, turn, INTENT)
    if turn.revises is not None and revised is None:
        return nothing_pending(t)
    kind, covers = which_report(turn, today, year)
    payload = {
        "state": turn.speaker.state,
        "kind": kind.value,
        "year": covers,
        "on": submitted.isoformat(),
    }
    return payload, revised


async def propose(
    session: AsyncSession, turn: Turn, now: datetime, *, on: date | None, year: int | None
) -> Reply:
    """A report read from a sentence: echo back what will be recorded, with Confirm, Change the
    date and Cancel, before anything is stored."""
    checked = await _checked(session, turn, now, on=on, year=year)
    if isinstance(checked, Reply):
        return checked
    payload, revised = checked
    t = turn.speaker.t
    draft = await open_draft(session, turn, now, INTENT, payload, revised=revised)
    return Reply(
        language=t.language,
        subject=t.gettext("Please confirm"),
        intro=t.gettext(
            "I will record that {state} submitted {report} on {date}.",
            state=turn.speaker.state_name,
            report=report_name(turn, ReportKind(payload["kind"]), payload["year"]),
            date=t.date(date.fromisoformat(payload["on"])),
        ),
        choices=(
            confirm_choice(t, draft),
            Choice(Intent.EDIT, t.gettext("Change the date"), "", str(draft.id)),
            cancel_choice(t, draft),
        ),
        footer=t.gettext("Nothing is recorded until you confirm."),
    )


async def record_stated(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    *,
    on: date | None,
    year: int | None,
    source: Source,
) -> Reply:
    """A report stated plainly (the *Report submitted* button, the date form, ``SUBMITTED …``):
    recorded at once, today unless a date is given, and answered with its receipt. A date form
    that edits a pending proposal records that proposal."""
    checked = await _checked(session, turn, now, on=on, year=year)
    if isinstance(checked, Reply):
        return checked
    payload, revised = checked
    if revised is not None:
        revised.status = DraftStatus.CONFIRMED
    return await _store(session, turn, now, payload, origin_of(turn, revised), source)


async def record(session: AsyncSession, turn: Turn, now: datetime, draft: Draft) -> Reply:
    """A confirmed proposal, recorded."""
    return await _store(session, turn, now, draft.payload, Origin.of_draft(draft), Source.CONFIRMED)


async def _store(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    payload: dict[str, Any],
    origin: Origin,
    source: Source,
) -> Reply:
    """Record the report, stop its reminders, and answer with the receipt."""
    t = turn.speaker.t
    kind, year = ReportKind(payload["kind"]), int(payload["year"])
    state = await state_by_code(session, payload["state"])
    assert state is not None
    assert state.entry_into_force is not None
    if kind is ReportKind.INITIAL:
        due, year = initial_report_due(state.entry_into_force), state.entry_into_force.year
    else:
        due = annual_report_due(year)
    item = report_item_id(kind, year)
    actor = Actor(turn.speaker.name, turn.via, turn.speaker.contact_id, source)
    submitted_on = date.fromisoformat(payload["on"])
    await mark_report_submitted(
        session,
        actor,
        now,
        state=state.iso3,
        kind=kind,
        year=year,
        due=due,
        submitted_on=submitted_on,
        via=turn.via,
        note=origin.original_text or "",
    )
    await cancel_unsent(session, state.iso3, item)
    report = report_name(turn, kind, year)
    how = t.gettext(
        "If the date is wrong, answer {keyword} and the right date.",
        keyword=KEYWORDS[t.language][Intent.REPORT_SUBMITTED][0],
    )
    at_once = t.gettext("Recorded at once: there is nothing to confirm.")
    return Reply(
        language=t.language,
        subject=t.gettext("Report recorded"),
        intro=t.gettext(
            "Thank you. Recorded: {state} submitted {report} on {date}. "
            "Reminders for it have stopped.",
            state=state.name(t.language),
            report=report,
            date=t.date(submitted_on),
        ),
        fields=(
            (t.gettext("State"), state.name(t.language)),
            (t.gettext("Report"), report),
            (t.gettext("Submitted on"), t.date(submitted_on)),
        ),
        footer=how if source is Source.CONFIRMED else f"{at_once} {how}",
        stored=True,
        answered=AnsweredItem(f"{state.iso3}:{item}", origin.via, origin.message_id),
    )
