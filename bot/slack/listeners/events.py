"""Messages: what a person writes to the bot in its DM, a question or an answer."""

from __future__ import annotations

from dataclasses import replace

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.listeners.settling import settle_reminder
from bot.slack.listeners.shared import Body, Deps, guard, known, post
from bot.slack.payloads import DirectMessage, reminder_about
from handlers.turns import Turn
from handlers.understanding.keywords import Intent
from storage.models import Via


def register(app: AsyncApp, deps: Deps) -> None:
    app.event("message")(guard(deps, on_message))


async def on_message(deps: Deps, ack: AsyncAck, event: Body, client: AsyncWebClient) -> None:
    await ack()
    message = DirectMessage.parse(event)
    if message is None:
        return  # our own posts, edits, joins: answering them could loop
    speaker = await known(deps, client, message.user_id, message.channel_id)
    if speaker is None:
        return
    about = await thread_about(client, message) if message.thread_ts else None
    # The core decides whether this is a question (answered from the records) or an answer.
    turn = Turn(speaker, Via.SLACK, text=message.text, message_id=message.ts, about=about)
    reply = await deps.conversation.handle(turn)
    # A DM is the person's own conversation with the bot: nobody there to share it with.
    kept = tuple(choice for choice in reply.choices if choice.action is not Intent.SHARE)
    reply = replace(reply, choices=kept)
    await post(client, message.channel_id, reply, thread_ts=message.thread_ts)
    # A proposal confirmed by typing settles the reminder it answers, as its button does.
    await settle_reminder(
        deps, client, speaker, message.channel_id, reply, thread_ts=message.thread_ts
    )


async def thread_about(client: AsyncWebClient, message: DirectMessage) -> str | None:
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
