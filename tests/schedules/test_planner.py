"""The planner against a real store (SQLite and PostgreSQL): who is reminded of what, and when.

Times are checked as UTC instants written out by hand, so a wrong zone, a wrong DST rule or a
wrong hour shows up as a wrong number, not as the same mistake made twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from schedules.planner import delivery_slot, load_snapshot, preview_day
from storage.audit import SYSTEM
from storage.db import Store
from storage.models import (
    Channel,
    Contact,
    CustomDeadline,
    MessageStatus,
    OptOut,
    ReportKind,
    Role,
    Snooze,
    State,
    StateStatus,
    Via,
)
from storage.records import mark_report_submitted
from tests.schedules.helpers import (
    ART7_2026,
    LOADED_AT,
    POLICY,
    SECRETARIAT,
    RecordingTransport,
    add_contact,
    all_deliveries,
    all_messages,
    at_local,
    email_dispatcher,
    load_shipped_states,
    sweep,
)

MARCH_31 = date(2027, 3, 31)  # a Wednesday: the 30-day stage of the report due 30 April
SAT_SUN = frozenset({5, 6})
THU_FRI = frozenset({3, 4})  # Afghanistan's weekend


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


async def submit_2026_report(store: Store, iso3: str, on: date = date(2027, 3, 20)) -> None:
    async with store.transaction() as session:
        await mark_report_submitted(
            session,
            SYSTEM,
            datetime.combine(on, datetime.min.time(), UTC),
            state=iso3,
            kind=ReportKind.ANNUAL,
            year=2026,
            due=date(2027, 4, 30),
            submitted_on=on,
            via=Via.EMAIL,
        )


async def add_custom_deadline(store: Store, iso3: str, title: str, due: date) -> str:
    async with store.transaction() as session:
        custom = CustomDeadline(state_iso3=iso3, title=title, due=due, created_at=LOADED_AT)
        session.add(custom)
        await session.flush()
        return f"custom-{custom.id}"


def nine_local(day: date, zone: str) -> datetime:
    return at_local(day, 9, zone)


async def test_every_state_in_arrears_gets_the_30_day_stage_at_nine_local(store: Store) -> None:
    await load_shipped_states(store)
    async with store.transaction() as session:
        states = {s.iso3: s for s in await session.scalars(select(State))}
    people = {iso3: await add_contact(store, iso3, f"Delegate {iso3}") for iso3 in sorted(states)}
    # A Chilean delegate posted in Geneva: their own zone wins over Santiago's.
    geneva = await add_contact(store, "CHL", "Diego Soto", timezone="Europe/Zurich")
    await submit_2026_report(store, "NZL")
    zones = {c: states[iso3].timezone for iso3, c in people.items()} | {geneva: "Europe/Zurich"}

    # One sweep at each recipient's 09:00, as the interval sweep would catch it that day.
    instants = sorted({nine_local(MARCH_31, zone) for zone in zones.values()})
    for now in instants:
        await sweep(store, now)
    assert (await sweep(store, instants[-1])).planned == 0  # a second run adds nothing

    stage_30d = [d for d in await all_deliveries(store) if (d.item, d.stage) == (ART7_2026, "30d")]
    owing = {
        iso3
        for iso3, s in states.items()
        if s.status is StateStatus.PARTY
        and s.entry_into_force is not None
        and s.entry_into_force <= date(2026, 12, 31)
    } - {"NZL"}
    assert len(owing) > 100
    assert "LTU" not in owing  # withdrew in 2025; signatories are not parties either
    by_contact = {d.contact_id: d for d in stage_30d}
    assert len(by_contact) == len(stage_30d)  # once per person
    assert {people[iso3] for iso3 in owing} | {geneva} == set(by_contact)
    for contact_id, delivery in by_contact.items():
        message = delivery.message
        assert message.local_day == MARCH_31
        assert message.send_at == nine_local(MARCH_31, zones[contact_id]), delivery.state_iso3
        assert message.language == states[delivery.state_iso3].language
    french = {d.state_iso3 for d in stage_30d if d.message.language == "fr"}
    assert {"FRA", "BEL", "SEN", "CHE"} <= french
    assert french == {iso3 for iso3 in owing if states[iso3].language == "fr"}
    assert by_contact[people["CHL"]].message.language == "es"
    expected_utc = {
        people["FRA"]: utc(3, 31, 7),  # CEST since 28 March
        people["CHL"]: utc(3, 31, 12),  # Santiago still on summer time (-03)
        people["AUS"]: utc(3, 30, 22),  # Sydney on AEDT (+11): the evening before in UTC
        people["AFG"]: utc(3, 31, 4, 30),
        geneva: utc(3, 31, 7),
    }
    assert {c: by_contact[c].message.send_at for c in expected_utc} == expected_utc


@pytest.mark.parametrize(
    ("iso3", "zone", "stage", "expected"),
    [
        ("FRA", None, "60d", utc(3, 1, 8)),  # Paris on winter time (+01)
        ("FRA", None, "30d", utc(3, 31, 7)),  # Paris on summer time (+02)
        ("CHL", None, "30d", utc(3, 31, 12)),  # Santiago -03 ...
        ("CHL", None, "14d", utc(4, 16, 13)),  # ... and -04 after 4 April
        ("AUS", None, "30d", utc(3, 30, 22)),  # Sydney +11 ...
        ("AUS", None, "14d", utc(4, 15, 23)),  # ... and +10 after 4 April
        ("FRA", None, "7d", utc(4, 23, 7)),  # Friday 23 April
        ("AFG", None, "7d", utc(4, 21, 4, 30)),  # Friday is Kabul's weekend: Wednesday instead
        ("CHL", "Europe/Zurich", "30d", utc(3, 31, 7)),  # the contact's zone, not the State's
    ],
)
async def test_stage_is_planned_at_nine_local_not_a_minute_before(
    store: Store, iso3: str, zone: str | None, stage: str, expected: datetime
) -> None:
    await load_shipped_states(store, only=[iso3])
    await add_contact(store, iso3, "Delegate", timezone=zone)

    await sweep(store, expected - timedelta(minutes=1))
    assert stage not in {d.stage for d in await all_deliveries(store)}
    await sweep(store, expected)

    [delivery] = [d for d in await all_deliveries(store) if d.stage == stage]
    assert (delivery.item, delivery.created_at, delivery.message.send_at) == (
        ART7_2026,
        expected,
        expected,
    )


async def test_submitted_report_is_not_reminded(store: Store) -> None:
    await load_shipped_states(store, only=["FRA", "NZL"])
    await add_contact(store, "FRA", "Claire Martin")
    await add_contact(store, "NZL", "Aroha Smith")
    await submit_2026_report(store, "NZL")

    await sweep(store, utc(3, 31, 12))

    assert {(d.state_iso3, d.item) for d in await all_deliveries(store)} == {("FRA", ART7_2026)}


async def test_submitting_between_stages_cancels_the_unsent_reminder(store: Store) -> None:
    await load_shipped_states(store, only=["FRA"])
    await add_contact(store, "FRA", "Claire Martin")
    # Noticed at 19:00 Paris: the 30-day reminder waits for the next morning, unsent.
    first = await sweep(store, at_local(MARCH_31, 19, "Europe/Paris"))
    [message] = await all_messages(store)
    assert (first.planned, message.status) == (1, MessageStatus.PENDING)

    await submit_2026_report(store, "FRA", on=MARCH_31)
    second = await sweep(store, at_local(MARCH_31, 20, "Europe/Paris"))

    assert (second.planned, second.cancelled) == (0, 1)
    [message] = await all_messages(store)
    assert message.status is MessageStatus.CANCELLED
    assert [d.cancelled for d in message.deliveries] == [True]
    transport = RecordingTransport()
    result = await email_dispatcher(store, transport).dispatch(
        nine_local(date(2027, 4, 1), SECRETARIAT)
    )
    assert (result.sent, transport.attempts) == ([], 0)
    assert (await sweep(store, utc(4, 16, 12))).planned == 0  # nor the 14-day stage


async def test_two_items_due_the_same_day_make_one_message(store: Store) -> None:
    await load_shipped_states(store, only=["LBN"])
    rami = await add_contact(store, "LBN", "Rami Haddad")
    custom = await add_custom_deadline(store, "LBN", "Extension request filing", MARCH_31)
    now = nine_local(MARCH_31, "Asia/Beirut")

    assert (await sweep(store, now)).planned == 2

    [message] = await all_messages(store)
    assert {(d.item, d.stage) for d in message.deliveries} == {(ART7_2026, "30d"), (custom, "day")}
    transport = RecordingTransport()
    await email_dispatcher(store, transport).dispatch(now)
    [outgoing] = transport.sent
    assert outgoing.contact_id == rami
    assert {(i.item, i.stage, i.title) for i in outgoing.items} == {
        (ART7_2026, "30d", None),
        (custom, "day", "Extension request filing"),
    }


async def test_snoozed_and_opted_out_people_are_not_reminded(store: Store) -> None:
    await load_shipped_states(store, only=["FRA"])
    reminded = await add_contact(store, "FRA", "Claire Martin")
    snoozed = await add_contact(store, "FRA", "Paul Durand")
    opted_out = await add_contact(store, "FRA", "Lea Bernard")
    custom = await add_custom_deadline(store, "FRA", "Meeting input", MARCH_31)
    async with store.transaction() as session:
        session.add(
            Snooze(contact_id=snoozed, state_iso3="FRA", item=ART7_2026, until=date(2027, 4, 10))
        )
        session.add(OptOut(contact_id=opted_out, kind="art7", created_at=LOADED_AT))

    await sweep(store, nine_local(MARCH_31, "Europe/Paris"))
    planned = {(d.contact_id, d.item) for d in await all_deliveries(store)}
    assert planned == {
        (reminded, ART7_2026),
        (reminded, custom),
        (snoozed, custom),  # the snooze was for the report only
        (opted_out, custom),  # opted out of Article 7 reminders, not of custom ones
    }

    await sweep(store, nine_local(date(2027, 4, 16), "Europe/Paris"))
    art7 = {(d.contact_id, d.stage) for d in await all_deliveries(store) if d.item == ART7_2026}
    assert art7 == {(reminded, "30d"), (reminded, "14d"), (snoozed, "14d")}


async def test_after_a_week_down_only_the_latest_stage_goes_out_once(store: Store) -> None:
    await load_shipped_states(store, only=["FRA", "CHL"])
    claire = await add_contact(store, "FRA", "Claire Martin")
    ana = await add_contact(store, "CHL", "Ana Perez")
    await sweep(store, utc(3, 1, 12))  # the 60-day stage, then the bot goes down
    transport = RecordingTransport()
    await email_dispatcher(store, transport).dispatch(utc(3, 1, 13))
    assert len(transport.sent) == 2

    # Back on Thursday 22 April: the 30-day (31 March) and 14-day (16 April) stages passed.
    back = utc(4, 22, 12)
    assert (await sweep(store, back)).planned == 2
    assert (await sweep(store, back + timedelta(minutes=15))).planned == 0

    new = [d for d in await all_deliveries(store) if d.stage != "60d"]
    assert {(d.contact_id, d.stage) for d in new} == {(claire, "14d"), (ana, "14d")}
    send_at = {d.contact_id: d.message.send_at for d in new}
    # 14:00 in Paris: at once. 08:00 in Santiago: at nine.
    assert send_at == {claire: back, ana: utc(4, 22, 13)}


@pytest.mark.parametrize(
    ("zone", "weekend", "stage_day", "noticed", "expected"),
    [
        # Missed Wednesday's stage, noticed at 03:00 on Thursday: 09:00 that Thursday.
        ("Europe/Paris", SAT_SUN, date(2027, 3, 31), (4, 1, 3, 0), (4, 1, 9, 0)),
        # Noticed at 03:00 on Saturday: Monday morning.
        ("Europe/Paris", SAT_SUN, date(2027, 4, 2), (4, 3, 3, 0), (4, 5, 9, 0)),
        # Noticed at 08:59 on a working day: nine that day.
        ("Europe/Paris", SAT_SUN, date(2027, 3, 31), (4, 1, 8, 59), (4, 1, 9, 0)),
        # Noticed during working hours: at once.
        ("Europe/Paris", SAT_SUN, date(2027, 3, 31), (3, 31, 17, 59), (3, 31, 17, 59)),
        # Noticed at 18:00 on a Friday: Monday morning.
        ("Europe/Paris", SAT_SUN, date(2027, 4, 2), (4, 2, 18, 0), (4, 5, 9, 0)),
        # Kabul: noticed at 03:00 on Thursday, its weekend: Saturday morning.
        ("Asia/Kabul", THU_FRI, date(2027, 3, 31), (4, 1, 3, 0), (4, 3, 9, 0)),
        ("Asia/Kabul", THU_FRI, date(2027, 3, 31), (3, 31, 19, 0), (4, 3, 9, 0)),
        # Santiago leaves summer time on Sunday 4 April: Monday's nine is 13:00 UTC, not 12:00.
        ("America/Santiago", SAT_SUN, date(2027, 4, 2), (4, 3, 3, 0), (4, 5, 9, 0)),
        # Not missed: the stage's own morning.
        ("Australia/Sydney", SAT_SUN, date(2027, 4, 16), (4, 10, 3, 0), (4, 16, 9, 0)),
    ],
)
def test_missed_reminder_waits_for_a_working_morning(
    zone: str,
    weekend: frozenset[int],
    stage_day: date,
    noticed: tuple[int, int, int, int],
    expected: tuple[int, int, int, int],
) -> None:
    tz = ZoneInfo(zone)
    month, day, hour, minute = noticed
    now = datetime(2027, month, day, hour, minute, tzinfo=tz).astimezone(UTC)

    local_day, when = delivery_slot(stage_day, tz, weekend, POLICY.send_hour, now)

    month, day, hour, minute = expected
    wanted = datetime(2027, month, day, hour, minute, tzinfo=tz)
    assert (local_day, when) == (wanted.date(), wanted.astimezone(UTC))
    assert 9 <= when.astimezone(tz).hour < 18
    assert local_day.weekday() not in weekend


async def test_reminder_noticed_at_three_in_the_morning_goes_out_at_nine(store: Store) -> None:
    await load_shipped_states(store, only=["FRA"])
    await add_contact(store, "FRA", "Claire Martin")
    three_am = at_local(date(2027, 4, 1), 3, "Europe/Paris")

    await sweep(store, three_am)

    [message] = await all_messages(store)
    assert (message.local_day, message.send_at) == (date(2027, 4, 1), utc(4, 1, 7))
    transport = RecordingTransport()
    dispatcher = email_dispatcher(store, transport)
    assert (await dispatcher.dispatch(three_am)).sent == []
    assert len((await dispatcher.dispatch(utc(4, 1, 7))).sent) == 1


async def test_coordinators_get_one_escalation_after_the_last_overdue_stage(store: Store) -> None:
    await load_shipped_states(store, only=["FRA", "CHL"])
    delegates = {
        await add_contact(store, "FRA", "Claire Martin"),
        await add_contact(store, "CHL", "Ana Perez"),
    }
    geneva = await add_contact(store, None, "Coordinator Geneva", role=Role.COORDINATOR)
    new_york = await add_contact(
        store, None, "Coordinator NY", role=Role.COORDINATOR, timezone="America/New_York"
    )
    # The third overdue reminder (11 June) goes to delegates; nobody escalates yet.
    await sweep(store, utc(6, 11, 15))
    await sweep(store, utc(6, 24, 15))
    before = await all_deliveries(store)
    assert {(d.contact_id, d.stage) for d in before} == {(c, "overdue-3") for c in delegates}

    # Escalation day: 30 April + 4 x 14 days = Friday 25 June.
    await sweep(store, utc(6, 25, 15))
    await sweep(store, utc(6, 25, 16))
    await sweep(store, utc(7, 2, 15))

    messages = [m for m in await all_messages(store) if m.purpose == "escalation"]
    assert sorted(m.contact_id for m in messages) == sorted([geneva, new_york])
    for message in messages:
        assert {(d.state_iso3, d.item, d.stage) for d in message.deliveries} == {
            ("FRA", ART7_2026, "escalate"),
            ("CHL", ART7_2026, "escalate"),
        }
    delegate_stages = {d.stage for d in await all_deliveries(store) if d.contact_id in delegates}
    assert delegate_stages == {"overdue-3"}
    # 17:00 in Geneva: at once; 11:00 in New York: at once too.
    assert {m.send_at for m in messages} == {utc(6, 25, 15)}


async def test_preview_lists_what_the_morning_sweeps_plan(store: Store) -> None:
    await load_shipped_states(store, only=["FRA", "CHL", "LBN", "AFG", "AUS"])
    for iso3, name in [
        ("FRA", "Claire Martin"),
        ("CHL", "Ana Perez"),
        ("LBN", "Rami Haddad"),
        ("AFG", "Farid Ahmadi"),
        ("AUS", "Olivia Smith"),
    ]:
        await add_contact(store, iso3, name)
    await add_contact(store, "CHL", "Diego Soto", timezone="Europe/Zurich")
    opted_out = await add_contact(store, "FRA", "Lea Bernard")
    async with store.transaction() as session:
        session.add(OptOut(contact_id=opted_out, kind="art7", created_at=LOADED_AT))
    await add_custom_deadline(store, "LBN", "Extension request filing", MARCH_31)
    await add_custom_deadline(store, "AUS", "Workshop", date(2027, 4, 30))
    # Whatever was due before 31 March was planned by earlier sweeps.
    await sweep(store, utc(3, 30, 12))
    async with store.transaction() as session:
        snapshot = await load_snapshot(session)
    zones = ["Europe/Paris", "America/Santiago", "Asia/Beirut", "Asia/Kabul", "Australia/Sydney"]
    mornings = sorted(nine_local(MARCH_31, z) for z in [*zones, "Europe/Zurich"])

    preview = preview_day(snapshot, POLICY, MARCH_31, slack=False, secretariat_zone=SECRETARIAT)
    for now in mornings:
        await sweep(store, now)

    previewed = {
        (
            d.item.state,
            d.item.item,
            d.stage.name,
            d.recipient.contact.id,
            d.channel,
            d.local_day,
            d.send_at,
        )
        for d in preview
    }
    planned = {
        (
            d.state_iso3,
            d.item,
            d.stage,
            d.contact_id,
            d.channel,
            d.message.local_day,
            d.message.send_at,
        )
        for d in await all_deliveries(store)
        if d.created_at >= mornings[0]
    }
    assert planned == previewed
    assert len(planned) == 8  # six people's 30-day stage (one opted out), and two custom items
    assert all(channel is Channel.EMAIL for *_, channel, _, _ in planned)


async def test_a_bouncing_address_hands_reminders_to_the_alternate(store: Store) -> None:
    await load_shipped_states(store, only=["FRA"])
    claire = await add_contact(store, "FRA", "Claire Martin")
    # The alternate is reached only through Claire: a partner, not one of France's delegates.
    marc = await add_contact(store, None, "Marc Petit", role=Role.PARTNER)
    async with store.transaction() as session:
        bouncing = await session.get(Contact, claire)
        assert bouncing is not None
        bouncing.email_bouncing = True
        bouncing.alternate_id = marc
    await sweep(store, utc(3, 31, 12))

    deliveries = await all_deliveries(store)
    assert [(d.contact_id, d.channel) for d in deliveries] == [(marc, Channel.EMAIL)]
