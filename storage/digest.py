"""The weekly digest's subscribers and its send ledger (what happened in a week is in
``storage.digest_activity``).

Exactly-once follows the reminder ledger's idea (``storage.ledger``) with a simpler key: one
``DigestSend`` row per person and ISO week (``UNIQUE(contact_id, period_start)``), claimed and
committed before the mail goes out and recorded after. A second process, a restart or a misfire
finds the row and sends nothing; a claim left by a crashed worker is taken over after
``storage.claims.CLAIM_LEASE`` (each row is claimed just before its send, which has at most
``SEND_TIMEOUT``), and the resend keeps the Message-ID (derived from the row's id), so
receiving servers and the outbox recognise it.

Every function takes its session from the caller.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import SYSTEM, Actor, record_change, snapshot
from storage.claims import CLAIM_LEASE, MAX_ATTEMPTS, retry_delay
from storage.contacts import UnknownContact
from storage.models import (
    Contact,
    DigestSend,
    Role,
)

# DigestSend.status
SENDING = "sending"
SENT = "sent"
RETRY = "retry"
FAILED = "failed"

# Roles that get the digest unless they switched it off (Contact.digest None = by role).
SUBSCRIBED_BY_DEFAULT = (Role.COORDINATOR, Role.ISU)

# Reply tokens carry a 40-bit key (bot.mail.tokens). Reminder keys are Message ids; digest
# keys live in the top half, which no Message id reaches, so one token format serves both.
DIGEST_KEY_BASE = 1 << 39


def digest_key(send_id: int) -> int:
    """The reply-token key of one digest send."""
    return DIGEST_KEY_BASE + send_id


def digest_send_id(key: int) -> int | None:
    """The DigestSend id a verified token key names, or None for a reminder's key."""
    return key - DIGEST_KEY_BASE if key >= DIGEST_KEY_BASE else None


# --- who gets it ---------------------------------------------------------------------------


def subscribed() -> ColumnElement[bool]:
    """Contacts whose digest flag is on: explicitly, or by default for their role."""
    return or_(
        Contact.digest.is_(True),
        and_(Contact.digest.is_(None), Contact.role.in_(SUBSCRIBED_BY_DEFAULT)),
    )


def gets_digest(contact: Contact) -> bool:
    if contact.digest is not None:
        return contact.digest
    return contact.role in SUBSCRIBED_BY_DEFAULT


async def digest_subscribers(session: AsyncSession) -> list[Contact]:
    """Active, reachable people subscribed to the digest, in id order."""
    rows = await session.scalars(
        select(Contact)
        .where(
            subscribed(),
            Contact.active.is_(True),
            Contact.forgotten_at.is_(None),
            Contact.email.is_not(None),
            Contact.email_bouncing.is_(False),
        )
        .order_by(Contact.id)
    )
    return list(rows.all())


