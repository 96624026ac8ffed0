"""From a reminder DM to a stored record, as a delegate clicks and types on Slack.

Each test is a transcript: what the bot posted, what the person pressed or wrote, what Slack
was asked (views.open, chat.postMessage) and what the store holds afterwards.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.slack import SlackTransport, ids
from handlers.reminders import compose_reminder
from storage.db import Store
from storage.models import (
    Contact,
    Draft,
    Entry,
    EntryKind,
    EntryStatus,
    Report,
    Snooze,
    Via,
)
from tests.bot.slack.conftest import (
    ANA,
    ANA_EMAIL,
    KHAM,
    KHAM_EMAIL,
    LUC,
    LUC_EMAIL,
    NOW,
    Slack,
    contact,
    count,
    reminder_for,
)
from tests.fakes.slack_api import FakeSlack

LAO_ART4 = ("LAO", "Lao People's Democratic Republic", "art4", date(2027, 8, 1))
IRL_ART7 = ("IRL", "Ireland", "art7-annual-2026", date(2027, 4, 30))
FRA_ART7 = ("FRA", "France", "art7-annual-2026", date(2027, 4, 30))


async def send_reminder(
    store: Store, transport: SlackTransport, email: str, item: tuple[str, str, str, date], **kw: Any
) -> str:
    person = await contact(store, email)
    # A contact known only by email gets reminders once Slack told us their id (as here).
    if person.slack_user_id is None:
        person.slack_user_id = {KHAM_EMAIL: KHAM, LUC_EMAIL: LUC}[email]
    outgoing = reminder_for(person, (item,), **kw)
    return await transport.send(outgoing, compose_reminder(outgoing, outgoing.local_day))


def last(fake: FakeSlack, user: str) -> dict[str, Any]:
    return fake.messages(user)[-1]


def opened_view(fake: FakeSlack) -> dict[str, Any]:
    view = fake.calls_to("views.open")[-1]["view"]
    assert isinstance(view, dict)
    # Submissions carry the view as Slack stored it (with its id), like the real payload.
    return next(v for v in fake.views.values() if v["callback_id"] == view["callback_id"])


def input_block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def test_need_from_reminder_button_through_modal_is_recorded_with_provenance(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    ts = await send_reminder(slack_store, transport, KHAM_EMAIL, LAO_ART4)
    reminder = last(fake_slack, KHAM)
    assert fake_slack.invalid_payloads == []
    assert reminder["metadata"]["event_payload"]["items"] == ["LAO:art4"]
    labels = [e["text"]["text"] for e in reminder["blocks"][-2]["elements"]]
    assert labels == [
        "Report submitted",
        "We need assistance",
        "We can offer assistance",
        "Remind me later",
        "Not the right person",
        "Stop these reminders",
    ]

    await slack.click(KHAM, reminder, "We need assistance")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    modal = opened_view(fake_slack)
    assert modal["callback_id"] == ids.NEED_MODAL
    assert json.loads(modal["private_metadata"])["about"] == "LAO:art4"
    assert "Lao People" in modal["blocks"][0]["elements"][0]["text"]  # the State it is for
    article = input_block(modal, "article")["element"]["initial_option"]
    assert article["value"] == "4"  # the reminder was about the Article 4 deadline
    assert {b["block_id"] for b in modal["blocks"] if b["type"] == "input"} == {
        "description",
        "article",
        "category",
        "amount",
        "currency",
        "period_start",
        "period_end",
        "visibility",
    }

    answer = await slack.submit(
        KHAM,
        modal,
        {
            "description": "Technical survey of 40 villages in Xieng Khouang",
            "category": "survey_clearance",
            "amount": "250000",
            "currency": "USD",
            "period_start": "2027-06-01",
            "period_end": "2027-12-31",
        },
    )
    assert (answer.status, answer.text) == (200, "")  # the modal closes
    receipt = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.messages(KHAM) if m["ts"] != ts]
    )
    # Recorded by the submission itself: the form was the confirmation.
    assert receipt[0]["blocks"][0]["text"]["text"] == "Recorded as N-2027-0001."
    shown = json.dumps(receipt[0]["blocks"])
    assert "Recorded at once as N-2027-0001: there is nothing to confirm." in shown
    for line in ("US$250,000.00", "Survey and clearance", "1 June 2027 to 31 December 2027"):
        assert line in shown
    assert [e["text"]["text"] for e in receipt[0]["blocks"][-2]["elements"]] == [
        "Edit",
        "Withdraw",
    ]
    assert await count(slack_store, Draft) == 0  # nothing waits for a Confirm
    kham = await contact(slack_store, KHAM_EMAIL)
    async with slack_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.kind, entry.state_iso3, entry.article, entry.amount, entry.currency) == (
        EntryKind.NEED,
        "LAO",
        4,
        Decimal("250000.00"),
        "USD",
    )
    assert (entry.period_start, entry.period_end) == (date(2027, 6, 1), date(2027, 12, 31))
    assert (entry.via, entry.logged_by_id, entry.confirmed_by_id) == (Via.SLACK, kham.id, kham.id)
    assert entry.confirmed_at == NOW
    assert entry.message_id == ts  # provenance: the reminder it answered
    assert kham.slack_user_id == KHAM  # found by email once, then remembered
    assert fake_slack.invalid_payloads == []


async def test_french_free_text_in_the_reminder_thread_is_recorded_after_confirm(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    reminder_ts = await send_reminder(slack_store, transport, LUC_EMAIL, FRA_ART7, language="fr")
    text = "Nous avons besoin d'un appui technique pour l'enquête non technique, 250 000 USD"
    said = await slack.dm(LUC, text, thread_ts=reminder_ts)

    proposal = await fake_slack.wait_for(lambda: fake_slack.messages(LUC)[1:])
    assert proposal[0]["thread_ts"] == reminder_ts  # answered in the reminder's thread
    assert proposal[0]["blocks"][0]["text"]["text"] == "Veuillez confirmer"
    assert await count(slack_store, Entry) == 0

    await slack.click(LUC, proposal[0], "Confirmer")
    recorded = await fake_slack.wait_for(lambda: fake_slack.messages(LUC)[2:])
    assert recorded[0]["thread_ts"] == reminder_ts
    assert "N-2027-0001" in recorded[0]["text"]
    async with slack_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.amount, entry.currency, entry.state_iso3) == (Decimal("250000.00"), "USD", "FRA")
    assert (entry.original_text, entry.original_language, entry.message_id) == (text, "fr", said)
    assert entry.via is Via.SLACK
    assert fake_slack.invalid_payloads == []


async def test_a_reply_in_the_thread_knows_which_reminder_it_answers(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    reminder_ts = await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    await slack.dm(ANA, "LATER", thread_ts=reminder_ts)
    reply = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
    assert reply[0]["blocks"][0]["text"]["text"] == "Snoozed"
    async with slack_store.transaction() as session:
        snooze = await session.scalar(select(Snooze))
    assert snooze is not None
    assert (snooze.state_iso3, snooze.item) == ("IRL", "art7-annual-2026")

    # The same word outside the thread names no reminder, and the bot asks which.
    await slack.dm(ANA, "LATER")
    reply = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[2:])
    assert "thread_ts" not in reply[0]
    assert reply[0]["blocks"][0]["text"]["text"] == "Which reminder?"


async def test_amount_that_is_not_a_number_is_shown_next_to_the_amount(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    await slack.click(ANA, last(fake_slack, ANA), "We can offer assistance")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    modal = opened_view(fake_slack)
    assert modal["callback_id"] == ids.OFFER_MODAL
    assert "focus" in {b.get("block_id") for b in modal["blocks"]}

    answer = await slack.submit(ANA, modal, {"description": "Deminers' training", "amount": "lots"})
    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"amount": "Write the amount as a number, e.g. 250000."},
    }
    assert await count(slack_store, Draft) == 0
    assert await count(slack_store, Entry) == 0
    assert len(fake_slack.messages(ANA)) == 1  # only the reminder


async def test_what_a_person_typed_is_echoed_escaped(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.command(ANA, "need")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    description = "<!channel> <http://evil|click> & more"
    await slack.submit(ANA, opened_view(fake_slack), {"description": description})
    (proposal,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    posted = json.dumps([proposal["text"], proposal["blocks"]])
    assert "<!channel>" not in posted
    assert "<http://evil" not in posted
    assert "&lt;!channel&gt; &lt;http://evil|click&gt; &amp; more" in posted
    assert fake_slack.invalid_payloads == []


async def test_change_the_date_of_a_guessed_report_with_the_datepicker(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    reminder_ts = await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    await slack.dm(ANA, "We submitted our report on 10 April", thread_ts=reminder_ts)
    proposal = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
    assert "10 April 2027" in proposal[0]["text"]
    assert await count(slack_store, Report) == 0  # a guess waits for Confirm

    await slack.click(ANA, proposal[0], "Change the date")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    modal = opened_view(fake_slack)
    assert input_block(modal, ids.DATE_BLOCK)["element"]["initial_date"] == "2027-04-10"

    future = await slack.submit(ANA, modal, {ids.DATE_BLOCK: "2027-05-02"})
    assert future.json()["response_action"] == "errors"
    assert list(future.json()["errors"]) == [ids.DATE_BLOCK]

    assert (await slack.submit(ANA, modal, {ids.DATE_BLOCK: "2027-04-12"})).text == ""
    receipt = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[2:])
    assert "12 April 2027" in receipt[0]["text"]
    assert "covering 2026" in receipt[0]["text"]  # still the report the reminder was about
    async with slack_store.transaction() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.state_iso3, report.year, report.submitted_on) == (
        "IRL",
        2026,
        date(2027, 4, 12),
    )


async def test_edit_then_withdraw_a_recorded_offer(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.command(ANA, "offer")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    await slack.submit(ANA, opened_view(fake_slack), {"description": "Risk education trainers"})
    recorded = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    assert recorded[0]["blocks"][0]["text"]["text"] == "Recorded as C-2027-0001."

    await slack.click(ANA, recorded[0], "Edit")
    await fake_slack.wait_for(lambda: len(fake_slack.calls_to("views.open")) == 2)
    editor = fake_slack.calls_to("views.open")[-1]["view"]
    assert json.loads(editor["private_metadata"])["reference"] == "C-2027-0001"
    description = input_block(editor, "description")["element"]["initial_value"]
    assert description == "Risk education trainers"
    stored_editor = fake_slack.views[sorted(fake_slack.views)[-1]]
    await slack.submit(ANA, stored_editor, {"amount": "40000", "currency": "EUR"})
    updated = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
    assert updated[0]["blocks"][0]["text"]["text"] == "C-2027-0001 updated."

    await slack.click(ANA, updated[0], "Withdraw")
    await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[2:])
    async with slack_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.amount, entry.currency, entry.status) == (
        Decimal("40000.00"),
        "EUR",
        EntryStatus.WITHDRAWN,
    )


async def test_not_the_right_person_hands_over_to_a_colleague(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    await slack.click(ANA, last(fake_slack, ANA), "Not the right person")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    modal = opened_view(fake_slack)
    refused = await slack.submit(ANA, modal, {ids.EMAIL_BLOCK: "not an address"})
    assert list(refused.json()["errors"]) == [ids.EMAIL_BLOCK]
    assert (await contact(slack_store, ANA_EMAIL)).active

    await slack.submit(ANA, modal, {ids.EMAIL_BLOCK: "Sean.Colleague@dfa.ie"})
    handed = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
    assert handed[0]["blocks"][0]["text"]["text"] == "Handed over"
    assert not (await contact(slack_store, ANA_EMAIL)).active
    colleague = await contact(slack_store, "sean.colleague@dfa.ie")
    assert (colleague.state_iso3, colleague.active) == ("IRL", False)  # the ISU checks first


async def test_home_tab_shows_the_state_and_its_open_needs(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.command(ANA, "need")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    await slack.submit(ANA, opened_view(fake_slack), {"description": "Victim assistance data"})
    await fake_slack.wait_for(lambda: fake_slack.messages(ANA))

    channel = await slack.dm_channel(ANA)
    await slack.event({"type": "app_home_opened", "user": ANA, "channel": channel, "tab": "home"})
    home = await fake_slack.wait_for(lambda: fake_slack.home_views.get(ANA))
    shown = json.dumps(home["blocks"])
    assert home["blocks"][0]["text"]["text"] == "Ireland"
    assert "N-2027-0001" in shown
    assert "Victim assistance data" in shown
    assert "covering 2026" in shown
    assert fake_slack.invalid_payloads == []


async def test_deleted_contact_is_a_stranger_again(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    async with slack_store.transaction() as session:
        ana = await session.scalar(select(Contact).where(Contact.slack_user_id == ANA))
        assert ana is not None
        ana.active = False
    await slack.dm(ANA, "We need 10,000 EUR")
    (reply,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    assert reply["blocks"][0]["text"]["text"] == "Access needed"
    assert await count(slack_store, Draft) == 0


async def test_a_slack_failure_is_logged_with_its_code_and_the_person_told(
    slack: Slack,
    slack_store: Store,
    fake_slack: FakeSlack,
    transport: SlackTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    fake_slack.fail_next("views.open", status=200, error="expired_trigger_id")
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        await slack.click(ANA, last(fake_slack, ANA), "We need assistance")
        apology = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
    assert apology[0]["blocks"][0]["text"]["text"] == "Something went wrong"
    assert any("expired_trigger_id" in record.getMessage() for record in caplog.records)
