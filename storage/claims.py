"""Sending a stored row at most once, retrying with backoff: the claim and its release.

Shared by the reminder ledger (``Message``) and the queue of answers and notices
(``OutgoingMail``), and its timings by the digest. A worker claims due rows in one UPDATE whose
status guard makes the claim exclusive, commits, sends, then records the outcome; a failure
releases the row for a later attempt, or gives it up. A claim left by a crashed worker is taken
over once its lease has run out: each queue renews a claim just before its send
(``renew_claim``) and gives the send at most ``SEND_TIMEOUT``, so a claim older than
``CLAIM_LEASE`` is one nobody is sending, and a killed worker's rows wait minutes, not hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import Message, MessageStatus, OutgoingMail, SentWithRetries

# One send's deadline, a transport's own retries and Retry-After waits included.
SEND_TIMEOUT = timedelta(minutes=1)
# How long a renewed claim stands: the send's deadline, plus two minutes of clock drift between
# the hosts of two workers.
CLAIM_LEASE = SEND_TIMEOUT + timedelta(minutes=2)
MAX_ATTEMPTS = 6
ERROR_LIMIT = 2000

# The tables of rows sent this way: each has an id and the columns of ``SentWithRetries``.
Sendable = Message | OutgoingMail


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4, 8, 16 minutes…, capped at two hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=2))


def waiting(table: type[Sendable], now: datetime) -> ColumnElement[bool]:
    """Ready for an attempt: pending and past its backoff, or claimed by a worker gone silent
    (its claim older than ``CLAIM_LEASE``)."""
    return or_(
        and_(
            table.status == MessageStatus.PENDING,
            or_(table.next_attempt_at.is_(None), table.next_attempt_at <= now),
        ),
        and_(table.status == MessageStatus.CLAIMED, table.claimed_at < now - CLAIM_LEASE),
    )


async def claim_ids(
    session: AsyncSession,
    table: type[Sendable],
    due: ColumnElement[bool],
    order: Sequence[InstrumentedAttribute[Any]],
    worker: str,
    now: datetime,
    limit: int,
) -> Sequence[int]:
    """Claim up to ``limit`` rows that are ``due``, first in ``order``; their ids."""
    candidates = select(table.id).where(due).order_by(*order).limit(limit)
    chosen = candidates.scalar_subquery()
    if session.get_bind().dialect.name == "postgresql":
        # Materialised so the batch is picked once: as a plain IN (subquery) PostgreSQL may
        # re-run it for every row, each run skipping the rows this UPDATE already changed, and
        # so claim every due row whatever the limit.
        locked = candidates.with_for_update(skip_locked=True)
        batch = locked.cte("batch").prefix_with("MATERIALIZED")
        chosen = select(batch.c.id).scalar_subquery()
    # The status guard in WHERE (re-checked by the UPDATE itself) is what makes a claim exclusive.
    claimed = await session.scalars(
        update(table)
        .where(table.id.in_(chosen), due)
        .values(status=MessageStatus.CLAIMED, claimed_by=worker, claimed_at=now)
        .returning(table.id)
    )
    return claimed.all()


async def renew_claim(
    session: AsyncSession, table: type[Sendable], row_id: int, worker: str, now: datetime
) -> bool:
    """Restart a claim's lease just before its row is sent; False when the claim is no longer
    this worker's (taken over as stale, or released), and the row must not be sent here."""
    result = await session.execute(
        update(table)
        .where(
            table.id == row_id,
            table.status == MessageStatus.CLAIMED,
            table.claimed_by == worker,
        )
        .values(claimed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(
    row: SentWithRetries,
    now: datetime,
    error: str,
    *,
    permanent: bool,
    attempts: int = MAX_ATTEMPTS,
    retry_after: timedelta | None = None,
) -> None:
    """After a failed attempt: retried later with backoff (or after ``retry_after``, when the
    other side asked for longer), or given up (``failed``) when the failure is permanent or
    ``attempts`` are spent."""
    row.attempts += 1
    row.error = error[:ERROR_LIMIT]
    row.claimed_by = None
    row.claimed_at = None
    if permanent or row.attempts >= attempts:
        row.status = MessageStatus.FAILED
        row.next_attempt_at = None
    else:
        row.status = MessageStatus.PENDING
        row.next_attempt_at = now + max(retry_delay(row.attempts), retry_after or timedelta())
