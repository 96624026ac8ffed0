"""Sending the weekly digest by email, once per person and week.

``DigestService.run`` is what the timetable calls every few minutes: it works out which week's
digest is due (``handlers.digest.due_period``: the last complete week once the send time has
passed) and sends it to every subscriber who has not had it. The ledger (``storage.digest``)
makes that once per person and week across restarts, misfires and bot processes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.digest_rendering import render_digest_email
from bot.mail.transports import MessageSender
from bot.settings import Settings
from handlers.digest import (
    DigestSchedule,
    SharedFacts,
    due_period,
    load_digest_facts,
    load_shared_facts,
    window_start,
)
from handlers.digest_composition import Digest, compose_digest, compose_summary
from handlers.turns import speaker_for
from schedules.clock import Clock, Elapsed
from schedules.delivery import as_delivery_error, within_send_timeout
from schedules.periods import Period
from schedules.zones import resolve_zone
from storage.contacts import contact_by_email
from storage.db import Store
from storage.digest import (
    claim_digest,
    digest_send_of,
    digest_subscribers,
    gets_digest,
    record_digest_failure,
    record_digest_sent,
    settled,
)
from storage.models import Contact, Role
from storage.visibility import Viewer

__all__ = ["DigestPreview", "DigestRun", "DigestService", "MessageSender", "SummaryPoster"]

log = logging.getLogger(__name__)


SummaryPoster = Callable[[str], Awaitable[object]]
"""Posts the week's summary to the digest channel (wired to Slack by the composition root);
what it returns (a Slack ``ts``) is recorded as the post's id."""


@dataclass
class DigestRun:
    """What one run did, for logs and ``ccm-bot digest send``."""

    period: Period
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0  # already sent, being sent by another process, or waiting for a retry
    summary_posted: bool = False


@dataclass(frozen=True)
class DigestPreview:
    contact: Contact
    subscribed: bool
    digest: Digest
    message: EmailMessage


class NobodyToPreview(LookupError):
    """No digest to show: ``email`` names no contact, or (None) nobody is subscribed."""

    def __init__(self, email: str | None) -> None:
        super().__init__(email)
        self.email = email


