"""Mail fixtures: a real aiosmtpd server on an ephemeral port, and messages to send through it.

The server runs in aiosmtpd's own thread and loop. Everything it records happens before it
answers the client, so a test reads the record as soon as its send returns: no sleeps.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from bot.mail.compose import render_email
from handlers.reminders import compose_reminder
from schedules.delivery import Outgoing, ReminderItem
from storage.models import Channel

SENDER = "CCM ISU <isu@ccm-bot.test>"
REPLY_DOMAIN = "reply.ccm-bot.test"
SIGNING_KEY = b"test-signing-key"
TODAY = date(2027, 3, 31)
NOW = datetime(2027, 3, 31, 7, 0, tzinfo=UTC)

# Server modes: answers to RCPT for these recipients (everything else is accepted).
BAD_ADDRESS = "nobody@ministry.test"
BUSY_ADDRESS = "busy@ministry.test"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Accepts mail and keeps it; refuses and drops on demand."""

    refusals: dict[str, str] = field(
        default_factory=lambda: {
            BAD_ADDRESS: "550 5.1.1 <nobody@ministry.test>: mailbox unavailable",
            BUSY_ADDRESS: "451 4.3.0 Mailbox busy, try again later",
        }
    )
    drop_at_data: bool = False
    noop_reply: str = "250 OK"  # "421 …" plays a server that has timed the session out
    received: list[Received] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_NOOP(
        self, server: SMTP, session: Session, envelope: Envelope, arg: str
    ) -> str:
        return self.noop_reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.drop_at_data:
            # abort(), not close(): writes after it are discarded, so no reply reaches the client.
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "421 4.3.0 dropped"
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        assert envelope.mail_from is not None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data == (b"isu", b"s3cret")
        if ok:
            self.logins.append(data.login)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


class SmtpServer(Controller):
    """aiosmtpd's Controller on a port the system picks, counting the connections it accepts."""

    def __init__(self, handler: RecordingHandler, **smtp: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, **smtp)
        self.handler: RecordingHandler = handler
        self._count_lock = threading.Lock()
        self.connections = 0
        self._sessions: list[SMTP] = []

    def factory(self) -> SMTP:
        smtp = cast(SMTP, super().factory())  # type: ignore[no-untyped-call]
        with self._count_lock:
            self.connections += 1
            self._sessions.append(smtp)
        return smtp

    async def hang_up(self) -> None:
        """Close every client connection from the server side, as an idle timeout does."""

        async def close_all() -> None:
            for smtp in self._sessions:
                if smtp.transport is not None:
                    smtp.transport.close()

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(close_all(), self.loop))

    def _trigger_server(self) -> None:
        # Controller connects to self.port to finish starting; with port 0 learn the real one.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]

    def start(self) -> None:
        super().start()
        with self._count_lock:
            self.connections = 0  # the Controller's own start-up probe is not a client


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(RecordingHandler())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    """A server that offers AUTH over plain text (fine on loopback) and records logins."""
    handler = RecordingHandler()
    server = SmtpServer(handler, authenticator=handler.authenticate, auth_require_tls=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused, and nobody else can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def make_outgoing(
    *,
    message_id: int = 41,
    language: str = "en",
    email: str | None = "ana.ruiz@ministry.test",
    name: str = "Ana Ruiz",
    local_day: date = TODAY,
) -> Outgoing:
    return Outgoing(
        message_id=message_id,
        purpose="reminder",
        channel=Channel.EMAIL,
        local_day=local_day,
        language=language,
        zone="Europe/Madrid",
        contact_id=7,
        name=name,
        email=email,
        slack_user_id=None,
        items=(ReminderItem("ESP", "Spain", "art7-annual-2026", "d30", date(2027, 4, 30), None),),
        delivery_ids=(message_id * 10,),
    )


def compose_email(outgoing: Outgoing) -> EmailMessage:
    """A reminder rendered as an email, as the email transports render it."""
    assert outgoing.email is not None
    return render_email(
        compose_reminder(outgoing, TODAY),
        to=outgoing.email,
        sender=SENDER,
        message_key=outgoing.message_id,
        key=SIGNING_KEY,
        reply_domain=REPLY_DOMAIN,
        issued=outgoing.local_day,
        sent_at=NOW,
    )
