"""Questions in words: how they are read, how they are answered, and exports that re-import."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.i18n import translator
from handlers.imports import columns_of, run_import
from handlers.questions import (
    ExportKind,
    Filters,
    Topic,
    answer,
    describe,
    describe_question,
    export_rows,
    export_table,
    last_due_year,
    parse_filters,
    parse_question,
    viewer_of,
)
from handlers.tables import read_table
from handlers.turns import Speaker
from storage.db import Store
from storage.models import Category, Entry, EntryKind, EntryStatus, Role, Visibility
from storage.visibility import ISU, STRANGER, Viewer
from tests.handlers.test_stats import ISU as IMPORTER
from tests.handlers.test_stats import import_examples, resolve_state

TODAY = date(2027, 3, 31)
OPEN, DISCUSSED = EntryStatus.OPEN, EntryStatus.IN_DISCUSSION


def read(text: str) -> dict[str, Any]:
    question = parse_question(text, resolve_state=resolve_state, today=TODAY)
    found: dict[str, Any] = {"topic": question.topic}
    found |= {k: v for k, v in asdict(question.filters).items() if v not in (None, ())}
    for name in ("year", "months", "ignored"):
        if getattr(question, name):
            found[name] = getattr(question, name)
    if question.own:
        found["own"] = True
    return found


NEEDS, OFFERS = Topic.NEEDS, Topic.OFFERS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("article 4 africa open", {"article": 4, "region": "Africa", "status": OPEN}),
        ("besoins article 5 afrique ouverts", {"article": 5, "region": "Africa", "status": OPEN}),
        (
            "necesidades artículo 4 en América Latina, en discusión",
            {"article": 4, "region": "Americas", "status": DISCUSSED},
        ),
        (
            "training spanish",
            {"category": Category.TRAINING_EXPERTISE, "text": ("spanish",)},
        ),
        (
            "¿Quién puede ayudar con capacitación en Oriente Medio?",
            {"topic": OFFERS, "category": Category.TRAINING_EXPERTISE, "region": "Middle East"},
        ),
        (
            "offres de déminage pour la Côte d'Ivoire",
            {"topic": OFFERS, "category": Category.SURVEY_CLEARANCE, "state": "CIV"},
        ),
        (
            "needs in Bosnia and Herzegovina since 1 March 2027",
            {"state": "BIH", "since": date(2027, 3, 1)},
        ),
        (
            "demandes retirées du Liban depuis mars 2026",
            {"state": "LBN", "status": EntryStatus.WITHDRAWN, "since": date(2026, 3, 1)},
        ),
        ("necesidades de Chile desde 2026", {"state": "CHL", "since": date(2026, 1, 1)}),
        ("risk education", {"category": Category.RISK_EDUCATION}),
        ("victim assistance Lebanon", {"category": Category.VICTIM_ASSISTANCE, "state": "LBN"}),
        ("capacity building in Asia", {"category": Category.TRAINING_EXPERTISE, "region": "Asia"}),
        ("ÉQUIPEMENT", {"category": Category.EQUIPMENT}),
        (
            "needs in africa; ARTICLE 4 / OPEN!!!",
            {"article": 4, "region": "Africa", "status": OPEN},
        ),
        ("art.4 art 5", {"article": 4, "ignored": ("art 5",)}),
        ("article 9 needs", {"ignored": ("article 9",)}),
        ("needs LBN FRA", {"state": "LBN", "ignored": ("FRA",)}),
        ('"technical survey" Nabatieh', {"text": ("technical survey", "nabatieh")}),
        ("needs recorded in 2026", {"year": 2026, "text": ("recorded",)}),
        ("our needs", {"own": True}),
        # Small words that are also ISO3 codes (AND is Andorra, CAN Canada) are words.
        ("NEEDS AND CAN", {}),
        ("needs per region", {"text": ("per", "region")}),
        ("offers PER", {"topic": OFFERS, "state": "PER"}),
        ("Lao PDR", {"topic": Topic.OVERVIEW, "state": "LAO"}),
        ("Tchad", {"topic": Topic.OVERVIEW, "state": "TCD"}),
        ("who is late 2025", {"topic": Topic.OVERDUE, "year": 2025}),
        ("qui est en retard ?", {"topic": Topic.OVERDUE}),
        ("article 7 late", {"topic": Topic.OVERDUE}),
        ("plazos 6 meses", {"topic": Topic.DEADLINES, "months": 6}),
        ("statistiques 2024", {"topic": Topic.STATS, "year": 2024}),
        ("", {"topic": Topic.HELP}),
        ("  ???  ", {"topic": Topic.HELP}),
        ("\u200b\u00a0", {"topic": Topic.HELP}),
    ],
)
def test_questions_are_read_word_by_word(text: str, expected: dict[str, Any]) -> None:
    assert read(text) == {"topic": NEEDS} | expected


def test_a_pasted_document_is_cut_and_never_raises() -> None:
    question = parse_question("Nabatieh " * 10_000, resolve_state=resolve_state, today=TODAY)
    assert question.filters.text == ("nabatieh",)


def test_parse_filters_drops_the_topic_words() -> None:
    assert parse_filters(
        "besoins article 5 afrique ouverts", resolve_state=resolve_state, today=TODAY
    ) == Filters(article=5, region="Africa", status=OPEN)


@pytest.mark.parametrize(
    ("filters", "kind", "language", "expected"),
    [
        (
            Filters(article=4, region="Africa", status=OPEN),
            EntryKind.NEED,
            "en",
            "needs for Article 4 in Africa, open",
        ),
        (Filters(), EntryKind.OFFER, "en", "offers"),
        (
            Filters(
                state="LBN",
                category=Category.SURVEY_CLEARANCE,
                since=date(2027, 3, 1),
                text=("nabatieh", "bint jbeil"),
            ),
            EntryKind.NEED,
            "en",
            "needs of Lebanon, survey and clearance, since 1 March 2027, "
            "mentioning “nabatieh” + “bint jbeil”",
        ),
        (Filters(category=Category.VICTIM_ASSISTANCE), EntryKind.NEED, "fr", "assistance aux"),
        (Filters(status=OPEN, since=date(2027, 3, 1)), EntryKind.NEED, "es", "marzo"),
    ],
)
def test_describe_says_what_the_listing_holds(
    filters: Filters, kind: EntryKind, language: str, expected: str
) -> None:
    text = describe(filters, translator(language), kind, state_name={"LBN": "Lebanon"}.get)
    if language == "en":
        assert text == expected
    else:
        assert expected in text


def test_describe_question_names_what_was_left_out() -> None:
    question = parse_question("article 9 needs LBN FRA", resolve_state=resolve_state, today=TODAY)
    assert describe_question(question, translator("en"), today=TODAY) == (
        "I understood your question as: needs of LBN. I left out “article 9”, “FRA”."
    )


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (date(2026, 4, 30), 2024),  # the 2025 report is due today, not yet late
        (date(2026, 5, 1), 2025),
        (date(2027, 1, 1), 2025),
    ],
)
def test_last_due_year(today: date, year: int) -> None:
    assert last_due_year(today) == year


# --- answers, on both backends -------------------------------------------------------------


@pytest.fixture
async def examples(loaded_store: Store, tmp_path: Path) -> Store:
    await import_examples(loaded_store, tmp_path, entries_at=datetime(2027, 3, 1, tzinfo=UTC))
    return loaded_store


async def references(store: Store, **where: Any) -> dict[str, str]:
    """Reference of each example need, by State and visibility ("LBN public")."""
    async with store.transaction() as session:
        rows = await session.scalars(select(Entry).filter_by(**where))
        return {f"{e.state_iso3} {e.article} {e.visibility.value}": e.reference for e in rows}


def speaker(role: Role, state: str | None, language: str = "en") -> Speaker:
    return Speaker(
        contact_id=1,
        name="Someone",
        email="someone@example.org",
        role=role,
        state=state,
        state_name=None,
        language=language,
        zone=ZoneInfo("Europe/Zurich"),
    )


async def ask(store: Store, who: Speaker | None, text: str) -> str:
    t = who.t if who else translator("en")
    async with store.transaction() as session:
        reply = await answer(session, who, text, today=TODAY, resolve_state=resolve_state, t=t)
    return reply.text


async def test_a_delegate_asks_in_french_and_never_sees_coordinators_only(
    examples: Store,
) -> None:
    needs = await references(examples, kind=EntryKind.NEED)
    reply = await ask(examples, speaker(Role.DELEGATE, "AFG", "fr"), "besoins article 5")
    assert reply.startswith("J'ai compris votre question ainsi : besoins")
    assert needs["LBN 5 states_parties"] in reply
    assert needs["AFG 5 coordinators"] not in reply  # their own State's, and still not shown
    assert "2 résultats." in reply
    coordinator = await ask(examples, speaker(Role.COORDINATOR, "NOR"), "besoins article 5")
    assert needs["AFG 5 coordinators"] in coordinator


async def test_a_partner_sees_public_offers_and_a_stranger_nothing(examples: Store) -> None:
    offers = await references(examples, kind=EntryKind.OFFER)
    partner = await ask(examples, speaker(Role.PARTNER, None), "who can help?")
    assert {ref for ref in offers.values() if ref in partner} == {
        offers["DEU 5 public"],
        offers["FRA 4 public"],
    }
    stranger = await ask(examples, None, "who can help?")
    assert not any(ref in stranger for ref in offers.values())
    assert "ISU" in stranger


async def test_our_needs_are_the_speakers_states(examples: Store) -> None:
    needs = await references(examples, kind=EntryKind.NEED)
    reply = await ask(examples, speaker(Role.DELEGATE, "LBN"), "our open needs")
    assert "needs of Lebanon, open" in reply
    assert {ref for ref in needs.values() if ref in reply} == {
        needs["LBN 4 public"],
        needs["LBN 5 states_parties"],
    }


async def test_reminder_counts_of_late_states_are_for_coordinators(examples: Store) -> None:
    delegate = await ask(examples, speaker(Role.DELEGATE, "FRA"), "who is late 2025")
    assert "Senegal" in delegate  # who is late is a public treaty fact
    assert "reminders sent" not in delegate  # how often they were reminded is not
    coordinator = await ask(examples, speaker(Role.COORDINATOR, "NOR"), "who is late 2025")
    assert "Senegal: 0 reminders sent" in coordinator
    assert "Lebanon" not in coordinator  # sent on 30 April 2026


async def test_a_state_name_alone_gives_its_overview(examples: Store) -> None:
    needs = await references(examples, kind=EntryKind.NEED)
    reply = await ask(examples, speaker(Role.ISU, None), "Liban")
    assert "the overview of Lebanon" in reply
    assert "Article 4: deadline 1 May 2026" in reply
    assert "2025: received 30 April 2026" in reply
    assert needs["LBN 4 public"] in reply
    assert "Rami Haddad (delegate)" in reply


async def test_stats_and_help_answers(examples: Store) -> None:
    figures = await ask(examples, speaker(Role.ISU, None), "stats 2025")
    assert "the yearly figures for 2025" in figures
    assert "Reports received   " in figures or "Reports received  " in figures
    help_text = await ask(examples, speaker(Role.DELEGATE, "FRA"), "")
    assert "needs article 4 africa open" in help_text


# --- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_exports_reimport_unchanged(examples: Store, tmp_path: Path, suffix: str) -> None:
    for kind in ExportKind:
        path = tmp_path / f"{kind.value}{suffix}"
        async with examples.transaction() as session:
            written = await export_table(session, kind, ISU, path)
        table = read_table(path)
        assert table.headers == columns_of(kind.import_kind)
        assert len(table.rows) == written > 0
        async with examples.transaction() as session:
            result = await run_import(
                session,
                kind.import_kind,
                path,
                actor=IMPORTER,
                now=datetime(2027, 3, 31, tzinfo=UTC),
                resolve_state=resolve_state,
            )
        assert (result.created, result.updated, result.unchanged) == (0, 0, written), kind


@pytest.mark.parametrize(
    ("viewer", "secret_included", "contacts"),
    [
        (ISU, True, 11),
        (Viewer(Role.COORDINATOR, "NOR"), True, 11),
        (Viewer(Role.DELEGATE, "AFG"), False, 1),
        (Viewer(Role.PARTNER), False, 0),
        (STRANGER, False, 0),
    ],
)
async def test_exports_follow_the_viewer(
    examples: Store, viewer: Viewer, secret_included: bool, contacts: int
) -> None:
    async with examples.transaction() as session:
        _, need_rows = await export_rows(session, ExportKind.NEEDS, viewer)
        _, offer_rows = await export_rows(session, ExportKind.OFFERS, viewer)
        _, people = await export_rows(session, ExportKind.CONTACTS, viewer)
    visibilities = {row["visibility"] for row in need_rows + offer_rows}
    assert (Visibility.COORDINATORS in visibilities) is secret_included
    assert len(people) == contacts


def test_viewer_of_a_speaker() -> None:
    assert viewer_of(speaker(Role.DELEGATE, "LBN")) == Viewer(Role.DELEGATE, "LBN", 1)
    assert viewer_of(None) == STRANGER
