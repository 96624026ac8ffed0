"""Reminders as Slack DMs: valid blocks, Slack's errors sorted, no second post after a crash."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.settings import Settings
from bot.slack import SlackTransport, ids, slack_web_client
from handlers.reminders import compose_reminder
from schedules.delivery import DeliveryError, Outgoing
from storage.db import Store
from tests.bot.slack.conftest import ANA, ANA_EMAIL, contact, reminder_for
from tests.fakes.slack_api import FakeSlack

IRL_ART7 = ("IRL", "Ireland", "art7-annual-2026", date(2027, 4, 30))
IRL_CUSTOM = ("IRL", "Ireland", "custom-7", date(2027, 5, 3))


async def send(transport: SlackTransport, outgoing: Outgoing) -> str:
    """What the dispatcher does: the reminder composed once, handed to the transport."""
    return await transport.send(outgoing, compose_reminder(outgoing, outgoing.local_day))


async def test_reminder_is_a_dm_with_six_answers_and_its_ledger_metadata(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    ana = await contact(slack_store, ANA_EMAIL)
    outgoing = reminder_for(ana, (IRL_ART7, IRL_CUSTOM), message_id=41)
    ts = await send(transport, outgoing)

    assert people.invalid_payloads == []
    (message,) = people.messages(ANA)
    assert message["ts"] == ts
    assert message["metadata"] == {
        "event_type": ids.REMINDER_EVENT,
        "event_payload": {
            "message_id": 41,
            "deliveries": [100, 101],
            "items": ["IRL:art7-annual-2026", "IRL:custom-7"],
        },
    }
    assert message["text"].startswith("Dear Ana Delegate,")
    answers = message["blocks"][-2]
    assert answers["block_id"] == ids.ANSWERS_BLOCK
    assert [e["action_id"] for e in answers["elements"]] == [
        "ccm_report_submitted",
        "ccm_need",
        "ccm_offer",
        "ccm_snooze",
        "ccm_not_me",
        "ccm_stop",
    ]
    # Every answer names the reminder's first item, so a click knows what it answers.
    assert {e["value"] for e in answers["elements"]} == {"IRL:art7-annual-2026"}


async def test_deactivated_user_fails_permanently_and_falls_back_to_email(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    people.deactivate_user(ANA)
    ana = await contact(slack_store, ANA_EMAIL)
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(ana, (IRL_ART7,)))
    assert (failure.value.permanent, failure.value.fallback) == (True, True)
    assert "user_disabled" in str(failure.value)
    assert people.messages(ANA) == []


@pytest.mark.parametrize(
    "error", ["user_not_found", "account_inactive", "cannot_dm_bot", "channel_not_found"]
)
async def test_unreachable_person_is_a_permanent_failure_with_fallback(
    transport: SlackTransport, slack_store: Store, people: FakeSlack, error: str
) -> None:
    people.fail_next("chat.postMessage", status=200, error=error)
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert (failure.value.permanent, failure.value.fallback) == (True, True)


async def test_contact_without_slack_id_falls_back_without_asking_slack(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    ana = await contact(slack_store, ANA_EMAIL)
    ana.slack_user_id = None
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(ana, (IRL_ART7,)))
    assert (failure.value.permanent, failure.value.fallback) == (True, True)
    assert people.calls == []


async def test_rate_limit_is_waited_out_and_the_reminder_posted_once(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    people.fail_next("chat.postMessage", status=429, retry_after=0)
    ts = await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert len(people.calls_to("chat.postMessage")) == 2  # the 429, then the retry
    assert [m["ts"] for m in people.messages(ANA)] == [ts]


async def test_dropped_connection_is_retried(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    people.drop_next("conversations.open")
    await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert len(people.messages(ANA)) == 1


async def test_slack_outage_is_transient(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    people.fail_next("chat.postMessage", status=503, error="service_unavailable")
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert (failure.value.permanent, failure.value.fallback) == (False, False)


async def test_find_sent_recognises_a_reminder_posted_before_a_crash(
    settings_transport: tuple[SlackTransport, SlackTransport],
    slack_store: Store,
    people: FakeSlack,
) -> None:
    crashed, restarted = settings_transport
    ana = await contact(slack_store, ANA_EMAIL)
    outgoing = reminder_for(ana, (IRL_ART7,), message_id=7)
    assert await restarted.find_sent(outgoing) is None
    ts = await send(crashed, outgoing)  # ...and the process dies before recording it

    assert await restarted.find_sent(outgoing) == ts
    assert await restarted.find_sent(reminder_for(ana, (IRL_ART7,), message_id=8)) is None
    assert people.calls_to("conversations.history")[-1]["include_all_metadata"] in (True, "1")
    assert len(people.messages(ANA)) == 1


@pytest.fixture
def settings_transport(
    transport: SlackTransport, settings: Settings
) -> tuple[SlackTransport, SlackTransport]:
    """Two transports with their own clients: the one that crashed, the one after restart."""
    return transport, SlackTransport(slack_web_client(settings))


@pytest.mark.parametrize(
    ("status", "content_type", "body", "permanent"),
    [
        (503, "text/plain", "upstream connect error", False),
        (502, "text/html", "<html><h1>502 Bad Gateway</h1></html>", False),
        (503, "application/json", "<html>Service Unavailable</html>", False),
        (200, "application/json", "", False),
        (200, "text/plain", "", False),
        (403, "text/html", "<html><h1>Forbidden by proxy</h1></html>", True),
    ],
)
async def test_an_answer_that_is_not_slacks_json_is_a_delivery_error(
    transport: SlackTransport,
    slack_store: Store,
    people: FakeSlack,
    status: int,
    content_type: str,
    body: str,
    permanent: bool,
) -> None:
    people.garble_next("chat.postMessage", status=status, body=body, content_type=content_type)
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert (failure.value.permanent, failure.value.fallback) == (permanent, permanent)
    assert f"http_{status}" in str(failure.value)


async def test_retry_after_of_an_outage_is_kept_for_the_next_attempt(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    people.fail_next("chat.postMessage", status=503, error="service_unavailable", retry_after=900)
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert failure.value.retry_after == timedelta(seconds=900)


async def test_revoked_token_is_permanent_and_leaves_email(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    people.fail_next("conversations.open", status=200, error="invalid_auth")
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert (failure.value.permanent, failure.value.fallback) == (True, True)
    assert "invalid_auth" in str(failure.value)


async def test_a_connection_dropped_every_time_is_transient(
    transport: SlackTransport, slack_store: Store, people: FakeSlack
) -> None:
    people.drop_next("chat.postMessage", times=3)  # the first try and both retries
    with pytest.raises(DeliveryError) as failure:
        await send(transport, reminder_for(await contact(slack_store, ANA_EMAIL), (IRL_ART7,)))
    assert (failure.value.permanent, failure.value.fallback) == (False, False)
