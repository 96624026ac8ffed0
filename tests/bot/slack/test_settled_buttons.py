"""A clicked button is visibly settled: its message says who answered, how and when.

Each test is a transcript against the fake Slack: what the bot posted, what the person pressed
or submitted, what chat.update was asked to make of the message, and what the person was told.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.slack import SlackTransport, ids
from handlers.reminders import compose_reminder
from storage.db import Store
from storage.models import Report, Snooze
from tests.bot.slack.conftest import (
    ANA,
    ANA_EMAIL,
    LUC,
    LUC_EMAIL,
    Slack,
    contact,
    count,
    reminder_for,
)
from tests.bot.slack.test_reminder_flow import (
    FRA_ART7,
    IRL_ART7,
    last,
    opened_view,
    send_reminder,
)
from tests.fakes.slack_api import FakeSlack

# A treaty deadline due with Ireland's report, merged into the same reminder.
IRL_ART3 = ("IRL", "Ireland", "art3", date(2027, 8, 1))

# 07:00 UTC as Luc's clock in Paris shows it, written the French way (CLDR's apostrophes).
LUC_AT_NOW = "20 avril 2027, 09:00 heure d\u2019\u00e9t\u00e9 d\u2019Europe centrale"


def subject(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


def without_answers(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's blocks but its buttons: what settling must leave as it was."""
    return [b for b in message["blocks"] if b.get("block_id") != ids.ANSWERS_BLOCK]


def settled_line(blocks: list[dict[str, Any]]) -> str:
    (block,) = [b for b in blocks if b.get("block_id") == ids.SETTLED_BLOCK]
    assert block["type"] == "context"
    return str(block["elements"][0]["text"])


def has_buttons(message: dict[str, Any]) -> bool:
    return any(b["type"] == "actions" for b in message["blocks"])


async def dm(fake: FakeSlack, user: str, size: int) -> list[dict[str, Any]]:
    """The person's DM with the bot, once it holds ``size`` messages."""
    return await fake.wait_for(lambda: len(fake.messages(user)) == size and fake.messages(user))


