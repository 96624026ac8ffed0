"""``ccm-bot chat``: a question typed in the terminal gets the answer Slack and email give.

The README's own example, in English, French and Spanish, from a coordinator (who sees the
coordinators-only record, marked) and from a delegate (who never sees it).
"""

from __future__ import annotations

import asyncio

import pytest

from storage.db import open_store
from tests.bot.test_cli import Invoke, cli  # noqa: F401 - the fixture
from tests.handlers.questions_world import (
    ANA,
    ASKER_OF,
    QUESTIONS,
    check_answer,
    references,
    seed,
)


async def _seed(database_url: str) -> dict[str, str]:
    store = await open_store(database_url, migrate=False)
    try:
        await seed(store)
        return await references(store)
    finally:
        await store.close()


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_a_question_typed_in_chat_is_answered_from_the_records(
    cli: Invoke,  # noqa: F811
    database_url: str,
    language: str,
) -> None:
    refs = asyncio.run(_seed(database_url))
    asked = cli("chat", "--as", ASKER_OF[language], input=f"{QUESTIONS[language]}\n\n")
    assert asked.exit_code == 0, asked.output
    check_answer(asked.output, refs, language, coordinator=True)
    assert "I will record this need" not in asked.output
    delegate = cli("chat", "--as", ANA, input=f"{QUESTIONS[language]}\n\n")
    check_answer(delegate.output, refs, language, coordinator=False)


def test_a_delegate_writing_a_need_still_gets_the_proposal(
    cli: Invoke,  # noqa: F811
    database_url: str,
) -> None:
    asyncio.run(_seed(database_url))
    told = cli("chat", "--as", ANA, input="We need 250 000 USD for clearance\n\n")
    assert "[CONFIRM]" in told.output, told.output
