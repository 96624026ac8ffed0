"""Reminders by Slack DM: the Slack side of ``schedules.delivery.Transport``.

The dispatcher composes the reminder; this renders it as Block Kit and posts it: two Web API
calls (``conversations.open``, ``chat.postMessage``). Each reminder carries message metadata
naming the ledger message it is, so ``find_sent`` (two more calls, asked only before a retry or
a takeover) can recognise one that was posted just before a crash instead of posting it twice.

Slack errors are sorted once here, whatever shape the answer has: a person Slack cannot reach
(deactivated, unknown) is a permanent failure that falls back to email; rate limits, outages
(Slack's or a proxy's, JSON or not), timeouts and lost connections are transient and honour
Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack import ids
from bot.slack.blocks.replies import reply_blocks
from bot.slack.blocks.text import fallback_text
from bot.slack.errors import SlackAnswer, read_answer
from handlers.replies import Reply
from schedules.delivery import DeliveryError, Outgoing

log = logging.getLogger(__name__)

# The person cannot be reached on Slack at all: email is the way left.
UNREACHABLE = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
    }
)
# Worth trying again at the next sweep.
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# Statuses below 500 that still mean "later": request timeout, too many requests.
RETRY_STATUSES = frozenset({408, 429})
# Reminders go out once a day, so the message, if posted, is among the last few in the DM.
HISTORY_LIMIT = 50


class SlackTransport:
    """Posts each reminder as a DM with the six answer buttons."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        channel = await self._open(outgoing)
        response = await _call(
            self.client.chat_postMessage(
                channel=channel,
                text=fallback_text(reply),
                blocks=reply_blocks(reply),
                metadata={"event_type": ids.REMINDER_EVENT, "event_payload": _payload(outgoing)},
            )
        )
        return str(response["ts"])

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        channel = await self._open(outgoing)
        history = await _call(
            self.client.conversations_history(
                channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True
            )
        )
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == ids.REMINDER_EVENT and str(
                payload.get("message_id")
            ) == str(outgoing.message_id):
                return str(message["ts"])
        return None

    async def close(self) -> None:
        """Nothing to release: slack-sdk opens and closes a session per call."""

    async def _open(self, outgoing: Outgoing) -> str:
        if not outgoing.slack_user_id:
            raise DeliveryError("contact has no Slack user id", permanent=True, fallback=True)
        response = await _call(self.client.conversations_open(users=outgoing.slack_user_id))
        return str(response["channel"]["id"])


def _payload(outgoing: Outgoing) -> dict[str, Any]:
    return {
        "message_id": outgoing.message_id,
        "deliveries": list(outgoing.delivery_ids),
        # What a reply in the reminder's thread is about: "ISO3:item", first item first.
        "items": [f"{item.state}:{item.item}" for item in outgoing.items],
    }


async def _call(request: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """Await a Web API call, turning its failure into a DeliveryError the dispatcher sorts."""
    try:
        return await request
    except SlackApiError as exc:
        raise _delivery_error(read_answer(exc)) from exc
    except (ClientError, SlackClientError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"slack unreachable: {type(exc).__name__}: {exc}") from exc


def _delivery_error(answer: SlackAnswer) -> DeliveryError:
    if answer.error in UNREACHABLE:
        return DeliveryError(f"slack: {answer.code}", permanent=True, fallback=True)
    if _transient(answer):
        return DeliveryError(
            f"slack: {answer.code} (HTTP {answer.status})", retry_after=answer.retry_after
        )
    # invalid_auth, invalid_blocks, a proxy's 403…: retrying will not help, but email still can.
    log.error("Slack refused a reminder: %s (HTTP %s)", answer.code, answer.status)
    return DeliveryError(f"slack: {answer.code}", permanent=True, fallback=True)


def _transient(answer: SlackAnswer) -> bool:
    status = answer.status or 0
    if answer.error in TRANSIENT or status in RETRY_STATUSES or status >= 500:
        return True
    # Not Slack's JSON and no refusal by status (an empty 200, a cut answer): Slack said nothing.
    return answer.error is None and status < 400
