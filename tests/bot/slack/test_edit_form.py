"""The Edit form: what a person empties is cleared, what a record needs is asked for.

Transcripts against the fake Slack on both stores: the form the bot opened, what the person
emptied in it, Slack's answer to the submission, what the store and its audit log hold.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.slack import SlackTransport
from storage.audit import snapshot
from storage.db import Store
from storage.models import AuditEntry, Entry, Via
from tests.bot.slack.conftest import ANA, ANA_EMAIL, Slack
from tests.bot.slack.test_reminder_flow import IRL_ART7, input_block, send_reminder
from tests.fakes.slack_api import FakeSlack

OFFER = {
    "description": "Risk education trainers",
    "article": "4",
    "category": "risk_education",
    "amount": "40000",
    "currency": "EUR",
    "period_start": "2027-06-01",
    "period_end": "2027-12-31",
    "focus": "Africa, Asia",
}


def newest_view(fake: FakeSlack) -> dict[str, Any]:
    """The form opened last, as Slack stored it (a submission carries it back)."""
    return fake.views[sorted(fake.views)[-1]]


def subject(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


async def entry_and_log(store: Store) -> tuple[dict[str, Any], list[AuditEntry]]:
    async with store.transaction() as session:
        entry = await session.scalar(select(Entry))
        assert entry is not None
        log = await session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "entries").order_by(AuditEntry.id)
        )
        return snapshot(entry), list(log)


async def recorded_offer(slack: Slack, fake: FakeSlack) -> dict[str, Any]:
    """Ana records OFFER through the form, at once; its receipt, with its Edit."""
    await slack.command(ANA, "offer")
    await fake.wait_for(lambda: fake.calls_to("views.open"))
    await slack.submit(ANA, newest_view(fake), OFFER)
    (receipt,) = await fake.wait_for(lambda: fake.messages(ANA))
    assert subject(receipt) == "Recorded as C-2027-0001."
    return receipt


async def open_editor(slack: Slack, fake: FakeSlack, message: dict[str, Any]) -> dict[str, Any]:
    opened = len(fake.calls_to("views.open"))
    await slack.click(ANA, message, "Edit")
    await fake.wait_for(lambda: len(fake.calls_to("views.open")) > opened)
    return newest_view(fake)


async def test_emptied_fields_of_a_recorded_offer_are_cleared_and_audited(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    confirmation = await recorded_offer(slack, fake_slack)
    editor = await open_editor(slack, fake_slack, confirmation)
    assert input_block(editor, "amount")["element"]["initial_value"] == "40000.00"

    # The amount, the article, the end of the period and the focus emptied; the currency is
    # left as shown, and goes with the amount it qualified.
    answer = await slack.submit(
        ANA, editor, {"amount": "", "article": "", "period_end": "", "focus": ""}
    )
    assert (answer.status, answer.text) == (200, "")  # accepted: the form closes
    updated = (await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:]))[0]
    assert subject(updated) == "C-2027-0001 updated."
    shown = {f["text"].split("\n")[0] for b in updated["blocks"] for f in b.get("fields") or []}
    assert "*Amount*" not in shown
    assert "*Article*" not in shown

    entry, log = await entry_and_log(slack_store)
    cleared = {"amount": None, "currency": None, "article": None, "period_end": None}
    assert {name: entry[name] for name in cleared} == cleared
    assert entry["focus"] == []
    kept = ("description", "category", "period_start", "visibility")
    assert [entry[name] for name in kept] == [
        "Risk education trainers",
        "risk_education",
        "2027-06-01",
        "states_parties",
    ]
    created, change = log
    assert (created.action, change.action, change.via, change.actor) == (
        "create:form",
        "update:form",
        Via.SLACK,
        "Ana Delegate",
    )
    assert change.before is not None
    assert change.after is not None
    before = {name: change.before[name] for name in (*cleared, "focus")}
    after = {name: change.after[name] for name in (*cleared, "focus")}
    assert before == {
        "amount": "40000.00",
        "currency": "EUR",
        "article": 4,
        "period_end": "2027-12-31",
        "focus": ["Africa", "Asia"],
    }
    assert after == cleared | {"focus": []}


@pytest.mark.parametrize(
    ("emptied", "errors"),
    [
        pytest.param(
            {"description": ""},
            {"description": "Describe what is needed or offered."},
            id="description",
        ),
        pytest.param(
            {"category": ""}, {"category": "Choose one of the categories."}, id="category"
        ),
        pytest.param({"visibility": ""}, {"visibility": "Choose who may see it."}, id="visibility"),
        pytest.param(
            {"currency": ""},
            {"currency": "Give the currency as a code, e.g. USD or EUR."},
            id="currency-of-an-amount",
        ),
    ],
)
async def test_an_emptied_required_field_is_asked_for_and_nothing_changes(
    slack: Slack,
    slack_store: Store,
    fake_slack: FakeSlack,
    emptied: dict[str, str],
    errors: dict[str, str],
) -> None:
    confirmation = await recorded_offer(slack, fake_slack)
    entry_before, log_before = await entry_and_log(slack_store)
    editor = await open_editor(slack, fake_slack, confirmation)
    updates = len(fake_slack.calls_to("chat.update"))

    # Slack's own client asks for a required field itself; the bot must not rely on it.
    answer = await slack.submit(ANA, editor, emptied)

    assert answer.json() == {"response_action": "errors", "errors": errors}
    entry, log = await entry_and_log(slack_store)
    assert entry == entry_before
    assert [change.id for change in log] == [change.id for change in log_before]
    assert len(fake_slack.messages(ANA)) == 1  # the receipt, no more
    assert len(fake_slack.calls_to("chat.update")) == updates  # the Edit button stays


async def test_a_field_emptied_in_a_proposal_is_not_recorded_and_provenance_stays(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    """A guess in the reminder's thread, edited in its form: the form records it at once."""
    reminder_ts = await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    said = await slack.dm(
        ANA, "We can offer risk education trainers for EUR 40,000", thread_ts=reminder_ts
    )
    (proposal,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
    assert "€40,000.00" in str(proposal["blocks"])

    editor = await open_editor(slack, fake_slack, proposal)
    await slack.submit(ANA, editor, {"amount": ""})
    (receipt,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[2:])
    assert subject(receipt) == "Recorded as C-2027-0001."
    assert "€" not in str(receipt["blocks"])

    entry, log = await entry_and_log(slack_store)
    assert (entry["amount"], entry["currency"]) == (None, None)
    # Edited in its proposal, the offer still came from the message it was read from.
    assert (entry["message_id"], entry["original_text"]) == (
        said,
        "We can offer risk education trainers for EUR 40,000",
    )
    assert [change.action for change in log] == ["create:form"]


async def test_a_proposal_confirmed_while_its_form_was_open_is_not_recorded_again(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.dm(ANA, "We can offer risk education trainers for EUR 40,000")
    (proposal,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    editor = await open_editor(slack, fake_slack, proposal)
    await slack.click(ANA, proposal, "Confirm")  # confirmed from another window meanwhile
    await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])

    answer = await slack.submit(ANA, editor, {"amount": "50000"})

    assert (answer.status, answer.text) == (200, "")
    (refused,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[2:])
    assert subject(refused) == "Nothing to confirm"
    assert "Confirm" not in str(refused["blocks"])
    async with slack_store.transaction() as session:
        offers = (await session.scalars(select(Entry))).all()
    assert [(offer.reference, str(offer.amount)) for offer in offers] == [
        ("C-2027-0001", "40000.00")
    ]