async def test_confirm_settles_the_proposal_in_the_clickers_language_and_zone(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.dm(LUC, "Nous avons soumis notre rapport")
    (proposal,) = await fake_slack.wait_for(lambda: fake_slack.messages(LUC))
    assert subject(proposal) == "Veuillez confirmer"

    await slack.click(LUC, proposal, "Confirmer")
    update = (await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update")))[0]

    assert (update["channel"], update["ts"]) == (fake_slack.dm_channel(LUC), proposal["ts"])
    assert [b["type"] for b in update["blocks"]] == ["header", "section", "context", "context"]
    assert settled_line(update["blocks"]) == f"✓ Confirmé par Luc Délégué, {LUC_AT_NOW}"
    # Everything else the message said stays, in place; only the buttons made way.
    kept = [b for b in update["blocks"] if b.get("block_id") != ids.SETTLED_BLOCK]
    assert kept == without_answers(proposal)
    assert update["text"] == proposal["text"]
    settled, recorded = await dm(fake_slack, LUC, 2)
    assert not has_buttons(settled)
    assert subject(recorded) == "Rapport enregistré"
    assert await count(slack_store, Report) == 1
    assert fake_slack.invalid_payloads == []


async def test_a_refused_click_leaves_the_buttons_for_another_try(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.dm(ANA, "We submitted our report")
    await dm(fake_slack, ANA, 1)
    await slack.dm(ANA, "We submitted our 2025 report")
    stale, current = await dm(fake_slack, ANA, 2)

    # The first proposal was replaced by the second: its Confirm has nothing left to confirm.
    await slack.click(ANA, stale, "Confirm")
    refusal = (await dm(fake_slack, ANA, 3))[2]
    assert subject(refusal) == "Nothing to confirm"
    assert fake_slack.calls_to("chat.update") == []
    assert has_buttons(fake_slack.messages(ANA)[0])

    await slack.click(ANA, current, "Confirm")
    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))
    assert update["ts"] == current["ts"]
    assert settled_line(update["blocks"]).startswith("✓ Confirmed by Ana Delegate, 20 April 2027")
    assert await count(slack_store, Report) == 1


@pytest.mark.parametrize(
    ("fault", "logged"),
    [
        ({"status": 200, "error": "message_not_found"}, "message_not_found"),
        ({"status": 200, "error": "cant_update_message"}, "cant_update_message"),
        # More 429s than the client's retries: still rate limited when it gives up.
        ({"status": 429, "retry_after": 0, "times": 4}, "ratelimited"),
        ({"status": 200, "error": "invalid_auth"}, "invalid_auth"),
        ("drop", "ServerDisconnectedError"),
    ],
)
async def test_a_failed_update_still_answers_and_loses_nothing(
    slack: Slack,
    slack_store: Store,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    fault: dict[str, Any] | str,
    logged: str,
) -> None:
    await slack.dm(ANA, "We submitted our report")
    (proposal,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    if fault == "drop":
        fake_slack.drop_next("chat.update", times=3)  # one try and the client's two retries
    else:
        assert isinstance(fault, dict)
        fake_slack.fail_next("chat.update", **fault)

    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        await slack.click(ANA, proposal, "Confirm")
        answers = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
        await fake_slack.wait_for(lambda: any(logged in r.getMessage() for r in caplog.records))

    assert [subject(m) for m in answers] == ["Report recorded"]  # and no apology
    assert await count(slack_store, Report) == 1
    assert has_buttons(fake_slack.messages(ANA)[0])  # Slack kept the message as it was
    assert fake_slack.calls_to("chat.update")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_snooze_settles_the_reminder_and_keeps_what_threads_rely_on(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    reminder = last(fake_slack, ANA)

    await slack.click(ANA, reminder, "Remind me later")
    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))

    assert update["ts"] == reminder["ts"]
    assert "metadata" not in update  # left out, so Slack keeps it
    line = settled_line(update["blocks"])
    assert line.startswith("✓ Snoozed by Ana Delegate, 20 April 2027, 08:00 ")  # Dublin time
    settled = fake_slack.messages(ANA)[0]
    assert settled["metadata"] == reminder["metadata"]  # a reply in its thread still knows it
    assert [b for b in settled["blocks"] if b.get("block_id") != ids.SETTLED_BLOCK] == (
        without_answers(reminder)
    )
    assert subject(fake_slack.messages(ANA)[1]) == "Snoozed"
    assert await count(slack_store, Snooze) == 1


async def test_not_me_settles_the_reminder_only_once_the_form_is_accepted(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    reminder = last(fake_slack, ANA)
    await slack.click(ANA, reminder, "Not the right person")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    modal = opened_view(fake_slack)

    refused = await slack.submit(ANA, modal, {ids.EMAIL_BLOCK: "not an address"})
    assert refused.json()["response_action"] == "errors"
    assert fake_slack.calls_to("chat.update") == []

    await slack.submit(ANA, modal, {ids.EMAIL_BLOCK: "sean.colleague@dfa.ie"})
    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))
    assert (update["channel"], update["ts"]) == (fake_slack.dm_channel(ANA), reminder["ts"])
    assert settled_line(update["blocks"]).startswith("✓ Handed over by Ana Delegate, 20 April")
    assert subject(fake_slack.messages(ANA)[1]) == "Handed over"


