"""Contacts: case-insensitive upsert by email, queries, and forgetting a person on request."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.clock import FixedClock
from storage.audit import Actor
from storage.contacts import (
    FORGOTTEN_NAME,
    UnknownContact,
    active_contacts_of_state,
    contact_by_email,
    contact_by_slack_id,
    forget_contact,
    list_contacts,
    upsert_contact,
)
from storage.db import Store
from storage.models import (
    AuditEntry,
    Category,
    Channel,
    Contact,
    Entry,
    EntryKind,
    Role,
    State,
    StateStatus,
    Via,
)
from storage.records import add_entry

ISU = Actor("isu@ccm-isu.example", Via.CLI)

# The States the examples use, until the treaty-data loader fills the table in tests too.
EXAMPLE_STATES = {
    "FRA": ("FR", "France", "France", "Francia", "Europe", "fr", "Europe/Paris"),
    "CHL": ("CL", "Chile", "Chili", "Chile", "Americas", "es", "America/Santiago"),
    "LBN": ("LB", "Lebanon", "Liban", "Líbano", "Middle East", "ar", "Asia/Beirut"),
    "AFG": ("AF", "Afghanistan", "Afghanistan", "Afganistán", "Asia", "fa", "Asia/Kabul"),
    "DEU": ("DE", "Germany", "Allemagne", "Alemania", "Europe", "de", "Europe/Berlin"),
    "NOR": ("NO", "Norway", "Norvège", "Noruega", "Europe", "nb", "Europe/Oslo"),
    "SEN": ("SN", "Senegal", "Sénégal", "Senegal", "Africa", "fr", "Africa/Dakar"),
}


async def add_example_states(session: AsyncSession) -> None:
    for iso3, (iso2, en, fr, es, region, language, zone) in EXAMPLE_STATES.items():
        session.add(
            State(
                iso3=iso3,
                iso2=iso2,
                name_en=en,
                name_fr=fr,
                name_es=es,
                region=region,
                language=language,
                timezone=zone,
                weekend=[5, 6],
                status=StateStatus.PARTY,
            )
        )


@pytest.fixture
async def states(store: Store) -> Store:
    async with store.transaction() as session:
        await add_example_states(session)
    return store


async def test_upsert_creates_then_updates_the_same_address(
    states: Store, clock: FixedClock
) -> None:
    now = clock.now()
    async with states.transaction() as session:
        created, was_new = await upsert_contact(
            session,
            ISU,
            now,
            name="Ana Pérez",
            email=" Ana.Perez@MINREL.gob.cl.example ",
            role=Role.DELEGATE,
            state_iso3="CHL",
        )
    async with states.transaction() as session:
        updated, again_new = await upsert_contact(
            session,
            ISU,
            now + timedelta(days=1),
            email="ana.perez@minrel.gob.cl.example",
            channel=Channel.SLACK,
            slack_user_id="U05CLPER02",
        )
        audit = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        everyone = (await session.scalars(select(Contact))).all()
    assert (was_new, again_new) == (True, False)
    assert updated.id == created.id
    assert len(everyone) == 1
    assert updated.email == "ana.perez@minrel.gob.cl.example"
    assert (updated.name, updated.channel, updated.state_iso3) == ("Ana Pérez", "slack", "CHL")
    assert [
        (e.action, e.before and e.before["channel"], e.after and e.after["channel"]) for e in audit
    ] == [
        ("create", None, "email"),
        ("update", "email", "slack"),
    ]


async def test_upsert_refuses_what_is_not_a_contact_field(store: Store, clock: FixedClock) -> None:
    async with store.transaction() as session:
        with pytest.raises(TypeError, match="forgotten_at"):
            await upsert_contact(
                session, ISU, clock.now(), email="a@b.example", forgotten_at=clock.now()
            )
        with pytest.raises(ValueError, match="email"):
            await upsert_contact(session, ISU, clock.now(), name="No Address", role=Role.ISU)


async def test_lookups_by_email_ignore_case_and_by_slack_id(
    store: Store, clock: FixedClock
) -> None:
    async with store.transaction() as session:
        await upsert_contact(
            session,
            ISU,
            clock.now(),
            name="Jonas Weber",
            email="Jonas.Weber@Auswaertiges-Amt.de.example",
            slack_user_id="U03DEWEB03",
            role=Role.COORDINATOR,
        )
    async with store.transaction() as session:
        by_email = await contact_by_email(session, "JONAS.WEBER@auswaertiges-amt.de.example")
        by_slack = await contact_by_slack_id(session, "U03DEWEB03")
        nobody = await contact_by_email(session, "someone.else@auswaertiges-amt.de.example")
    assert by_email is not None
    assert by_slack is not None
    assert by_email.id == by_slack.id
    assert by_email.email == "jonas.weber@auswaertiges-amt.de.example"
    assert nobody is None


async def test_list_contacts_filters_by_state_role_and_activity(
    states: Store, clock: FixedClock
) -> None:
    now = clock.now()
    people = [
        ("Claire", "claire@fr.example", "FRA", Role.DELEGATE, True),
        ("Marc", "marc@fr.example", "FRA", Role.DELEGATE, False),
        ("Awa", "awa@sn.example", "SEN", Role.DELEGATE, True),
        ("Sofía", "sofia@isu.example", None, Role.ISU, True),
    ]
    async with states.transaction() as session:
        for name, email, state, role, active in people:
            await upsert_contact(
                session,
                ISU,
                now,
                name=name,
                email=email,
                state_iso3=state,
                role=role,
                active=active,
            )
    async with states.transaction() as session:
        french = await list_contacts(session, state="FRA")
        active_delegates = await list_contacts(session, role=Role.DELEGATE, active_only=True)
        reachable_in_france = await active_contacts_of_state(session, "FRA")
        everyone = await list_contacts(session)
    assert [c.name for c in french] == ["Claire", "Marc"]
    assert sorted(c.name for c in active_delegates) == ["Awa", "Claire"]
    assert [c.name for c in reachable_in_france] == ["Claire"]
    assert len(everyone) == 4


async def test_forget_blanks_the_person_but_keeps_what_they_logged(
    states: Store, clock: FixedClock
) -> None:
    now = clock.now()
    async with states.transaction() as session:
        rami, _ = await upsert_contact(
            session,
            ISU,
            now,
            name="Rami Haddad",
            email="rami.haddad@lmac.gov.lb.example",
            slack_user_id="U09LBHAD01",
            state_iso3="LBN",
            organisation="LMAC",
            role=Role.DELEGATE,
            language="en",
            timezone="Asia/Beirut",
            channel=Channel.BOTH,
        )
        colleague, _ = await upsert_contact(
            session,
            ISU,
            now,
            name="Colleague",
            email="colleague@lmac.gov.lb.example",
            state_iso3="LBN",
            role=Role.DELEGATE,
            alternate_id=rami.id,
        )
        need = await add_entry(
            session,
            Actor("Rami Haddad", Via.SLACK, rami.id),
            now,
            kind=EntryKind.NEED,
            state_iso3="LBN",
            category=Category.SURVEY_CLEARANCE,
            description="Survey",
            via=Via.SLACK,
            logged_by_id=rami.id,
        )
        audit_before = (await session.scalars(select(AuditEntry.id))).all()
    later = now + timedelta(days=30)
    async with states.transaction() as session:
        forgotten = await forget_contact(session, ISU, later, "Rami.Haddad@lmac.gov.lb.example")
    async with states.transaction() as session:
        stored = await session.get(Contact, rami.id)
        other = await session.get(Contact, colleague.id)
        logged = await session.scalar(select(Entry).where(Entry.id == need.id))
        new_entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.id.not_in(audit_before)).order_by(AuditEntry.id)
            )
        ).all()
        old_entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.id.in_(audit_before)))
        ).all()
    assert forgotten.id == rami.id
    assert stored is not None
    assert other is not None
    assert (stored.name, stored.email, stored.slack_user_id, stored.timezone) == (
        FORGOTTEN_NAME,
        None,
        None,
        None,
    )
    assert (stored.active, stored.forgotten_at) == (False, later.astimezone(UTC))
    assert (stored.state_iso3, stored.role, stored.organisation) == ("LBN", "delegate", "LMAC")
    assert logged is not None
    assert logged.logged_by_id == rami.id
    assert other.alternate_id is None
    assert [(e.entity, e.entity_id, e.action) for e in new_entries] == [
        ("contacts", str(rami.id), "forget"),
        ("contacts", str(colleague.id), "update"),
    ]
    forget_entry = json.dumps([new_entries[0].before, new_entries[0].after])
    for personal in ("Rami", "Haddad", "rami.haddad", "U09LBHAD01", "Asia/Beirut"):
        assert personal not in forget_entry
    # The append-only log still holds what was recorded before: the lead decides on that.
    assert any("rami.haddad@lmac.gov.lb.example" in json.dumps(e.after) for e in old_entries)


async def test_forgetting_an_unknown_or_forgotten_address_says_so(
    store: Store, clock: FixedClock
) -> None:
    async with store.transaction() as session:
        await upsert_contact(
            session, ISU, clock.now(), name="A", email="a@x.example", role=Role.ISU
        )
        await forget_contact(session, ISU, clock.now(), "a@x.example")
        with pytest.raises(UnknownContact):
            await forget_contact(session, ISU, clock.now(), "a@x.example")
        with pytest.raises(UnknownContact):
            await forget_contact(session, ISU, clock.now(), "nobody@x.example")
