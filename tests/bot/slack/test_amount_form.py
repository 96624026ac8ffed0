"""Amounts typed into the need form, submitted as Slack submits them, on both stores.

Each submission is a signed ``view_submission`` to the real Bolt HTTP endpoint. What the
store cannot hold exactly is refused next to the amount, and nothing is proposed or stored;
what it can hold is recorded to the cent.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.slack import ids
from storage.db import Store
from storage.models import Draft, Entry
from tests.bot.slack.conftest import ANA, LUC, Slack, count
from tests.bot.slack.test_reminder_flow import opened_view
from tests.fakes.slack_api import FakeSlack

AS_A_NUMBER = "Write the amount as a number, e.g. 250000."
CENTS = "Give the amount with two decimals at most (cents), such as 250000.50."
ZEROS = "The amount must be less than 10,000,000,000,000; check the number of zeros."


async def submit_need(slack: Slack, fake: FakeSlack, user: str, amount: str) -> object:
    opened = len(fake.calls_to("views.open"))
    await slack.command(user, "need")
    await fake.wait_for(lambda: len(fake.calls_to("views.open")) > opened)
    form = opened_view(fake)
    assert form["callback_id"] == ids.NEED_MODAL
    answer = await slack.submit(
        user, form, {"description": "Survey in the north", "amount": amount, "currency": "USD"}
    )
    assert answer.status == 200, answer
    return answer.json()


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        pytest.param("NaN", AS_A_NUMBER, id="nan-was-a-500"),
        pytest.param("sNaN", AS_A_NUMBER, id="snan-was-a-500"),
        pytest.param("Infinity", AS_A_NUMBER, id="infinity-was-stored-as-infinite-usd"),
        pytest.param("1e308", AS_A_NUMBER, id="e-notation-was-read-as-308"),
        pytest.param("0.001", CENTS, id="was-stored-and-shown-as-0-usd"),
        pytest.param("99999999999999999999", ZEROS, id="was-stored-as-1e20"),
        pytest.param("100000000000000", ZEROS, id="overflowed-postgresql-at-confirm"),
        pytest.param("99999999999999.99", ZEROS, id="sqlite-kept-98-cents"),
    ],
)
async def test_an_amount_the_store_cannot_hold_is_refused_next_to_the_field(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, amount: str, error: str
) -> None:
    answer = await submit_need(slack, fake_slack, ANA, amount)

    assert answer == {"response_action": "errors", "errors": {"amount": error}}
    assert await count(slack_store, Draft) == 0
    assert await count(slack_store, Entry) == 0
    assert fake_slack.messages(ANA) == []  # nothing proposed


async def test_the_refusal_is_in_the_delegates_language(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    answer = await submit_need(slack, fake_slack, LUC, "0,001")
    assert answer == {
        "response_action": "errors",
        "errors": {
            "amount": "Indiquez le montant avec deux décimales au plus (les centimes), par "
            "exemple 250000,50."
        },
    }


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        pytest.param("250 000,50", "250000.50", id="french-cents"),
        pytest.param("1,5 million", "1500000.00", id="million"),
        pytest.param("9999999999999.99", "9999999999999.99", id="largest-kept-to-the-cent"),
    ],
)
async def test_an_amount_the_store_holds_is_recorded_exactly(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, amount: str, stored: str
) -> None:
    answer = await submit_need(slack, fake_slack, ANA, amount)
    assert answer is None  # accepted: the form closes
    await fake_slack.wait_for(lambda: fake_slack.messages(ANA))  # the receipt: recorded at once

    async with slack_store.transaction() as session:
        recorded = (await session.execute(select(Entry.amount, Entry.currency))).one()
    assert tuple(recorded) == (Decimal(stored), "USD")
    assert str(recorded.amount) == stored