async def test_a_form_is_answered_even_when_its_message_cannot_be_read_back(
    slack: Slack,
    slack_store: Store,
    fake_slack: FakeSlack,
    transport: SlackTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    await slack.click(ANA, last(fake_slack, ANA), "Not the right person")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    fake_slack.fail_next("conversations.history", status=200, error="missing_scope")

    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        await slack.submit(ANA, opened_view(fake_slack), {ids.EMAIL_BLOCK: ""})
        reminder, handed = await dm(fake_slack, ANA, 2)
        await fake_slack.wait_for(
            lambda: any("missing_scope" in r.getMessage() for r in caplog.records)
        )

    assert subject(handed) == "Handed over"
    assert not (await contact(slack_store, ANA_EMAIL)).active
    assert fake_slack.calls_to("chat.update") == []
    assert has_buttons(reminder)


async def test_editing_a_proposal_in_a_thread_settles_it_when_the_form_is_sent(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    reminder_ts = await send_reminder(slack_store, transport, LUC_EMAIL, FRA_ART7, language="fr")
    await slack.dm(LUC, "Nous avons besoin de 10 000 EUR pour la formation", thread_ts=reminder_ts)
    (proposal,) = await fake_slack.wait_for(lambda: fake_slack.messages(LUC)[1:])
    assert proposal["thread_ts"] == reminder_ts

    await slack.click(LUC, proposal, "Modifier")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    assert fake_slack.calls_to("chat.update") == []  # a form opened is not an answer yet
    await slack.submit(LUC, opened_view(fake_slack), {"amount": "12000"})

    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))
    # The submission does not carry the message: it was read back from its thread.
    assert fake_slack.calls_to("conversations.replies")[0]["ts"] == reminder_ts
    assert update["ts"] == proposal["ts"]
    assert settled_line(update["blocks"]) == f"✓ Modifié par Luc Délégué, {LUC_AT_NOW}"
    reminder, settled, receipt = fake_slack.messages(LUC)
    assert has_buttons(reminder)  # a need raised in its thread does not answer the deadline
    assert not has_buttons(settled)
    assert subject(receipt) == "Enregistré sous la référence N-2027-0001."  # the form records
    assert [e["text"]["text"] for e in receipt["blocks"][-2]["elements"]] == [
        "Modifier",
        "Retirer",
    ]
    assert fake_slack.invalid_payloads == []


async def test_a_need_raised_from_a_reminder_leaves_the_reminder_open(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    await slack.click(ANA, last(fake_slack, ANA), "We need assistance")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    await slack.submit(ANA, opened_view(fake_slack), {"description": "Stockpile audit"})
    (receipt,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:])
    assert subject(receipt) == "Recorded as N-2027-0001."

    # The withdrawal settles the receipt; the reminder, which a need does not answer, is not.
    await slack.click(ANA, receipt, "Withdraw")
    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))
    assert update["ts"] == receipt["ts"]
    assert has_buttons(fake_slack.messages(ANA)[0])


# --- a reminder answered by "Report submitted": recorded at once, its reminder settled ----------


def reported_line(update: dict[str, Any]) -> str:
    return settled_line(update["blocks"])


async def test_report_submitted_records_at_once_and_settles_the_reminder(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    reminder = last(fake_slack, ANA)
    await slack.click(ANA, reminder, "Report submitted")
    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))

    assert (update["channel"], update["ts"]) == (fake_slack.dm_channel(ANA), reminder["ts"])
    assert reported_line(update).startswith(
        "✓ Reported as submitted by Ana Delegate, 20 April 2027, 08:00 "  # Dublin time
    )
    assert "metadata" not in update  # left out, so Slack keeps it
    settled_reminder, receipt = await dm(fake_slack, ANA, 2)
    assert not has_buttons(settled_reminder)
    assert [b for b in settled_reminder["blocks"] if b.get("block_id") != ids.SETTLED_BLOCK] == (
        without_answers(reminder)
    )
    assert settled_reminder["metadata"] == reminder["metadata"]
    assert subject(receipt) == "Report recorded"
    assert "Recorded at once: there is nothing to confirm." in receipt["text"]
    async with slack_store.transaction() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.state_iso3, report.year, report.submitted_on) == ("IRL", 2026, date(2027, 4, 20))
    assert fake_slack.invalid_payloads == []


