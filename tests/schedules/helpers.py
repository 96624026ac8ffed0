"""Builders shared by the reminder-engine tests: the shipped States, people, sweeps, transports.

The transports here stand in for the mail and Slack ones in ``bot``: a recording transport that
can be told to fail, and a directory outbox that, like the real one, names each file after the
message so ``find_sent`` can recognise a message that went out before a crash. The outbox's
crash hook (SIGKILL at a chosen point) exists only here, for ``worker_process``.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.replies import Reply
from schedules.delivery import DeliveryError, Outgoing, Transport
from schedules.dispatch import Dispatcher
from schedules.planner import SweepPlan, plan_due_reminders
from schedules.policy import ReminderPolicy
from storage.audit import SYSTEM
from storage.db import Store
from storage.models import Channel, Contact, Delivery, Message, Role
from storage.states import load_states
from storage.treaty_data import TreatyData, load_treaty_data

POLICY = ReminderPolicy()
SECRETARIAT = "Europe/Zurich"
ART7_2026 = "art7-annual-2026"  # the report covering 2026, due Friday 30 April 2027
LOADED_AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@cache
def shipped_data() -> TreatyData:
    return load_treaty_data()


def treaty_data(only: Iterable[str] | None = None) -> TreatyData:
    """The shipped treaty data, or just some of its States (loading all takes a second)."""
    data = shipped_data()
    if only is None:
        return data
    keep = set(only)
    return TreatyData(
        tuple(s for s in data.states if s.iso3 in keep),
        tuple(e for e in data.history if e.iso3 in keep),
    )


async def load_shipped_states(store: Store, only: Iterable[str] | None = None) -> None:
    async with store.transaction() as session:
        await load_states(session, treaty_data(only), SYSTEM, LOADED_AT)


async def add_contact(
    store: Store,
    iso3: str | None,
    name: str,
    *,
    role: Role = Role.DELEGATE,
    language: str | None = None,
    timezone: str | None = None,
    channel: Channel = Channel.EMAIL,
    slack_user_id: str | None = None,
    email: str | None = "",
) -> int:
    """Add a person (email derived from the name unless given; None for no email); their id."""
    address = f"{name.lower().replace(' ', '.')}@example.org" if email == "" else email
    async with store.transaction() as session:
        contact = Contact(
            name=name,
            email=address,
            state_iso3=iso3,
            role=role,
            language=language,
            timezone=timezone,
            channel=channel,
            slack_user_id=slack_user_id,
            created_at=LOADED_AT,
        )
        session.add(contact)
        await session.flush()
        return contact.id


async def sweep(store: Store, now: datetime, *, slack: bool = False) -> SweepPlan:
    """One planning pass, as the scheduled sweep runs it."""
    async with store.transaction() as session:
        return await plan_due_reminders(
            session, POLICY, now, slack=slack, secretariat_zone=SECRETARIAT
        )


async def all_messages(store: Store) -> list[Message]:
    async with store.transaction() as session:
        rows = await session.scalars(
            select(Message).options(selectinload(Message.deliveries)).order_by(Message.id)
        )
        return list(rows.all())


async def all_deliveries(store: Store) -> list[Delivery]:
    async with store.transaction() as session:
        rows = await session.scalars(
            select(Delivery).options(selectinload(Delivery.message)).order_by(Delivery.id)
        )
        return list(rows.all())


def at_local(day: date, hour: int, zone: str, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time somewhere."""
    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
    return wall.astimezone(UTC)


def external_id(message_id: int) -> str:
    return f"<ccm-{message_id}@reminders.test>"


@dataclass
class RecordingTransport:
    """Records what it sends; fails with the queued errors first, one per send."""

    failures: list[DeliveryError] = field(default_factory=list)
    # Message ids this transport should say already went out (a send before a crash).
    already_sent: set[int] = field(default_factory=set)
    sent: list[Outgoing] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    attempts: int = 0
    # Message ids the dispatcher asked about (find_sent), in order.
    looked_up: list[int] = field(default_factory=list)

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(outgoing)
        self.replies.append(reply)
        return external_id(outgoing.message_id)

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        self.looked_up.append(outgoing.message_id)
        if outgoing.message_id in self.already_sent:
            return external_id(outgoing.message_id)
        return None


class DuplicateSend(AssertionError):
    """The outbox was asked to write a message it already holds: a reminder sent twice."""


# Where a worker may be told to die: after claiming (nothing sent yet), or after sending
# (the file is written but the ledger does not know).
CRASH_POINTS = ("after-claim", "after-send")


@dataclass
class DirectoryOutbox:
    """Writes each message to ``<message id>.eml`` with O_EXCL and logs every write attempt.

    A second write of the same message cannot go unnoticed: the exclusive create fails and the
    shared append-only log holds the id twice.
    """

    directory: Path
    worker: str = "test"
    crash_at: str | None = None
    latency: float = 0.0  # seconds a send takes, like a round trip to an SMTP server

    @property
    def log(self) -> Path:
        return self.directory / "sends.log"

    def path(self, message_id: int) -> Path:
        return self.directory / f"{message_id}.eml"

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        if self.crash_at == "after-claim":
            os.kill(os.getpid(), signal.SIGKILL)
        if self.latency:
            await asyncio.sleep(self.latency)
        line = f"{outgoing.message_id} {self.worker}\n".encode()
        log = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(log, line)
        finally:
            os.close(log)
        try:
            handle = os.open(self.path(outgoing.message_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            raise DuplicateSend(f"message {outgoing.message_id} sent twice") from None
        body = "\n".join(
            [
                f"Message-ID: {external_id(outgoing.message_id)}",
                f"To: {outgoing.email}",
                f"X-Worker: {self.worker}",
                "",
                *(f"{i.state} {i.item} {i.stage}" for i in outgoing.items),
                "",
            ]
        )
        try:
            os.write(handle, body.encode())
        finally:
            os.close(handle)
        if self.crash_at == "after-send":
            os.kill(os.getpid(), signal.SIGKILL)
        return external_id(outgoing.message_id)

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        return external_id(outgoing.message_id) if self.path(outgoing.message_id).exists() else None

    def writes(self) -> list[tuple[int, str]]:
        """Every (message id, worker) write the log recorded, in order, repeats included."""
        if not self.log.exists():
            return []
        return [
            (int(i), w) for i, w in (line.split() for line in self.log.read_text().splitlines())
        ]

    def files(self) -> set[int]:
        return {int(p.stem) for p in self.directory.glob("*.eml")}


def email_dispatcher(store: Store, transport: Transport, worker: str = "w1") -> Dispatcher:
    return Dispatcher(store, {Channel.EMAIL: transport}, worker, fallback_zone="Etc/UTC")
