"""Plain answers are recorded, guesses are confirmed: transcripts of the conversation core.

A submitted form, a button, or a reply that starts with its keyword is stored in the turn that
says it, and answered with a receipt; a sentence the bot had to interpret waits for Confirm,
and can be cancelled. The audit log tells the two apart.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from handlers.conversation import Conversation
from handlers.turns import Turn
from handlers.understanding.keywords import Intent
from schedules.clock import FixedClock
from storage.db import Store
from storage.models import (
    AuditEntry,
    Draft,
    DraftStatus,
    Entry,
    EntryKind,
    Report,
    Via,
)
from tests.handlers.test_conversation import NOW, speaker


async def count(store: Store, model: type) -> int:
    async with store.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def audited(store: Store, entity: str) -> list[str]:
    async with store.transaction() as session:
        rows = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
        )
        return list(rows)


@pytest.fixture
def conversation(loaded_store: Store) -> Conversation:
    return Conversation(loaded_store, FixedClock(NOW))


@pytest.mark.parametrize(
    ("language", "email", "state", "text", "subject", "at_once", "correct", "withdraw"),
    [
        pytest.param(
            "en",
            "desk@dfa.ie",
            "IRL",
            "NEED: non-technical survey in the north, about USD 250,000",
            "Recorded as N-2027-0001.",
            "Recorded at once as N-2027-0001: there is nothing to confirm.",
            "CORRECT N-2027-0001",
            "WITHDRAW N-2027-0001",
            id="en",
        ),
        pytest.param(
            "fr",
            "delegue@diplomatie.gouv.fr",
            "FRA",
            "BESOIN : enquête non technique dans le nord (Borkou), environ 250 000 USD.",
            "Enregistré sous la référence N-2027-0001.",
            "Enregistré aussitôt sous la référence N-2027-0001 : il n'y a rien à confirmer.",
            "CORRIGER N-2027-0001",
            "RETIRER N-2027-0001",
            id="fr",
        ),
        pytest.param(
            "es",
            "ana@minrel.gob.cl",
            "CHL",
            "NECESIDAD: estudio no técnico en el norte, unos 250.000 USD",
            "Registrado con la referencia N-2027-0001.",
            "Registrado de inmediato con la referencia N-2027-0001: no hay nada que confirmar.",
            "CORREGIR N-2027-0001",
            "RETIRAR N-2027-0001",
            id="es",
        ),
    ],
)
async def test_a_keyword_need_is_recorded_at_once_with_its_receipt(
    loaded_store: Store,
    conversation: Conversation,
    language: str,
    email: str,
    state: str,
    text: str,
    subject: str,
    at_once: str,
    correct: str,
    withdraw: str,
) -> None:
    me = await speaker(loaded_store, email, state, language)
    receipt = await conversation.handle(Turn(me, Via.EMAIL, text=text, message_id="<m1@x>"))

    assert (receipt.stored, receipt.reference) == (True, "N-2027-0001")
    assert (receipt.subject, receipt.intro) == (subject, at_once)
    # Description (the words after the keyword), article, category, amount, who may see it.
    assert len(receipt.fields) == 5
    assert text.endswith(receipt.fields[0][1])
    assert "250" in receipt.fields[3][1]
    assert [(c.action, c.keyword) for c in receipt.choices] == [
        (Intent.EDIT, correct),
        (Intent.WITHDRAW, withdraw),
    ]
    async with loaded_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.kind, entry.state_iso3, entry.amount, entry.currency) == (
        EntryKind.NEED,
        state,
        Decimal("250000.00"),
        "USD",
    )
    assert (entry.via, entry.original_text, entry.message_id) == (Via.EMAIL, text, "<m1@x>")
    assert entry.confirmed_by_id == entry.logged_by_id == me.contact_id
    assert await count(loaded_store, Draft) == 0  # nothing waits for a Confirm
    assert await audited(loaded_store, "entries") == ["create:keyword"]


async def test_a_submitted_form_is_recorded_at_once_with_the_contacts_organisation(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@mfa.gov.lb", "LBN", "en", organisation="LMAC")
    fields = {"description": "Clearance equipment", "amount": "100000", "currency": "EUR"}
    receipt = await conversation.handle(Turn(me, Via.SLACK, action=Intent.NEED, fields=fields))

    assert receipt.stored
    assert receipt.subject == "Recorded as N-2027-0001."
    assert ("Description", "Clearance equipment") in receipt.fields
    assert [c.action for c in receipt.choices] == [Intent.EDIT, Intent.WITHDRAW]
    async with loaded_store.transaction() as session:
        entry = await session.scalar(select(Entry))
    assert entry is not None
    assert (entry.organisation, entry.amount, entry.original_text) == (
        "LMAC",
        Decimal("100000.00"),
        None,
    )
    assert await audited(loaded_store, "entries") == ["create:form"]


async def test_a_keyword_answer_with_a_bad_amount_says_what_to_fix_and_stores_nothing(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@dfa.ie", "IRL", "en")
    reply = await conversation.handle(
        Turn(me, Via.EMAIL, text="NEED: clearance equipment, USD 0.001")
    )
    assert not reply.stored
    assert reply.subject == "Something to fix"
    assert "error:amount" in reply.extra
    assert await count(loaded_store, Entry) == await count(loaded_store, Draft) == 0


async def test_a_guessed_need_waits_for_confirm_and_the_log_says_it_was_confirmed(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@dfa.ie", "IRL", "en")
    echo = await conversation.handle(
        Turn(me, Via.EMAIL, text="We need help with victim assistance data, USD 50,000")
    )
    assert (echo.stored, echo.subject) == (False, "Please confirm")
    assert echo.footer == "Nothing is recorded until you confirm."
    assert [c.keyword for c in echo.choices] == ["CONFIRM", "", "CANCEL"]
    assert await count(loaded_store, Entry) == 0

    recorded = await conversation.handle(Turn(me, Via.EMAIL, text="CONFIRM"))
    assert (recorded.stored, recorded.intro) == (True, "Recorded as N-2027-0001.")
    assert await audited(loaded_store, "entries") == ["create:confirmed"]


@pytest.mark.parametrize(
    ("language", "email", "state", "guess", "word", "cancelled"),
    [
        ("en", "desk@dfa.ie", "IRL", "We need a survey of the north", "cancel", "Cancelled"),
        (
            "fr",
            "delegue@diplomatie.gouv.fr",
            "FRA",
            "Nous avons besoin d'un appui pour l'enquête",
            "Annuler",
            "Annulé",
        ),
        (
            "es",
            "ana@minrel.gob.cl",
            "CHL",
            "Necesitamos apoyo para la asistencia a víctimas",
            "CANCELAR",
            "Cancelado",
        ),
    ],
)
async def test_a_proposal_is_cancelled_in_every_language(
    loaded_store: Store,
    conversation: Conversation,
    language: str,
    email: str,
    state: str,
    guess: str,
    word: str,
    cancelled: str,
) -> None:
    me = await speaker(loaded_store, email, state, language)
    echo = await conversation.handle(Turn(me, Via.EMAIL, text=guess))
    assert echo.choices[-1].action is Intent.CANCEL

    reply = await conversation.handle(Turn(me, Via.EMAIL, text=word))
    assert (reply.subject, reply.stored) == (cancelled, False)
    async with loaded_store.transaction() as session:
        draft = await session.scalar(select(Draft))
    assert draft is not None
    assert draft.status is DraftStatus.DISCARDED
    late = await conversation.handle(Turn(me, Via.EMAIL, text=echo.choices[0].keyword))
    assert not late.stored
    assert await count(loaded_store, Entry) == 0


async def test_the_cancel_button_names_its_proposal(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@dfa.ie", "IRL", "en")
    echo = await conversation.handle(Turn(me, Via.SLACK, text="We need a survey of the north"))
    cancel = echo.choices[-1]
    await conversation.handle(Turn(me, Via.SLACK, action=cancel.action, value=cancel.value))
    confirm = echo.choices[0]
    late = await conversation.handle(
        Turn(me, Via.SLACK, action=confirm.action, value=confirm.value)
    )
    assert (late.subject, late.stored) == ("Nothing to confirm", False)
    assert await count(loaded_store, Entry) == 0


async def test_a_form_editing_a_proposal_records_it_with_the_proposals_provenance(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@dfa.ie", "IRL", "en")
    text = "We need a survey of the north"
    echo = await conversation.handle(Turn(me, Via.EMAIL, text=text, message_id="<m1@x>"))
    draft_id = int(echo.choices[0].value)

    receipt = await conversation.handle(
        Turn(
            me,
            Via.SLACK,
            action=Intent.NEED,
            fields={"amount": "20000", "currency": "EUR"},
            revises=draft_id,
        )
    )
    assert receipt.stored
    async with loaded_store.transaction() as session:
        entry = await session.scalar(select(Entry))
        draft = await session.get(Draft, draft_id)
    assert entry is not None
    assert draft is not None
    assert draft.status is DraftStatus.CONFIRMED
    assert (entry.description, entry.amount, entry.currency) == (text, Decimal("20000.00"), "EUR")
    assert (entry.via, entry.original_text, entry.message_id) == (Via.EMAIL, text, "<m1@x>")


@pytest.mark.parametrize(
    ("language", "text", "on", "footer"),
    [
        (
            "en",
            "SUBMITTED",
            date(2027, 5, 2),
            "Recorded at once: there is nothing to confirm. "
            "If the date is wrong, answer SUBMITTED and the right date.",
        ),
        (
            "fr",
            "SOUMIS le 12 avril",
            date(2027, 4, 12),
            "Enregistré aussitôt : il n'y a rien à confirmer. "
            "Si la date est fausse, répondez SOUMIS suivi de la bonne date.",
        ),
        (
            "es",
            "PRESENTADO el 12 de abril",
            date(2027, 4, 12),
            "Registrado de inmediato: no hay nada que confirmar. "
            "Si la fecha no es correcta, responda PRESENTADO seguido de la fecha correcta.",
        ),
    ],
)
async def test_a_keyword_report_is_recorded_at_once(
    loaded_store: Store,
    conversation: Conversation,
    language: str,
    text: str,
    on: date,
    footer: str,
) -> None:
    me = await speaker(loaded_store, "desk@mfa.gov.lb", "LBN", language)
    receipt = await conversation.handle(
        Turn(me, Via.EMAIL, text=text, about="LBN:art7-annual-2026")
    )
    assert receipt.stored
    assert receipt.footer == footer
    assert len(receipt.fields) == 3  # the State, the report, the date
    async with loaded_store.transaction() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.state_iso3, report.year, report.submitted_on) == ("LBN", 2026, on)
    assert await audited(loaded_store, "reports") == ["create:keyword"]


async def test_the_report_submitted_button_records_today(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@mfa.gov.lb", "LBN", "en")
    receipt = await conversation.handle(
        Turn(
            me,
            Via.SLACK,
            action=Intent.REPORT_SUBMITTED,
            value="LBN:art7-annual-2026",
            about="LBN:art7-annual-2026",
            message_id="1.0",
        )
    )
    assert receipt.stored
    assert ("Submitted on", "2 May 2027") in receipt.fields
    assert receipt.answered is not None
    assert (receipt.answered.item, receipt.answered.message_id) == ("LBN:art7-annual-2026", "1.0")
    assert await audited(loaded_store, "reports") == ["create:button"]


async def test_a_guessed_report_waits_for_confirm(
    loaded_store: Store, conversation: Conversation
) -> None:
    me = await speaker(loaded_store, "desk@mfa.gov.lb", "LBN", "en")
    echo = await conversation.handle(
        Turn(
            me, Via.EMAIL, text="We submitted our report on 12 April", about="LBN:art7-annual-2026"
        )
    )
    assert (echo.subject, echo.stored) == ("Please confirm", False)
    assert [c.action for c in echo.choices] == [Intent.CONFIRM, Intent.EDIT, Intent.CANCEL]
    assert await count(loaded_store, Report) == 0
