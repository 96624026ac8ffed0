"""Listings, visibility, one State at a glance, who is late and what falls due, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import SYSTEM
from storage.db import Store
from storage.deadlines import deadlines, overdue
from storage.listings import Filters, entries, export_entries, needs, offers
from storage.models import (
    Category,
    Channel,
    Contact,
    CustomDeadline,
    Delivery,
    EntryKind,
    EntryStatus,
    Extension,
    Message,
    MessageStatus,
    Obligation,
    Report,
    ReportKind,
    Role,
    Visibility,
)
from storage.overview import state_overview
from storage.records import add_entry
from storage.visibility import ISU, STRANGER, Viewer

NOW = datetime(2027, 3, 31, 6, 0, tzinfo=UTC)
PUBLIC, SHARED, SECRET = Visibility.PUBLIC, Visibility.STATES_PARTIES, Visibility.COORDINATORS

VIEWERS = {
    "coordinator": Viewer(Role.COORDINATOR, "NOR"),
    "isu": ISU,
    "delegate of the State": Viewer(Role.DELEGATE, "LBN"),
    "delegate of another State": Viewer(Role.DELEGATE, "FRA"),
    "partner": Viewer(Role.PARTNER),
    "partner with a State": Viewer(Role.PARTNER, "LBN"),
    "stranger": STRANGER,
}
# Who sees a record about Lebanon, by its visibility. "Coordinators only" is seen by the
# Coordinators and the ISU, and by nobody else: not even Lebanon's own delegates.
SEES: dict[str, set[Visibility]] = {
    "coordinator": {PUBLIC, SHARED, SECRET},
    "isu": {PUBLIC, SHARED, SECRET},
    "delegate of the State": {PUBLIC, SHARED},
    "delegate of another State": {PUBLIC, SHARED},
    "partner": {PUBLIC},
    "partner with a State": {PUBLIC},
    "stranger": set(),
}


async def add(session: AsyncSession, at: datetime = NOW, **fields: Any) -> str:
    fields = {"kind": EntryKind.NEED, "category": Category.OTHER, "via": "import"} | fields
    fields.setdefault("description", f"{fields['kind']} {fields['category']}")
    entry = await add_entry(session, SYSTEM, at, **fields)
    return entry.reference


@pytest.fixture
async def lebanon_records(loaded_store: Store) -> dict[tuple[EntryKind, Visibility], str]:
    """One need and one offer about Lebanon for each visibility."""
    refs = {}
    async with loaded_store.transaction() as session:
        for kind in EntryKind:
            for visibility in Visibility:
                refs[(kind, visibility)] = await add(
                    session,
                    kind=kind,
                    state_iso3="LBN",
                    visibility=visibility,
                    description=f"{visibility.value} {kind.value} about Nabatieh",
                )
    return refs


async def test_every_role_sees_exactly_its_share_and_coordinators_only_never_leaks(
    loaded_store: Store, lebanon_records: dict[tuple[EntryKind, Visibility], str]
) -> None:
    wrong = []
    async with loaded_store.transaction() as session:
        for name, viewer in VIEWERS.items():
            for kind in EntryKind:
                expected = {lebanon_records[(kind, v)] for v in SEES[name]}
                listing = await entries(session, kind, viewer)
                exported = await export_entries(session, kind, viewer)
                overview = await state_overview(session, "LBN", viewer)
                assert overview is not None
                in_overview = overview.needs if kind is EntryKind.NEED else overview.offers
                searched = await entries(session, kind, viewer, Filters(text=("nabatieh",)))
                seen = {
                    "listing": {e.reference for e in listing.items},
                    "export": {row["reference"] for row in exported},
                    "overview": {e.reference for e in in_overview},
                    "text search": {e.reference for e in searched.items},
                }
                for where, references in seen.items():
                    if references != expected:
                        wrong.append((name, kind.value, where, sorted(references)))
                if listing.total != len(expected):
                    wrong.append((name, kind.value, "count", listing.total))
    assert wrong == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), ["n5", "n4", "n3", "n2", "n1"]),
        (Filters(article=4), ["n3", "n1"]),
        (Filters(category=Category.VICTIM_ASSISTANCE), ["n2"]),
        (Filters(state="LBN"), ["n2", "n1"]),
        (Filters(region="Africa"), ["n4"]),
        (Filters(region="Middle East"), ["n2", "n1"]),
        (Filters(status=EntryStatus.IN_DISCUSSION), ["n3"]),
        (Filters(since=date(2027, 3, 1)), ["n5", "n4"]),
        (Filters(year=2026), ["n3", "n2", "n1"]),
        (Filters(text=("NABATIEH",)), ["n1"]),
        (Filters(text=("prothèses",)), ["n2"]),
        (Filters(text=("survey", "bint jbeil")), ["n1"]),
        (Filters(text=("100%",)), ["n5"]),  # % is a character, not a wildcard
        (Filters(text=("_",)), []),
        (Filters(article=4, region="Middle East", status=EntryStatus.OPEN), ["n1"]),
        (Filters(state="SEN", article=4), []),
    ],
)
async def test_need_filters(loaded_store: Store, filters: Filters, expected: list[str]) -> None:
    async with loaded_store.transaction() as session:
        made = {
            "n1": await add(
                session,
                datetime(2026, 2, 1, tzinfo=UTC),
                state_iso3="LBN",
                article=4,
                category=Category.SURVEY_CLEARANCE,
                description="Survey and clearance in Nabatieh and Bint Jbeil",
            ),
            "n2": await add(
                session,
                datetime(2026, 5, 1, tzinfo=UTC),
                state_iso3="LBN",
                article=5,
                category=Category.VICTIM_ASSISTANCE,
                description="Prothèses et rééducation",
            ),
            "n3": await add(
                session,
                datetime(2026, 9, 1, tzinfo=UTC),
                state_iso3="CHL",
                article=4,
                category=Category.SURVEY_CLEARANCE,
                status=EntryStatus.IN_DISCUSSION,
                description="Despeje en Pampa Chaca",
            ),
            "n4": await add(session, datetime(2027, 3, 1, tzinfo=UTC), state_iso3="SEN", article=6),
            "n5": await add(session, NOW, state_iso3="FRA", description="Cover 100% of costs"),
        }
        page = await needs(session, ISU, filters)
    names = {reference: name for name, reference in made.items()}
    assert [names[e.reference] for e in page.items] == expected
    assert page.total == len(expected)


async def test_offers_in_a_region_include_those_that_focus_on_it(loaded_store: Store) -> None:
    async with loaded_store.transaction() as session:
        npa = await add(
            session,
            kind=EntryKind.OFFER,
            organisation="Norwegian People's Aid",
            focus=["Middle East", "South-East Asia"],
        )
        germany = await add(session, kind=EntryKind.OFFER, state_iso3="DEU", focus=["Moyen-Orient"])
        chile = await add(session, kind=EntryKind.OFFER, state_iso3="CHL", focus=["América Latina"])
        await add(session, kind=EntryKind.OFFER, state_iso3="FRA", focus=["Afrique de l'Ouest"])
        lebanon = await add(session, kind=EntryKind.OFFER, state_iso3="LBN")
        middle_east = await offers(session, ISU, Filters(region="Middle East"))
        americas = await offers(session, ISU, Filters(region="Americas"))
    assert {e.reference for e in middle_east.items} == {npa, germany, lebanon}
    assert {e.reference for e in americas.items} == {chile}


async def test_pages_are_newest_first_with_the_total(loaded_store: Store) -> None:
    async with loaded_store.transaction() as session:
        made = [await add(session, NOW - timedelta(days=n), state_iso3="LBN") for n in range(25)]
        first = await needs(session, ISU, limit=10)
        last = await needs(session, ISU, limit=10, offset=20)
    assert [e.reference for e in first.items] == made[:10]
    assert (first.total, first.more) == (25, True)
    assert [e.reference for e in last.items] == made[20:]
    assert (last.total, last.more) == (25, False)


async def _contact(session: AsyncSession, email: str, role: Role, state: str | None) -> Contact:
    contact = Contact(
        name=email.split("@")[0],
        email=email,
        role=role,
        state_iso3=state,
        channel=Channel.EMAIL,
        created_at=NOW,
    )
    session.add(contact)
    await session.flush()
    return contact


async def _reminder(
    session: AsyncSession,
    contact: Contact,
    state: str,
    item: str,
    stage: str,
    sent_at: datetime | None,
    *,
    purpose: str = "reminder",
    cancelled: bool = False,
) -> None:
    day = (sent_at or NOW).date()
    message = await session.scalar(
        select(Message).where(
            Message.contact_id == contact.id, Message.local_day == day, Message.purpose == purpose
        )
    )  # items due together go out in one message
    message = message or Message(
        contact_id=contact.id,
        channel=Channel.EMAIL,
        purpose=purpose,
        local_day=day,
        send_at=sent_at or NOW,
        language="en",
        status=MessageStatus.SENT if sent_at else MessageStatus.PENDING,
        sent_at=sent_at,
        created_at=NOW,
    )
    session.add(message)
    await session.flush()
    session.add(
        Delivery(
            state_iso3=state,
            item=item,
            stage=stage,
            due=date(2026, 4, 30),
            contact_id=contact.id,
            channel=Channel.EMAIL,
            message_id=message.id,
            cancelled=cancelled,
            answered_at=sent_at + timedelta(hours=3) if sent_at and stage == "d-7" else None,
            created_at=NOW,
        )
    )
    await session.flush()


def _report(state: str, year: int, submitted_on: date) -> Report:
    return Report(
        state_iso3=state,
        kind=ReportKind.ANNUAL,
        year=year,
        due=date(year + 1, 4, 30),
        submitted_on=submitted_on,
    )


async def test_overdue_lists_the_late_with_the_reminders_they_were_sent(
    loaded_store: Store,
) -> None:
    item = "art7-annual-2025"
    async with loaded_store.transaction() as session:
        nadia = await _contact(session, "n.karimi@dmac.gov.af.example", Role.DELEGATE, "AFG")
        other = await _contact(session, "second@dmac.gov.af.example", Role.DELEGATE, "AFG")
        coordinator = await _contact(session, "coord@mfa.no.example", Role.COORDINATOR, "NOR")
        first = datetime(2026, 4, 23, 7, 0, tzinfo=UTC)
        second = datetime(2026, 4, 30, 7, 0, tzinfo=UTC)
        await _reminder(session, nadia, "AFG", item, "d-7", first)
        await _reminder(session, other, "AFG", item, "d-7", first + timedelta(minutes=5))
        await _reminder(session, nadia, "AFG", item, "d0", second)
        await _reminder(session, nadia, "AFG", item, "d+7", None)  # still pending
        await _reminder(session, other, "AFG", item, "d0", second, cancelled=True)
        await _reminder(session, nadia, "AFG", "art7-annual-2024", "d0", second)  # other year
        await _reminder(session, coordinator, "AFG", item, "escalate", second, purpose="escalation")
        session.add_all(
            [
                _report("FRA", 2025, date(2026, 4, 28)),
                _report("CHL", 2025, date(2026, 5, 12)),
                _report("AFG", 2025, date(2026, 6, 19)),
                _report("LBN", 2024, date(2025, 4, 1)),  # the year before does not count
            ]
        )
        await session.flush()
        before_due = await overdue(session, 2025, due=date(2026, 4, 30), today=date(2026, 4, 30))
        may = await overdue(session, 2025, due=date(2026, 4, 30), today=date(2026, 5, 15))
        july = await overdue(session, 2025, due=date(2026, 4, 30), today=date(2026, 7, 1))
    assert before_due == []
    late = {row.iso3: row for row in may}
    assert {"AFG", "LBN"} <= set(late)
    assert not {"FRA", "CHL"} & set(late)
    assert "LTU" not in late  # withdrew in March 2025, before the report fell due
    assert "VUT" not in late  # a party since March 2026 owes nothing for 2025
    afghanistan = late["AFG"]
    assert afghanistan.reminders == 3
    assert afghanistan.reminded_at == (first, first + timedelta(minutes=5), second)
    assert afghanistan.last_reminder_at == second
    assert afghanistan.escalated is True
    assert (late["LBN"].reminders, late["LBN"].escalated) == (0, False)
    assert "AFG" not in {row.iso3 for row in july}
    assert len(july) == len(may) - 1


async def test_state_overview_gathers_one_state(loaded_store: Store) -> None:
    async with loaded_store.transaction() as session:
        rami = await _contact(session, "rami@lmac.gov.lb.example", Role.DELEGATE, "LBN")
        await _contact(session, "coord@mfa.no.example", Role.COORDINATOR, "NOR")
        sent = datetime(2026, 4, 23, 7, 0, tzinfo=UTC)
        await _reminder(session, rami, "LBN", "art7-annual-2025", "d-7", sent)
        session.add(_report("LBN", 2025, date(2026, 4, 30)))
        session.add(
            CustomDeadline(
                state_iso3="LBN", title="Extension request", due=date(2027, 2, 1), created_at=NOW
            )
        )
        need = await add(session, state_iso3="LBN", visibility=SHARED)
        await add(session, state_iso3="LBN", status=EntryStatus.MET)
        await add(session, state_iso3="FRA")
        offer = await add(session, kind=EntryKind.OFFER, state_iso3="LBN", visibility=PUBLIC)
        isu = await state_overview(session, "lbn", ISU)
        partner = await state_overview(session, "LBN", Viewer(Role.PARTNER))
        assert await state_overview(session, "XXX", ISU) is None
    assert isu is not None
    assert partner is not None
    assert isu.state.iso3 == "LBN"
    assert [(o.article, isu.deadline_in_force(o)) for o in isu.obligations if o.article == 4] == [
        (4, date(2026, 5, 1))
    ]
    assert [(r.kind, r.year) for r in isu.reports] == [(ReportKind.ANNUAL, 2025)]
    assert [e.reference for e in isu.needs] == [need]  # open ones only
    assert [e.reference for e in isu.offers] == [offer]
    assert [c.email for c in isu.contacts] == ["rami@lmac.gov.lb.example"]
    assert [c.title for c in isu.custom_deadlines] == ["Extension request"]
    assert isu.last_reminder_at == sent
    assert isu.last_answer_at == sent + timedelta(hours=3)
    # A partner sees the public offer, no people, no reminders.
    assert (partner.needs, [e.reference for e in partner.offers]) == ([], [offer])
    assert (partner.contacts, partner.last_reminder_at) == ([], None)


async def test_deadlines_ahead_soonest_first(loaded_store: Store) -> None:
    async with loaded_store.transaction() as session:
        laos = await session.scalar(
            select(Obligation).where(Obligation.state_iso3 == "LAO", Obligation.article == 4)
        )
        assert laos is not None
        session.add(Extension(obligation_id=laos.id, deadline=date(2027, 8, 1), basis="isu"))
        for title, due in (
            ("Meeting", date(2027, 1, 15)),
            ("Too late", date(2028, 1, 1)),
            ("Past", date(2026, 10, 1)),
        ):
            session.add(CustomDeadline(state_iso3="LBN", title=title, due=due, created_at=NOW))
        await session.flush()
        found = await deadlines(session, start=date(2026, 11, 29), end=date(2027, 11, 29))
    assert [(d.iso3, d.due, d.article, d.title, d.extended) for d in found] == [
        ("LBN", date(2027, 1, 15), None, "Meeting", False),
        ("LAO", date(2027, 8, 1), 4, "Article 4", True),
    ]
