"""The conversation core: one entry point for Slack, email and the terminal.

A turn (text, a click, a form) goes in; a channel-neutral reply comes out, and whatever the turn
changed is stored in the same transaction. Sentences are always echoed back for confirmation
before anything is recorded; what cannot be understood gets the choices, never silence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import assistance, report_submitted
from handlers.drafts import nothing_pending, pending_draft
from handlers.i18n import _
from handlers.reminder_answers import not_me, snooze, stop
from handlers.reminders import answer_choices
from handlers.replies import Handover, Reply
from handlers.turns import Turn
from handlers.understanding import understand
from handlers.understanding.keywords import Intent
from schedules.clock import Clock
from storage.db import Store
from storage.models import DraftStatus

HELP_LINES = (
    _("Report submitted — tell me the date, e.g. “We submitted our report on 12 April”."),
    _("We need assistance — describe it, with an amount if there is one."),
    _("We can offer assistance — describe what you can give."),
    _("Remind me later — I will ask again in a week."),
    _("Not the right person — give a colleague's email address, or I tell the ISU."),
    _("Stop these reminders."),
)


NotifyIsu = Callable[[Handover], Awaitable[None]]


@dataclass
class Conversation:
    store: Store
    clock: Clock
    snooze_days: int = 7
    # Tells the ISU what needs a person's attention (a handover); wired by the composition root.
    notify_isu: NotifyIsu | None = None

    async def handle(self, turn: Turn) -> Reply:
        async with self.store.transaction() as session:
            reply = await self.handle_in(session, turn)
        await self.after_commit(reply)
        return reply

    async def after_commit(self, reply: Reply) -> None:
        """Side effects that must only happen once the turn's changes are stored."""
        if reply.isu_note is not None and self.notify_isu is not None:
            await self.notify_isu(reply.isu_note)

    async def handle_in(self, session: AsyncSession, turn: Turn) -> Reply:
        now = self.clock.now()
        if turn.action is not None:
            return await self._act(session, turn, turn.action, fields=turn.fields)
        found = understand(
            turn.text or "", today=turn.speaker.today(now), default_language=turn.speaker.language
        )
        if found.intent is Intent.REPORT_SUBMITTED:
            return await report_submitted.propose(session, turn, now, on=found.on, year=found.year)
        if found.intent in (Intent.NEED, Intent.OFFER):
            return await assistance.propose(
                session, turn, now, found.intent, assistance.from_understanding(found)
            )
        if found.intent is Intent.NOT_ME:
            return await not_me(session, turn, now, found.email)
        if found.intent is Intent.CORRECT and found.reference:
            return await assistance.correct(
                session, turn, now, found.reference, assistance.correction(found)
            )
        if found.intent is Intent.WITHDRAW and found.reference:
            return await assistance.withdraw(session, turn, now, found.reference)
        if found.intent in (Intent.CONFIRM, Intent.SNOOZE, Intent.STOP, Intent.HELP):
            return await self._act(session, turn, found.intent, fields={})
        return self.not_understood(turn)

    async def _act(
        self, session: AsyncSession, turn: Turn, action: Intent, *, fields: dict[str, str]
    ) -> Reply:
        now = self.clock.now()
        if action is Intent.CONFIRM:
            return await self.confirm(session, turn)
        if action is Intent.REPORT_SUBMITTED:
            on = fields.get("on")
            return await report_submitted.propose(
                session, turn, now, on=date.fromisoformat(on) if on else None, year=None
            )
        if action in (Intent.NEED, Intent.OFFER):
            return await assistance.propose(session, turn, now, action, fields)
        if action is Intent.CORRECT:
            return await assistance.correct(session, turn, now, turn.value, fields)
        if action is Intent.WITHDRAW:
            return await assistance.withdraw(session, turn, now, turn.value)
        if action is Intent.SNOOZE:
            return await snooze(session, turn, now, self.snooze_days)
        if action is Intent.STOP:
            return await stop(session, turn, now)
        if action is Intent.NOT_ME:
            return await not_me(session, turn, now, fields.get("email") or None)
        return self.help(turn)

    async def confirm(self, session: AsyncSession, turn: Turn) -> Reply:
        draft = await pending_draft(session, turn)
        t = turn.speaker.t
        if draft is None:
            return nothing_pending(t)
        draft.status = DraftStatus.CONFIRMED
        if draft.intent == report_submitted.INTENT:
            return await report_submitted.record(session, turn, self.clock.now(), draft)
        return await assistance.record(session, turn, self.clock.now(), draft)

    def help(self, turn: Turn) -> Reply:
        t = turn.speaker.t
        return Reply(
            t.language,
            t.gettext("How to answer"),
            t.gettext("You can answer in English, French or Spanish, in your own words:"),
            fields=tuple((f"{i}.", t.gettext(line)) for i, line in enumerate(HELP_LINES, 1)),
            choices=answer_choices(t, turn.about or ""),
        )

    def not_understood(self, turn: Turn) -> Reply:
        t = turn.speaker.t
        return Reply(
            t.language,
            t.gettext("Sorry, I did not understand"),
            t.gettext(
                "Sorry, I did not understand that. You can choose one of these answers, or "
                "write a short sentence such as “We submitted our report on 12 April”."
            ),
            choices=answer_choices(t, turn.about or ""),
        )
