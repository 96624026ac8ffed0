"""What a reminder costs in Slack calls: a first attempt posts without looking back; only a retry
or a claim taken over from a dead worker asks Slack whether it already went, and never posts twice.

The real dispatcher, ledger and Slack transport against the fake Slack, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.slack import SlackTransport
from handlers.replies import Reply
from schedules.delivery import Outgoing, Transport
from schedules.dispatch import Dispatcher
from storage.claims import CLAIM_LEASE, retry_delay
from storage.db import Store
from storage.models import Channel, MessageStatus
from tests.bot.slack.conftest import ANA
from tests.fakes.slack_api import FakeSlack
from tests.schedules.helpers import RecordingTransport, all_messages, sweep

# Wednesday 31 March 2027, past 9:00 in Dublin: the 30-day stage of the report due 30 April.
MORNING = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)


class Killed(BaseException):
    """The process dies: nothing after the post runs, not even the dispatcher's handlers."""


class DiesAfterPosting:
    """Posts the reminder, then the worker is killed before the ledger records it."""

    def __init__(self, real: Transport) -> None:
        self.real = real

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        await self.real.send(outgoing, reply)
        raise Killed

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        return await self.real.find_sent(outgoing)


class DiesBeforePosting(DiesAfterPosting):
    """Killed after claiming, before anything reached Slack."""

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        raise Killed


def dispatcher(store: Store, slack: Transport, worker: str) -> Dispatcher:
    transports = {Channel.SLACK: slack, Channel.EMAIL: RecordingTransport()}
    return Dispatcher(store, transports, worker, fallback_zone="Europe/Zurich")


def methods_since(fake: FakeSlack, start: int) -> list[str]:
    return [call.method for call in fake.calls[start:]]


async def anas_reminder(store: Store) -> int:
    await sweep(store, MORNING, slack=True)
    [message] = [m for m in await all_messages(store) if m.channel is Channel.SLACK]
    return message.id


async def test_a_first_attempt_posts_without_looking_for_an_earlier_post(
    slack_store: Store, people: FakeSlack, transport: SlackTransport
) -> None:
    await anas_reminder(slack_store)
    start = len(people.calls)

    result = await dispatcher(slack_store, transport, "w1").dispatch(MORNING)

    assert [o.slack_user_id for o in result.sent if o.channel is Channel.SLACK] == [ANA]
    # Two calls, not four: no conversations.history, no second conversations.open.
    assert methods_since(people, start) == ["conversations.open", "chat.postMessage"]
    assert len(people.messages(ANA)) == 1


async def test_a_retry_looks_first_and_posts_once(
    slack_store: Store, people: FakeSlack, transport: SlackTransport
) -> None:
    message_id = await anas_reminder(slack_store)
    people.fail_next("chat.postMessage", status=200, error="internal_error")
    await dispatcher(slack_store, transport, "w1").dispatch(MORNING)
    assert people.messages(ANA) == []
    start = len(people.calls)

    later = MORNING + retry_delay(1)
    await dispatcher(slack_store, transport, "w1").dispatch(later)

    assert methods_since(people, start) == [
        "conversations.open",
        "conversations.history",  # the failed post might have reached Slack
        "conversations.open",
        "chat.postMessage",
    ]
    [posted] = people.messages(ANA)
    [message] = [m for m in await all_messages(slack_store) if m.id == message_id]
    assert (message.status, message.external_id) == (MessageStatus.SENT, posted["ts"])


@pytest.mark.parametrize("crash", ["before posting", "after posting"])
async def test_a_claim_taken_over_from_a_killed_worker_looks_first_and_posts_once(
    slack_store: Store, people: FakeSlack, transport: SlackTransport, crash: str
) -> None:
    message_id = await anas_reminder(slack_store)
    if crash == "after posting":
        with pytest.raises(Killed):
            await dispatcher(slack_store, DiesAfterPosting(transport), "killed").dispatch(MORNING)
        assert len(people.messages(ANA)) == 1
    else:
        with pytest.raises(Killed):
            await dispatcher(slack_store, DiesBeforePosting(transport), "killed").dispatch(MORNING)
        assert people.messages(ANA) == []
    [held] = [m for m in await all_messages(slack_store) if m.id == message_id]
    assert (held.status, held.claimed_by, held.attempts) == (MessageStatus.CLAIMED, "killed", 0)
    start = len(people.calls)

    later = MORNING + CLAIM_LEASE + timedelta(seconds=1)
    result = await dispatcher(slack_store, transport, "rescuer").dispatch(later)

    assert [o.message_id for o in result.sent if o.channel is Channel.SLACK] == [message_id]
    looked = ["conversations.open", "conversations.history"]
    posted = ["conversations.open", "chat.postMessage"]
    assert methods_since(people, start) == (looked if crash == "after posting" else looked + posted)
    [reminder] = people.messages(ANA)  # once, whichever worker posted it
    [message] = [m for m in await all_messages(slack_store) if m.id == message_id]
    assert (message.status, message.claimed_by) == (MessageStatus.SENT, "rescuer")
    assert message.external_id == reminder["ts"]
