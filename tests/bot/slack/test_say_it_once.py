"""Plain answers are recorded, guesses are confirmed, on Slack through the real Bolt endpoint.

Transcripts: what the delegate types or clicks, what the bot posts, what the store holds; and
the same event or click again stores nothing twice.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.slack import SlackTransport
from storage.db import Store
from storage.models import AuditEntry, Draft, DraftStatus, Entry, Report
from tests.bot.slack.conftest import ANA, ANA_EMAIL, LUC, Slack, count
from tests.bot.slack.test_http import dm_event
from tests.bot.slack.test_reminder_flow import IRL_ART7, last, send_reminder
from tests.bot.slack.test_settled_buttons import dm, subject
from tests.fakes.slack_api import FakeSlack


async def test_a_keyword_need_typed_in_the_dm_is_recorded_once_however_often_slack_sends_it(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    channel = await slack.dm_channel(ANA)
    event = dm_event(ANA, channel, "NEED: non-technical survey in the north, about USD 250,000")
    first = await slack.event(event, event_id="Ev0NEED0001")
    (receipt,) = await dm(fake_slack, ANA, 1)
    again = await slack.event(event, event_id="Ev0NEED0001", headers={"X-Slack-Retry-Num": "1"})

    assert (first.status, again.status) == (200, 200)
    assert again.headers.get("X-Slack-No-Retry") == "1"
    assert subject(receipt) == "Recorded as N-2027-0001."
    shown = json.dumps(receipt["blocks"])
    assert "Recorded at once as N-2027-0001: there is nothing to confirm." in shown
    assert "non-technical survey in the north" in shown
    assert "US$250,000.00" in shown
    assert [e["text"]["text"] for e in receipt["blocks"][-2]["elements"]] == ["Edit", "Withdraw"]
    assert await count(slack_store, Entry) == 1
    assert await count(slack_store, Draft) == 0
    assert len(fake_slack.messages(ANA)) == 1
    assert fake_slack.invalid_payloads == []


async def test_a_guessed_need_waits_for_confirm_and_cancel_drops_it(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.dm(LUC, "Nous avons besoin d'un appui pour l'enquête non technique, 250 000 USD")
    (echo,) = await dm(fake_slack, LUC, 1)
    assert subject(echo) == "Veuillez confirmer"
    assert "Rien n'est enregistré tant que vous n'avez pas confirmé." in json.dumps(
        echo["blocks"], ensure_ascii=False
    )
    labels = [e["text"]["text"] for e in echo["blocks"][-2]["elements"]]
    assert labels == ["Confirmer", "Modifier", "Annuler"]
    assert await count(slack_store, Entry) == 0

    await slack.click(LUC, echo, "Annuler")
    cancelled = (await dm(fake_slack, LUC, 2))[1]
    assert subject(cancelled) == "Annulé"
    async with slack_store.transaction() as session:
        draft = await session.scalar(select(Draft))
    assert draft is not None
    assert draft.status is DraftStatus.DISCARDED

    await slack.click(LUC, echo, "Confirmer")  # too late: nothing is waiting any more
    refused = (await dm(fake_slack, LUC, 3))[2]
    assert subject(refused) == "Rien à confirmer"
    assert await count(slack_store, Entry) == 0


async def test_report_submitted_clicked_twice_records_one_report(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, transport: SlackTransport
) -> None:
    await send_reminder(slack_store, transport, ANA_EMAIL, IRL_ART7)
    reminder = last(fake_slack, ANA)
    await slack.click(ANA, reminder, "Report submitted")
    await dm(fake_slack, ANA, 2)
    await slack.click(ANA, reminder, "Report submitted")  # a double click, before it settled
    await dm(fake_slack, ANA, 3)

    assert await count(slack_store, Report) == 1
    async with slack_store.transaction() as session:
        log = await session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "reports"))
        assert list(log) == ["create:button"]  # the second click changed nothing
