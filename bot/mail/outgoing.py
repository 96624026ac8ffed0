"""Answers and ISU notices: stored with what they answer, sent, and retried until delivered.

A mail the bot owes someone (the answer to a reply, a proposal to confirm, a notice to the
ISU) is first a row in ``outgoing_mail``, added in the transaction that decides it (``add``),
so a crash between recording a reply and mailing its answer cannot lose the answer. It is then
sent at once (``send``); what that could not send is left to the timetable's retry job
(``run``, every minute), which also sends anything a crash left behind.

Each attempt claims the row first (``storage.outgoing``), so the immediate send, the job and a
second bot never send one mail twice, and sends the stored bytes, so the Message-ID and Date
are the same on every attempt. A temporary failure (4xx, the server unreachable, any
unexpected error) is retried with the reminder ledger's backoff; a permanent one (5xx, a
refused recipient) is not. A mail given up is noted on its row, and the ISU is mailed the
undelivered message in CCM_ISU_LANGUAGE, unless the mail was itself to the ISU.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.answers import undelivered_notice
from bot.mail.transports import MessageSender
from bot.settings import Settings
from handlers.i18n import translator
from schedules.clock import Clock, Elapsed
from schedules.delivery import as_delivery_error, within_send_timeout
from storage.claims import renew_claim
from storage.db import Store
from storage.models import MessageStatus, OutgoingMail
from storage.outgoing import (
    ANSWER,
    NOTICE,
    claim_mail,
    queue_mail,
    record_mail_failure,
    record_mail_sent,
)

__all__ = ["MailQueue", "MailRun", "MessageSender"]

log = logging.getLogger(__name__)

# Rows claimed at a time: each holds a whole message (a refusal notice carries the original).
BATCH = 10


@dataclass
class MailRun:
    """What one pass did, by outgoing_mail id: for logs, tests and ``ccm-bot mail retry``."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)

    def merge(self, other: MailRun) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.given_up += other.given_up
        self.errors |= other.errors


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _recipient(msg: EmailMessage) -> str:
    addresses = [address for _name, address in getaddresses(msg.get_all("To", [])) if address]
    return addresses[0] if addresses else ""


def _message_id(msg: EmailMessage) -> str:
    message_id = msg.get("Message-ID")
    if not message_id:
        raise ValueError("a queued mail needs a Message-ID (answer_email and _notice set one)")
    return str(message_id).strip()


def _parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)  # policy.default's message factory
    return msg


