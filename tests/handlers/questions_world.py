"""The records every "questions everywhere" transcript asks about, and what each person must see.

Three Article 4 clearance needs in Africa (one for the Coordinators only), and two that the
question must not list: clearance in Asia, and training in Africa. The same question in
English, French and Spanish must list the same records on every channel.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from storage.audit import SYSTEM
from storage.contacts import upsert_contact
from storage.db import Store
from storage.models import Category, Channel, Entry, EntryKind, Role, Via, Visibility
from storage.records import add_entry
from storage.states import load_states
from storage.treaty_data import TreatyData, load_treaty_data

NOW = datetime(2027, 4, 20, 7, 0, tzinfo=UTC)
STATES = {"DEU", "FRA", "ESP", "IRL", "SEN", "MLI", "GHA", "NGA", "LAO"}

# Who asks: a coordinator in each language, and a delegate, who may ask too.
JONAS = "jonas.weber@auswaertiges-amt.example"  # coordinator, Germany, English
AMELIE = "amelie.roux@diplomatie.gouv.example"  # coordinator, France, French
SOFIA = "sofia.martinez@exteriores.example"  # coordinator, Spain, Spanish
ANA = "ana.delegate@dfa.example"  # delegate, Ireland, English
SLACK_IDS = {JONAS: "U0DEUCOO1", AMELIE: "U0FRACOO1", SOFIA: "U0ISUSOF1", ANA: "U0IRLDEL1"}
PEOPLE = (
    (JONAS, "Jonas Weber", Role.COORDINATOR, "DEU", "en"),
    (AMELIE, "Amélie Roux", Role.COORDINATOR, "FRA", "fr"),
    (SOFIA, "Sofía Martínez", Role.COORDINATOR, "ESP", "es"),
    (ANA, "Ana Byrne", Role.DELEGATE, "IRL", "en"),
)

QUESTIONS = {
    "en": "who needs help with clearance in Africa?",
    "fr": "qui a besoin d'aide pour le déminage en Afrique ?",
    "es": "¿quién necesita ayuda con el despeje en África?",
}
ASKER_OF = {"en": JONAS, "fr": AMELIE, "es": SOFIA}
# "Coordinators only", as each language marks such a record.
MARKS = {"en": "Coordinators only", "fr": "Coordonnateurs uniquement", "es": "Solo coordinadores"}

LISTED = ("Clearance of Casamance", "Clearance in Kidal")
SECRET = "Survey of the Volta strike sites"  # for the Coordinators only
NOT_LISTED = ("Clearance of Xieng Khouang", "Training of Nigerian deminers")


def treaty_subset() -> TreatyData:
    data = load_treaty_data()
    return TreatyData(
        states=tuple(facts for facts in data.states if facts.iso3 in STATES),
        history=tuple(event for event in data.history if event.iso3 in STATES),
    )


async def seed(store: Store, *, channel: Channel = Channel.SLACK) -> None:
    """The States, the people (reached on ``channel``) and the five needs."""
    async with store.transaction() as session:
        await load_states(session, treaty_subset(), SYSTEM, NOW)
        for email, name, role, state, language in PEOPLE:
            await upsert_contact(
                session,
                SYSTEM,
                NOW,
                email=email,
                name=name,
                role=role,
                state_iso3=state,
                channel=channel,
                slack_user_id=SLACK_IDS[email] if channel is Channel.SLACK else None,
                language=language,
            )
        for day, (iso3, category, text, visibility) in enumerate(
            (
                ("SEN", Category.SURVEY_CLEARANCE, LISTED[0], Visibility.STATES_PARTIES),
                ("MLI", Category.SURVEY_CLEARANCE, LISTED[1], Visibility.STATES_PARTIES),
                ("GHA", Category.SURVEY_CLEARANCE, SECRET, Visibility.COORDINATORS),
                ("LAO", Category.SURVEY_CLEARANCE, NOT_LISTED[0], Visibility.STATES_PARTIES),
                ("NGA", Category.TRAINING_EXPERTISE, NOT_LISTED[1], Visibility.STATES_PARTIES),
            ),
            start=1,
        ):
            await need(session, day, iso3, category, text, visibility)


async def need(
    session: Any, day: int, iso3: str, category: Category, text: str, visibility: Visibility
) -> None:
    await add_entry(
        session,
        SYSTEM,
        datetime(2027, 3, day, 9, 0, tzinfo=UTC),
        kind=EntryKind.NEED,
        state_iso3=iso3,
        article=4,
        category=category,
        description=text,
        via=Via.IMPORT,
        visibility=visibility,
    )


async def references(store: Store) -> dict[str, str]:
    async with store.transaction() as session:
        rows = await session.scalars(select(Entry))
        return {entry.description: entry.reference for entry in rows}


def listed(text: str, refs: dict[str, str]) -> set[str]:
    """The descriptions of the needs an answer lists, found by their references."""
    return {description for description, ref in refs.items() if ref in text}


def check_answer(text: str, refs: dict[str, str], language: str, *, coordinator: bool) -> None:
    """What one question must answer, whoever asks where: the two open Africa clearance needs,
    and the coordinators-only one marked for a Coordinator and never shown to a delegate."""
    wanted = {*LISTED, SECRET} if coordinator else set(LISTED)
    assert listed(text, refs) == wanted, text
    assert (MARKS[language] in text) is coordinator, text
    assert (SECRET in text) is coordinator