async def test_a_date_changed_on_a_guessed_report_records_it(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    reminder_ts = await send_reminder(slack_store, transport, LUC_EMAIL, FRA_ART7, language="fr")
    await slack.dm(LUC, "Nous avons soumis notre rapport le 10 avril", thread_ts=reminder_ts)
    _reminder, proposal = await dm(fake_slack, LUC, 2)
    assert subject(proposal) == "Veuillez confirmer"
    await slack.click(LUC, proposal, "Modifier la date")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    await slack.submit(LUC, opened_view(fake_slack), {ids.DATE_BLOCK: "2027-04-12"})
    receipt = (await dm(fake_slack, LUC, 3))[2]
    assert subject(receipt) == "Rapport enregistré"  # the form was the confirmation
    assert "12 avril 2027" in receipt["text"]

    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))
    assert update["ts"] == proposal["ts"]
    assert reported_line(update) == f"✓ Modifié par Luc Délégué, {LUC_AT_NOW}"
    # The report recorded, the reminder it answers is settled too.
    settled = await fake_slack.wait_for(
        lambda: [u for u in fake_slack.calls_to("chat.update") if u["ts"] == reminder_ts]
    )
    assert reported_line(settled[0]) == f"✓ Signalé comme soumis par Luc Délégué, {LUC_AT_NOW}"
    async with slack_store.transaction() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.state_iso3, report.year, report.submitted_on) == ("FRA", 2026, date(2027, 4, 12))


async def test_a_report_confirmed_in_the_reminders_thread_settles_that_reminder(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    reminder_ts = await send_reminder(slack_store, transport, LUC_EMAIL, FRA_ART7, language="fr")
    await slack.dm(LUC, "Nous avons soumis notre rapport le 12 avril", thread_ts=reminder_ts)
    proposal = (await dm(fake_slack, LUC, 2))[1]
    assert proposal["thread_ts"] == reminder_ts

    await slack.dm(LUC, "CONFIRMER", thread_ts=reminder_ts)
    (update,) = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"))

    assert update["ts"] == reminder_ts
    assert reported_line(update) == f"✓ Signalé comme soumis par Luc Délégué, {LUC_AT_NOW}"
    assert subject((await dm(fake_slack, LUC, 3))[2]) == "Rapport enregistré"


async def test_a_reminder_that_also_names_another_deadline_keeps_its_buttons(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    ana = await contact(slack_store, ANA_EMAIL)
    outgoing = reminder_for(ana, (IRL_ART7, IRL_ART3))
    await transport.send(outgoing, compose_reminder(outgoing, outgoing.local_day))
    reminder = last(fake_slack, ANA)
    await slack.click(ANA, reminder, "Report submitted")
    await dm(fake_slack, ANA, 2)
    await fake_slack.wait_for(lambda: fake_slack.calls_to("conversations.history"))

    assert await count(slack_store, Report) == 1
    assert fake_slack.calls_to("chat.update") == []
    assert has_buttons(fake_slack.messages(ANA)[0])


@pytest.mark.parametrize(
    ("method", "fault", "logged"),
    [
        # The reminder cannot be read back.
        ("conversations.history", {"status": 200, "error": "missing_scope"}, "missing_scope"),
        # Slack will not update the reminder.
        ("chat.update", {"status": 200, "error": "message_not_found"}, "not_found"),
    ],
)
async def test_a_reminder_that_cannot_be_settled_costs_the_person_nothing(
    slack: Slack,
    slack_store: Store,
    fake_slack: FakeSlack,
    transport: SlackTransport,
    caplog: pytest.LogCaptureFixture,
    method: str,
    fault: dict[str, Any],
    logged: str,
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    reminder = last(fake_slack, ANA)
    fake_slack.fail_next(method, **fault)

    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        await slack.click(ANA, reminder, "Report submitted")
        recorded = (await dm(fake_slack, ANA, 2))[1]
        await fake_slack.wait_for(
            lambda: any(
                logged in r.getMessage() and reminder["ts"] in r.getMessage()
                for r in caplog.records
            )
        )

    assert subject(recorded) == "Report recorded"  # and no apology
    assert await count(slack_store, Report) == 1
