"""The HTTP endpoint: only Slack's signed requests get in, a redelivered event acts once,
strangers are answered politely with nothing stored, and /ccm does what its help says."""

from __future__ import annotations

import json
import logging
import time
from datetime import date

import pytest
from sqlalchemy import select

from storage.db import Store
from storage.models import Contact, Draft, Entry, ProcessedEvent, Report, ReportKind
from tests.bot.slack.conftest import (
    ANA,
    LUC,
    LUC_EMAIL,
    STRANGER,
    Slack,
    contact,
    count,
)
from tests.fakes.slack_api import FakeSlack


def dm_event(user: str, channel: str, text: str) -> dict[str, object]:
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }


async def test_forged_signature_is_refused_and_nothing_runs(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    channel = await slack.dm_channel(ANA)
    event = dm_event(ANA, channel, "help")
    answer = await slack.event(event, secret="not-the-signing-secret")
    assert answer.status == 401
    assert await count(slack_store, ProcessedEvent) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_stale_timestamp_is_refused_as_a_replay(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    channel = await slack.dm_channel(ANA)
    six_minutes_ago = int(time.time()) - 6 * 60
    answer = await slack.event(dm_event(ANA, channel, "help"), timestamp=six_minutes_ago)
    assert answer.status == 401  # correctly signed, but too old: a replay
    assert await count(slack_store, ProcessedEvent) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_redelivered_event_is_acknowledged_and_handled_once(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    channel = await slack.dm_channel(ANA)
    event = dm_event(ANA, channel, "help")
    first = await slack.event(event, event_id="Ev0RETRY01")
    again = await slack.event(event, event_id="Ev0RETRY01", headers={"X-Slack-Retry-Num": "1"})

    assert (first.status, again.status) == (200, 200)
    assert "X-Slack-No-Retry" not in first.headers
    assert again.headers.get("X-Slack-No-Retry") == "1"  # answered by the filter, no listener
    replies = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    assert len(replies) == 1
    assert replies[0]["blocks"][0]["text"]["text"] == "How to answer"
    assert await count(slack_store, ProcessedEvent) == 1


async def test_stranger_is_told_to_ask_the_isu_and_nothing_is_stored(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    contacts_before = await count(slack_store, Contact)
    answer = await slack.command(STRANGER, "need")
    assert answer.status == 200
    (reply,) = await fake_slack.wait_for(lambda: fake_slack.messages(STRANGER))
    # Slack says the stranger reads Spanish; the answer names the ISU either way.
    assert "ISU" in reply["text"]
    assert fake_slack.calls_to("views.open") == []

    await slack.dm(STRANGER, "We need 250,000 USD for clearance")
    await fake_slack.wait_for(lambda: len(fake_slack.messages(STRANGER)) == 2)
    assert await count(slack_store, Contact) == contacts_before
    assert await count(slack_store, Draft) == 0
    assert await count(slack_store, Entry) == 0


async def test_unknown_subcommand_answers_with_the_help_for_the_role(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    assert (await slack.command(ANA, "gibberish")).status == 200
    (reply,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    shown = json.dumps(reply["blocks"])
    for command in (
        "/ccm need",
        "/ccm offer",
        "/ccm report submitted [YEAR]",
        "/ccm my",
        "/ccm needs [WORDS], /ccm offers [WORDS]",
        "/ccm state NAME",
        "/ccm overdue [YEAR]",
        "/ccm deadlines [MONTHS]",
        "/ccm stats [YEAR]",
        "/ccm export needs|offers|reports [csv|xlsx]",
        "/ccm digest on|off",
    ):
        assert command in shown
    # Ana is a delegate: the contacts export is not offered to her, and the help says why.
    assert "contacts [csv" not in shown
    assert "are for the Coordinators and the ISU" in shown
    assert fake_slack.invalid_payloads == []


async def test_report_submitted_command_names_the_year_and_records_at_once(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    """Luc is known by email only: the first command also teaches the store his Slack id."""
    await slack.command(LUC, "report submitted 2025")
    recorded = await fake_slack.wait_for(lambda: fake_slack.messages(LUC))
    assert "2025" in recorded[0]["text"]
    assert (await contact(slack_store, LUC_EMAIL)).slack_user_id == LUC
    assert recorded[0]["blocks"][0]["text"]["text"] == "Rapport enregistré"
    async with slack_store.transaction() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.state_iso3, report.kind, report.year) == ("FRA", ReportKind.ANNUAL, 2025)
    assert report.submitted_on == date(2027, 4, 20)
    assert fake_slack.invalid_payloads == []


async def test_my_shows_the_states_deadlines_and_open_entries(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    await slack.command(ANA, "my")
    (overview,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    shown = json.dumps(overview["blocks"], ensure_ascii=False)
    assert overview["blocks"][0]["text"]["text"] == "Ireland"
    assert "Article 7 annual transparency report covering 2026" in shown
    assert "due in 10 days" in shown
    assert fake_slack.invalid_payloads == []


GARBAGE = [
    ("payload={not json", "application/x-www-form-urlencoded"),
    ("this is not JSON", "application/json"),
    ("[1, 2, 3]", "application/json"),
    ('payload="just a string"', "application/x-www-form-urlencoded"),
]


def only_one_warning(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    """What the request left in the logs: one line, no traceback, nothing worse."""
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    return record


@pytest.mark.parametrize(("body", "content_type"), GARBAGE)
async def test_unsigned_garbage_is_refused_before_it_is_read(
    slack: Slack, caplog: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    answer = await slack.post(body, content_type, secret="not-the-signing-secret")
    assert answer.status == 401
    assert "signature" in only_one_warning(caplog).getMessage()


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "9" * 5000])
async def test_a_timestamp_that_is_not_a_number_is_refused(
    slack: Slack, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    answer = await slack.post(
        "payload={not json",
        "application/x-www-form-urlencoded",
        headers={"X-Slack-Request-Timestamp": timestamp},
    )
    assert answer.status == 401
    only_one_warning(caplog)


@pytest.mark.parametrize(("body", "content_type"), GARBAGE)
async def test_signed_garbage_is_a_bad_request_and_nothing_runs(
    slack: Slack,
    slack_store: Store,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    body: str,
    content_type: str,
) -> None:
    answer = await slack.post(body, content_type)
    assert answer.status == 400
    assert "not a Slack payload" in only_one_warning(caplog).getMessage()
    assert await count(slack_store, ProcessedEvent) == 0
    assert fake_slack.calls == []


async def test_slack_answering_a_proxys_503_is_logged_in_one_line(
    slack: Slack, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """The answer and then the apology both meet a text/plain 503: two lines, no traceback."""
    fake_slack.garble_next("chat.postMessage", times=2)
    assert (await slack.command(ANA, "help")).status == 200
    await fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.postMessage")) == 2)

    def errors() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.levelno >= logging.ERROR]

    await fake_slack.wait_for(lambda: len(errors()) == 2)
    assert [(r.exc_info, "http_503" in r.getMessage()) for r in errors()] == [(None, True)] * 2
