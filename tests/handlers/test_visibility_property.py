"""Nobody sees or changes what their role and State may not: random records, random people.

Hypothesis draws needs and offers (State, visibility, author, status) and who looks at them or
tries to change them. Every read path (listings, exports, a State's overview, the Home tab, the
week's changes for the digest, a question asked in words) is compared with the policy written
out here a second time, independently of ``storage.visibility``; every write path (withdraw and
correct typed by email, the Edit form, a change of visibility) is checked against what it did
to the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from handlers.conversation import Conversation
from handlers.overview import overview_of
from handlers.questions import answer
from handlers.turns import Speaker, Turn, speaker_for
from handlers.understanding.keywords import Intent
from schedules.clock import FixedClock
from schedules.policy import ReminderPolicy
from storage.audit import SYSTEM, Actor
from storage.contacts import upsert_contact
from storage.db import Store
from storage.digest_activity import changed_entries
from storage.listings import MAX_PAGE, entries, export_entries
from storage.models import (
    Category,
    Contact,
    Entry,
    EntryKind,
    EntryStatus,
    Role,
    Via,
    Visibility,
)
from storage.overview import state_overview
from storage.records import add_entry
from storage.states import load_states
from storage.treaty_data import TreatyData, load_treaty_data
from storage.visibility import STRANGER, Viewer

NOW = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)
STATES = ("IRL", "FRA")

# name: (role, State, active)
PEOPLE = {
    "coordinator": (Role.COORDINATOR, "NOR", True),
    "isu": (Role.ISU, None, True),
    "ana": (Role.DELEGATE, "IRL", True),
    "aoife": (Role.DELEGATE, "IRL", True),
    "luc": (Role.DELEGATE, "FRA", True),
    "partner": (Role.PARTNER, None, True),
    "gone": (Role.DELEGATE, "IRL", False),  # an inactive contact is nobody
}


@dataclass(frozen=True)
class Drawn:
    kind: EntryKind
    state: str | None
    visibility: Visibility
    author: str | None
    withdrawn: bool


records = st.lists(
    st.builds(
        Drawn,
        st.sampled_from(EntryKind),
        st.sampled_from([*STATES, None]),
        st.sampled_from(Visibility),
        st.sampled_from([*PEOPLE, None]),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)
viewers = st.sampled_from(list(PEOPLE))
writes = st.sampled_from(["withdraw", "describe", "widen", "narrow", "edit_form"])


# --- the policy, written out again ---------------------------------------------------------


def may_see(person: str, entry: Entry, ids: dict[str, int]) -> bool:
    role, _, active = PEOPLE[person]
    if not active:
        return False
    if entry.logged_by_id == ids[person]:
        return True
    if role in (Role.COORDINATOR, Role.ISU):
        return True
    if role is Role.DELEGATE:
        return entry.visibility in (Visibility.PUBLIC, Visibility.STATES_PARTIES)
    return role is Role.PARTNER and entry.visibility is Visibility.PUBLIC


def may_change(person: str, entry: Entry, ids: dict[str, int]) -> bool:
    role, state, _ = PEOPLE[person]
    if not may_see(person, entry, ids):
        return False
    return (
        role in (Role.COORDINATOR, Role.ISU)
        or entry.logged_by_id == ids[person]
        or (role is Role.DELEGATE and entry.state_iso3 == state)
    )


# --- the store -------------------------------------------------------------------------------


async def _people(store: Store) -> dict[str, int]:
    """The States and the people, once per test (examples add records on top)."""
    async with store.transaction() as session:
        found = await session.scalar(select(Contact).where(Contact.email == "isu@example.org"))
        if found is None:
            data = load_treaty_data()
            keep = {*STATES, "NOR"}
            few = TreatyData(
                tuple(s for s in data.states if s.iso3 in keep),
                tuple(e for e in data.history if e.iso3 in keep),
            )
            await load_states(session, few, SYSTEM, NOW)
            for name, (role, state, active) in PEOPLE.items():
                await upsert_contact(
                    session,
                    SYSTEM,
                    NOW,
                    email=f"{name}@example.org",
                    name=name,
                    role=role,
                    state_iso3=state,
                    active=active,
                    language="en",
                )
        rows = await session.scalars(select(Contact))
        return {contact.name: contact.id for contact in rows}


async def _add(store: Store, drawn: list[Drawn], ids: dict[str, int]) -> list[str]:
    made = []
    async with store.transaction() as session:
        for number, record in enumerate(drawn):
            author = ids[record.author] if record.author else None
            entry = await add_entry(
                session,
                Actor(record.author or "import", Via.IMPORT, author),
                NOW,
                kind=record.kind,
                state_iso3=record.state,
                category=Category.OTHER,
                description=f"record {number} of an example",
                visibility=record.visibility,
                via=Via.IMPORT,
                logged_by_id=author,
                status=EntryStatus.WITHDRAWN if record.withdrawn else EntryStatus.OPEN,
            )
            made.append(entry.reference)
    return made


async def _everything(store: Store) -> list[Entry]:
    async with store.transaction() as session:
        return list((await session.scalars(select(Entry))).all())


async def _speaker(store: Store, person: str) -> Speaker:
    async with store.transaction() as session:
        contact = await session.scalar(select(Contact).where(Contact.name == person))
        assert contact is not None
        return await speaker_for(session, contact, "Europe/Zurich")


async def _viewer(store: Store, person: str) -> Viewer:
    async with store.transaction() as session:
        contact = await session.scalar(select(Contact).where(Contact.name == person))
        return Viewer.of(contact)


# --- reads -----------------------------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=records, person=viewers)
async def test_no_read_path_shows_what_the_policy_hides(
    store: Store, drawn: list[Drawn], person: str
) -> None:
    ids = await _people(store)
    await _add(store, drawn, ids)
    every = await _everything(store)
    allowed = {e.reference for e in every if may_see(person, e, ids)}
    active = {e.reference for e in every if e.status is not EntryStatus.WITHDRAWN}
    viewer = await _viewer(store, person)
    assert (viewer == STRANGER) is (not PEOPLE[person][2])

    async with store.transaction() as session:
        for kind in EntryKind:
            of_kind = {e.reference for e in every if e.kind is kind}
            listed = await entries(session, kind, viewer, limit=MAX_PAGE)
            assert {e.reference for e in listed.items} == allowed & of_kind
            exported = await export_entries(session, kind, viewer)
            assert {row["reference"] for row in exported} == allowed & of_kind
            week = await changed_entries(session, kind, viewer, NOW, NOW + timedelta(days=1))
            assert {e.reference for e in week.new + week.updated} <= allowed
        for iso3 in STATES:
            overview = await state_overview(session, iso3, viewer)
            assert overview is not None
            # The overview lists the newest twenty of each kind and counts them all.
            shown = {e.reference for e in overview.needs + overview.offers}
            of_state = {e.reference for e in every if e.state_iso3 == iso3}
            assert shown <= allowed & active & of_state
            assert overview.needs_total + overview.offers_total == len(allowed & active & of_state)

    if viewer == STRANGER:
        return
    speaker = await _speaker(store, person)
    mine = {
        e.reference
        for e in every
        if e.logged_by_id == ids[person] or (speaker.state and e.state_iso3 == speaker.state)
    }
    async with store.transaction() as session:
        home = await overview_of(session, speaker, NOW, ReminderPolicy())
        assert {e.reference for e in home.entries} == allowed & active & mine
        for question in ("needs", "offers"):
            reply = await answer(
                session,
                speaker,
                question,
                today=NOW.date(),
                resolve_state=lambda _: None,
                t=speaker.t,
            )
            hidden = {e.reference for e in every} - allowed
            assert not any(reference in reply.text for reference in hidden)


# --- writes ----------------------------------------------------------------------------------


def _turn(speaker: Speaker, write: str, reference: str) -> Turn:
    if write == "withdraw":
        return Turn(speaker, Via.EMAIL, text=f"WITHDRAW {reference}")
    if write == "describe":
        return Turn(
            speaker,
            Via.EMAIL,
            action=Intent.CORRECT,
            value=reference,
            fields={"description": "changed"},
        )
    return Turn(speaker, Via.SLACK, action=Intent.CORRECT, value=reference, fields=fields_of(write))


def fields_of(write: str) -> dict[str, str]:
    """What the Edit form sends for each kind of change of who may see a record."""
    return {
        "widen": {"visibility": Visibility.PUBLIC.value},
        "narrow": {"visibility": Visibility.COORDINATORS.value},
        "edit_form": {"description": "changed", "visibility": Visibility.PUBLIC.value},
    }[write]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=records,
    person=viewers.filter(lambda name: PEOPLE[name][2]),
    write=writes,
    pick=st.integers(min_value=0, max_value=5),
)
async def test_no_write_path_changes_what_the_policy_protects(
    store: Store, drawn: list[Drawn], person: str, write: str, pick: int
) -> None:
    ids = await _people(store)
    made = await _add(store, drawn, ids)
    reference = made[pick % len(made)]
    (before,) = [e for e in await _everything(store) if e.reference == reference]
    speaker = await _speaker(store, person)

    reply = await Conversation(store, FixedClock(NOW)).handle(_turn(speaker, write, reference))

    (after,) = [e for e in await _everything(store) if e.reference == reference]
    allowed = may_change(person, before, ids)
    if not may_see(person, before, ids):
        assert reply.subject == "Unknown reference"  # as for a reference that does not exist
    if not allowed:
        assert (after.status, after.description, after.visibility) == (
            before.status,
            before.description,
            before.visibility,
        )
        return
    sees_all = PEOPLE[person][0] in (Role.COORDINATOR, Role.ISU)
    if write == "withdraw":
        assert after.status is EntryStatus.WITHDRAWN
    elif write == "describe":
        assert after.description == "changed"
    elif sees_all:
        wanted = fields_of(write)["visibility"]
        assert after.visibility.value == wanted
    elif before.visibility.value == fields_of(write)["visibility"]:
        assert after.description == fields_of(write).get("description", before.description)
    else:  # who may see it is not theirs to change: the whole form is refused
        assert (after.visibility, after.description) == (before.visibility, before.description)
        refused = "Only the Coordinators and the ISU can change who may see a record."
        assert reply.extra == {"error:visibility": refused}