async def set_digest(
    session: AsyncSession,
    contact_id: int,
    on: bool,
    *,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> bool:
    """Switch one person's digest on or off (``/ccm digest on|off``, a STOP reply); audited.

    Returns whether the person's subscription changed (a coordinator switching "on" was on
    already, by role). Raises ``UnknownContact`` for an unknown, inactive or
    forgotten contact. ``now`` is the audit time: pass the injected clock's.
    """
    contact = await session.get(Contact, contact_id)
    if contact is None or not contact.active or contact.forgotten_at is not None:
        raise UnknownContact(f"no active contact {contact_id}")
    if contact.digest is on:
        return False
    before = snapshot(contact)
    was_on = gets_digest(contact)
    contact.digest = on
    await session.flush()
    record_change(session, actor, now or datetime.now(UTC), contact, "update", before)
    return was_on is not on


# --- the ledger ----------------------------------------------------------------------------


async def _find(
    session: AsyncSession, contact_id: int | None, slack_channel: str | None, start: datetime
) -> DigestSend | None:
    who = (
        DigestSend.contact_id == contact_id
        if contact_id is not None
        else DigestSend.slack_channel == slack_channel
    )
    return await session.scalar(
        select(DigestSend)
        .where(who, DigestSend.period_start == start)
        .execution_options(populate_existing=True)
    )


async def digest_send_of(session: AsyncSession, contact_id: int, start: datetime) -> int | None:
    """The id of the week's digest row for this person, if the week was planned for them."""
    return await session.scalar(
        select(DigestSend.id).where(
            DigestSend.contact_id == contact_id, DigestSend.period_start == start
        )
    )


async def digest_send_by_id(session: AsyncSession, send_id: int) -> DigestSend | None:
    return await session.get(DigestSend, send_id)


async def claim_digest(
    session: AsyncSession,
    *,
    period_start: datetime,
    period_end: datetime,
    worker: str,
    now: datetime,
    contact_id: int | None = None,
    slack_channel: str | None = None,
) -> DigestSend | None:
    """Take the digest of one period for one recipient; None when it is not ours to send.

    Not ours: sent already, being sent by a live worker, given up, or waiting for its retry.
    The caller commits before sending, so the claim is visible to every other process.
    """
    if (contact_id is None) == (slack_channel is None):
        raise ValueError("a digest goes to a contact or to a Slack channel")
    existing = await _find(session, contact_id, slack_channel, period_start)
    if existing is None:
        try:
            async with session.begin_nested():
                row = DigestSend(
                    contact_id=contact_id,
                    slack_channel=slack_channel,
                    period_start=period_start,
                    period_end=period_end,
                    status=SENDING,
                    attempts=0,
                    claimed_by=worker,
                    claimed_at=now,
                    created_at=now,
                )
                session.add(row)
            return row
        except IntegrityError:
            # Another process claimed it a moment ago (PostgreSQL waited for its commit).
            existing = await _find(session, contact_id, slack_channel, period_start)
            if existing is None:  # pragma: no cover - the unique key says it exists
                return None
    # A retry that is due, or a claim abandoned by a crashed worker, is taken over; the
    # status guard in WHERE makes the takeover exclusive.
    takeover = or_(
        and_(
            DigestSend.status == RETRY,
            or_(DigestSend.next_attempt_at.is_(None), DigestSend.next_attempt_at <= now),
        ),
        and_(DigestSend.status == SENDING, DigestSend.claimed_at < now - CLAIM_LEASE),
    )
    taken = await session.scalar(
        update(DigestSend)
        .where(DigestSend.id == existing.id, takeover)
        .values(status=SENDING, claimed_by=worker, claimed_at=now)
        .returning(DigestSend.id)
    )
    if taken is None:
        return None
    return await _find(session, contact_id, slack_channel, period_start)


async def record_digest_sent(
    session: AsyncSession, send_id: int, worker: str, now: datetime, message_id: str | None
) -> bool:
    """Mark a claimed digest sent; False if this worker no longer held the claim."""
    result = await session.execute(
        update(DigestSend)
        .where(
            DigestSend.id == send_id,
            DigestSend.status == SENDING,
            DigestSend.claimed_by == worker,
        )
        .values(status=SENT, sent_at=now, message_id=message_id, error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_digest_failure(
    session: AsyncSession,
    send_id: int,
    worker: str,
    now: datetime,
    error: str,
    *,
    permanent: bool,
) -> None:
    """Release a claim after a failure: retried at a later tick with backoff, or given up."""
    row = await session.get(DigestSend, send_id, populate_existing=True)
    if row is None or row.claimed_by != worker or row.status != SENDING:
        return
    row.attempts += 1
    row.error = error[:2000]
    row.claimed_by = None
    row.claimed_at = None
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = FAILED
        row.next_attempt_at = None
    else:
        row.status = RETRY
        row.next_attempt_at = now + retry_delay(row.attempts)


async def last_sent_end(
    session: AsyncSession, contact_id: int, before: datetime
) -> datetime | None:
    """When the person's last digest sent before ``before`` ended: where "since" begins."""
    return await session.scalar(
        select(func.max(DigestSend.period_end)).where(
            DigestSend.contact_id == contact_id,
            DigestSend.status == SENT,
            DigestSend.period_end <= before,
        )
    )


async def settled(
    session: AsyncSession, period_start: datetime, now: datetime
) -> tuple[set[int], set[str]]:
    """Contacts and Slack channels with nothing to do for a period at ``now``.

    Sent, given up, being sent by a live worker, or waiting for a retry that is not yet due:
    the scheduled check runs every few minutes, and this keeps it to one query when so.
    """
    rows = await session.execute(
        select(DigestSend.contact_id, DigestSend.slack_channel).where(
            DigestSend.period_start == period_start,
            or_(
                DigestSend.status.in_((SENT, FAILED)),
                and_(DigestSend.status == SENDING, DigestSend.claimed_at >= now - CLAIM_LEASE),
                and_(DigestSend.status == RETRY, DigestSend.next_attempt_at > now),
            ),
        )
    )
    contacts: set[int] = set()
    channels: set[str] = set()
    for contact_id, channel in rows.all():
        if contact_id is not None:
            contacts.add(contact_id)
        if channel is not None:
            channels.add(channel)
    return contacts, channels
