"""Sending what the ledger says is due (SQLite and PostgreSQL): retries, failures, fallback,
and a claim left behind by a worker that died."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.replies import Reply
from schedules.delivery import DeliveryError, Outgoing
from schedules.dispatch import Dispatcher
from storage import claims, ledger
from storage.claims import CLAIM_LEASE
from storage.db import Store
from storage.models import Channel, Message, MessageStatus
from tests.schedules.helpers import (
    ART7_2026,
    RecordingTransport,
    add_contact,
    all_messages,
    email_dispatcher,
    external_id,
    load_shipped_states,
    sweep,
)

NINE_PARIS = datetime(2027, 3, 31, 7, 0, tzinfo=UTC)  # 31 March: the 30-day stage


async def plan_for(store: Store, *names: str) -> list[int]:
    await load_shipped_states(store, only=["FRA"])
    ids = [await add_contact(store, "FRA", name) for name in names]
    await sweep(store, NINE_PARIS)
    return ids


async def test_a_claim_takes_at_most_its_batch(store: Store) -> None:
    await plan_for(store, *(f"Delegate {n}" for n in range(7)))

    async with store.transaction() as session:
        first = await ledger.claim(session, "w1", NINE_PARIS, limit=3)
    async with store.transaction() as session:
        second = await ledger.claim(session, "w2", NINE_PARIS, limit=3)
    async with store.transaction() as session:
        third = await ledger.claim(session, "w3", NINE_PARIS, limit=3)

    assert [len(first), len(second), len(third)] == [3, 3, 1]
    assert len({c.message.id for c in [*first, *second, *third]}) == 7


async def test_transient_failure_is_retried_after_backoff_then_sent(store: Store) -> None:
    await plan_for(store, "Claire Martin")
    transport = RecordingTransport(failures=[DeliveryError("421 try again later")])
    dispatcher = email_dispatcher(store, transport)

    first = await dispatcher.dispatch(NINE_PARIS)

    [message] = await all_messages(store)
    assert (first.failed, message.status, message.attempts) == (1, MessageStatus.PENDING, 1)
    assert message.next_attempt_at == NINE_PARIS + claims.retry_delay(1) > NINE_PARIS
    assert (message.error, message.claimed_by) == ("421 try again later", None)

    early = await dispatcher.dispatch(message.next_attempt_at - timedelta(seconds=1))
    assert (early.sent, transport.attempts) == ([], 1)  # not before the backoff ends

    later = await dispatcher.dispatch(message.next_attempt_at)
    [message] = await all_messages(store)
    assert (len(later.sent), transport.attempts, message.status) == (1, 2, MessageStatus.SENT)
    assert message.external_id == external_id(message.id)
    assert (await dispatcher.dispatch(message.next_attempt_at + timedelta(hours=1))).sent == []


async def test_permanent_failure_is_given_up_with_its_error(store: Store) -> None:
    await plan_for(store, "Claire Martin")
    transport = RecordingTransport(
        failures=[DeliveryError("550 5.1.1 no such user", permanent=True)]
    )
    dispatcher = email_dispatcher(store, transport)

    await dispatcher.dispatch(NINE_PARIS)
    await dispatcher.dispatch(NINE_PARIS + timedelta(hours=3))

    [message] = await all_messages(store)
    assert (message.status, message.error) == (MessageStatus.FAILED, "550 5.1.1 no such user")
    assert (message.attempts, message.next_attempt_at, transport.attempts) == (1, None, 1)


@pytest.mark.parametrize("permanent", [True, False])
@pytest.mark.parametrize(
    ("iso3", "zone", "nine"),
    [
        ("FRA", None, NINE_PARIS),
        ("FRA", "Europe/Geneva", NINE_PARIS),  # an alias people write; IANA has no such zone
        ("AUS", None, datetime(2027, 3, 30, 22, 0, tzinfo=UTC)),  # 31 March in Sydney
    ],
)
async def test_slack_failure_falls_back_to_email_once(
    store: Store, permanent: bool, iso3: str, zone: str | None, nine: datetime
) -> None:
    await load_shipped_states(store, only=[iso3])
    person = await add_contact(
        store, iso3, "Claire Martin", channel=Channel.SLACK, slack_user_id="U0C", timezone=zone
    )
    await sweep(store, nine, slack=True)
    slack = RecordingTransport(
        failures=[DeliveryError("user_not_found", permanent=permanent, fallback=True)] * 3
    )
    email = RecordingTransport()
    dispatcher = Dispatcher(
        store, {Channel.SLACK: slack, Channel.EMAIL: email}, "w1", fallback_zone="Etc/UTC"
    )

    for minutes in (0, 1, 2, 5, 30):  # past any retry of the Slack message
        await dispatcher.dispatch(nine + timedelta(minutes=minutes))
        await sweep(store, nine + timedelta(minutes=minutes), slack=True)

    on_slack, on_email = await all_messages(store)
    assert (on_slack.channel, on_slack.status) == (Channel.SLACK, MessageStatus.FAILED)
    assert (on_email.channel, on_email.status) == (Channel.EMAIL, MessageStatus.SENT)
    assert slack.attempts == 1  # not retried on Slack once email has it
    [outgoing] = email.sent
    assert (outgoing.contact_id, outgoing.email) == (person, "claire.martin@example.org")
    assert [(i.state, i.item, i.stage) for i in outgoing.items] == [(iso3, ART7_2026, "30d")]
    assert on_email.local_day == on_slack.local_day == date(2027, 3, 31)


async def test_stale_claim_is_taken_over_without_a_second_send(store: Store) -> None:
    await plan_for(store, "Claire Martin", "Paul Durand")
    # Worker "dead" claims both messages, sends the first, and dies before recording either.
    async with store.transaction() as session:
        claimed = await ledger.claim(session, "dead", NINE_PARIS)
    went_out, never_sent = (c.message.id for c in claimed)
    transport = RecordingTransport(already_sent={went_out})
    rescuer = email_dispatcher(store, transport, worker="rescuer")

    # A few minutes, not a quarter of an hour: exactly CLAIM_LEASE later the claim still stands.
    assert timedelta(minutes=5) >= CLAIM_LEASE
    assert (await rescuer.dispatch(NINE_PARIS + CLAIM_LEASE)).sent == []
    taken_over = await rescuer.dispatch(NINE_PARIS + CLAIM_LEASE + timedelta(seconds=1))

    assert sorted(o.message_id for o in taken_over.sent) == [went_out, never_sent]
    assert [o.message_id for o in transport.sent] == [never_sent]  # the first is not resent
    messages = {m.id: m for m in await all_messages(store)}
    assert {m.status for m in messages.values()} == {MessageStatus.SENT}
    assert messages[went_out].external_id == external_id(went_out)
    assert {m.claimed_by for m in messages.values()} == {"rescuer"}
    # The dead worker coming back cannot record over the rescuer's claim.
    async with store.transaction() as session:
        assert not await ledger.record_sent(session, went_out, "dead", NINE_PARIS, "<late>")


class CrashingTransport(RecordingTransport):
    """Its first send fails with a bug of its own, not a DeliveryError."""

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        if not self.attempts:
            self.attempts += 1
            raise KeyError("ts")
        return await super().send(outgoing, reply)


async def test_a_send_that_crashes_fails_alone_and_the_sweep_goes_on(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await plan_for(store, "Claire Martin", "Paul Durand", "Anne Petit")
    transport = CrashingTransport()

    result = await email_dispatcher(store, transport).dispatch(NINE_PARIS)

    assert (len(result.sent), result.failed) == (2, 1)
    crashed, *sent = await all_messages(store)
    assert {m.status for m in sent} == {MessageStatus.SENT}
    assert (crashed.status, crashed.attempts, crashed.error) == (
        MessageStatus.PENDING,
        1,
        "unexpected KeyError: 'ts'",
    )
    [line] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert (line.exc_info, "\n" in line.getMessage()) == (None, False)


async def test_a_renewed_claim_keeps_its_lease_and_a_lost_one_is_not_sent(store: Store) -> None:
    await plan_for(store, "Claire Martin", "Paul Durand")
    async with store.transaction() as session:
        first, second = (c.message.id for c in await ledger.claim(session, "slow", NINE_PARIS))
    sending = NINE_PARIS + timedelta(minutes=4)  # the slow worker reaches its first send
    async with store.transaction() as session:
        assert await claims.renew_claim(session, Message, first, "slow", sending)

    async with store.transaction() as session:
        taken = await ledger.claim(session, "rescuer", NINE_PARIS + CLAIM_LEASE * 2)
        assert [c.message.id for c in taken] == [second]  # only the tail nobody is sending
    async with store.transaction() as session:
        assert not await claims.renew_claim(session, Message, second, "slow", sending)
