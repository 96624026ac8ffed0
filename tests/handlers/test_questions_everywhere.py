"""One question, one answer, on every channel: the conversation core decides and answers.

The same turn is given as Slack, email and the terminal give it (text, with or without the
reminder it answers) and as ``/ccm needs …`` gives it (a question in its set form), in English,
French and Spanish: the same records, the same visibility, the same marks.
"""

from __future__ import annotations

import pytest

from handlers.conversation import Conversation
from handlers.questions import Ask
from handlers.replies import Reply
from handlers.turns import Turn, identify
from handlers.understanding.keywords import Intent
from schedules.clock import FixedClock
from storage.db import Store
from storage.models import Draft, Via
from tests.handlers.questions_world import (
    ANA,
    ASKER_OF,
    NOW,
    QUESTIONS,
    check_answer,
    references,
    seed,
)


@pytest.fixture
async def world(store: Store) -> Store:
    await seed(store)
    return store


async def say(store: Store, email: str, via: Via, text: str, *, about: str | None = None) -> Reply:
    async with store.transaction() as session:
        speaker = await identify(session, fallback_zone="Europe/Zurich", email=email)
    assert speaker is not None
    turn = Turn(speaker, via, text=text, about=about)
    return await Conversation(store, FixedClock(NOW)).handle(turn)


async def command(store: Store, email: str, words: str) -> Reply:
    """``/ccm needs WORDS`` as the Slack listener hands it to the core."""
    async with store.transaction() as session:
        speaker = await identify(session, fallback_zone="Europe/Zurich", email=email)
    assert speaker is not None
    value = Ask("needs", words).to_value()
    turn = Turn(speaker, Via.SLACK, action=Intent.ASK, value=value)
    return await Conversation(store, FixedClock(NOW)).handle(turn)


def everything(reply: Reply) -> str:
    return "\n".join([reply.subject, reply.text])


@pytest.mark.parametrize("language", ["en", "fr", "es"])
async def test_a_coordinators_question_gets_the_same_answer_on_every_channel(
    world: Store, language: str
) -> None:
    refs = await references(world)
    question, asker = QUESTIONS[language], ASKER_OF[language]
    answers = {
        "slack dm": await say(world, asker, Via.SLACK, question),
        "email reply": await say(world, asker, Via.EMAIL, question, about="DEU:art7-annual-2026"),
        "chat": await say(world, asker, Via.TERMINAL, question),
        "/ccm needs": await command(world, asker, question),
    }
    for channel, reply in answers.items():
        assert reply.language == language, channel
        check_answer(everything(reply), refs, language, coordinator=True)
    # Same sections everywhere; only Slack has buttons that ask again.
    sections = {channel: reply.sections for channel, reply in answers.items()}
    assert len(set(sections.values())) == 1, sections
    assert [c.action for c in answers["slack dm"].choices] == [Intent.SHARE]
    assert answers["email reply"].choices == answers["chat"].choices == ()
    async with world.transaction() as session:
        assert await session.get(Draft, 1) is None  # a question, not a need to record


async def test_a_delegate_asks_too_and_never_sees_the_coordinators_record(world: Store) -> None:
    refs = await references(world)
    for via in (Via.SLACK, Via.EMAIL, Via.TERMINAL):
        reply = await say(world, ANA, via, QUESTIONS["en"])
        check_answer(everything(reply), refs, "en", coordinator=False)
    check_answer(
        everything(await command(world, ANA, QUESTIONS["en"])), refs, "en", coordinator=False
    )


async def test_a_delegates_need_is_still_proposed_not_answered(world: Store) -> None:
    for email in (ANA, ASKER_OF["en"]):
        reply = await say(world, email, Via.TERMINAL, "We need 250 000 USD for clearance")
        assert any(choice.action is Intent.CONFIRM for choice in reply.choices), reply.text


async def test_overdue_reports_are_answered_by_email_at_once(world: Store) -> None:
    reply = await say(
        world, ASKER_OF["en"], Via.EMAIL, "which States have not submitted their 2025 report?"
    )
    assert reply.subject == "Your question"
    assert "Article 7 reports covering 2025 not received on time" in reply.intro
    assert reply.choices == ()  # nothing to click by email: the whole list is there


async def test_help_lists_what_the_role_can_do(world: Store) -> None:
    coordinator = await say(world, ASKER_OF["en"], Via.EMAIL, "help")
    assert coordinator.subject == "How to ask"
    assert "who needs help with clearance in Africa?" in coordinator.text
    delegate = await say(world, ANA, Via.EMAIL, "help")
    assert delegate.subject == "How to answer"
    assert "which needs are open in Africa?" in delegate.text  # a delegate may ask too
