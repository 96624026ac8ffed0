"""Outgoing mail kept until sent: queued, claimed, sent or retried with backoff, or given up.

The reminder ledger's rules (``storage.claims``), applied to mails that exist before they are
sent (answers to replies, notices to the ISU): a row is added in the transaction that decides
the mail, claimed and committed before each attempt (so two workers, or the bot and the
command line, never send it both), and released after a failure with the same backoff.
Every function takes its session from the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from storage.claims import claim_ids, release, waiting
from storage.models import Contact, DigestSend, Message, MessageStatus, OutgoingMail

# OutgoingMail.purpose
ANSWER = "answer"
NOTICE = "notice"
# About ten hours of tries (1, 2, 4 … 64 minutes, then every two hours): an answer, or a
# proposal waiting for CONFIRM, still matters after a night's outage, when a reminder's day has
# passed (reminders give up after ``claims.MAX_ATTEMPTS``).
MAIL_ATTEMPTS = 12


def queue_mail(
    session: AsyncSession,
    raw: bytes,
    *,
    recipient: str,
    subject: str,
    message_id: str,
    purpose: str,
    now: datetime,
    inbound_id: int | None = None,
) -> OutgoingMail:
    """Add one mail to send, due at once; it is committed with the caller's transaction."""
    row = OutgoingMail(
        inbound_id=inbound_id,
        purpose=purpose,
        recipient=recipient[:254],
        subject=subject,
        message_id=message_id[:998],
        raw=raw,
        status=MessageStatus.PENDING,
        attempts=0,
        created_at=now,
    )
    session.add(row)
    return row


async def claim_mail(
    session: AsyncSession,
    worker: str,
    now: datetime,
    *,
    ids: Sequence[int] | None = None,
    limit: int = 10,
) -> list[OutgoingMail]:
    """Take due mails (only those of ``ids`` if given) for this worker, oldest first."""
    due = waiting(OutgoingMail, now)
    if ids is not None:
        due = and_(due, OutgoingMail.id.in_(ids))
    order = (OutgoingMail.id,)
    claimed_ids = await claim_ids(session, OutgoingMail, due, order, worker, now, limit)
    if not claimed_ids:
        return []
    rows = await session.scalars(
        select(OutgoingMail)
        .where(OutgoingMail.id.in_(claimed_ids))
        .order_by(OutgoingMail.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def record_mail_sent(session: AsyncSession, mail_id: int, worker: str, now: datetime) -> bool:
    """Mark a claimed mail sent; False if this worker no longer held the claim."""
    result = await session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.status == MessageStatus.CLAIMED,
            OutgoingMail.claimed_by == worker,
        )
        .values(
            status=MessageStatus.SENT,
            sent_at=now,
            error=None,
            next_attempt_at=None,
            claimed_by=None,
            claimed_at=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_mail_failure(
    session: AsyncSession,
    mail_id: int,
    worker: str,
    now: datetime,
    error: str,
    *,
    permanent: bool,
) -> OutgoingMail | None:
    """Release a claim after a failed attempt: retried later with backoff, or given up
    (``failed``) when permanent or after the last attempt. None if the claim was not ours."""
    row = await session.get(OutgoingMail, mail_id, populate_existing=True)
    if row is None or row.status is not MessageStatus.CLAIMED or row.claimed_by != worker:
        return None
    release(row, now, error, permanent=permanent, attempts=MAIL_ATTEMPTS)
    return row


async def retry_mail(session: AsyncSession, mail_id: int) -> OutgoingMail | None:
    """Put a mail that is waiting, given up or forgotten back in line, due at once and with
    its attempts counted afresh; None if there is no such mail. A sent mail, or one being
    sent, is returned unchanged."""
    row = await session.get(OutgoingMail, mail_id, populate_existing=True)
    if row is None or row.status in (MessageStatus.SENT, MessageStatus.CLAIMED):
        return row
    row.status = MessageStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = None
    return row


async def forget_mail(session: AsyncSession, mail_id: int) -> OutgoingMail | None:
    """Stop trying to send a mail (``cancelled``); a sent mail, or one being sent, is returned
    unchanged. None if there is no such mail."""
    row = await session.get(OutgoingMail, mail_id, populate_existing=True)
    if row is None or row.status in (MessageStatus.SENT, MessageStatus.CLAIMED):
        return row
    row.status = MessageStatus.CANCELLED
    row.next_attempt_at = None
    return row


async def unsent_mail(session: AsyncSession, *, limit: int = 200) -> list[OutgoingMail]:
    """Mails not sent: waiting for a retry, being sent, or given up; oldest first."""
    rows = await session.scalars(
        select(OutgoingMail)
        .where(
            OutgoingMail.status.in_(
                (MessageStatus.PENDING, MessageStatus.CLAIMED, MessageStatus.FAILED)
            )
        )
        .order_by(OutgoingMail.id)
        .limit(limit)
        .options(defer(OutgoingMail.raw, raiseload=True))  # a listing needs no message bodies
    )
    return list(rows.all())


async def mail_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)
    )
    return {status.value: count for status, count in rows.all()}


async def mail_stored(session: AsyncSession, message_id: str) -> bool:
    """Whether a mail with this Message-ID is already stored (sent, waiting or given up)."""
    found = await session.scalar(
        select(OutgoingMail.id).where(OutgoingMail.message_id == message_id).limit(1)
    )
    return found is not None


async def sent_to(
    session: AsyncSession,
    email: str,
    *,
    reminders: Sequence[int] = (),
    digests: Sequence[int] = (),
    message_ids: Collection[str] = (),
) -> bool:
    """Whether one of these reminders, digests or stored mails (by Message-ID) went to
    ``email``: what a bounce must show before it may mark an address."""
    proofs: list[ColumnElement[bool]] = []
    if reminders:
        proofs.append(
            exists().where(
                Message.id.in_(reminders), Message.contact_id == Contact.id, Contact.email == email
            )
        )
    if digests:
        proofs.append(
            exists().where(
                DigestSend.id.in_(digests),
                DigestSend.contact_id == Contact.id,
                Contact.email == email,
            )
        )
    if message_ids:
        proofs.append(
            exists().where(
                OutgoingMail.message_id.in_(message_ids),
                func.lower(OutgoingMail.recipient) == email,
            )
        )
    for proof in proofs:
        if await session.scalar(select(proof)):
            return True
    return False
