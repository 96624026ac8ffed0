"""Settling a message once it is answered: its buttons give way to who answered, how and when
("✓ Confirmed by …").

Called once the answer is handled and posted, so all of this is best effort: a message Slack
will not update (deleted, not ours, rate limited) keeps its buttons, and a second click is
answered as before ("Nothing to confirm"), never stored twice.
"""

from __future__ import annotations

import logging

from aiohttp import ClientError
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.replies import settled_blocks
from bot.slack.errors import error_code
from bot.slack.listeners.shared import Deps
from bot.slack.payloads import ModalContext, Posted
from bot.slack.texts import SETTLED_BY, settled_note
from handlers.replies import Reply
from handlers.turns import Speaker
from handlers.understanding.keywords import Intent
from storage.models import Via

log = logging.getLogger(__name__)

# How settling a message's buttons can fail (Slack refusing, rate limits after the retries,
# a lost connection): none of them may cost the person the answer they already have.
SETTLE_FAILURES = (SlackClientError, ClientError, TimeoutError, OSError)


async def settle(
    deps: Deps, client: AsyncWebClient, speaker: Speaker, answer: Intent, posted: Posted | None
) -> None:
    """Replace the answer buttons of ``posted`` by who answered, how and when."""
    if posted is None:
        return  # an ephemeral message: Slack did not send it, chat.update cannot change it
    note = settled_note(speaker.t, answer, speaker.name, deps.clock.now(), speaker.zone)
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
    deps: Deps, client: AsyncWebClient, speaker: Speaker, context: ModalContext, reply: Reply
) -> None:
    """Once a form is accepted, settle the message whose button opened it.

    A submission does not carry that message, only where it is (the modal's context), so it is
    read back from Slack first.
    """
    answer = context.answered
    channel, ts = context.channel_id, context.message_ts
    if answer is None or answer not in SETTLED_BY or not (channel and ts):
        return  # a form opened by /ccm, or by a button that settles nothing (need, offer)
    if not _carried_out(reply):
        return
    try:
        posted = await find_posted(client, channel, ts, thread_ts=context.thread_ts)
    except SETTLE_FAILURES as error:
        _log_unsettled(channel, ts, error)
        return
    await settle(deps, client, speaker, answer, posted)


async def settle_reminder(
    deps: Deps,
    client: AsyncWebClient,
    speaker: Speaker,
    channel: str,
    reply: Reply,
    *,
    thread_ts: str | None,
) -> None:
    """Once a report is recorded, settle the reminder it answers ("✓ Reported as submitted by
    …"): "Report submitted" left its buttons while the proposal waited for Confirm.

    That reminder is the message the button was pressed on (kept on the draft, through a
    changed date), else the one whose thread the answer was confirmed in. Read back with its
    metadata, it is settled only if it is about this report alone: a reminder that also names
    another deadline keeps its buttons, as one a need was raised from does.
    """
    answered = reply.answered
    if answered is None:
        return
    origin = answered.message_id if answered.via is Via.SLACK else None
    for ts in dict.fromkeys(filter(None, (origin, thread_ts))):
        try:
            posted = await find_posted(client, channel, ts, thread_ts=None)
        except SETTLE_FAILURES as error:
            _log_unsettled(channel, ts, error)
            continue
        if posted is not None and set(posted.items) == {answered.item}:
            await settle(deps, client, speaker, Intent.REPORT_SUBMITTED, posted)
            return


async def find_posted(
    client: AsyncWebClient, channel: str, ts: str, *, thread_ts: str | None
) -> Posted | None:
    """One of the bot's messages, read back from Slack (with a reminder's metadata); None when
    it is gone."""
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


def _carried_out(reply: Reply) -> bool:
    """Whether a form did what was asked: stored it, or proposed it anew for confirmation (an
    edited draft replaces the proposal whose Edit button opened the form).

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
