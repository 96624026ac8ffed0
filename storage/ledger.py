"""The delivery ledger: what was planned, claimed, sent or failed, each reminder at most once.

Exactly-once rests on three things here: the ledger's unique key (a stage of an item for a
contact on a channel exists once), claiming before sending (PostgreSQL ``FOR UPDATE SKIP
LOCKED``; SQLite a status-guarded ``UPDATE … RETURNING`` inside ``BEGIN IMMEDIATE``), and a
message id that names the message everywhere it goes, so a crash between sending and recording
is recognised on restart instead of being repeated.

A killed worker's messages wait only ``storage.claims.CLAIM_LEASE``: the dispatcher renews each
claim just before its send and gives the send at most ``SEND_TIMEOUT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.claims import claim_ids, release, waiting
from storage.models import Channel, Contact, CustomDeadline, Delivery, Message, MessageStatus, State


@dataclass(frozen=True)
class PlannedReminder:
    """One stage of one item for one contact, as the planner decided it."""

    state: str
    item: str
    stage: str
    due: date
    contact_id: int
    channel: Channel
    local_day: date
    send_at: datetime
    language: str
    zone: str  # the recipient's IANA zone, to move the send time if the day is taken
    purpose: str = "reminder"


async def plan(session: AsyncSession, reminder: PlannedReminder, now: datetime) -> bool:
    """Add a reminder to the ledger unless its key is already there; True when added.

    It joins the person's message for that day on that channel, so items due together go out
    as one message.
    """
    exists = await session.scalar(
        select(Delivery.id).where(
            Delivery.state_iso3 == reminder.state,
            Delivery.item == reminder.item,
            Delivery.stage == reminder.stage,
            Delivery.contact_id == reminder.contact_id,
            Delivery.channel == reminder.channel,
        )
    )
    if exists is not None:
        return False
    try:
        # One savepoint for both: losing the race must not leave behind the (next day's)
        # message opened for a delivery that turned out to exist already.
        async with session.begin_nested():
            message = await _open_message(session, reminder, now)
            session.add(
                Delivery(
                    state_iso3=reminder.state,
                    item=reminder.item,
                    stage=reminder.stage,
                    due=reminder.due,
                    contact_id=reminder.contact_id,
                    channel=reminder.channel,
                    message_id=message.id,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False  # another process planned the same reminder a moment ago
    return True


async def _open_message(session: AsyncSession, reminder: PlannedReminder, now: datetime) -> Message:
    """The pending message for that person, channel and day; a new one if none is pending."""
    day = reminder.local_day
    while True:
        message = await session.scalar(
            select(Message).where(
                Message.contact_id == reminder.contact_id,
                Message.channel == reminder.channel,
                Message.local_day == day,
                Message.purpose == reminder.purpose,
            )
        )
        if message is None:
            try:
                async with session.begin_nested():
                    message = Message(
                        contact_id=reminder.contact_id,
                        channel=reminder.channel,
                        purpose=reminder.purpose,
                        local_day=day,
                        send_at=_same_local_time(reminder, day),
                        language=reminder.language,
                        created_at=now,
                    )
                    session.add(message)
                return message
            except IntegrityError:
                continue  # created concurrently: read it back
        if message.status == MessageStatus.PENDING:
            return message
        # That day's message is already out: at most one a day, so this one waits a day.
        day += timedelta(days=1)


def _same_local_time(reminder: PlannedReminder, day: date) -> datetime:
    zone = ZoneInfo(reminder.zone)
    wall = reminder.send_at.astimezone(zone).time().replace(tzinfo=None)
    return datetime.combine(day, wall, zone).astimezone(UTC)


@dataclass(frozen=True)
class Claimed:
    """A message this worker now holds, and whether an earlier attempt may have sent it."""

    message: Message
    # It failed before (perhaps after the other side had it: a timeout after posting), or a
    # worker died holding its claim. Only then is it worth asking the channel whether it went.
    maybe_sent: bool


async def claim(
    session: AsyncSession, worker: str, now: datetime, *, limit: int = 50
) -> Sequence[Claimed]:
    """Take due messages for this worker; no other worker can take them until released."""
    due = and_(Message.send_at <= now, waiting(Message, now))
    # Read before the claim overwrites who held them. A claim cannot turn stale between this
    # read and the UPDATE (its lease is minutes long), so none is wrongly taken as fresh.
    abandoned = set(
        await session.scalars(
            select(Message.id).where(due, Message.status == MessageStatus.CLAIMED)
        )
    )
    order = (Message.send_at, Message.id)
    claimed_ids = await claim_ids(session, Message, due, order, worker, now, limit)
    if not claimed_ids:
        return []
    rows = await session.scalars(
        select(Message)
        .where(Message.id.in_(claimed_ids))
        .options(selectinload(Message.deliveries))
        .order_by(Message.id)
        .execution_options(populate_existing=True)
    )
    return [Claimed(m, m.attempts > 0 or m.id in abandoned) for m in rows.all()]


async def record_sent(
    session: AsyncSession, message_id: int, worker: str, now: datetime, external_id: str
) -> bool:
    """Mark a claimed message sent; False if this worker no longer held the claim."""
    result = await session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.CLAIMED,
            Message.claimed_by == worker,
        )
        .values(status=MessageStatus.SENT, sent_at=now, external_id=external_id, error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_failure(
    session: AsyncSession,
    message_id: int,
    worker: str,
    now: datetime,
    error: str,
    *,
    permanent: bool,
    retry_after: timedelta | None = None,
) -> None:
    """Release a claim after a failure: retried later with backoff (or after the other side's
    Retry-After), or given up for the ISU."""
    message = await session.get(Message, message_id)
    if message is None or message.claimed_by != worker:
        return
    release(message, now, error, permanent=permanent, retry_after=retry_after)


async def cancel_unsent(
    session: AsyncSession, state: str, item: str, *, contact_id: int | None = None
) -> int:
    """Withdraw planned, unsent reminders for an item (report submitted, snoozed, opted out)."""
    unsent = select(Message.id).where(
        Message.status.in_((MessageStatus.PENDING, MessageStatus.FAILED))
    )
    conditions = [
        Delivery.state_iso3 == state,
        Delivery.item == item,
        Delivery.cancelled.is_(False),
        Delivery.message_id.in_(unsent.scalar_subquery()),
    ]
    if contact_id is not None:
        conditions.append(Delivery.contact_id == contact_id)
    result = await session.execute(update(Delivery).where(*conditions).values(cancelled=True))
    await _cancel_empty_messages(session)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def message_by_id(session: AsyncSession, message_id: int) -> Message | None:
    """A message with its deliveries (what it reminded of, to whom)."""
    return await session.scalar(
        select(Message).where(Message.id == message_id).options(selectinload(Message.deliveries))
    )


async def pending_items(session: AsyncSession) -> set[tuple[str, str]]:
    """The (State, item) pairs some unsent, uncancelled reminder is still planned for."""
    rows = await session.execute(
        select(Delivery.state_iso3, Delivery.item)
        .join(Message, Message.id == Delivery.message_id)
        .where(Message.status == MessageStatus.PENDING, Delivery.cancelled.is_(False))
        .distinct()
    )
    return {(state, item) for state, item in rows.all()}


@dataclass(frozen=True)
class Addressee:
    """Who a claimed message is for, and what its reminders are about."""

    contact: Contact
    state: State | None  # the State the contact speaks for
    states: dict[str, State]  # the States its live deliveries are about
    custom_titles: dict[str, str]  # "custom-ID" → the title the ISU gave it


async def addressee_of(session: AsyncSession, message: Message) -> Addressee:
    """Everything the dispatcher reads to address ``message`` (its deliveries loaded)."""
    contact = await session.get(Contact, message.contact_id)
    assert contact is not None
    live = {d.state_iso3 for d in message.deliveries if not d.cancelled}
    wanted = live | ({contact.state_iso3} if contact.state_iso3 else set())
    states = {s.iso3: s for s in await session.scalars(select(State).where(State.iso3.in_(wanted)))}
    custom = [
        int(d.item.removeprefix("custom-"))
        for d in message.deliveries
        if not d.cancelled and d.item.startswith("custom-")
    ]
    titles = {}
    if custom:
        rows = await session.scalars(select(CustomDeadline).where(CustomDeadline.id.in_(custom)))
        titles = {f"custom-{row.id}": row.title for row in rows}
    own = states.get(contact.state_iso3) if contact.state_iso3 else None
    return Addressee(contact, own, {k: v for k, v in states.items() if k in live}, titles)


async def _cancel_empty_messages(session: AsyncSession) -> None:
    live = select(Delivery.message_id).where(Delivery.cancelled.is_(False))
    await session.execute(
        update(Message)
        .where(Message.status == MessageStatus.PENDING, Message.id.not_in(live.scalar_subquery()))
        .values(status=MessageStatus.CANCELLED)
    )


async def recent_messages(
    session: AsyncSession, limit: int = 200
) -> Sequence[tuple[Message, str | None, int]]:
    """The newest messages, each with its contact's address and how many reminders it holds."""
    rows = await session.execute(
        select(Message, Contact.email, func.count(Delivery.id))
        .join(Contact, Contact.id == Message.contact_id)
        .join(Delivery, Delivery.message_id == Message.id)
        .group_by(Message.id, Contact.email)
        .order_by(Message.send_at.desc())
        .limit(limit)
    )
    return [(message, email, count) for message, email, count in rows.all()]


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Message.status, func.count()).group_by(Message.status))
    return {status.value: count for status, count in rows.all()}
