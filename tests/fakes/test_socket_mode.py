"""A real Bolt app in Socket Mode connects to the fake and answers pushed envelopes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.socket_mode import event_envelope, slash_command_envelope

pytest_plugins = ["tests.fakes.fixtures"]  # fake_slack

ANA = "U0ANA0001"


@pytest.fixture
def bolt_app(fake_slack: FakeSlack) -> AsyncApp:
    """A Bolt app whose every Web API call (auth.test included) goes to the fake."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    return AsyncApp(client=client, signing_secret="unused-in-socket-mode")


@pytest.fixture
async def connected(bolt_app: AsyncApp, fake_slack: FakeSlack) -> AsyncIterator[AsyncApp]:
    # The handler's SocketModeClient takes app.client as its web_client, so
    # apps.connections.open is asked of the fake as well.
    handler = AsyncSocketModeHandler(bolt_app, app_token=APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake_slack.socket_connected()
        yield bolt_app
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def test_slash_command_is_dispatched_and_acknowledged(
    bolt_app: AsyncApp, connected: AsyncApp, fake_slack: FakeSlack
) -> None:
    seen: list[dict[str, Any]] = []

    @bolt_app.command("/ccm")
    async def on_ccm(ack: Any, command: dict[str, Any]) -> None:
        seen.append(command)
        await ack(f"You said: {command['text']}")

    envelope_id = await fake_slack.socket_send(slash_command_envelope("/ccm", "help", user_id=ANA))
    ack = await fake_slack.socket_ack(envelope_id)

    assert ack == {"envelope_id": envelope_id, "payload": {"text": "You said: help"}}
    assert seen[0]["user_id"] == ANA
    assert len(fake_slack.calls_to("apps.connections.open")) == 1
    assert fake_slack.calls_to("auth.test"), "Bolt authorised the request against the fake"


async def test_event_reaches_its_listener_and_is_acknowledged(
    bolt_app: AsyncApp, connected: AsyncApp, fake_slack: FakeSlack
) -> None:
    opened = asyncio.Event()

    @bolt_app.event("app_home_opened")
    async def on_home(event: dict[str, Any]) -> None:
        assert event["user"] == ANA
        opened.set()

    event = {"type": "app_home_opened", "user": ANA, "channel": "D0ANA", "tab": "home"}
    envelope_id = await fake_slack.socket_send(event_envelope(event))

    assert await fake_slack.socket_ack(envelope_id) == {"envelope_id": envelope_id}
    await asyncio.wait_for(opened.wait(), timeout=5)


async def test_envelope_without_listener_is_never_acknowledged(
    connected: AsyncApp, fake_slack: FakeSlack
) -> None:
    # Bolt answers 404 for an unhandled command and sends no ack: socket_ack must notice.
    envelope_id = await fake_slack.socket_send(slash_command_envelope("/other", user_id=ANA))

    with pytest.raises(TimeoutError, match=envelope_id):
        await fake_slack.socket_ack(envelope_id, timeout=0.5)
