"""The email transports against a real folder and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from bot.mail.transports import OutboxTransport, SmtpTransport
from bot.settings import SmtpTarget
from schedules.dispatch import DeliveryError, Outgoing
from tests.fakes.waiting import WAIT  # a bound on every session, never a pause
from tests.mail.conftest import (
    BAD_ADDRESS,
    BUSY_ADDRESS,
    SmtpServer,
    make_outgoing,
)

Composer = Callable[[Outgoing], EmailMessage]


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
async def smtp(smtp_server: SmtpServer, composer: Composer) -> AsyncIterator[SmtpTransport]:
    transport = SmtpTransport(target(smtp_server.port), composer, timeout=WAIT)
    yield transport
    await transport.close()


def eml_files(folder: Path) -> list[str]:
    """Every file in the folder, hidden temporaries included."""
    return sorted(p.name for p in folder.iterdir())


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


# --- outbox ---------------------------------------------------------------------------------


async def test_outbox_writes_one_eml_file_per_message(tmp_path: Path, composer: Composer) -> None:
    outbox = tmp_path / "not" / "yet" / "there"
    transport = OutboxTransport(outbox, composer)
    outgoing = make_outgoing()

    message_id = await transport.send(outgoing)

    assert eml_files(outbox) == [message_id.strip("<>") + ".eml"]  # and no temporary left
    msg = message_from_bytes(read_bytes(outbox / eml_files(outbox)[0]), policy=policy.default)
    assert msg["Message-ID"] == message_id
    assert msg["To"] == outgoing.email


async def test_outbox_recognises_a_message_already_written(
    tmp_path: Path, composer: Composer
) -> None:
    transport = OutboxTransport(tmp_path, composer)
    outgoing = make_outgoing()
    assert await transport.find_sent(outgoing) is None

    message_id = await transport.send(outgoing)

    # A crash after writing and before recording: the dispatcher asks again and is told.
    assert await transport.find_sent(outgoing) == message_id
    assert await OutboxTransport(tmp_path, composer).find_sent(make_outgoing()) == message_id
    assert await transport.find_sent(make_outgoing(message_id=42)) is None
    assert await transport.send(outgoing) == message_id
    assert eml_files(tmp_path) == [message_id.strip("<>") + ".eml"]


async def test_outbox_keeps_different_messages_apart(tmp_path: Path, composer: Composer) -> None:
    transport = OutboxTransport(tmp_path, composer)

    first = await transport.send(make_outgoing(message_id=1))
    second = await transport.send(make_outgoing(message_id=2))

    assert first != second
    assert eml_files(tmp_path) == sorted(f"{m.strip('<>')}.eml" for m in (first, second))


@pytest.mark.parametrize("email", [None, "", "   ", "not-an-address", "Ana <ana@ministry.test>"])
async def test_both_transports_refuse_a_contact_without_an_address(
    email: str | None,
    tmp_path: Path,
    smtp: SmtpTransport,
    smtp_server: SmtpServer,
    composer: Composer,
) -> None:
    for transport in (OutboxTransport(tmp_path, composer), smtp):
        with pytest.raises(DeliveryError, match="no usable email address") as caught:
            await transport.send(make_outgoing(email=email))
        assert caught.value.permanent
    assert eml_files(tmp_path) == []
    assert smtp_server.connections == 0


# --- SMTP -----------------------------------------------------------------------------------


async def test_smtp_delivers_with_the_right_envelope(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    outgoing = make_outgoing()

    message_id = await smtp.send(outgoing)

    [received] = smtp_server.handler.received
    assert received.mail_from == "isu@ccm-bot.test"
    assert received.rcpt_tos == ["ana.ruiz@ministry.test"]
    assert received.message["Message-ID"] == message_id
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert await smtp.find_sent(outgoing) is None  # SMTP cannot tell; the Message-ID dedups


async def test_smtp_reuses_one_connection(smtp: SmtpTransport, smtp_server: SmtpServer) -> None:
    await smtp.send(make_outgoing(message_id=1))
    await smtp.send(make_outgoing(message_id=2, email="b@ministry.test"))

    assert [r.rcpt_tos for r in smtp_server.handler.received] == [
        ["ana.ruiz@ministry.test"],
        ["b@ministry.test"],
    ]
    assert smtp_server.connections == 1


async def test_smtp_bad_address_is_permanent_and_the_connection_survives(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    with pytest.raises(DeliveryError, match="550") as caught:
        await smtp.send(make_outgoing(email=BAD_ADDRESS))
    assert caught.value.permanent

    await smtp.send(make_outgoing(message_id=2))
    assert len(smtp_server.handler.received) == 1
    assert smtp_server.connections == 1


async def test_smtp_temporary_refusal_is_retried_later(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    with pytest.raises(DeliveryError, match="451") as caught:
        await smtp.send(make_outgoing(email=BUSY_ADDRESS))

    assert not caught.value.permanent
    assert smtp_server.handler.received == []


async def test_smtp_server_down_is_transient(closed_port: int, composer: Composer) -> None:
    transport = SmtpTransport(target(closed_port), composer, timeout=WAIT)

    with pytest.raises(DeliveryError, match="unavailable") as caught:
        await transport.send(make_outgoing())

    assert not caught.value.permanent
    await transport.close()


async def test_smtp_dropped_connection_is_transient_then_reconnects(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    await smtp.send(make_outgoing(message_id=1))
    smtp_server.handler.drop_at_data = True

    with pytest.raises(DeliveryError) as caught:
        await smtp.send(make_outgoing(message_id=2))
    assert not caught.value.permanent

    smtp_server.handler.drop_at_data = False
    await smtp.send(make_outgoing(message_id=2))
    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_replaces_a_connection_the_server_closed_while_idle(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    await smtp.send(make_outgoing(message_id=1))
    await smtp_server.hang_up()

    await smtp.send(make_outgoing(message_id=2))

    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_checks_a_kept_connection_before_reusing_it(
    smtp: SmtpTransport, smtp_server: SmtpServer
) -> None:
    await smtp.send(make_outgoing(message_id=1))
    smtp_server.handler.noop_reply = "421 4.4.2 Idle too long, closing connection"

    await smtp.send(make_outgoing(message_id=2))

    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_reconnects_after_close(smtp: SmtpTransport, smtp_server: SmtpServer) -> None:
    await smtp.send(make_outgoing(message_id=1))
    await smtp.close()

    await smtp.send(make_outgoing(message_id=2))

    assert len(smtp_server.handler.received) == 2
    assert smtp_server.connections == 2


async def test_smtp_logs_in_when_a_username_is_given(
    smtp_auth_server: SmtpServer, composer: Composer
) -> None:
    transport = SmtpTransport(
        target(smtp_auth_server.port, username="isu", password="s3cret"), composer, timeout=WAIT
    )

    await transport.send(make_outgoing())
    await transport.close()

    assert smtp_auth_server.handler.logins == [b"isu"]
    assert len(smtp_auth_server.handler.received) == 1


async def test_smtp_wrong_password_is_transient(
    smtp_auth_server: SmtpServer, composer: Composer
) -> None:
    transport = SmtpTransport(
        target(smtp_auth_server.port, username="isu", password="wrong"), composer, timeout=WAIT
    )

    with pytest.raises(DeliveryError, match="535") as caught:
        await transport.send(make_outgoing())
    await transport.close()

    assert not caught.value.permanent  # a settings problem: every message would fail alike
    assert "wrong" not in str(caught.value)


async def test_smtp_required_starttls_fails_on_a_server_without_it(
    smtp: SmtpTransport, smtp_server: SmtpServer, composer: Composer
) -> None:
    transport = SmtpTransport(target(smtp_server.port, start_tls=True), composer, timeout=WAIT)

    with pytest.raises(DeliveryError, match=r"(?i)starttls") as caught:
        await transport.send(make_outgoing())
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
    composer: Composer,
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
        composer,
        timeout=7,
    )

    with pytest.raises(DeliveryError):
        await transport.send(make_outgoing())

    [options] = created
    assert (options["use_tls"], options["start_tls"]) == expected
    assert options["hostname"] == "127.0.0.1"
    assert options["port"] == 2525
    assert (options["username"], options["password"]) == ("isu", "pw")
    assert options["timeout"] == 7
