"""Buttons: the answers on reminders, proposals and confirmations, and the choices on an answer
to a question (More, Show the names, Share in channel)."""

from __future__ import annotations

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.blocks.forms import not_me_modal
from bot.slack.blocks.replies import shared_blocks
from bot.slack.blocks.text import fallback_text
from bot.slack.errors import error_code
from bot.slack.listeners.forms import open_editor, open_entry_modal
from bot.slack.listeners.settling import settle, settle_reminder
from bot.slack.listeners.shared import (
    NOT_A_MEMBER,
    Body,
    Deps,
    guard,
    known,
    known_privately,
    post,
    whisper,
    whisper_answer,
)
from bot.slack.payloads import Click, ModalContext, Posted
from bot.slack.texts import invite_me
from handlers.questions import Ask
from handlers.turns import Turn
from handlers.understanding.keywords import Intent
from storage.items import ARTICLE_ITEMS, item_of
from storage.models import EntryKind, Via

# Items whose deadline belongs to one article of the Convention: a need raised from their
# reminder is about that article. Article 7 reports concern every article, so none is implied.
QUERY_PAGES = (ids.QUERY_MORE_ACTION, ids.QUERY_NAMES_ACTION)


def register(app: AsyncApp, deps: Deps) -> None:
    for action_id in ids.INTENT_OF_ACTION:
        app.action(action_id)(guard(deps, on_answer))
    for action_id in QUERY_PAGES:
        app.action(action_id)(guard(deps, on_query_page))
    app.action(ids.QUERY_SHARE_ACTION)(guard(deps, on_query_share))


async def on_answer(deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
    await ack()
    click = Click.parse(body)
    channel = click.channel_id or click.user_id
    speaker = await known(deps, client, click.user_id, channel)
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
        article = ARTICLE_ITEMS.get(item_of(click.value))
        fields = {"article": str(article or "")}
        kind = EntryKind(intent.value)
        await open_entry_modal(client, click.trigger_id, speaker, kind, fields, context)
    elif intent is Intent.NOT_ME:
        await client.views_open(trigger_id=click.trigger_id, view=not_me_modal(speaker.t, context))
    elif intent is Intent.EDIT:
        await open_editor(deps, client, click, speaker)
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
        reply = await deps.conversation.handle(turn)
        await post(client, channel, reply, thread_ts=click.thread_ts)
        # Stored only: a proposal keeps its buttons until it is confirmed. A report settles
        # the reminder it answers only if that names nothing else (settle_reminder looks).
        if reply.stored:
            if intent is not Intent.REPORT_SUBMITTED:
                await settle(deps, client, speaker, intent, Posted.clicked(body))
            await settle_reminder(deps, client, speaker, channel, reply, thread_ts=click.thread_ts)


async def on_query_page(deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
    """*More* and *Show the names*: the question asked again, shown again to the clicker."""
    await ack()
    click = Click.parse(body)
    channel = click.channel_id or click.user_id
    speaker = await known_privately(deps, client, click.user_id, channel)
    if speaker is not None and Ask.from_value(click.value) is not None:  # forged: no answer
        await whisper_answer(deps, client, speaker, click.user_id, click.value, channel)


async def on_query_share(deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
    """Post the answer for everyone in the conversation, as any delegate may see it."""
    await ack()
    click = Click.parse(body)
    channel = click.channel_id or click.user_id
    speaker = await known_privately(deps, client, click.user_id, channel)
    if speaker is None or Ask.from_value(click.value) is None:  # forged: no answer
        return
    t = speaker.t
    reply = await deps.conversation.handle(
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
        await whisper(client, channel, click.user_id, invite_me(t))
