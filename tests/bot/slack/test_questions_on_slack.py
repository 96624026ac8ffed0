"""A question on Slack, in a DM and as ``/ccm needs …``: the answer the core gives everywhere.

Through the real HTTP endpoint: the same question in English, French and Spanish lists the same
records as by email and in the terminal (``tests.handlers.questions_world``), the coordinators-
only record marked for a coordinator and never shown to a delegate. In a DM the answer has no
Share button (nobody to share with); after ``/ccm`` it does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack import ids
from storage.db import Store
from tests.bot.slack.conftest import Slack
from tests.fakes.slack_api import FakeSlack
from tests.handlers.questions_world import (
    ANA,
    ASKER_OF,
    PEOPLE,
    QUESTIONS,
    SLACK_IDS,
    check_answer,
    references,
    seed,
)


@pytest.fixture
async def slack_store(store: Store) -> Store:
    await seed(store)
    return store


@pytest.fixture
def people(fake_slack: FakeSlack) -> FakeSlack:
    for email, name, _role, _state, _language in PEOPLE:
        fake_slack.add_user(SLACK_IDS[email], email, name.split()[0].lower())
    return fake_slack


def shown(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def buttons(message: dict[str, Any]) -> set[str]:
    return {
        element["action_id"]
        for block in message["blocks"]
        if block.get("block_id") == ids.QUERY_ACTIONS_BLOCK
        for element in block["elements"]
    }


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_the_same_question_in_a_dm_and_by_command(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, language: str
) -> None:
    refs = await references(slack_store)
    user = SLACK_IDS[ASKER_OF[language]]
    await slack.dm(user, QUESTIONS[language])
    dm = await fake_slack.message(user, lambda message: True)
    check_answer(shown(dm), refs, language, coordinator=True)
    assert ids.QUERY_SHARE_ACTION not in buttons(dm)

    await slack.command(user, f"needs {QUESTIONS[language]}")
    whispered = await fake_slack.whisper(user, lambda message: True)
    check_answer(shown(whispered), refs, language, coordinator=True)
    assert ids.QUERY_SHARE_ACTION in buttons(whispered)
    assert fake_slack.invalid_payloads == []


async def test_a_delegate_asks_in_a_dm_and_never_sees_the_coordinators_record(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    refs = await references(slack_store)
    await slack.dm(SLACK_IDS[ANA], QUESTIONS["en"])
    dm = await fake_slack.message(SLACK_IDS[ANA], lambda message: True)
    check_answer(shown(dm), refs, "en", coordinator=False)
