"""A delegate says their Article 7 report is submitted: confirm which one, then record it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.drafts import nothing_pending, open_draft, revised_draft
from handlers.replies import AnsweredItem, Choice, Reply
from handlers.turns import Turn
from handlers.understanding.keywords import KEYWORDS, Intent
from schedules.calendar import annual_report_due, initial_report_due
from storage.audit import Actor
from storage.ledger import cancel_unsent
from storage.models import Draft, ReportKind
from storage.records import mark_report_submitted
from storage.states import state_by_code

INTENT = "report_submitted"


def which_report(turn: Turn, today: date, year: int | None) -> tuple[ReportKind, int]:
    """The report meant: the one the reminder was about, a year they named, else last year's."""
    item = (turn.about or "").partition(":")[2]
    if item == "art7-initial":
        return ReportKind.INITIAL, 0
    if item.startswith("art7-annual-") and year is None:
        return ReportKind.ANNUAL, int(item.removeprefix("art7-annual-"))
    return ReportKind.ANNUAL, year if year is not None else today.year - 1


def report_name(turn: Turn, kind: ReportKind, year: int) -> str:
    t = turn.speaker.t
    if kind is ReportKind.INITIAL:
        return t.gettext("the initial Article 7 report")
    return t.gettext("the Article 7 report covering {year}", year=year)


async def propose(
    session: AsyncSession, turn: Turn, now: datetime, *, on: date | None, year: int | None
) -> Reply:
    """Echo back what will be recorded, with Confirm and Edit, before anything is stored."""
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
    draft = await open_draft(
        session,
        turn,
        now,
        INTENT,
        {
            "state": turn.speaker.state,
            "kind": kind.value,
            "year": covers,
            "on": submitted.isoformat(),
        },
        revised=revised,
    )
    return Reply(
        language=t.language,
        subject=t.gettext("Please confirm"),
        intro=t.gettext(
            "I will record that {state} submitted {report} on {date}.",
            state=turn.speaker.state_name,
            report=report_name(turn, kind, covers),
            date=t.date(submitted),
        ),
        choices=(
            Choice(
                Intent.CONFIRM,
                t.gettext("Confirm"),
                KEYWORDS[t.language][Intent.CONFIRM][0],
                str(draft.id),
            ),
            Choice(Intent.EDIT, t.gettext("Change the date"), "", str(draft.id)),
        ),
        footer=t.gettext("Nothing is recorded until you confirm."),
    )


async def record(session: AsyncSession, turn: Turn, now: datetime, draft: Draft) -> Reply:
    t = turn.speaker.t
    payload = draft.payload
    kind, year = ReportKind(payload["kind"]), int(payload["year"])
    state = await state_by_code(session, payload["state"])
    assert state is not None
    assert state.entry_into_force is not None
    if kind is ReportKind.INITIAL:
        due, year = initial_report_due(state.entry_into_force), state.entry_into_force.year
        item = "art7-initial"
    else:
        due, item = annual_report_due(year), f"art7-annual-{year}"
    actor = Actor(turn.speaker.name, turn.via, turn.speaker.contact_id)
    await mark_report_submitted(
        session,
        actor,
        now,
        state=state.iso3,
        kind=kind,
        year=year,
        due=due,
        submitted_on=date.fromisoformat(payload["on"]),
        via=turn.via,
        note=draft.original_text or "",
    )
    await cancel_unsent(session, state.iso3, item)
    return Reply(
        language=t.language,
        subject=t.gettext("Report recorded"),
        intro=t.gettext(
            "Thank you. Recorded: {state} submitted {report} on {date}. "
            "Reminders for it have stopped.",
            state=state.name(t.language),
            report=report_name(turn, kind, year),
            date=t.date(date.fromisoformat(payload["on"])),
        ),
        stored=True,
        answered=AnsweredItem(f"{state.iso3}:{item}", draft.via, draft.message_id),
    )
