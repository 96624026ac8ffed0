"""An amount the store cannot hold, written in an email reply: delivered over LMTP, answered
through SMTP with how to write it, and nothing proposed; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from storage.models import Draft, Entry
from tests.bot.mail.test_inbound import (  # noqa: F401  (bot, mail_store: fixtures)
    Bot,
    bot,
    gmail_reply,
    mail_store,
    plain_text,
    remind,
    rows,
)

DELEGATE = "kofi.mensah@mfa.gov.gh"


@pytest.mark.parametrize(
    ("need", "hint"),
    [
        pytest.param(
            "NEED: survey in the Volta region, USD 0.001",
            "Give the amount with two decimals at most (cents), such as 250000.50.",
            id="was-proposed-as-0-usd",
        ),
        pytest.param(
            "NEED: survey in the Volta region, 1e308 USD",
            "The amount must be less than 10,000,000,000,000; check the number of zeros.",
            id="was-proposed-as-308-usd",
        ),
        pytest.param(
            "NEED: survey in the Volta region, 999 999 999 999 999 bn USD",
            "The amount must be less than 10,000,000,000,000; check the number of zeros.",
            id="too-large",
        ),
    ],
)
async def test_an_amount_the_store_cannot_hold_is_answered_with_how_to_write_it(
    bot: Bot,  # noqa: F811 - the fixture
    need: str,
    hint: str,
) -> None:
    reminder = await remind(bot.store, DELEGATE, "GHA", name="Kofi Mensah")

    code = await bot.deliver(
        gmail_reply(reminder.email, sender=DELEGATE, text=need, message_id="<need@mfa.gov.gh>")
    )

    assert code == 250
    [answer] = bot.sent_to(DELEGATE)
    assert answer["Subject"].startswith("Something to fix")
    text = plain_text(answer)
    assert "Please fix these fields and send again:" in text
    assert hint in text
    assert await rows(bot.store, Draft) == []
    assert await rows(bot.store, Entry) == []