@dataclass
class MailQueue:
    """Sends the bot's answers and notices through ``sender``, keeping each until it is sent."""

    store: Store
    sender: MessageSender
    settings: Settings
    clock: Clock
    worker: str
    batch: int = BATCH

    def __post_init__(self) -> None:
        self.isu_t = translator(self.settings.isu_language)
        self._isu_address = parseaddr(self.settings.isu_email or "")[1].lower()

    def _to_isu(self, recipient: str) -> bool:
        """Mail to the ISU itself: if it fails, there is nobody else to tell."""
        return bool(self._isu_address) and recipient.lower() == self._isu_address

    # ------------------------------------------------------------------ queueing

    async def add(
        self,
        session: AsyncSession,
        mails: Sequence[EmailMessage],
        *,
        inbound_id: int | None = None,
        now: datetime | None = None,
    ) -> list[int]:
        """Store mails to send in the caller's transaction; returns their ids for ``send``."""
        moment = now or self.clock.now()
        rows = []
        for msg in mails:
            recipient = _recipient(msg)
            rows.append(
                queue_mail(
                    session,
                    msg.as_bytes(policy=policy.SMTP),
                    recipient=recipient,
                    subject=_one_line(msg.get("Subject", "")),
                    message_id=_message_id(msg),
                    purpose=NOTICE if self._to_isu(recipient) else ANSWER,
                    inbound_id=inbound_id,
                    now=moment,
                )
            )
        await session.flush()
        return [row.id for row in rows]

    async def submit(
        self, mails: Sequence[EmailMessage], *, inbound_id: int | None = None
    ) -> MailRun:
        """Store mails in a transaction of their own, then send them."""
        async with self.store.transaction() as session:
            ids = await self.add(session, mails, inbound_id=inbound_id)
        return await self.send(ids)

    # ------------------------------------------------------------------ sending

    async def send(self, ids: Sequence[int]) -> MailRun:
        """Send these stored mails now, unless another worker has taken them or they wait
        for a retry; called right after the transaction that added them."""
        if not ids:
            return MailRun()
        return await self._run(self.clock.now(), ids)

    async def run(self, now: datetime | None = None) -> MailRun:
        """The retry job: send every mail that is due (a retry whose time has come, a mail a
        crash left unsent, a claim abandoned by a crashed worker)."""
        return await self._run(now or self.clock.now(), None)

    async def run_logged(self) -> None:
        """The scheduled form: a failing run is logged and tried again at the next tick."""
        try:
            result = await self.run()
        except Exception:
            log.exception("sending queued mail failed; it is tried again at the next interval")
            return
        if result.sent or result.retrying or result.given_up:
            log.info(
                "queued mail: %d sent, %d to retry, %d given up",
                len(result.sent),
                len(result.retrying),
                len(result.given_up),
            )

    async def _run(self, now: datetime, ids: Sequence[int] | None) -> MailRun:
        result = MailRun()
        notices: list[int] = []
        elapsed = Elapsed(now)
        while True:
            async with self.store.transaction() as session:
                claimed = await claim_mail(
                    session, self.worker, elapsed.now(), ids=ids, limit=self.batch
                )
            for row in claimed:
                notices += await self._send_one(row, now, elapsed.now(), result)
            if len(claimed) < self.batch:
                break
        if notices:
            # A mail just given up: its notice to the ISU goes at once, not at the next tick.
            result.merge(await self._run(now, notices))
        return result

    async def _send_one(
        self, row: OutgoingMail, now: datetime, sending_at: datetime, result: MailRun
    ) -> list[int]:
        """One attempt; returns the ids of notices queued because the mail was given up.

        The claim is renewed first, so its lease runs from this send (one of a batch claimed
        together), and the send gets at most ``SEND_TIMEOUT``: a claim older than the lease is
        then one nobody is sending, and a killed worker's mail waits minutes, not hours.
        """
        async with self.store.transaction() as session:
            if not await renew_claim(session, OutgoingMail, row.id, self.worker, sending_at):
                return []  # taken over by another worker meanwhile
        try:
            await within_send_timeout(self.sender.send_message(_parsed(row.raw)))
        except Exception as exc:
            failure = as_delivery_error(exc)
            if failure is exc:
                log.warning("mail #%d to %s not sent: %s", row.id, row.recipient, failure)
            else:
                # Not the mail server's answer (a bug, a full disk): retried like a 4xx.
                log.exception("mail #%d to %s not sent", row.id, row.recipient)
            result.errors[row.id] = str(failure)
            return await self._failed(row.id, now, str(failure), failure.permanent, result)
        async with self.store.transaction() as session:
            await record_mail_sent(session, row.id, self.worker, now)
        result.sent.append(row.id)
        return []

    async def _failed(
        self, mail_id: int, now: datetime, reason: str, permanent: bool, result: MailRun
    ) -> list[int]:
        async with self.store.transaction() as session:
            row = await record_mail_failure(
                session, mail_id, self.worker, now, reason, permanent=permanent
            )
            if row is None:
                return []  # the claim went stale and another worker took it over
            if row.status is not MessageStatus.FAILED:
                result.retrying.append(mail_id)
                return []
            result.given_up.append(mail_id)
            log.error(
                "mail #%d to %s given up after %d attempt(s): %s",
                mail_id,
                row.recipient,
                row.attempts,
                reason,
            )
            if row.purpose != ANSWER:
                return []  # the ISU's own mail: there is nobody else to tell
            notice = undelivered_notice(
                self.settings,
                self.isu_t,
                mail_id=row.id,
                recipient=row.recipient,
                subject=row.subject,
                error=reason,
                attempts=row.attempts,
                inbound_id=row.inbound_id,
                raw=row.raw,
                now=now,
            )
            if notice is None:
                return []
            # In the transaction that gives the mail up: the ISU hears of it even after a crash.
            return await self.add(session, [notice], inbound_id=row.inbound_id, now=now)