@dataclass
class DigestService:
    """Sends the weekly digest; the composition root builds one and the timetable runs it."""

    store: Store
    sender: MessageSender
    clock: Clock
    mail_from: str
    signing_key: bytes
    reply_domain: str
    zone: ZoneInfo
    worker: str
    schedule: DigestSchedule = field(default_factory=DigestSchedule)
    post_summary: SummaryPoster | None = None
    summary_channel: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        store: Store,
        sender: MessageSender,
        clock: Clock,
        worker: str,
        schedule: DigestSchedule | None = None,
        post_summary: SummaryPoster | None = None,
    ) -> DigestService:
        return cls(
            store=store,
            sender=sender,
            clock=clock,
            mail_from=settings.mail_from,
            signing_key=settings.signing_key,
            reply_domain=settings.reply_domain,
            zone=resolve_zone(settings.timezone),
            worker=worker,
            schedule=schedule or DigestSchedule(),
            post_summary=post_summary,
            summary_channel=settings.digest_channel,
        )

    def due_period(self, now: datetime | None = None) -> Period:
        return due_period(now or self.clock.now(), self.zone, self.schedule)

    async def run(self, now: datetime | None = None) -> DigestRun:
        """Send the digest that is due now to whoever has not had it; safe to call any time."""
        moment = now or self.clock.now()
        return await self.send(self.due_period(moment), moment)

    async def run_logged(self) -> None:
        """The scheduled form: a failing run is logged and tried again at the next tick."""
        try:
            result = await self.run()
        except Exception:
            log.exception("weekly digest failed; it is tried again at the next tick")
            return
        if result.sent or result.failed:
            log.info(
                "digest for the week from %s: %d sent, %d failed",
                result.period.start.astimezone(self.zone).date(),
                len(result.sent),
                len(result.failed),
            )

    async def send(self, period: Period, now: datetime | None = None) -> DigestRun:
        """Send one week's digest to every subscriber who has not had it (once each)."""
        moment = now or self.clock.now()
        result = DigestRun(period)
        post, channel = self.post_summary, self.summary_channel
        async with self.store.transaction() as session:
            subscribers = await digest_subscribers(session)
            done, posted = await settled(session, period.start, moment)
            waiting = [c for c in subscribers if c.id not in done]
            result.skipped = len(subscribers) - len(waiting)
            summary_due = post is not None and bool(channel) and channel not in posted
            if not waiting and not summary_due:
                return result  # the usual check: everything went out already
            shared = await load_shared_facts(session, period, self.zone)
        # Each claim is stamped with the moment it is taken: its lease runs from its own send.
        elapsed = Elapsed(moment)
        for contact in waiting:
            await self._send_one(contact, shared, elapsed.now(), result)
        if summary_due and post is not None and channel:
            await self._post_summary(post, channel, shared, elapsed.now(), result)
        return result

    async def _send_one(
        self, contact: Contact, shared: SharedFacts, now: datetime, result: DigestRun
    ) -> None:
        period = shared.period
        async with self.store.transaction() as session:
            claimed = await claim_digest(
                session,
                contact_id=contact.id,
                period_start=period.start,
                period_end=period.end,
                worker=self.worker,
                now=now,
            )
        if claimed is None:
            result.skipped += 1
            return
        assert contact.email is not None  # digest_subscribers has an address for everyone
        try:
            async with self.store.transaction() as session:
                digest = await self._compose(session, contact, shared)
            msg = render_digest_email(
                digest,
                to=contact.email,
                sender=self.mail_from,
                send_id=claimed.id,
                key=self.signing_key,
                reply_domain=self.reply_domain,
                issued=shared.today,
                sent_at=now,
            )
            message_id = await within_send_timeout(self.sender.send_message(msg))
        except Exception as exc:
            failure = as_delivery_error(exc)
            if failure is exc:
                log.warning("digest to contact %s failed: %s", contact.id, failure)
            else:
                log.exception("digest to contact %s failed", contact.id)
            async with self.store.transaction() as session:
                await record_digest_failure(
                    session, claimed.id, self.worker, now, str(failure), permanent=failure.permanent
                )
            result.failed.append(contact.email)
            return
        async with self.store.transaction() as session:
            await record_digest_sent(session, claimed.id, self.worker, now, message_id)
        result.sent.append(contact.email)

    async def _compose(
        self, session: AsyncSession, contact: Contact, shared: SharedFacts
    ) -> Digest:
        speaker = await speaker_for(session, contact, self.zone.key)
        since = await window_start(session, contact.id, shared.period)
        facts = await load_digest_facts(session, Viewer.of(contact), shared, since)
        return compose_digest(facts, name=contact.name, language=speaker.language)

    async def _post_summary(
        self,
        post: SummaryPoster,
        channel: str,
        shared: SharedFacts,
        now: datetime,
        result: DigestRun,
    ) -> None:
        period = shared.period
        async with self.store.transaction() as session:
            claimed = await claim_digest(
                session,
                slack_channel=channel,
                period_start=period.start,
                period_end=period.end,
                worker=self.worker,
                now=now,
            )
        if claimed is None:
            return
        try:
            async with self.store.transaction() as session:
                # A shared channel is read as a delegate would: no coordinators-only item.
                facts = await load_digest_facts(
                    session, Viewer(Role.DELEGATE), shared, period.start
                )
            posted = await within_send_timeout(post(compose_summary(facts)))
        except Exception as exc:
            log.exception("digest summary to %s failed", channel)
            async with self.store.transaction() as session:
                await record_digest_failure(
                    session, claimed.id, self.worker, now, str(exc), permanent=False
                )
            return
        async with self.store.transaction() as session:
            await record_digest_sent(
                session, claimed.id, self.worker, now, posted if isinstance(posted, str) else None
            )
        result.summary_posted = True

    async def preview(self, period: Period, email: str | None = None) -> DigestPreview:
        """Exactly what a person gets for a week, composed without sending or recording.

        Without ``email``, the first subscriber's. Raises NobodyToPreview when there is nobody.
        """
        async with self.store.transaction() as session:
            if email is not None:
                contact = await contact_by_email(session, email)
                if contact is None or contact.forgotten_at is not None or not contact.email:
                    raise NobodyToPreview(email)
            else:
                subscribers = await digest_subscribers(session)
                if not subscribers:
                    raise NobodyToPreview(None)
                contact = subscribers[0]
            shared = await load_shared_facts(session, period, self.zone)
            digest = await self._compose(session, contact, shared)
            sent = await digest_send_of(session, contact.id, period.start)
        assert contact.email is not None
        message = render_digest_email(
            digest,
            to=contact.email,
            sender=self.mail_from,
            send_id=sent or 0,
            key=self.signing_key,
            reply_domain=self.reply_domain,
            issued=shared.today,
            sent_at=self.clock.now(),
        )
        return DigestPreview(contact, gets_digest(contact), digest, message)
