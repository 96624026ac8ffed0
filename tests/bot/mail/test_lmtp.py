"""The LMTP server against the standard library's LMTP client: statuses, sizes, durability.

``accept`` here is a stand-in for the store; ``test_inbound.py`` runs the real one.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from bot.mail.lmtp import DEFAULT_DATA_SIZE_LIMIT, LmtpServer, ReceivedMail
from tests.fakes.waiting import WAIT  # a bound on every wait, never a sleep

MESSAGE = (
    b"From: Ana Ruiz <ana.ruiz@ministry.test>\r\n"
    b"To: reply+abc@reply.ccm.example.org\r\n"
    b"Subject: Re: reminder\r\n"
    b"Message-ID: <m1@ministry.test>\r\n"
    b"\r\n"
    b"SUBMITTED on 12 March.\r\n"
)
RECIPIENTS = [
    "reply+aaaa@reply.ccm.example.org",
    "reply+bbbb@reply.ccm.example.org",
    "reply+cccc@reply.ccm.example.org",
]


@dataclass
class Store:
    """Records what ``accept`` was given; can fail, or hold until released."""

    accepted: list[ReceivedMail] = field(default_factory=list)
    error: Exception | None = None
    hold: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def accept(self, mail: ReceivedMail) -> None:
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.error is not None:
            raise self.error
        self.accepted.append(mail)


async def start(accept: Callable[[ReceivedMail], Awaitable[None]], **options: int) -> LmtpServer:
    server = LmtpServer(accept, host="127.0.0.1", port=0, hostname="lmtp.test", **options)
    await server.start()
    return server


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
async def server(store: Store) -> AsyncIterator[LmtpServer]:
    running = await start(store.accept)
    yield running
    await running.stop()


def transaction(
    port: int, recipients: list[str], data: bytes, *, mail_options: tuple[str, ...] = ()
) -> list[tuple[int, bytes]]:
    """One LMTP transaction; every reply from MAIL on (RFC 2033: one per recipient after DATA).

    smtplib.LMTP reads only the first reply to DATA, so the others are read one by one.
    """
    replies: list[tuple[int, bytes]] = []
    with smtplib.LMTP("127.0.0.1", port, timeout=WAIT) as client:
        client.ehlo()  # sends LHLO
        replies.append(client.mail("sender@ministry.test", list(mail_options)))
        if replies[-1][0] != 250:
            return replies
        accepted = 0
        for recipient in recipients:
            replies.append(client.rcpt(recipient))
            accepted += replies[-1][0] == 250
        replies.append(client.data(data))
        replies += [client.getreply() for _ in range(accepted - 1)]
        assert client.noop()[0] == 250  # the session is still in step after DATA
    return replies


async def test_data_is_answered_once_per_recipient_and_stored_once(
    server: LmtpServer, store: Store
) -> None:
    replies = await asyncio.to_thread(transaction, server.bound_port, RECIPIENTS, MESSAGE)

    assert [code for code, _ in replies] == [250, 250, 250, 250, 250, 250, 250]
    assert replies[-3:] == [(250, b"2.0.0 Message accepted")] * 3
    assert len(store.accepted) == 1
    assert store.accepted[0].mail_from == "sender@ministry.test"
    assert store.accepted[0].rcpt_tos == tuple(RECIPIENTS)
    assert store.accepted[0].content == MESSAGE


async def test_lhlo_advertises_the_size_limit(server: LmtpServer) -> None:
    def lhlo() -> tuple[int, str | None]:
        with smtplib.LMTP("127.0.0.1", server.bound_port, timeout=WAIT) as client:
            code, _ = client.ehlo()
            return code, client.esmtp_features.get("size")

    assert await asyncio.to_thread(lhlo) == (250, str(DEFAULT_DATA_SIZE_LIMIT))


async def test_oversized_message_gets_552_per_recipient_and_is_not_stored(store: Store) -> None:
    server = await start(store.accept, data_size_limit=2048)
    try:
        big = MESSAGE + b"x" * 76 + b"\r\n"
        big += (b"y" * 76 + b"\r\n") * 40
        replies = await asyncio.to_thread(transaction, server.bound_port, RECIPIENTS[:2], big)
    finally:
        await server.stop()

    assert replies[-2:] == [(552, b"5.3.4 Message too big: the limit is 2048 bytes")] * 2
    assert store.accepted == []


async def test_declared_size_over_the_limit_is_refused_at_mail_from(store: Store) -> None:
    server = await start(store.accept, data_size_limit=2048)
    try:
        replies = await asyncio.to_thread(
            transaction, server.bound_port, RECIPIENTS, MESSAGE, mail_options=("SIZE=999999",)
        )
    finally:
        await server.stop()

    assert replies[0][0] == 552
    assert store.accepted == []


async def test_a_message_that_cannot_be_stored_gets_451_per_recipient(
    server: LmtpServer, store: Store
) -> None:
    store.error = OSError("database unavailable")

    replies = await asyncio.to_thread(transaction, server.bound_port, RECIPIENTS[:2], MESSAGE)

    assert replies[-2:] == [(451, b"4.3.0 Message could not be stored, try again later")] * 2


async def test_250_is_sent_only_once_the_message_is_stored(
    server: LmtpServer, store: Store
) -> None:
    store.hold = asyncio.Event()
    client = asyncio.create_task(
        asyncio.to_thread(transaction, server.bound_port, RECIPIENTS[:1], MESSAGE)
    )
    await asyncio.wait_for(store.entered.wait(), WAIT)
    done, _ = await asyncio.wait({client}, timeout=0.2)
    assert not done, "the client got its reply before the message was stored"

    store.hold.set()
    replies = await asyncio.wait_for(client, WAIT)

    assert replies[-1] == (250, b"2.0.0 Message accepted")
    assert len(store.accepted) == 1


async def test_a_client_hanging_up_during_the_store_does_not_cancel_it(
    server: LmtpServer, store: Store
) -> None:
    store.hold = asyncio.Event()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    writer.write(
        b"LHLO client.test\r\nMAIL FROM:<a@ministry.test>\r\n"
        b"RCPT TO:<reply+x@reply.ccm.example.org>\r\nDATA\r\n"
    )
    await writer.drain()
    while not (await asyncio.wait_for(reader.readline(), WAIT)).startswith(b"354"):
        pass
    writer.write(MESSAGE + b".\r\n")
    await writer.drain()
    await asyncio.wait_for(store.entered.wait(), WAIT)
    writer.close()
    await writer.wait_closed()

    store.hold.set()
    await server.stop()  # waits for stores in progress

    assert len(store.accepted) == 1


async def test_helo_and_ehlo_are_refused_as_lmtp_requires(server: LmtpServer) -> None:
    def greet() -> tuple[int, int]:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=WAIT) as client:
            return client.ehlo()[0], client.helo()[0]

    assert await asyncio.to_thread(greet) == (500, 500)
