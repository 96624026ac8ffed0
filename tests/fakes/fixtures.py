"""Fixtures for the fake Slack, meant to be exposed from tests/conftest.py.

    from tests.fakes.fixtures import fake_slack, slack_client  # noqa: F401

Until then, a test module imports them the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import BOT_TOKEN, FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A started fake Slack (Web API and Socket Mode) on an ephemeral port of 127.0.0.1."""
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> AsyncWebClient:
    """The real slack-sdk client pointed at the fake, with slack-sdk's default retry handlers.

    No session is passed, so slack-sdk opens and closes one per call: nothing is left unclosed.
    """
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url)
