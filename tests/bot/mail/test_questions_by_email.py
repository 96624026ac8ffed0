"""A question asked by replying to a bot email is answered by email, over the real LMTP path.

The reply to a reminder carries the reminder's key (so the turn is "about" it), yet a clear
question is answered from the records, as on Slack and in the terminal: in English, French and
Spanish, the coordinators-only record marked for a coordinator and never shown to a delegate.
The answer is readable as text and HTML: sections, no buttons, no keywords to type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Store
from storage.models import Channel
from tests.bot.mail.conftest import SmtpServer
from tests.bot.mail.test_inbound import Bot, gmail_reply, plain_text, remind, running_bot
from tests.handlers.questions_world import (
    ANA,
    ASKER_OF,
    PEOPLE,
    QUESTIONS,
    check_answer,
    references,
    seed,
)


@pytest.fixture
async def mail_bot(store: Store, smtp_server: SmtpServer) -> AsyncIterator[Bot]:
    await seed(store, channel=Channel.EMAIL)
    async with running_bot(store, smtp_server) as running:
        yield running


async def ask_by_email(bot: Bot, email: str, text: str, *, n: int) -> str:
    """Reply with ``text`` to a reminder sent to the State's desk; the bot's answer, as text."""
    state = next(iso3 for address, _, _, iso3, _ in PEOPLE if address == email)
    assert state is not None
    reminder = await remind(bot.store, f"desk{n}@{state.lower()}.example", state)
    raw = gmail_reply(
        reminder.email, sender=email, text=text, message_id=f"<q{n}@{state.lower()}.example>"
    )
    assert await bot.deliver(raw) == 250
    (answer,) = bot.sent_to(email)[-1:]
    html = answer.get_body(("html",))
    assert html is not None
    assert "<button" not in html.get_content()
    return plain_text(answer)


async def test_a_question_by_email_gets_the_same_answer_in_three_languages(
    mail_bot: Bot,
) -> None:
    refs = await references(mail_bot.store)
    for n, language in enumerate(("en", "fr", "es")):
        text = await ask_by_email(mail_bot, ASKER_OF[language], QUESTIONS[language], n=n)
        check_answer(text, refs, language, coordinator=True)
        assert "Just reply to this message with one of these words" not in text  # no keywords
    delegate = await ask_by_email(mail_bot, ANA, QUESTIONS["en"], n=9)
    check_answer(delegate, refs, "en", coordinator=False)
