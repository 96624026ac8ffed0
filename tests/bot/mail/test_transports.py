"""The email transports against a real folder and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from bot.mail.transports import OutboxTransport, ReminderEmails, SmtpTransport
from bot.settings import SmtpTarget
from handlers.reminders import compose_reminder
from handlers.replies import Reply
from schedules.delivery import DeliveryError, Outgoing, Transport
from tests.bot.mail.conftest import (
    BAD_ADDRESS,
    BUSY_ADDRESS,
    REPLY_DOMAIN,
    SENDER,
    SIGNING_KEY,
    SmtpServer,
    make_outgoing,
)
from tests.fakes.waiting import WAIT  # a bound on every session, never a pause


@pytest.fixture
def emails() -> ReminderEmails:
    return ReminderEmails(SENDER, SIGNING_KEY, REPLY_DOMAIN)


async def send(transport: Transport, outgoing: Outgoing) -> str:
    """What the dispatcher does: the reminder composed once, handed to the transport."""
    return await transport.send(outgoing, compose_reminder(outgoing, outgoing.local_day))


def target(port: int, **overrides: Any) -> SmtpTarget:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "username": None,
        "password": None,
        "use_tls": False,
        "start_tls": False,
    }
    values.update(overrides)
    return SmtpTarget(**values)


@pytest.fixture
async def smtp(smtp_server: SmtpServer, emails: ReminderEmails) -> AsyncIterator[SmtpTransport]:
    transport = SmtpTransport(target(smtp_server.port), emails, timeout=WAIT)
    yield transport
    await transport.close()


def eml_files(folder: Path) -> list[str]:
    """Every file in the folder, hidden temporaries included."""
    return sorted(p.name for p in folder.iterdir())


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


# --- outbox ---------------------------------------------------------------------------------


async def test_outbox_writes_one_eml_file_per_message(
    tmp_path: Path, emails: ReminderEmails
) -> None:
    outbox = tmp_path / "not" / "yet" / "there"
    transport = OutboxTransport(outbox, emails)
    outgoing = make_outgoing()

    message_id = await send(transport, outgoing)

    assert eml_files(outbox) == [message_id.strip("<>") + ".eml"]  # and no temporary left
    msg = message_from_bytes(read_bytes(outbox / eml_files(outbox)[0]), policy=policy.default)
    assert msg["Message-ID"] == message_id
    assert msg["To"] == outgoing.email


async def test_outbox_recognises_a_message_already_written(
    tmp_path: Path, emails: ReminderEmails
) -> None:
    transport = OutboxTransport(tmp_path, emails)
    outgoing = make_outgoing()
    assert await transport.find_sent(outgoing) is None

    message_id = await send(transport, outgoing)

    # A crash after writing and before recording: the dispatcher asks again and is told.
    assert await transport.find_sent(outgoing) == message_id
    assert await OutboxTransport(tmp_path, emails).find_sent(make_outgoing()) == message_id
    assert await transport.find_sent(make_outgoing(message_id=42)) is None
    assert await send(transport, outgoing) == message_id
    assert eml_files(tmp_path) == [message_id.strip("<>") + ".eml"]


class RendersOnlyOnce(ReminderEmails):
    """Fails a second render: the Message-ID must be known without one."""

    renders: int = 0

    def render(self, outgoing: Outgoing, reply: Reply, to: str) -> Any:
        object.__setattr__(self, "renders", self.renders + 1)
        assert self.renders == 1, "rendered twice"
        return super().render(outgoing, reply, to)


async def test_outbox_finds_a_sent_message_without_rendering_it_again(tmp_path: Path) -> None:
    counting = RendersOnlyOnce(SENDER, SIGNING_KEY, REPLY_DOMAIN)
    transport = OutboxTransport(tmp_path, counting)
    outgoing = make_outgoing()

    message_id = await send(transport, outgoing)

    assert await transport.find_sent(outgoing) == message_id == counting.message_id(outgoing)
    assert counting.renders == 1


async def test_outbox_keeps_different_messages_apart(
    tmp_path: Path, emails: ReminderEmails
) -> None:
    transport = OutboxTransport(tmp_path, emails)

    first = await send(transport, make_outgoing(message_id=1))
    second = await send(transport, make_outgoing(message_id=2))

    assert first != second
    assert eml_files(tmp_path) == sorted(f"{m.strip('<>')}.eml" for m in (first, second))


@pytest.mark.parametrize("email", [None, "", "   ", "not-an-address", "Ana <ana@ministry.test>"])
async def test_both_transports_refuse_a_contact_without_an_address(
    email: str | None,
    tmp_path: Path,
    smtp: SmtpTransport,
    smtp_server: SmtpServer,
    emails: ReminderEmails,
) -> None:
    for transport in (OutboxTransport(tmp_path, emails), smtp):
        with pytest.raises(DeliveryError, match="no usable email address") as caught:
            await send(transport, make_outgoing(email=email))
        assert caught.value.permanent
    assert eml_files(tmp_path) == []
    assert smtp_server.connections == 0


# --- SMTP -----------------------------------------------------------------------------------


async def test_smtp_delivers_with_the_right_envelope(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    outgoing = make_outgoing()

    message_id = await send(smtp, outgoing)

    [received] = smtp_server.handler.received
    assert received.mail_from == "isu@ccm-bot.test"
    assert received.rcpt_tos == ["ana.ruiz@ministry.test"]
    assert received.message["Message-ID"] == message_id
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert await smtp.find_sent(outgoing) is None  # SMTP cannot tell; the Message-ID dedups


async def test_smtp_reuses_one_connection(smtp: SmtpTransport, smtp_server: SmtpServer) -> None:
    await send(smtp, make_outgoing(message_id=1))
    await send(smtp, make_outgoing(message_id=2, email="b@ministry.test"))

    assert [r.rcpt_tos for r in smtp_server.handler.received] == [
        ["ana.ruiz@ministry.test"],
        ["b@ministry.test"],
    ]
    assert smtp_server.connections == 1


async def test_smtp_bad_address_is_permanent_and_the_connection_survives(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    with pytest.raises(DeliveryError, match="550") as caught:
        await send(smtp, make_outgoing(email=BAD_ADDRESS))
    assert caught.value.permanent

    await send(smtp, make_outgoing(message_id=2))
    assert len(smtp_server.handler.received) == 1
    assert smtp_server.connections == 1


async def test_smtp_temporary_refusal_is_retried_later(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    with pytest.raises(DeliveryError, match="451") as caught:
        await send(smtp, make_outgoing(email=BUSY_ADDRESS))

    assert not caught.value.permanent
    assert smtp_server.handler.received == []


async def test_smtp_server_down_is_transient(closed_port: int, emails: ReminderEmails) -> None:
    transport = SmtpTransport(target(closed_port), emails, timeout=WAIT)

    with pytest.raises(DeliveryError, match="unavailable") as caught:
        await send(transport, make_outgoing())

    assert not caught.value.permanent
    await transport.close()


async def test_smtp_dropped_connection_is_transient_then_reconnects(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    await send(smtp, make_outgoing(message_id=1))
    smtp_server.handler.drop_at_data = True

    with pytest.raises(DeliveryError) as caught:
        await send(smtp, make_outgoing(message_id=2))
    assert not caught.value.permanent

    smtp_server.handler.drop_at_data = False
    await send(smtp, make_outgoing(message_id=2))
    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_replaces_a_connection_the_server_closed_while_idle(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    await send(smtp, make_outgoing(message_id=1))
    await smtp_server.hang_up()

    await send(smtp, make_outgoing(message_id=2))

    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_checks_a_kept_connection_before_reusing_it(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    await send(smtp, make_outgoing(message_id=1))
    smtp_server.handler.noop_reply = "421 4.4.2 Idle too long, closing connection"

    await send(smtp, make_outgoing(message_id=2))

    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_reconnects_after_close(smtp: SmtpTransport, smtp_server: SmtpServer) -> None:
    await send(smtp, make_outgoing(message_id=1))
    await smtp.close()

    await send(smtp, make_outgoing(message_id=2))

    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_logs_in_when_a_username_is_given(
    smtp_auth_server: SmtpServer, emails: ReminderEmails
) -> None:
    transport = SmtpTransport(
        target(smtp_auth_server.port, username="isu", password="s3cret"), emails, timeout=WAIT
    )

    await send(transport, make_outgoing())
    await transport.close()

    assert smtp_auth_server.handler.logins == [b"isu"]
    assert len(smtp_auth_server.handler.received) == 1


async def test_smtp_wrong_password_is_transient(
    smtp_auth_server: SmtpServer, emails: ReminderEmails
) -> None:
    transport = SmtpTransport(
        target(smtp_auth_server.port, username="isu", password="wrong"), emails, timeout=WAIT
    )

    with pytest.raises(DeliveryError, match="535") as caught:
        await send(transport, make_outgoing())
    await transport.close()

    assert not caught.value.permanent  # a settings problem: every message would fail alike
    assert "wrong" not in str(caught.value)


async def test_smtp_required_starttls_fails_on_a_server_without_it(
    smtp: SmtpTransport, smtp_server: SmtpServer, emails: ReminderEmails
) -> None:
    transport = SmtpTransport(target(smtp_server.port, start_tls=True), emails, timeout=WAIT)

    with pytest.raises(DeliveryError, match=r"(?i)starttls") as caught:
        await send(transport, make_outgoing())
    await transport.close()

    assert not caught.value.permanent
    assert smtp_server.handler.received == []  # never sent in clear when TLS was asked for


@pytest.mark.parametrize(
    ("use_tls", "start_tls", "expected"),
    [
        (False, False, (False, False)),
        (False, True, (False, True)),
        (True, False, (True, False)),
        (True, True, (True, False)),  # smtps:// with ?starttls=true: already encrypted
    ],
)
async def test_smtp_tls_settings_reach_aiosmtplib(
    use_tls: bool,
    start_tls: bool,
    expected: tuple[bool, bool],
    monkeypatch: pytest.MonkeyPatch,
    emails: ReminderEmails,
) -> None:
    created: list[dict[str, Any]] = []

    class RecordingSMTP(aiosmtplib.SMTP):
        def __init__(self, **options: Any) -> None:
            created.append(options)
            super().__init__(**options)

        async def connect(self, **options: Any) -> Any:
            raise aiosmtplib.SMTPConnectError("not in this test")

    monkeypatch.setattr(aiosmtplib, "SMTP", RecordingSMTP)
    transport = SmtpTransport(
        target(2525, username="isu", password="pw", use_tls=use_tls, start_tls=start_tls),
        emails,
        timeout=7,
    )

    with pytest.raises(DeliveryError):
        await send(transport, make_outgoing())

    [options] = created
    assert (options["use_tls"], options["start_tls"]) == expected
    assert options["hostname"] == "127.0.0.1"
    assert options["port"] == 2525
    assert (options["username"], options["password"]) == ("isu", "pw")
    assert options["timeout"] == 7
