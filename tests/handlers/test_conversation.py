"""Conversations as transcripts: what the person says, what the bot answers, what is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from handlers.conversation import Conversation
from handlers.replies import Handover
from handlers.turns import Speaker, Turn, identify
from handlers.understanding.keywords import Intent
from schedules.clock import FixedClock
from storage.audit import SYSTEM
from storage.contacts import upsert_contact
from storage.db import Store
from storage.models import (
    Category,
    Channel,
    Contact,
    Entry,
    EntryKind,
    EntryStatus,
    Report,
    ReportKind,
    Role,
    Via,
)

NOW = datetime(2027, 5, 2, 8, 0, tzinfo=UTC)


async def speaker(
    store: Store,
    email: str,
    state: str,
    language: str | None = None,
    organisation: str | None = None,
) -> Speaker:
    """A delegate known by email, as the conversation core sees them."""
    async with store.transaction() as session:
        await upsert_contact(
            session,
            SYSTEM,
            NOW,
            email=email,
            name=email.split("@")[0],
            role=Role.DELEGATE,
            state_iso3=state,
            language=language,
            channel=Channel.EMAIL,
            organisation=organisation,
        )
        found = await identify(session, fallback_zone="Europe/Zurich", email=email)
    assert found is not None
    return found


async def count(store: Store, model: type) -> int:
    async with store.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def conversation(loaded_store: Store) -> Conversation:
    return Conversation(loaded_store, FixedClock(NOW))


async def test_french_free_text_need_is_recorded_only_after_confirm(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "delegue@diplomatie.gouv.fr", "FRA")
    assert me.language == "fr"
    text = (
        "Nous avons besoin d'un appui technique pour l'enquête non technique, environ 250 000 USD"
    )
    proposal = await conversation.handle(Turn(me, Via.EMAIL, text=text, message_id="<m1@x>"))
    assert not proposal.stored
    assert proposal.subject == "Veuillez confirmer"
    assert [c.action for c in proposal.choices] == [Intent.CONFIRM, Intent.EDIT, Intent.CANCEL]
    assert "Rien n'est enregistré" in proposal.footer
    assert "250 000,00 $US" in proposal.text.replace("\u202f", " ").replace("\xa0", " ")
    assert await count(loaded_store, Entry) == 0

    recorded = await conversation.handle(Turn(me, Via.EMAIL, text="CONFIRMER"))
    assert recorded.stored
    assert recorded.reference == "N-2027-0001"
    async with loaded_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.kind, entry.state_iso3, entry.amount, entry.currency, entry.article) == (
        EntryKind.NEED,
        "FRA",
        Decimal("250000.00"),
        "USD",
        4,
    )
    assert (entry.original_text, entry.original_language, entry.message_id) == (
        text,
        "fr",
        "<m1@x>",
    )
    assert entry.confirmed_by_id == me.contact_id

    again = await conversation.handle(Turn(me, Via.EMAIL, text="CONFIRMER"))
    assert not again.stored
    assert await count(loaded_store, Entry) == 1


async def test_withdraw_and_correct_by_reference(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "ana@minrel.gob.cl", "CHL")
    await conversation.handle(
        Turn(me, Via.SLACK, text="Podemos ofrecer capacitación en educación sobre riesgos")
    )
    offer = await conversation.handle(Turn(me, Via.SLACK, action=Intent.CONFIRM))
    assert offer.reference == "C-2027-0001"
    corrected = await conversation.handle(
        Turn(
            me,
            Via.SLACK,
            action=Intent.CORRECT,
            value="C-2027-0001",
            fields={"amount": "40000", "currency": "EUR"},
        )
    )
    assert corrected.stored
    withdrawn = await conversation.handle(Turn(me, Via.EMAIL, text="RETIRAR C-2027-0001"))
    assert withdrawn.stored
    async with loaded_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.status, entry.amount, entry.currency) == (
        EntryStatus.WITHDRAWN,
        Decimal("40000.00"),
        "EUR",
    )


async def test_a_correction_by_email_changes_only_what_it_says(
    loaded_store: Store, conversation: Conversation
) -> None:
    """A sentence cannot empty a field: what it does not name stays as recorded."""
    me = await speaker(loaded_store, "ana@minrel.gob.cl", "CHL", language="en")
    offer = {
        "description": "Risk education trainers",
        "article": "4",
        "category": "risk_education",
        "amount": "40000",
        "currency": "EUR",
        "period_start": "2027-06-01",
        "period_end": "2027-12-31",
        "focus": "Africa",
    }
    await conversation.handle(Turn(me, Via.SLACK, action=Intent.OFFER, fields=offer))

    corrected = await conversation.handle(
        Turn(me, Via.EMAIL, text="CORRECT C-2027-0001 amount is USD 300,000")
    )
    assert corrected.subject == "C-2027-0001 updated."
    async with loaded_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.amount, entry.currency) == (Decimal("300000.00"), "USD")
    assert entry.description == "Risk education trainers"  # the sentence named the amount
    assert (entry.category, entry.article, entry.focus) == (
        Category.RISK_EDUCATION,
        4,
        ["Africa"],
    )
    assert (entry.period_start, entry.period_end) == (date(2027, 6, 1), date(2027, 12, 31))


async def test_someone_elses_reference_is_refused(
    loaded_store: Store, conversation: Conversation
) -> None:
    owner = await speaker(loaded_store, "a@minrel.gob.cl", "CHL")
    other = await speaker(loaded_store, "b@mfa.gov.lb", "LBN")
    await conversation.handle(Turn(owner, Via.SLACK, text="NEED: equipment for clearance"))
    refused = await conversation.handle(Turn(other, Via.EMAIL, text="WITHDRAW N-2027-0001"))
    assert not refused.stored
    async with loaded_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert entry.status is EntryStatus.OPEN


async def test_report_submitted_sentence_records_the_report(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@mfa.gov.lb", "LBN", language="en")
    proposal = await conversation.handle(
        Turn(
            me, Via.SLACK, text="We submitted our report on 12 April", about="LBN:art7-annual-2026"
        )
    )
    assert "covering 2026" in proposal.intro
    assert await count(loaded_store, Report) == 0
    await conversation.handle(Turn(me, Via.SLACK, action=Intent.CONFIRM))
    async with loaded_store.transaction() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.state_iso3, report.kind, report.year, report.submitted_on, report.due) == (
        "LBN",
        ReportKind.ANNUAL,
        2026,
        date(2027, 4, 12),
        date(2027, 4, 30),
    )


async def test_future_date_is_questioned_not_recorded(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "x@mfa.gov.lb", "LBN", language="en")
    reply = await conversation.handle(
        Turn(me, Via.SLACK, action=Intent.REPORT_SUBMITTED, fields={"on": "2027-06-01"})
    )
    assert not reply.stored
    assert not reply.choices
    assert "still to come" in reply.intro


async def test_what_is_not_understood_gets_choices(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "y@exteriores.gob.es", "ESP")
    reply = await conversation.handle(Turn(me, Via.EMAIL, text="asdfgh"))
    assert reply.subject == "Disculpe, no he entendido"
    assert {c.action for c in reply.choices} >= {Intent.REPORT_SUBMITTED, Intent.NEED, Intent.STOP}


async def test_not_the_right_person_gives_the_isu_facts_once_stored(loaded_store: Store) -> None:
    told: list[tuple[Handover, bool]] = []

    async def notify_isu(note: Handover) -> None:
        async with loaded_store.transaction() as session:
            me = await session.scalar(select(Contact).where(Contact.email == "ana@minrel.gob.cl"))
            assert me is not None
            told.append((note, me.active))

    conversation = Conversation(loaded_store, FixedClock(NOW), notify_isu=notify_isu)
    me = await speaker(loaded_store, "ana@minrel.gob.cl", "CHL")
    reply = await conversation.handle(Turn(me, Via.EMAIL, text="NO SOY YO, pedro@minrel.gob.cl"))
    assert (reply.subject, reply.stored) == ("Transmitido", True)
    # The handover is committed (Ana inactive) before the ISU hears of it; the note is facts,
    # rendered later in the ISU's language.
    note = Handover(
        name="ana", email="ana@minrel.gob.cl", state="CHL", colleague="pedro@minrel.gob.cl"
    )
    assert told == [(note, False)]


async def test_strangers_are_not_identified(loaded_store: Store) -> None:
    async with loaded_store.transaction() as session:
        assert await identify(session, fallback_zone="UTC", email="who@nowhere.org") is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "lots", "Write the amount as a number"),
        ("currency", "DOLLARS", "currency as a code"),
        ("article", "9", "Article 3, 4, 5 or 6"),
        ("period_end", "2020-13-01", "YYYY-MM-DD"),
        ("description", "", "Describe what is needed"),
    ],
)
async def test_form_errors_name_the_field(
    loaded_store: Store, conversation: Conversation, field: str, value: str, message: str
) -> None:
    me = await speaker(loaded_store, "z@mfa.gov.lb", "LBN", language="en")
    fields = {"description": "Clearance equipment", "amount": "100", "currency": "USD"}
    reply = await conversation.handle(
        Turn(me, Via.SLACK, action=Intent.NEED, fields=fields | {field: value})
    )
    assert not reply.stored
    assert message in reply.extra[f"error:{field}"]
    assert await count(loaded_store, Entry) == 0
