"""Answers that change how we remind: later, not the right person, stop."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.replies import Handover, Reply
from handlers.turns import Turn
from storage.audit import Actor, record_change
from storage.contacts import contact_by_email, contact_by_id, upsert_contact
from storage.ledger import cancel_unsent
from storage.models import Channel, Role
from storage.reminder_choices import opt_out, snooze_item


def _about(turn: Turn) -> tuple[str, str] | None:
    if not turn.about or ":" not in turn.about:
        return None
    state, item = turn.about.split(":", 1)
    return state, item


def kind_of_item(item: str) -> str:
    if item.startswith("art7"):
        return "art7"
    return "custom" if item.startswith("custom-") else "treaty"


async def snooze(session: AsyncSession, turn: Turn, now: datetime, days: int) -> Reply:
    """Hold this reminder for ``days`` (the policy's ``snooze_days``)."""
    t = turn.speaker.t
    about = _about(turn)
    if about is None:
        return Reply(
            t.language,
            t.gettext("Which reminder?"),
            t.gettext(
                "Answer the reminder itself (reply to its email or click its button) "
                "to be reminded later."
            ),
        )
    state, item = about
    until = turn.speaker.today(now) + timedelta(days=days)
    await snooze_item(session, turn.speaker.contact_id, state, item, until)
    await cancel_unsent(session, state, item, contact_id=turn.speaker.contact_id)
    return Reply(
        t.language,
        t.gettext("Snoozed"),
        t.gettext("I will remind you again from {date}.", date=t.date(until)),
        stored=True,
    )


async def stop(session: AsyncSession, turn: Turn, now: datetime) -> Reply:
    """Switch this kind of reminder off for the person (all kinds when no reminder is named)."""
    t = turn.speaker.t
    about = _about(turn)
    kind = kind_of_item(about[1]) if about else "all"
    optout = await opt_out(session, turn.speaker.contact_id, kind, now)
    if optout is not None:
        record_change(
            session,
            Actor(turn.speaker.name, turn.via, turn.speaker.contact_id),
            now,
            optout,
            "create",
            None,
        )
    if about:
        await cancel_unsent(session, about[0], about[1], contact_id=turn.speaker.contact_id)
    text = {
        "art7": t.gettext("You will get no more reminders about Article 7 reports."),
        "treaty": t.gettext("You will get no more reminders about treaty deadlines."),
        "custom": t.gettext("You will get no more reminders about dates added by the ISU."),
        "all": t.gettext("You will get no more reminders."),
    }[kind]
    return Reply(
        t.language,
        t.gettext("Reminders stopped"),
        text + " " + t.gettext("The ISU can switch them on again if you change your mind."),
        stored=True,
    )


async def not_me(session: AsyncSession, turn: Turn, now: datetime, colleague: str | None) -> Reply:
    """Hand the reminders over: to a named colleague (pending the ISU's check), else to the ISU."""
    t = turn.speaker.t
    actor = Actor(turn.speaker.name, turn.via, turn.speaker.contact_id)
    me = await contact_by_id(session, turn.speaker.contact_id)
    assert me is not None
    if colleague:
        known = await contact_by_email(session, colleague)
        if known is None:
            # Added inactive: anyone could type any address, so the ISU checks before it is used.
            await upsert_contact(
                session,
                actor,
                now,
                email=colleague,
                name=colleague.split("@")[0],
                role=Role.DELEGATE,
                state_iso3=turn.speaker.state,
                channel=Channel.EMAIL,
                active=False,
            )
        text = t.gettext(
            "Thank you. I have passed {email} to the ISU, who will confirm them as your State's "
            "contact; you will get no more reminders.",
            email=colleague,
        )
    else:
        text = t.gettext(
            "Thank you. I have told the ISU, who will find the right person; you will get no "
            "more reminders."
        )
    me.active = False
    await session.flush()
    record_change(session, actor, now, me, "handover", None)
    return Reply(
        t.language,
        t.gettext("Handed over"),
        text,
        stored=True,
        isu_note=Handover(
            name=turn.speaker.name,
            email=turn.speaker.email,
            state=turn.speaker.state,
            colleague=colleague,
        ),
    )
