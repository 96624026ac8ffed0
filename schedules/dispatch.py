"""Sending what the ledger says is due: claim, send through a transport, record, retry.

The transports (mail outbox, SMTP, Slack) live in ``bot``; this module only knows the small
interface they share, so the exactly-once rules are written once for every channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from schedules.clock import Elapsed
from schedules.locale import locale_of
from schedules.zones import resolve_zone
from storage.claims import SEND_TIMEOUT, renew_claim
from storage.db import Store
from storage.ledger import (
    PlannedReminder,
    addressee_of,
    claim,
    plan,
    record_failure,
    record_sent,
)
from storage.models import Channel, Message

T = TypeVar("T")

log = logging.getLogger(__name__)


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
    """One claimed message with everything a transport needs to compose and address it."""

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
    """Sends one message on one channel and returns its external id (Message-ID, Slack ts)."""

    async def send(self, outgoing: Outgoing) -> str: ...

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        """The external id if this message already went out (a crash before recording)."""


@dataclass
class Dispatcher:
    store: Store
    transports: Mapping[Channel, Transport]
    worker: str
    # The zone of a person with none of their own (a coordinator): the secretariat's.
    fallback_zone: str = field(kw_only=True)

    async def dispatch(self, now: datetime, *, limit: int = 50) -> DispatchResult:
        """Send every due message once; returns what happened, for logs and `reminders run-once`."""
        result = DispatchResult()
        elapsed = Elapsed(now)
        while True:
            async with self.store.transaction() as session:
                claimed = await claim(session, self.worker, now, limit=limit)
                batch = [
                    await _outgoing(session, message, self.fallback_zone) for message in claimed
                ]
            if not batch:
                return result
            for outgoing in batch:
                await self._send_one(outgoing, now, elapsed.now(), result)
            if len(batch) < limit:
                return result

    async def _send_one(
        self, outgoing: Outgoing, now: datetime, sending_at: datetime, result: DispatchResult
    ) -> None:
        transport = self.transports.get(outgoing.channel)
        if not outgoing.items:
            await self._fail(outgoing, now, DeliveryError("nothing left to send", permanent=True))
            return
        if transport is None:
            reason = f"no {outgoing.channel} transport configured"
            await self._fail(outgoing, now, DeliveryError(reason, permanent=True, fallback=True))
            result.failed += 1
            return
        async with self.store.transaction() as session:
            # The lease runs from this send, not from the batch's claim; a worker that found
            # this batch's tail stale may have taken it over meanwhile.
            mine = await renew_claim(session, Message, outgoing.message_id, self.worker, sending_at)
        if not mine:
            log.info("message %s was taken over by another worker", outgoing.message_id)
            return
        try:
            external_id = await within_send_timeout(_attempt(transport, outgoing))
        except Exception as exc:  # one send's failure, or bug, never stops the sweep's others
            failure = exc if isinstance(exc, DeliveryError) else _unexpected(exc)
            log.warning(
                "message %s to contact %s failed: %s",
                outgoing.message_id,
                outgoing.contact_id,
                failure,
            )
            await self._fail(outgoing, now, failure)
            result.failed += 1
            return
        async with self.store.transaction() as session:
            await record_sent(session, outgoing.message_id, self.worker, now, external_id)
        result.sent.append(outgoing)

    async def _fail(self, outgoing: Outgoing, now: datetime, failure: DeliveryError) -> None:
        # Once the reminders move to email the Slack message is given up, or a later Slack
        # retry would deliver them twice. One transaction: a crash cannot lose them between.
        moving = failure.fallback and outgoing.channel is not Channel.EMAIL and bool(outgoing.email)
        async with self.store.transaction() as session:
            await record_failure(
                session,
                outgoing.message_id,
                self.worker,
                now,
                str(failure),
                permanent=failure.permanent or moving,
                retry_after=failure.retry_after,
            )
            if moving:
                await _plan_on_email(session, outgoing, now)


async def within_send_timeout(send: Awaitable[T]) -> T:
    """One send within its deadline: a claim's lease assumes no send outlasts ``SEND_TIMEOUT``,
    and one that does is a transient failure like any other outage."""
    try:
        async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
            return await send
    except TimeoutError as exc:
        raise DeliveryError(f"no answer within {SEND_TIMEOUT.total_seconds():.0f} s") from exc


async def _attempt(transport: Transport, outgoing: Outgoing) -> str:
    return await transport.find_sent(outgoing) or await transport.send(outgoing)


def _unexpected(exc: Exception) -> DeliveryError:
    """A transport's bug or an answer it could not read: retried like an outage, then given up."""
    lines = str(exc).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""  # the first line: one log line per failure
    return DeliveryError(f"unexpected {type(exc).__name__}{detail}")


async def _plan_on_email(session: AsyncSession, outgoing: Outgoing, now: datetime) -> None:
    """Slack could not reach the person: the same reminders go by email, still once each."""
    local_day = now.astimezone(resolve_zone(outgoing.zone)).date()
    for item in outgoing.items:
        await plan(
            session,
            PlannedReminder(
                state=item.state,
                item=item.item,
                stage=item.stage,
                due=item.due,
                contact_id=outgoing.contact_id,
                channel=Channel.EMAIL,
                local_day=local_day,
                send_at=now,
                language=outgoing.language,
                zone=outgoing.zone,
                purpose=outgoing.purpose,
            ),
            now,
        )


@dataclass
class DispatchResult:
    sent: list[Outgoing] = field(default_factory=list)
    failed: int = 0


async def _outgoing(session: AsyncSession, message: Message, fallback_zone: str) -> Outgoing:
    to = await addressee_of(session, message)
    live = [d for d in message.deliveries if not d.cancelled]
    return Outgoing(
        message_id=message.id,
        purpose=message.purpose,
        channel=message.channel,
        local_day=message.local_day,
        language=message.language,
        zone=locale_of(to.contact, to.state, fallback_zone).zone.key,
        contact_id=to.contact.id,
        name=to.contact.name,
        email=to.contact.email,
        slack_user_id=to.contact.slack_user_id,
        items=tuple(
            ReminderItem(
                d.state_iso3,
                to.states[d.state_iso3].name(message.language),
                d.item,
                d.stage,
                d.due,
                to.custom_titles.get(d.item),
            )
            for d in live
        ),
        delivery_ids=tuple(d.id for d in live),
    )
