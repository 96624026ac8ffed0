"""The Slack listeners: ack, parse at the edge, find who is speaking, ask the conversation core,
render the reply.

Every listener acknowledges first: Slack gives three seconds, then retries (events) or shows an
error (buttons, commands). The one exception is a modal submission, whose acknowledgement
*is* the answer (the field errors), so it is validated through the core before ``ack`` — a
single short transaction. Failures go to the one error handler at the bottom, not to a
try/except in each listener.
"""

from __future__ import annotations

import inspect
import logging
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aiohttp import ClientError
from email_validator import EmailNotValidError, validate_email
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.blocks import (
    Block,
    answer_blocks,
    entry_modal,
    escape,
    fallback_text,
    home_view,
    not_me_modal,
    overview_blocks,
    query_button,
    reply_blocks,
    report_date_modal,
    settled_blocks,
    shared_blocks,
)
from bot.slack.errors import error_code
from bot.slack.payloads import (
    Click,
    Command,
    DirectMessage,
    ModalContext,
    Posted,
    Submission,
    reminder_about,
)
from bot.slack.texts import (
    SETTLED_BY,
    command_help,
    digest_usage,
    export_elsewhere,
    export_sent,
    export_usage,
    invalid_email,
    invite_me,
    records_refused,
    settled_note,
    stranger_reply,
    trouble_reply,
)
from handlers.assistance import editable
from handlers.conversation import Conversation
from handlers.digest import digest_switch
from handlers.drafts import nothing_pending
from handlers.entry_form import draft_form, entry_form
from handlers.i18n import language_or_default, translator
from handlers.overview import overview_of
from handlers.questions import TOPICS, Ask, ExportKind, clip_words, export_table, viewer_of
from handlers.replies import Reply
from handlers.turns import Speaker, Turn, identify
from handlers.understanding.keywords import Intent
from schedules.clock import Clock
from schedules.policy import ReminderPolicy
from storage.db import Store
from storage.models import Draft, DraftStatus, EntryKind, Via

log = logging.getLogger(__name__)

Body = dict[str, Any]
Listener = Callable[..., Awaitable[None]]

# Items whose deadline belongs to one article of the Convention: a need raised from their
# reminder is about that article. Article 7 reports concern every article, so none is implied.
ARTICLE_OF_ITEM = {"art3": "3", "art4": "4"}
# The buttons of an answer to a question, which ask it again (their value is the Ask).
QUERY_ACTIONS: Mapping[Intent, str] = MappingProxyType(
    {
        Intent.MORE: ids.QUERY_MORE_ACTION,
        Intent.NAMES: ids.QUERY_NAMES_ACTION,
        Intent.SHARE: ids.QUERY_SHARE_ACTION,
    }
)
# The commands answered to the person alone, in the conversation where they were typed.
PRIVATE_COMMANDS = frozenset((*TOPICS, "export", "digest"))
EXPORT_FORMATS = ("csv", "xlsx")
# What Slack answers when the bot may not post in a conversation (a channel it was not
# invited to, a DM between two people).
NOT_A_MEMBER = frozenset(("channel_not_found", "not_in_channel"))
# How settling a message's buttons can fail (Slack refusing, rate limits after the retries,
# a lost connection): none of them may cost the person the answer they already have.
SETTLE_FAILURES = (SlackClientError, ClientError, TimeoutError, OSError)


@dataclass(frozen=True)
class Caller:
    """Who clicked or wrote: a known contact, or a stranger with the language Slack reports."""

    speaker: Speaker | None
    language: str


