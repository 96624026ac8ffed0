"""Socket Mode and the composition root: the same bot, reached over the fake's WebSocket, and
the whole App wired with Slack from the settings alone."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import create_app
from bot.settings import Settings, SettingsError
from bot.slack import SlackService, SlackTransport, start_slack
from schedules.clock import FixedClock
from storage.db import Store
from storage.models import Channel, ProcessedEvent
from tests.bot.slack.conftest import (
    ANA,
    NOW,
    SIGNING_SECRET,
    Slack,
    count,
    signature,
)
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.socket_mode import event_envelope, slash_command_envelope


@pytest.fixture
async def socket_service(
    settings: Settings, slack_store: Store, fixed_clock: FixedClock, people: FakeSlack
) -> AsyncIterator[SlackService]:
    with_app_token = settings.model_copy(update={"slack_app_token": APP_TOKEN})
    service = await start_slack(with_app_token, slack_store, fixed_clock)
    try:
        await people.socket_connected()
        yield service
    finally:
        await service.stop()


async def test_slash_command_over_socket_mode_is_acked_then_answered(
    socket_service: SlackService, people: FakeSlack
) -> None:
    assert socket_service.mode == "socket"
    envelope_id = await people.socket_send(slash_command_envelope("/ccm", "help", user_id=ANA))
    assert await people.socket_ack(envelope_id) == {"envelope_id": envelope_id}
    (reply,) = await people.wait_for(lambda: people.messages(ANA))
    assert reply["blocks"][0]["text"]["text"] == "What I can do"
    assert people.invalid_payloads == []


async def test_event_resent_over_socket_mode_is_handled_once(
    socket_service: SlackService,
    people: FakeSlack,
    slack_store: Store,
    slack_client: AsyncWebClient,
) -> None:
    channel = (await slack_client.conversations_open(users=ANA))["channel"]["id"]
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel_type": "im", "channel": channel, "user": ANA}
    first = event_envelope({**event, "text": "help", "ts": ts})
    again = {**first, "envelope_id": "resent", "retry_attempt": 1}
    await people.socket_ack(await people.socket_send(first))
    await people.socket_ack(await people.socket_send(again))
    (reply,) = await people.wait_for(lambda: people.messages(ANA))
    assert reply["blocks"][0]["text"]["text"] == "How to answer"
    assert await count(slack_store, ProcessedEvent) == 1


async def test_http_mode_needs_the_signing_secret(
    settings: Settings, slack_store: Store, fixed_clock: FixedClock
) -> None:
    unsigned = settings.model_copy(update={"slack_signing_secret": None})
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        await start_slack(unsigned, slack_store, fixed_clock, http_port=0)


async def test_app_wires_slack_from_the_settings(
    tmp_path: Path, fake_slack: FakeSlack, people: FakeSlack
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'ccm-bot.db'}",
        outbox_dir=tmp_path / "outbox",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
    )
    app = await create_app(settings, clock=FixedClock(NOW), http_port=0)
    await app.start()
    try:
        assert isinstance(app.transports[Channel.SLACK], SlackTransport)
        assert app.service(SlackService).port
        body = "command=%2Fccm&text=help&user_id=" + ANA + "&trigger_id=1.2.3"
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature(body, stamp),
        }
        url = f"http://127.0.0.1:{app.service(SlackService).port}/slack/events"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            assert response.status == 200
        # Ana is no contact in this empty store: she is told how to get access.
        (reply,) = await people.wait_for(lambda: people.messages(ANA))
        assert reply["blocks"][0]["text"]["text"] == "Access needed"
    finally:
        await app.stop()


def mails_to(outbox: Path, address: str) -> list[EmailMessage]:
    found = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*.eml")
    ]
    return [m for m in found if isinstance(m, EmailMessage) and m["To"] == address]


async def test_app_mails_a_slack_handover_to_the_isu_in_its_language(
    tmp_path: Path,
    database_url: str,
    slack_store: Store,
    people: FakeSlack,
    slack_client: AsyncWebClient,
) -> None:
    isu = "isu-desk@ccm.example.org"
    settings = Settings(
        database_url=database_url,
        outbox_dir=tmp_path / "outbox",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=people.url,
        isu_email=isu,
        isu_language="es",
    )
    app = await create_app(settings, clock=FixedClock(NOW), http_port=0)
    await app.start()
    try:
        url = f"http://127.0.0.1:{app.service(SlackService).port}/slack/events"
        async with aiohttp.ClientSession() as session:
            await Slack(session, url, people, slack_client).dm(ANA, "NOT ME sean@dfa.ie")
        # The ISU is mailed once the handover is stored, before Ana gets her answer.
        (reply,) = await people.wait_for(lambda: people.messages(ANA))
    finally:
        await app.stop()

    assert reply["blocks"][0]["text"]["text"] == "Handed over"  # Ana reads English
    [note] = mails_to(tmp_path / "outbox", isu)
    assert note["Content-Language"] == "es"
    assert note["Subject"] == "Para la ISU: un contacto requiere su atención"
    assert note.get_content().strip() == (
        "Ana Delegate <ana.delegate@dfa.ie> (IRL) no es la persona adecuada para estos "
        "recordatorios y ya no los recibirá. Propone a sean@dfa.ie: confirme a esa persona como "
        "contacto del Estado."
    )
