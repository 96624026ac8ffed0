"""Sending what the ledger says is due: claim, compose, send through a transport, record, retry.

The transports (mail outbox, SMTP, Slack) live in ``bot``; this module only knows the protocol
they share (``schedules.delivery``), so the exactly-once rules are written once for every
channel. Each message is composed here, once, by the conversation core; a transport renders it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reminders import compose_reminder
from schedules.clock import Elapsed
from schedules.delivery import (
    DeliveryError,
    Outgoing,
    ReminderItem,
    Transport,
    as_delivery_error,
    within_send_timeout,
)
from schedules.locale import locale_of
from schedules.zones import resolve_zone
from storage.claims import renew_claim
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

log = logging.getLogger(__name__)


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
                    (await _outgoing(session, c.message, self.fallback_zone), c.maybe_sent)
                    for c in claimed
                ]
            if not batch:
                return result
            for outgoing, maybe_sent in batch:
                await self._send_one(outgoing, maybe_sent, now, elapsed.now(), result)
            if len(batch) < limit:
                return result

    async def _send_one(
        self,
        outgoing: Outgoing,
        maybe_sent: bool,
        now: datetime,
        sending_at: datetime,
        result: DispatchResult,
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
            external_id = await within_send_timeout(_attempt(transport, outgoing, maybe_sent))
        except Exception as exc:  # one send's failure, or bug, never stops the sweep's others
            failure = as_delivery_error(exc)
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


async def _attempt(transport: Transport, outgoing: Outgoing, maybe_sent: bool) -> str:
    """Compose and send; first ask the channel whether it went already, but only when an
    earlier attempt may have sent it (on Slack that look-up is two more API calls)."""
    if maybe_sent and (external_id := await transport.find_sent(outgoing)):
        return external_id
    return await transport.send(outgoing, compose_reminder(outgoing, outgoing.local_day))


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
