"""The conversation core: one entry point for Slack, email and the terminal.

A turn (text, a click, a form) goes in; a channel-neutral reply comes out, and whatever the turn
changed is stored in the same transaction. Plain answers are recorded, guesses are confirmed:
what a person states plainly (a submitted form, a button, a reply that starts with its keyword,
``NEED: …``, ``SOUMIS …``) is recorded at once and answered with a receipt; a sentence whose
meaning the bot inferred is echoed back with Confirm, Edit and Cancel before anything is
recorded. What cannot be understood gets the choices, never silence.

A sentence is read once per turn by each reader (the reply reader ``understand`` and the
question reader ``parse_question``); ``handlers.questions.is_question`` then decides, the same
way on every channel, whether it asks the records (answered by ``handlers.questions``) or
talks to the conversation. A reply in a reminder's thread stays an answer to the reminder
unless it is clearly a question: it opens with a question word and names something the records
hold (see ``is_question``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import questions, report_submitted
from handlers.assistance import changes, reading, recording
from handlers.drafts import cancel, nothing_pending, pending_draft
from handlers.i18n import Translator, _
from handlers.questions import Ask, Resolver, asker_of, is_question, parse_question
from handlers.reminder_answers import not_me, snooze, stop
from handlers.reminders import answer_choices
from handlers.replies import Handover, Reply, Section
from handlers.turns import Turn
from handlers.understanding import understand
from handlers.understanding.keywords import Intent
from schedules.clock import Clock
from storage.audit import Source
from storage.db import Store
from storage.models import DraftStatus, Role, Via
from storage.state_names import resolve_state_code

# The Coordinators and the ISU ask the records; everyone else answers reminders, and may ask too.
ASKERS = frozenset((Role.COORDINATOR, Role.ISU))
# The channels whose answers carry buttons that ask again (More, Show the names, Share).
PAGED = frozenset((Via.SLACK,))

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
    # Reads a State's name in a question ("Lao PDR", "Liban"): the shipped index by default.
    resolve_state: Resolver = resolve_state_code

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
        text, today = turn.text or "", turn.speaker.today(now)
        found = understand(text, today=today, default_language=turn.speaker.language)
        question = parse_question(text, resolve_state=self.resolve_state, today=today)
        if is_question(found, question, turn.speaker.role, in_thread=turn.about is not None):
            asker = asker_of(turn.speaker, now, pages=turn.via in PAGED)
            return await questions.answer_question(
                session, question, text, asker, resolve_state=self.resolve_state
            )
        # A keyword states the answer; without one the intent is the bot's guess.
        stated = Source.KEYWORD if found.keyword else None
        if found.intent is Intent.REPORT_SUBMITTED:
            if stated:
                return await report_submitted.record_stated(
                    session, turn, now, on=found.on, year=found.year, source=stated
                )
            return await report_submitted.propose(session, turn, now, on=found.on, year=found.year)
        if found.intent in (Intent.NEED, Intent.OFFER):
            fields = reading.from_understanding(found)
            if stated:
                return await recording.record_stated(
                    session, turn, now, found.intent, fields, stated
                )
            return await recording.propose(session, turn, now, found.intent, fields)
        if found.intent is Intent.NOT_ME:
            return await not_me(session, turn, now, found.email)
        if found.intent is Intent.CORRECT and found.reference:
            return await changes.correct(
                session, turn, now, found.reference, reading.correction(found), stated
            )
        if found.intent is Intent.WITHDRAW and found.reference:
            return await changes.withdraw(session, turn, now, found.reference, stated)
        if found.intent in (Intent.CONFIRM, Intent.CANCEL, Intent.SNOOZE, Intent.STOP, Intent.HELP):
            return await self._act(session, turn, found.intent, fields={})
        return self.not_understood(turn)

    async def _act(
        self, session: AsyncSession, turn: Turn, action: Intent, *, fields: dict[str, str]
    ) -> Reply:
        now = self.clock.now()
        if action in (Intent.ASK, Intent.MORE, Intent.NAMES, Intent.SHARE):
            return await self.ask(session, turn, action)
        if action is Intent.CONFIRM:
            return await self.confirm(session, turn)
        if action is Intent.CANCEL:
            return await cancel(session, turn)
        # A set answer: a submitted form (fields), else a button or a /ccm command.
        source = Source.FORM if fields else Source.BUTTON
        if action is Intent.REPORT_SUBMITTED:
            on = fields.get("on")
            return await report_submitted.record_stated(
                session,
                turn,
                now,
                on=date.fromisoformat(on) if on else None,
                year=None,
                source=source,
            )
        if action in (Intent.NEED, Intent.OFFER):
            return await recording.record_stated(session, turn, now, action, fields, source)
        if action is Intent.CORRECT:
            return await changes.correct(session, turn, now, turn.value, fields, source)
        if action is Intent.WITHDRAW:
            return await changes.withdraw(session, turn, now, turn.value, source)
        if action is Intent.SNOOZE:
            return await snooze(session, turn, now, self.snooze_days)
        if action is Intent.STOP:
            return await stop(session, turn, now)
        if action is Intent.NOT_ME:
            return await not_me(session, turn, now, fields.get("email") or None)
        return self.help(turn)

    async def ask(self, session: AsyncSession, turn: Turn, action: Intent) -> Reply:
        """A question in its set form (``turn.value``, an ``Ask``): a /ccm command, or a choice
        asking it again. *Share* answers it for everyone in a channel."""
        ask = Ask.from_value(turn.value)
        if ask is None:
            return self.not_understood(turn)
        asker = asker_of(turn.speaker, self.clock.now(), pages=turn.via in PAGED)
        if action is Intent.SHARE:
            return await questions.share(session, ask, asker, resolve_state=self.resolve_state)
        return await questions.answer_ask(session, ask, asker, resolve_state=self.resolve_state)

    async def confirm(self, session: AsyncSession, turn: Turn) -> Reply:
        draft = await pending_draft(session, turn)
        t = turn.speaker.t
        if draft is None:
            return nothing_pending(t)
        draft.status = DraftStatus.CONFIRMED
        if draft.intent == report_submitted.INTENT:
            return await report_submitted.record(session, turn, self.clock.now(), draft)
        return await recording.record(session, turn, self.clock.now(), draft)

    def help(self, turn: Turn) -> Reply:
        """What this person's role can do: a Coordinator or the ISU asks the records (and may
        answer a reminder in its thread); a delegate answers reminders and may ask too."""
        t = turn.speaker.t
        if turn.speaker.role in ASKERS:
            return Reply(
                t.language,
                t.gettext("How to ask"),
                t.gettext(
                    "Ask me about the records in English, French or Spanish, in your own words."
                ),
                sections=(Section(t.gettext("Questions"), (questions.examples(t),)),),
                footer=t.gettext(
                    "To answer a reminder, reply to it: “We submitted our report on 12 April”."
                ),
                choices=answer_choices(t, turn.about) if turn.about else (),
            )
        return Reply(
            t.language,
            t.gettext("How to answer"),
            t.gettext("You can answer in English, French or Spanish, in your own words:"),
            fields=tuple((f"{i}.", t.gettext(line)) for i, line in enumerate(HELP_LINES, 1)),
            footer=_you_may_ask(t),
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
            footer=_you_may_ask(t),
            choices=answer_choices(t, turn.about or ""),
        )


def _you_may_ask(t: Translator) -> str:
    return t.gettext(
        "You may also ask me a question, such as “which needs are open in Africa?” or “who "
        "can help with training?”."
    )
