"""What every Slack surface shares: its dependencies, who is speaking, how a reply is posted or
shown to one person, and the app's one error handler."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aiohttp import ClientError
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.blocks.replies import answer_blocks, query_button
from bot.slack.blocks.text import Block, fallback_text
from bot.slack.errors import error_code
from bot.slack.texts import stranger_reply, trouble_reply
from handlers.conversation import Conversation
from handlers.i18n import language_or_default, translator
from handlers.replies import Reply
from handlers.turns import Speaker, Turn, identify
from handlers.understanding.keywords import Intent
from schedules.clock import Clock
from schedules.policy import ReminderPolicy
from storage.db import Store
from storage.models import Via

log = logging.getLogger(__name__)

Body = dict[str, Any]
Listener = Callable[..., Awaitable[None]]

# The buttons of an answer to a question, which ask it again (their value is the Ask).
QUERY_ACTIONS: Mapping[Intent, str] = MappingProxyType(
    {
        Intent.MORE: ids.QUERY_MORE_ACTION,
        Intent.NAMES: ids.QUERY_NAMES_ACTION,
        Intent.SHARE: ids.QUERY_SHARE_ACTION,
    }
)
# What Slack answers when the bot may not post in a conversation (a channel it was not
# invited to, a DM between two people).
NOT_A_MEMBER = frozenset(("channel_not_found", "not_in_channel"))


@dataclass(frozen=True)
class Deps:
    """The listeners' dependencies, passed in by the composition root."""

    conversation: Conversation
    store: Store
    clock: Clock
    fallback_zone: str
    policy: ReminderPolicy
    # The last language each Slack user was answered in, for the apology after a failure
    # (when the store itself may be what failed).
    languages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Caller:
    """Who clicked or wrote: a known contact, or a stranger with the language Slack reports."""

    speaker: Speaker | None
    language: str


# --- who is speaking -------------------------------------------------------------------------


async def caller(deps: Deps, client: AsyncWebClient, user_id: str) -> Caller:
    """The contact behind a Slack user: by the id we know, else by the email Slack knows."""
    async with deps.store.transaction() as session:
        speaker = await identify(session, fallback_zone=deps.fallback_zone, slack_user_id=user_id)
    language = speaker.language if speaker else "en"
    if speaker is None:
        info = await client.users_info(user=user_id, include_locale=True)
        user = info.get("user") or {}
        language = language_or_default(user.get("locale"))
        email = (user.get("profile") or {}).get("email")
        if email and not user.get("deleted") and not user.get("is_bot"):
            # Found by email, the Slack id is remembered in the same transaction.
            async with deps.store.transaction() as session:
                speaker = await identify(
                    session, fallback_zone=deps.fallback_zone, email=email, slack_user_id=user_id
                )
        if speaker is not None:
            language = speaker.language
    deps.languages[user_id] = language
    return Caller(speaker, language)


async def known(
    deps: Deps, client: AsyncWebClient, user_id: str, channel: str | None = None
) -> Speaker | None:
    """The speaker, or None after telling a stranger (in ``channel``, else the DM) how to get
    access."""
    found = await caller(deps, client, user_id)
    if found.speaker is None:
        log.info("Slack user %s is not an active contact", user_id)
        await post(client, channel or user_id, stranger_reply(translator(found.language)))
    return found.speaker


async def known_privately(
    deps: Deps, client: AsyncWebClient, user_id: str, channel: str
) -> Speaker | None:
    """The speaker, or None after telling a stranger, to them alone, how to get access."""
    found = await caller(deps, client, user_id)
    if found.speaker is None:
        log.info("Slack user %s is not an active contact", user_id)
        await whisper(client, channel, user_id, stranger_reply(translator(found.language)))
    return found.speaker


# --- answering -------------------------------------------------------------------------------


def render(reply: Reply) -> list[Block]:
    """A reply as Block Kit: its answers as buttons, and an answer's choices (More, Show the
    names, Share in channel) as the buttons that ask its question again."""
    buttons = [
        query_button(QUERY_ACTIONS[choice.action], choice.label, choice.value)
        for choice in reply.choices
        if choice.action in QUERY_ACTIONS
    ]
    return answer_blocks(reply, buttons)


async def post(
    client: AsyncWebClient, channel: str, reply: Reply, *, thread_ts: str | None = None
) -> None:
    await client.chat_postMessage(
        channel=channel, text=fallback_text(reply), blocks=render(reply), thread_ts=thread_ts
    )


async def whisper(
    client: AsyncWebClient,
    channel: str,
    user_id: str,
    reply: Reply,
    *,
    blocks: list[Block] | None = None,
) -> None:
    """Show a reply to one person in the conversation they are in (chat.postEphemeral).

    Slack refuses where the bot is not a member; the reply then goes to the person's DM with
    the bot, which is always there.
    """
    text, blocks = fallback_text(reply), blocks or render(reply)
    try:
        await client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)
    except SlackApiError as error:
        if error_code(error) not in NOT_A_MEMBER:
            raise
        await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


async def whisper_answer(
    deps: Deps, client: AsyncWebClient, speaker: Speaker, user_id: str, value: str, channel: str
) -> None:
    """A question in its set form (``value``, an Ask), answered by the core to one person."""
    reply = await deps.conversation.handle(Turn(speaker, Via.SLACK, action=Intent.ASK, value=value))
    await whisper(client, channel, user_id, reply)


# --- failures --------------------------------------------------------------------------------


def guard(deps: Deps, listener: Listener) -> Listener:
    """Bind ``deps`` and send a failure that comes after ``ack()`` to the error handler directly.

    slack-bolt (1.30, asyncio runner) sets an acknowledged response back to None when the
    listener fails within its 10 ms ack poll, so Slack would get a 404 instead of the ack. A
    failure before ``ack()`` still goes through Bolt, which answers 500 and calls the same
    handler: one error handler either way.
    """
    wanted = set(inspect.signature(listener).parameters) - {"deps"}

    async def guarded(
        ack: AsyncAck, body: Body, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        given = {"ack": ack, "body": body, "client": client, "event": body.get("event")}
        try:
            await listener(deps, **{name: given[name] for name in wanted})
        except Exception as error:
            if ack.response is None:
                raise
            await report_failure(deps, error, body, context, client)

    guarded.__name__ = guarded.__qualname__ = listener.__name__  # Bolt logs listener names
    return guarded


async def report_failure(
    deps: Deps, error: Exception, body: Body, context: AsyncBoltContext, client: AsyncWebClient
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
    t = translator(deps.languages.get(user_id))
    try:
        await post(client, user_id, trouble_reply(t))
    except (SlackClientError, ClientError, TimeoutError) as again:
        reason = error_code(again) or type(again).__name__
        log.error("could not tell %s about the failure: %s", user_id, reason)


def register(app: AsyncApp, deps: Deps) -> None:
    """The app's one error handler (Bolt passes arguments by these names)."""

    async def on_error(
        error: Exception, body: Body, context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await report_failure(deps, error, body, context, client)

    app.error(on_error)
