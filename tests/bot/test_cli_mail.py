"""``ccm-bot mail status|retry|forget`` as the ISU uses them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from storage.db import open_store
from storage.models import MessageStatus, OutgoingMail
from storage.outgoing import ANSWER, queue_mail
from tests.bot.mail.conftest import RecordingHandler, SmtpServer

Invoke = Callable[..., Result]
NOW = datetime(2027, 3, 31, 7, 0, tzinfo=UTC)
DELEGATE = "ana@minrel.gob.cl"
MESSAGE_ID = "<answer.1.abc@reply.ccm-bot.test>"
ERROR = f"recipient {DELEGATE} refused: 550 5.1.1 mailbox unavailable"


def given_up_answer() -> bytes:
    msg = EmailMessage()
    msg["From"] = "CCM ISU <isu@ccm-bot.test>"
    msg["To"] = DELEGATE
    msg["Subject"] = "Por favor, confirme"
    msg["Message-ID"] = MESSAGE_ID
    msg.set_content("CONFIRMAR")
    return msg.as_bytes(policy=policy.SMTP)


async def _given_up(url: str) -> int:
    store = await open_store(url, migrate=False)
    try:
        async with store.transaction() as session:
            row = queue_mail(
                session,
                given_up_answer(),
                recipient=DELEGATE,
                subject="Por favor, confirme",
                message_id=MESSAGE_ID,
                purpose=ANSWER,
                now=NOW,
            )
            row.status, row.attempts, row.error = MessageStatus.FAILED, 1, ERROR
            await session.flush()
            return row.id
    finally:
        await store.close()


async def _row(url: str, mail_id: int) -> OutgoingMail:
    store = await open_store(url, migrate=False)
    try:
        async with store.transaction() as session:
            row = await session.scalar(select(OutgoingMail).where(OutgoingMail.id == mail_id))
            assert row is not None
            return row
    finally:
        await store.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real aiosmtpd server on a port the system picks (tests/bot/mail/conftest.py)."""
    server = SmtpServer(RecordingHandler())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("CCM_DATABASE_URL", database_url)
    monkeypatch.setenv("CCM_OUTBOX_DIR", str(tmp_path / "outbox"))
    for name in ("CCM_CONFIG", "SLACK_BOT_TOKEN", "CCM_SMTP_URL", "CCM_ISU_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, ["mail", *args], catch_exceptions=False)

    return invoke


def test_the_isu_sees_a_given_up_answer_and_sends_it_again(
    cli: Invoke, database_url: str, tmp_path: Path
) -> None:
    mail_id = asyncio.run(_given_up(database_url))

    shown = cli("status")
    listed = json.loads(cli("status", "--json").output)
    retried = cli("retry", str(mail_id))
    again = cli("retry", str(mail_id))

    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0] == "1 failed"
    assert ERROR in shown.output
    assert [(m["id"], m["to"], m["status"], m["error"]) for m in listed["mail"]] == [
        (mail_id, DELEGATE, "failed", ERROR)
    ]
    assert (retried.exit_code, retried.output) == (0, f"Mail #{mail_id} to {DELEGATE} sent.\n")
    [written] = (tmp_path / "outbox").glob("*.eml")
    sent = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert (sent["Message-ID"], sent["To"]) == (MESSAGE_ID, DELEGATE)
    row = asyncio.run(_row(database_url, mail_id))
    assert (row.status, row.attempts, row.error) == (MessageStatus.SENT, 0, None)
    assert json.loads(cli("status", "--json").output) == {"counts": {"sent": 1}, "mail": []}
    assert again.exit_code == 1
    assert again.output == f"ccm-bot: mail #{mail_id} to {DELEGATE} was sent already\n"


def test_a_retry_refused_again_says_why_and_stays_given_up(
    cli: Invoke,
    database_url: str,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCM_SMTP_URL", f"smtp://127.0.0.1:{smtp_server.port}")
    smtp_server.handler.refusals[DELEGATE] = "550 5.1.1 still unknown here"
    mail_id = asyncio.run(_given_up(database_url))

    retried = cli("retry", str(mail_id))

    assert retried.exit_code == 1
    assert retried.output == (
        f"ccm-bot: mail #{mail_id} refused again: recipient {DELEGATE} refused: "
        "550 5.1.1 still unknown here\n"
    )
    row = asyncio.run(_row(database_url, mail_id))
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 1)
    assert smtp_server.handler.received == []


def test_a_forgotten_mail_is_never_sent(cli: Invoke, database_url: str, tmp_path: Path) -> None:
    mail_id = asyncio.run(_given_up(database_url))

    forgotten = cli("forget", str(mail_id))
    listed = json.loads(cli("status", "--json").output)
    unknown = cli("forget", "999")

    assert (forgotten.exit_code, forgotten.output) == (
        0,
        f"Mail #{mail_id} to {DELEGATE} forgotten: it will not be sent.\n",
    )
    assert listed == {"counts": {"cancelled": 1}, "mail": []}
    assert not (tmp_path / "outbox").exists()
    assert asyncio.run(_row(database_url, mail_id)).status is MessageStatus.CANCELLED
    assert unknown.exit_code == 1
    assert unknown.output.count("\n") == 1
    assert "there is no mail #999" in unknown.output