@dataclass
class SlackBot:
    """The listeners' shared dependencies, passed in by the composition root."""

    conversation: Conversation
    store: Store
    clock: Clock
    fallback_zone: str
    policy: ReminderPolicy
    # The last language each Slack user was answered in, for the apology after a failure
    # (when the store itself may be what failed).
    languages: dict[str, str] = field(default_factory=dict)

    def register(self, app: AsyncApp) -> None:
        guard = self.guard
        app.command(ids.COMMAND)(guard(self.on_command))
        for action_id in ids.INTENT_OF_ACTION:
            app.action(action_id)(guard(self.on_answer))
        app.action(ids.HOME_PREVIOUS_ACTION)(guard(self.on_home_page))
        app.action(ids.HOME_NEXT_ACTION)(guard(self.on_home_page))
        app.action(ids.QUERY_MORE_ACTION)(guard(self.on_query_page))
        app.action(ids.QUERY_NAMES_ACTION)(guard(self.on_query_page))
        app.action(ids.QUERY_SHARE_ACTION)(guard(self.on_query_share))
        app.view(ids.NEED_MODAL)(guard(self.on_entry_submitted))
        app.view(ids.OFFER_MODAL)(guard(self.on_entry_submitted))
        app.view(ids.REPORT_DATE_MODAL)(guard(self.on_report_date_submitted))
        app.view(ids.NOT_ME_MODAL)(guard(self.on_not_me_submitted))
        app.event("message")(guard(self.on_message))
        app.event("app_home_opened")(guard(self.on_home_opened))
        app.error(self.on_error)

    def guard(self, listener: Listener) -> Listener:
        """Send a failure that comes after ``ack()`` to ``on_error`` directly.

        slack-bolt (1.30, asyncio runner) sets an acknowledged response back to None when the
        listener fails within its 10 ms ack poll, so Slack would get a 404 instead of the ack.
        A failure before ``ack()`` still goes through Bolt, which answers 500 and calls the
        same ``on_error``: one error handler either way.
        """
        wanted = set(inspect.signature(listener).parameters)

        async def guarded(
            ack: AsyncAck, body: Body, client: AsyncWebClient, context: AsyncBoltContext
        ) -> None:
            given = {"ack": ack, "body": body, "client": client, "event": body.get("event")}
            try:
                await listener(**{name: given[name] for name in wanted})
            except Exception as error:
                if ack.response is None:
                    raise
                await self.on_error(error, body, context, client)

        guarded.__name__ = guarded.__qualname__ = listener.__name__  # Bolt logs listener names
        return guarded

    # --- who is speaking ---------------------------------------------------------------------

    async def caller(self, client: AsyncWebClient, user_id: str) -> Caller:
        """The contact behind a Slack user: by the id we know, else by the email Slack knows."""
        async with self.store.transaction() as session:
            speaker = await identify(
                session, fallback_zone=self.fallback_zone, slack_user_id=user_id
            )
        language = speaker.language if speaker else "en"
        if speaker is None:
            info = await client.users_info(user=user_id, include_locale=True)
            user = info.get("user") or {}
            language = language_or_default(user.get("locale"))
            email = (user.get("profile") or {}).get("email")
            if email and not user.get("deleted") and not user.get("is_bot"):
                # Found by email, the Slack id is remembered in the same transaction.
                async with self.store.transaction() as session:
                    speaker = await identify(
                        session,
                        fallback_zone=self.fallback_zone,
                        email=email,
                        slack_user_id=user_id,
                    )
            if speaker is not None:
                language = speaker.language
        self.languages[user_id] = language
        return Caller(speaker, language)

    async def known(
        self, client: AsyncWebClient, user_id: str, channel: str | None = None
    ) -> Speaker | None:
        """The speaker, or None after telling a stranger how to get access."""
        caller = await self.caller(client, user_id)
        if caller.speaker is None:
            log.info("Slack user %s is not an active contact", user_id)
            await self.post(client, channel or user_id, stranger_reply(translator(caller.language)))
        return caller.speaker

    # --- answering ---------------------------------------------------------------------------

    async def post(
        self, client: AsyncWebClient, channel: str, reply: Reply, *, thread_ts: str | None = None
    ) -> None:
        await client.chat_postMessage(
            channel=channel, text=fallback_text(reply), blocks=render(reply), thread_ts=thread_ts
        )

    async def answer(self, client: AsyncWebClient, turn: Turn, channel: str, **where: Any) -> None:
        await self.post(client, channel, await self.conversation.handle(turn), **where)

    # --- /ccm --------------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await ack()
        command = Command.parse(body)
        if command.subcommand in PRIVATE_COMMANDS:
            await self.on_private_command(client, command)
            return
        # Answers go to the person's DM with the bot, where the conversation (and its Confirm
        # buttons) lives, whichever channel the command was typed in.
        dm = command.user_id
        speaker = await self.known(client, command.user_id)
        if speaker is None:
            return
        words = command.words
        if command.subcommand in ("need", "offer"):
            kind = EntryKind(command.subcommand)
            await self.open_entry_modal(
                client, command.trigger_id, speaker, kind, {}, ModalContext()
            )
        elif words[:2] == ("report", "submitted") and _year_or_nothing(words[2:]):
            year = words[2] if len(words) > 2 else None
            about = f"{speaker.state}:art7-annual-{year}" if year and speaker.state else None
            turn = Turn(speaker, Via.SLACK, action=Intent.REPORT_SUBMITTED, about=about)
            await self.answer(client, turn, dm)
        elif command.subcommand == "my":
            await self.post_overview(client, speaker, dm)
        else:
            await self.post(client, dm, command_help(speaker.t, speaker.role))

    async def post_overview(self, client: AsyncWebClient, speaker: Speaker, channel: str) -> None:
        async with self.store.transaction() as session:
            overview = await overview_of(session, speaker, self.clock.now(), self.policy)
        await client.chat_postMessage(
            channel=channel,
            text=escape(overview.state_name or speaker.name),
            blocks=overview_blocks(speaker.t, overview),
        )

    # --- the records: /ccm needs, offers, state, overdue, deadlines, stats, export, digest ------

    async def on_private_command(self, client: AsyncWebClient, command: Command) -> None:
        """Answered to the person alone (chat.postEphemeral) where they typed the command."""
        channel, user_id = command.channel_id or command.user_id, command.user_id
        caller = await self.caller(client, user_id)
        speaker = caller.speaker
        if speaker is None:
            log.info("Slack user %s is not an active contact", user_id)
            await self.whisper(
                client, channel, user_id, stranger_reply(translator(caller.language))
            )
            return
        if command.subcommand == "digest":
            await self.switch_digest(client, speaker, command, channel)
        elif command.subcommand == "export":
            await self.send_export(client, speaker, command, channel)
        else:
            ask = Ask(command.subcommand, clip_words(command.rest))
            await self.show_answer(client, speaker, user_id, ask.to_value(), channel)

    async def show_answer(
        self, client: AsyncWebClient, speaker: Speaker, user_id: str, value: str, channel: str
    ) -> None:
        """A question in its set form (``value``, an Ask), answered by the core to one person."""
        reply = await self.conversation.handle(
            Turn(speaker, Via.SLACK, action=Intent.ASK, value=value)
        )
        await self.whisper(client, channel, user_id, reply)

    async def whisper(
        self,
        client: AsyncWebClient,
        channel: str,
        user_id: str,
        reply: Reply,
        *,
        blocks: list[Block] | None = None,
    ) -> None:
        """Show a reply to one person in the conversation they are in (chat.postEphemeral).

        Slack refuses where the bot is not a member; the reply then goes to the person's DM
        with the bot, which is always there.
        """
        text, blocks = fallback_text(reply), blocks or render(reply)
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)
        except SlackApiError as error:
            if error_code(error) not in NOT_A_MEMBER:
                raise
            await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)

    async def on_query_page(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        """*More* and *Show the names*: the question asked again, shown again to the clicker."""
        await ack()
        click = Click.parse(body)
        channel = click.channel_id or click.user_id
        caller = await self.caller(client, click.user_id)
        if caller.speaker is None:
            await self.whisper(
                client, channel, click.user_id, stranger_reply(translator(caller.language))
            )
        elif Ask.from_value(click.value) is not None:  # a forged value gets no answer
            await self.show_answer(client, caller.speaker, click.user_id, click.value, channel)

    async def on_query_share(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        """Post the answer for everyone in the conversation, as any delegate may see it."""
        await ack()
        click = Click.parse(body)
        channel = click.channel_id or click.user_id
        caller = await self.caller(client, click.user_id)
        speaker = caller.speaker
        if speaker is None:
            await self.whisper(
                client, channel, click.user_id, stranger_reply(translator(caller.language))
            )
            return
        if Ask.from_value(click.value) is None:
            return  # a forged value gets no answer
        t = speaker.t
        reply = await self.conversation.handle(
            Turn(speaker, Via.SLACK, action=Intent.SHARE, value=click.value)
        )
        note = reply.extra.get("note", "")
        try:
            await client.chat_postMessage(
                channel=channel,
                text=fallback_text(reply),
                blocks=shared_blocks(reply, t, click.user_id, note=note),
            )
        except SlackApiError as error:
            if error_code(error) not in NOT_A_MEMBER:
                raise
            await self.whisper(client, channel, click.user_id, invite_me(t))

    async def switch_digest(
        self, client: AsyncWebClient, speaker: Speaker, command: Command, channel: str
    ) -> None:
        choice = command.words[1:]
        if choice not in (("on",), ("off",)):
            await self.whisper(client, channel, command.user_id, digest_usage(speaker.t))
            return
        async with self.store.transaction() as session:
            reply = await digest_switch(
                session, speaker, choice == ("on",), now=self.clock.now(), via=Via.SLACK
            )
        await self.whisper(client, channel, command.user_id, reply)

    async def send_export(
        self, client: AsyncWebClient, speaker: Speaker, command: Command, channel: str
    ) -> None:
        """The file goes to the person's DM with the bot, never into a channel: an export holds
        what its requester may see (contacts' addresses, records for the Coordinators only)."""
        t, user_id = speaker.t, command.user_id
        words = command.words[1:]
        kinds = {kind.value: kind for kind in ExportKind}
        fmt = words[1] if len(words) == 2 else "csv"
        if not words or len(words) > 2 or words[0] not in kinds or fmt not in EXPORT_FORMATS:
            await self.whisper(client, channel, user_id, export_usage(t))
            return
        kind = kinds[words[0]]
        viewer = viewer_of(speaker)
        if kind is ExportKind.CONTACTS and not viewer.sees_everything:
            await self.whisper(client, channel, user_id, records_refused(t))
            return
        today = speaker.today(self.clock.now())
        with tempfile.TemporaryDirectory(prefix="ccm-export-") as folder:
            path = Path(folder) / f"{kind.value}-{today.isoformat()}.{fmt}"
            async with self.store.transaction() as session:
                count = await export_table(session, kind, viewer, path)
            content = path.read_bytes()
        opened = await client.conversations_open(users=user_id)
        dm = str((opened.get("channel") or {}).get("id") or user_id)
        held_back = not viewer.sees_everything and kind in (ExportKind.NEEDS, ExportKind.OFFERS)
        # files_upload_v2: files.getUploadURLExternal, the bytes, files.completeUploadExternal.
        await client.files_upload_v2(
            channel=dm,
            filename=path.name,
            content=content,
            title=path.name,
            initial_comment=export_sent(t, count, held_back=held_back),
        )
        if channel != dm:
            await self.whisper(client, channel, user_id, export_elsewhere(t))

    # --- buttons -----------------------------------------------------------------------------

    async def on_answer(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await ack()
        click = Click.parse(body)
        channel = click.channel_id or click.user_id
        speaker = await self.known(client, click.user_id, channel)
        intent = click.intent
        if speaker is None or intent is None:
            return
        context = ModalContext(
            about=click.value or None,
            channel_id=click.channel_id,
            thread_ts=click.thread_ts,
            message_ts=click.message_ts,
            answer=intent.value,
        )
        if intent in (Intent.NEED, Intent.OFFER):
            item = (click.value or "").partition(":")[2]
            fields = {"article": ARTICLE_OF_ITEM.get(item, "")}
            kind = EntryKind(intent.value)
            await self.open_entry_modal(client, click.trigger_id, speaker, kind, fields, context)
        elif intent is Intent.NOT_ME:
            await client.views_open(
                trigger_id=click.trigger_id, view=not_me_modal(speaker.t, context)
            )
        elif intent is Intent.EDIT:
            await self.open_editor(client, click, speaker)
        else:
            # Reminder answers name their reminder; Confirm names a draft, Withdraw a record.
            names_reminder = intent in (Intent.REPORT_SUBMITTED, Intent.SNOOZE, Intent.STOP)
            turn = Turn(
                speaker,
                Via.SLACK,
                action=intent,
                value=click.value,
                about=(click.value or None) if names_reminder else None,
                message_id=click.message_ts,
            )
            reply = await self.conversation.handle(turn)
            await self.post(client, channel, reply, thread_ts=click.thread_ts)
            # Stored only: "Report submitted" proposes a record, and until it is confirmed the
            # reminder it answers keeps its buttons; Confirm then settles that reminder too.
            if reply.stored:
                await self.settle(client, speaker, intent, Posted.clicked(body))
                await self.settle_reminder(
                    client, speaker, channel, reply, thread_ts=click.thread_ts
                )

    async def open_entry_modal(
        self,
        client: AsyncWebClient,
        trigger_id: str,
        speaker: Speaker,
        kind: EntryKind,
        fields: dict[str, str],
        context: ModalContext,
    ) -> None:
        t = speaker.t
        if kind is EntryKind.NEED:
            intro = t.gettext("I will record this need for {state}:", state=speaker.state_name)
        else:
            intro = t.gettext(
                "I will record this offer from {state}:", state=speaker.state_name or speaker.name
            )
        view = entry_modal(t, kind, fields, context, intro=intro)
        await client.views_open(trigger_id=trigger_id, view=view)

    async def open_editor(self, client: AsyncWebClient, click: Click, speaker: Speaker) -> None:
        """Edit reopens the form: of a pending draft (its id) or of a record (its reference)."""
        t = speaker.t
        context = ModalContext(
            channel_id=click.channel_id,
            thread_ts=click.thread_ts,
            message_ts=click.message_ts,
            answer=Intent.EDIT.value,
        )
        where = {"thread_ts": click.thread_ts}
        channel = click.channel_id or click.user_id
        if click.value.isdigit():
            async with self.store.transaction() as session:
                draft = await session.get(Draft, int(click.value))
            if (
                draft is None
                or draft.contact_id != speaker.contact_id
                or draft.status is not DraftStatus.PENDING
            ):
                await self.post(client, channel, nothing_pending(t), **where)
                return
            context = replace(context, draft=str(draft.id))
            payload = draft.payload
            if draft.intent == "report_submitted":
                item = (
                    "art7-initial"
                    if payload.get("kind") == "initial"
                    else f"art7-annual-{payload.get('year')}"
                )
                dated = replace(context, about=f"{payload['state']}:{item}")
                view = report_date_modal(t, dated, str(payload.get("on") or ""))
                await client.views_open(trigger_id=click.trigger_id, view=view)
                return
            kind = EntryKind(payload.get("kind", "need"))
            await self.open_entry_modal(
                client, click.trigger_id, speaker, kind, draft_form(payload), context
            )
            return
        async with self.store.transaction() as session:
            entry = await editable(session, speaker, click.value)
        if isinstance(entry, Reply):
            await self.post(client, channel, entry, **where)
            return
        edited = replace(context, reference=entry.reference)
        await self.open_entry_modal(
            client, click.trigger_id, speaker, entry.kind, entry_form(entry), edited
        )

    # --- modals ------------------------------------------------------------------------------

    async def on_entry_submitted(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        submission = Submission.parse(body)
        speaker = await self.caller_or_ack(ack, client, submission)
        if speaker is None:
            return
        context = submission.context
        # Every field of the form, emptied ones included: the core clears what was emptied.
        fields = {k: v for k, v in submission.values.items() if k in ids.ENTRY_FIELDS}
        if context.reference:
            turn = Turn(
                speaker, Via.SLACK, action=Intent.CORRECT, value=context.reference, fields=fields
            )
        else:
            intent = Intent.NEED if submission.callback_id == ids.NEED_MODAL else Intent.OFFER
            turn = Turn(
                speaker,
                Via.SLACK,
                action=intent,
                fields=fields,
                about=context.about,
                message_id=context.message_ts,
                revises=_draft_id(context),
            )
        reply = await self.conversation.handle(turn)
        errors = _field_errors(reply, shown=submission.values.keys())
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await self.post_to(client, submission, reply)
        await self.settle_opener(client, speaker, context, reply)

    async def on_report_date_submitted(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient
    ) -> None:
        submission = Submission.parse(body)
        speaker = await self.caller_or_ack(ack, client, submission)
        if speaker is None:
            return
        t = speaker.t
        on = submission.values.get(ids.DATE_BLOCK, "")
        try:
            day = date.fromisoformat(on)
        except ValueError:
            await ack(
                response_action="errors",
                errors={ids.DATE_BLOCK: t.gettext("Write the date as YYYY-MM-DD.")},
            )
            return
        if day > speaker.today(self.clock.now()):
            message = t.gettext(
                "The date {date} is still to come. Tell me the day the report was sent.",
                date=t.date(day),
            )
            await ack(response_action="errors", errors={ids.DATE_BLOCK: message})
            return
        await ack()
        turn = Turn(
            speaker,
            Via.SLACK,
            action=Intent.REPORT_SUBMITTED,
            fields={"on": day.isoformat()},
            about=submission.context.about,
            message_id=submission.context.message_ts,
            revises=_draft_id(submission.context),
        )
        reply = await self.conversation.handle(turn)
        await self.post_to(client, submission, reply)
        await self.settle_opener(client, speaker, submission.context, reply)

    async def on_not_me_submitted(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        submission = Submission.parse(body)
        speaker = await self.caller_or_ack(ack, client, submission)
        if speaker is None:
            return
        email = submission.values.get(ids.EMAIL_BLOCK, "")
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError:
                await ack(
                    response_action="errors", errors={ids.EMAIL_BLOCK: invalid_email(speaker.t)}
                )
                return
        await ack()
        turn = Turn(
            speaker,
            Via.SLACK,
            action=Intent.NOT_ME,
            fields={"email": email},
            about=submission.context.about,
        )
        reply = await self.conversation.handle(turn)
        await self.post_to(client, submission, reply)
        await self.settle_opener(client, speaker, submission.context, reply)

    async def caller_or_ack(
        self, ack: AsyncAck, client: AsyncWebClient, submission: Submission
    ) -> Speaker | None:
        caller = await self.caller(client, submission.user_id)
        if caller.speaker is None:
            await ack()
            await self.post(client, submission.user_id, stranger_reply(translator(caller.language)))
        return caller.speaker

    async def post_to(self, client: AsyncWebClient, submission: Submission, reply: Reply) -> None:
        """Answer where the form was opened from (the reminder's DM), else in the DM."""
        context = submission.context
        channel = context.channel_id or submission.user_id
        await self.post(client, channel, reply, thread_ts=context.thread_ts)

    # --- settling the buttons that were answered ---------------------------------------------

    async def settle(
        self, client: AsyncWebClient, speaker: Speaker, answer: Intent, posted: Posted | None
    ) -> None:
        """Replace the answer buttons of ``posted`` by who answered, how and when.

        Called once the answer is handled and posted, so this is best effort: a message Slack
        will not update (deleted, not ours, rate limited) keeps its buttons, and a second click
        is answered as before ("Nothing to confirm"), never stored twice.
        """
        if posted is None:
            return  # an ephemeral message: Slack did not send it, chat.update cannot change it
        note = settled_note(speaker.t, answer, speaker.name, self.clock.now(), speaker.zone)
        blocks = settled_blocks(posted.blocks, note) if note else None
        if note is None or blocks is None:
            return  # an answer that settles nothing, or a message settled already
        try:
            await client.chat_update(
                channel=posted.channel_id, ts=posted.ts, text=posted.text or note, blocks=blocks
            )
        except SETTLE_FAILURES as error:
            _log_unsettled(posted.channel_id, posted.ts, error)

    async def settle_opener(
        self, client: AsyncWebClient, speaker: Speaker, context: ModalContext, reply: Reply
    ) -> None:
        """Once a form is accepted, settle the message whose button opened it.

        A submission does not carry that message, only where it is (the modal's context), so
        it is read back from Slack first.
        """
        answer = context.answered
        channel, ts = context.channel_id, context.message_ts
        if answer is None or answer not in SETTLED_BY or not (channel and ts):
            return  # a form opened by /ccm, or by a button that settles nothing (need, offer)
        if not _carried_out(reply):
            return
        try:
            posted = await self.find_posted(client, channel, ts, thread_ts=context.thread_ts)
        except SETTLE_FAILURES as error:
            _log_unsettled(channel, ts, error)
            return
        await self.settle(client, speaker, answer, posted)

    async def settle_reminder(
        self,
        client: AsyncWebClient,
        speaker: Speaker,
        channel: str,
        reply: Reply,
        *,
        thread_ts: str | None,
    ) -> None:
        """Once a report is recorded, settle the reminder it answers ("✓ Reported as submitted
        by …"): "Report submitted" left its buttons while the proposal waited for Confirm.

        That reminder is the message the button was pressed on (kept on the draft, through a
        changed date), else the one whose thread the answer was confirmed in. Read back with
        its metadata, it is settled only if it is about this report alone: a reminder that
        also names another deadline keeps its buttons, as one a need was raised from does.
        """
        answered = reply.answered
        if answered is None:
            return
        origin = answered.message_id if answered.via is Via.SLACK else None
        for ts in dict.fromkeys(filter(None, (origin, thread_ts))):
            try:
                posted = await self.find_posted(client, channel, ts, thread_ts=None)
            except SETTLE_FAILURES as error:
                _log_unsettled(channel, ts, error)
                continue
            if posted is not None and set(posted.items) == {answered.item}:
                await self.settle(client, speaker, Intent.REPORT_SUBMITTED, posted)
                return

    async def find_posted(
        self, client: AsyncWebClient, channel: str, ts: str, *, thread_ts: str | None
    ) -> Posted | None:
        """One of the bot's messages, read back from Slack (with a reminder's metadata);
        None when it is gone."""
        if thread_ts:
            # conversations.history lists only the top level; a reply is read from its thread.
            found = await client.conversations_replies(
                channel=channel, ts=thread_ts, oldest=ts, latest=ts, inclusive=True
            )
        else:
            found = await client.conversations_history(
                channel=channel,
                oldest=ts,
                latest=ts,
                inclusive=True,
                limit=1,
                include_all_metadata=True,
            )
        messages = found.get("messages") or []
        return Posted.parse(channel, next((m for m in messages if m.get("ts") == ts), None))

    # --- messages ----------------------------------------------------------------------------

    async def on_message(self, ack: AsyncAck, event: Body, client: AsyncWebClient) -> None:
        await ack()
        message = DirectMessage.parse(event)
        if message is None:
            return  # our own posts, edits, joins: answering them could loop
        speaker = await self.known(client, message.user_id, message.channel_id)
        if speaker is None:
            return
        about = await self.thread_about(client, message) if message.thread_ts else None
        # The core decides whether this is a question (answered from the records) or an answer.
        turn = Turn(speaker, Via.SLACK, text=message.text, message_id=message.ts, about=about)
        reply = await self.conversation.handle(turn)
        # A DM is the person's own conversation with the bot: nobody there to share it with.
        kept = tuple(choice for choice in reply.choices if choice.action is not Intent.SHARE)
        reply = replace(reply, choices=kept)
        await self.post(client, message.channel_id, reply, thread_ts=message.thread_ts)
        # A proposal confirmed by typing settles the reminder it answers, as its button does.
        await self.settle_reminder(
            client, speaker, message.channel_id, reply, thread_ts=message.thread_ts
        )

    async def thread_about(self, client: AsyncWebClient, message: DirectMessage) -> str | None:
        """The reminder a thread hangs from, read from the metadata on its first message."""
        history = await client.conversations_history(
            channel=message.channel_id,
            oldest=message.thread_ts,
            latest=message.thread_ts,
            inclusive=True,
            limit=1,
            include_all_metadata=True,
        )
        messages = history.get("messages") or []
        return reminder_about(messages[0]) if messages else None

    # --- App Home ----------------------------------------------------------------------------

    async def on_home_opened(self, ack: AsyncAck, event: Body, client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab") != "home" or not isinstance(event.get("user"), str):
            return
        await self.publish_home(client, event["user"], page=0)

    async def on_home_page(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await ack()
        click = Click.parse(body)
        page = int(click.value) if click.value.isdigit() else 0
        await self.publish_home(client, click.user_id, page=page)

    async def publish_home(self, client: AsyncWebClient, user_id: str, *, page: int) -> None:
        caller = await self.caller(client, user_id)
        if caller.speaker is None:
            reply = stranger_reply(translator(caller.language))
            blocks = reply_blocks(reply)
        else:
            async with self.store.transaction() as session:
                overview = await overview_of(session, caller.speaker, self.clock.now(), self.policy)
            blocks = overview_blocks(caller.speaker.t, overview, page=page, pager=True)
        await client.views_publish(user_id=user_id, view=home_view(blocks))

    # --- failures ----------------------------------------------------------------------------

    async def on_error(
        self, error: Exception, body: Body, context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """Log what failed (Slack's error code when Slack said no) and apologise to the person."""
        code = error_code(error)  # also for an answer that is not Slack's JSON (a proxy's 503)
        # Slack's refusals are expected events: one line with the code. Our own bugs: traceback.
        log.error(
            "Slack %s failed: %s",
            body.get("type") or body.get("command") or "request",
            code or type(error).__name__,
            exc_info=None if code else error,
        )
        user_id = context.user_id
        if not user_id:
            return
        t = translator(self.languages.get(user_id))
        try:
            await self.post(client, user_id, trouble_reply(t))
        except (SlackClientError, ClientError, TimeoutError) as again:
            reason = error_code(again) or type(again).__name__
            log.error("could not tell %s about the failure: %s", user_id, reason)


def _carried_out(reply: Reply) -> bool:
    """Whether a form did what was asked: stored it, or proposed it anew for confirmation
    (an edited draft replaces the proposal whose Edit button opened the form).

    Refusals (nothing to confirm, an unknown reference, a field to fix) do neither, and the
    buttons they answered stay for another try.
    """
    return reply.stored or any(choice.action is Intent.CONFIRM for choice in reply.choices)


def _log_unsettled(channel: str, ts: str, error: Exception) -> None:
    code = error_code(error)
    log.warning(
        "could not settle the buttons of message %s in %s: %s",
        ts,
        channel,
        code or f"{type(error).__name__}: {error}",
    )


def _year_or_nothing(words: tuple[str, ...]) -> bool:
    """What may follow ``report submitted``: nothing, or a year such as 2026."""
    return not words or (len(words) == 1 and words[0].isdigit() and len(words[0]) == 4)


def _field_errors(reply: Reply, *, shown: Any) -> dict[str, str]:
    """The core's ``error:<field>`` notes keyed by the modal block showing that field."""
    blocks = set(shown)
    errors: dict[str, str] = {}
    for key, message in reply.extra.items():
        if not key.startswith("error:"):
            continue
        name = key.removeprefix("error:")
        block = name if name in blocks else "description"
        errors[block] = f"{errors[block]} {message}" if block in errors else message
    return errors


def _draft_id(context: ModalContext) -> int | None:
    """The pending draft a form edits, from the modal's context."""
    return int(context.draft) if context.draft and context.draft.isdigit() else None


def render(reply: Reply) -> list[Block]:
    """A reply as Block Kit: its answers as buttons, and an answer's choices (More, Show the
    names, Share in channel) as the buttons that ask its question again."""
    buttons = [
        query_button(QUERY_ACTIONS[choice.action], choice.label, choice.value)
        for choice in reply.choices
        if choice.action in QUERY_ACTIONS
    ]
    return answer_blocks(reply, buttons)
