"""What a transport is given and what it may answer: the one delivery protocol of every channel.

The dispatcher (``schedules.dispatch``) claims a message from the ledger, has the conversation
core compose it once as a channel-neutral ``Reply``, and hands both to the channel's transport,
which only renders and sends them. Answers, ISU notices and digests are composed and rendered
when they are decided (their bytes are stored, so every attempt sends the same mail) and sent
through the same email transport; all of them fail with ``DeliveryError`` and get one deadline,
``within_send_timeout``.

No database here: a transport needs none, and a test can drive one with plain values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar

from handlers.replies import Reply
from storage.claims import SEND_TIMEOUT
from storage.models import Channel

__all__ = [
    "DeliveryError",
    "Outgoing",
    "ReminderItem",
    "Transport",
    "as_delivery_error",
    "within_send_timeout",
]

T = TypeVar("T")


class DeliveryError(Exception):
    """A send failed. ``permanent`` failures are not retried (bad address, unknown user)."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        fallback: bool = False,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent
        # True when another channel may still reach the person (Slack user gone: try email).
        self.fallback = fallback
        # How long the other side asked us to wait (Retry-After), if longer than our backoff.
        self.retry_after = retry_after


@dataclass(frozen=True)
class ReminderItem:
    state: str
    state_name: str
    item: str
    stage: str
    due: date
    title: str | None


@dataclass(frozen=True)
class Outgoing:
    """One claimed message: whom it is for, on which channel, and what it reminds of.

    ``message_id`` and ``local_day`` name it outside the bot (Slack metadata, the email's
    Message-ID), so a send recorded nowhere can still be recognised after a crash.
    """

    message_id: int
    purpose: str
    channel: Channel
    local_day: date  # the recipient's day it is for; also keeps its Message-ID stable
    language: str
    zone: str
    contact_id: int
    name: str
    email: str | None
    slack_user_id: str | None
    items: tuple[ReminderItem, ...]
    delivery_ids: tuple[int, ...]


class Transport(Protocol):
    """Renders and sends one composed message on one channel."""

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        """Send ``reply`` (composed for ``outgoing``); its external id (Message-ID, Slack ts)."""

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        """The external id if this message already went out (a crash before recording).

        Asked only before a message's second or later attempt: a first one cannot have gone.
        """


async def within_send_timeout(send: Awaitable[T]) -> T:
    """One send within its deadline: a claim's lease assumes no send outlasts ``SEND_TIMEOUT``,
    and one that does is a transient failure like any other outage."""
    try:
        async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
            return await send
    except TimeoutError as exc:
        raise DeliveryError(f"no answer within {SEND_TIMEOUT.total_seconds():.0f} s") from exc


def as_delivery_error(exc: Exception) -> DeliveryError:
    """A send's failure as the ledger records it: a transport's bug or an answer it could not
    read is retried like an outage, then given up, in one log line (its first)."""
    if isinstance(exc, DeliveryError):
        return exc
    lines = str(exc).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""
    return DeliveryError(f"unexpected {type(exc).__name__}{detail}")
