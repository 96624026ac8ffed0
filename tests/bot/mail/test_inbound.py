"""Replies by email, end to end: the stdlib LMTP client delivers to the bot's LMTP server, the
bot answers through SMTP into a real aiosmtpd server, on SQLite and PostgreSQL.

Each test waits for ``MailService.idle()`` (every accepted message processed), never sleeps.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.mail.body.reply import parse_message
from bot.mail.compose import render_email
from bot.mail.inbound.service import MailService
from bot.mail.outgoing import MailQueue, MessageSender
from bot.mail.tokens import sign_token
from bot.mail.transports import ReminderEmails, SmtpTransport
from bot.settings import Settings, SmtpTarget
from handlers.conversation import Conversation
from handlers.reminders import compose_reminder
from handlers.replies import Reply
from handlers.turns import Turn
from schedules.clock import FixedClock
from schedules.delivery import Outgoing, ReminderItem
from storage.audit import SYSTEM
from storage.contacts import upsert_contact
from storage.db import Store
from storage.ledger import PlannedReminder, plan
from storage.models import (
    AuditEntry,
    Channel,
    Contact,
    Draft,
    DraftStatus,
    Entry,
    EntryKind,
    InboundMail,
    InboundStatus,
    Message,
    Report,
    Role,
    State,
    Via,
)
from storage.states import load_states
from storage.treaty_data import TreatyData, load_treaty_data
from tests.bot.mail.conftest import SmtpServer
from tests.fakes.waiting import WAIT  # a bound on every wait, never a sleep

CORPUS = Path(__file__).parent / "corpus"
CORPUS_TOKEN = b"aaaaaedzkgwmgwhwc75x6sop"
REPLY_DOMAIN = "reply.ccm.example.org"  # the corpus replies' domain
SECRET = "inbound-test-key-of-32-characters"
SENDER = "CCM ISU <isu@ccm.example.org>"
ISU = "isu-desk@ccm.example.org"
NOW = datetime(2027, 3, 31, 7, 0, tzinfo=UTC)
TODAY = date(2027, 3, 31)
ITEM = "art7-annual-2026"
STATES = {"CHL", "ESP", "FRA", "GHA", "MLI", "NGA", "ZAF", "ZMB"}


# --------------------------------------------------------------------------- the bot, running


@dataclass
class Bot:
    store: Store
    service: MailService
    smtp: SmtpServer
    clock: FixedClock
    outgoing: MailQueue

    async def deliver(
        self, raw: bytes, *, to: list[str] | None = None, sender: str | None = None
    ) -> int:
        """Deliver over LMTP as Postfix would (CRLF lines); wait until it is processed.

        The envelope defaults to the From and To headers; ``sender=""`` is the null sender.
        """
        wire = re.sub(rb"\r?\n", b"\r\n", raw)
        headers = parse_message(raw)
        recipients = to or [parseaddr(str(headers["To"]))[1]]
        if sender is None:
            sender = parseaddr(str(headers["From"]))[1]
        code = await asyncio.to_thread(lmtp_send, self.service.bound_port, sender, recipients, wire)
        await asyncio.wait_for(self.service.idle(), WAIT)
        return code

    def sent(self) -> list[EmailMessage]:
        return [r.message for r in self.smtp.handler.received]

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [
            r.message
            for r in self.smtp.handler.received
            if address.lower() in (a.lower() for a in r.rcpt_tos)
        ]

    async def inbound(self) -> list[InboundMail]:
        async with self.store.transaction() as session:
            return list(await session.scalars(select(InboundMail).order_by(InboundMail.id)))


def lmtp_send(port: int, sender: str, recipients: list[str], data: bytes) -> int:
    with smtplib.LMTP("127.0.0.1", port, timeout=WAIT) as client:
        client.ehlo()
        assert client.mail(sender)[0] == 250
        for recipient in recipients:
            assert client.rcpt(recipient)[0] == 250
        code, _ = client.data(data)
        for _ in recipients[1:]:
            assert client.getreply()[0] == code
        return code


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "lmtp_host": "127.0.0.1",
        "lmtp_port": 0,
        "reply_domain": REPLY_DOMAIN,
        "secret_key": SECRET,
        "mail_from": SENDER,
        "isu_email": ISU,
        "timezone": "Europe/Zurich",
    }
    return Settings(**(values | overrides))


def mail_service(
    store: Store,
    sender: MessageSender,
    clock: FixedClock,
    config: Settings | None = None,
    **kw: Any,
) -> MailService:
    """The service as the composition root builds it: answers go out through a MailQueue."""
    config = config or settings()
    outgoing = MailQueue(store, sender, config, clock, "test-worker")
    return MailService(store, Conversation(store, clock), outgoing, config, clock, **kw)


@cache
def some_states() -> TreatyData:
    """The shipped treaty data for the States these tests use: loading all 125 costs seconds
    per test and backend, and only the headline test needs them all."""
    data = load_treaty_data()
    return TreatyData(
        states=tuple(facts for facts in data.states if facts.iso3 in STATES),
        history=tuple(event for event in data.history if event.iso3 in STATES),
    )


@pytest.fixture
async def mail_store(store: Store) -> Store:
    async with store.transaction() as session:
        await load_states(session, some_states(), SYSTEM, NOW)
    return store


@asynccontextmanager
async def running_bot(
    store: Store, smtp_server: SmtpServer, **overrides: Any
) -> AsyncIterator[Bot]:
    clock = FixedClock(NOW)
    target = SmtpTarget(
        host="127.0.0.1",
        port=smtp_server.port,
        username=None,
        password=None,
        use_tls=False,
        start_tls=False,
    )
    configured = settings(**overrides)
    transport = SmtpTransport(target, ReminderEmails.from_settings(configured), timeout=WAIT)
    service = mail_service(store, transport, clock, configured)
    await service.start()
    try:
        yield Bot(store, service, smtp_server, clock, service.outgoing)
    finally:
        await service.stop()
        await transport.close()


@pytest.fixture
async def bot(mail_store: Store, smtp_server: SmtpServer) -> AsyncIterator[Bot]:
    async with running_bot(mail_store, smtp_server) as running:
        yield running


@pytest.fixture
async def loaded_bot(loaded_store: Store, smtp_server: SmtpServer) -> AsyncIterator[Bot]:
    """The bot over the complete shipped treaty data."""
    async with running_bot(loaded_store, smtp_server) as running:
        yield running


# --------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class Reminder:
    contact_id: int
    message_id: int
    token: str
    email: EmailMessage


async def add_contact(
    store: Store, email: str, state: str, *, name: str = "", alternate: int | None = None
) -> int:
    async with store.transaction() as session:
        contact, _ = await upsert_contact(
            session,
            SYSTEM,
            NOW,
            email=email,
            name=name or email.split("@")[0],
            role=Role.DELEGATE,
            state_iso3=state,
            channel=Channel.EMAIL,
            **({"alternate_id": alternate} if alternate else {}),
        )
        return contact.id


async def remind(store: Store, email: str, state: str, *, name: str = "") -> Reminder:
    """A contact with a reminder planned through the ledger, and that reminder as an email."""
    contact_id = await add_contact(store, email, state, name=name)
    async with store.transaction() as session:
        country = await session.get(State, state)
        assert country is not None
        planned = PlannedReminder(
            state=state,
            item=ITEM,
            stage="d30",
            due=date(2027, 4, 30),
            contact_id=contact_id,
            channel=Channel.EMAIL,
            local_day=TODAY,
            send_at=NOW,
            language=country.language,
            zone=country.timezone,
        )
        assert await plan(session, planned, NOW)
        message = await session.scalar(select(Message).where(Message.contact_id == contact_id))
        assert message is not None
        state_name = country.name(country.language)
    outgoing = Outgoing(
        message_id=message.id,
        purpose="reminder",
        channel=Channel.EMAIL,
        local_day=TODAY,
        language=message.language,
        zone=planned.zone,
        contact_id=contact_id,
        name=name,
        email=email,
        slack_user_id=None,
        items=(ReminderItem(state, state_name, ITEM, "d30", planned.due, None),),
        delivery_ids=(),
    )
    email_message = render_email(
        compose_reminder(outgoing, TODAY),
        to=email,
        sender=SENDER,
        message_key=message.id,
        key=SECRET.encode(),
        reply_domain=REPLY_DOMAIN,
        issued=TODAY,
        sent_at=NOW,
    )
    token = sign_token(message.id, SECRET.encode(), TODAY)
    return Reminder(contact_id, message.id, token, email_message)


def gmail_reply(
    original: EmailMessage, *, sender: str, text: str, message_id: str, signature: str = ""
) -> bytes:
    """What Gmail sends: the new text on top, the whole message quoted under it."""
    plain = original.get_body(("plain",))
    html = original.get_body(("html",))
    assert plain is not None
    assert html is not None
    quoted = "\n".join(f"> {line}".rstrip() for line in plain.get_content().splitlines())
    attribution = f"On Wed, 31 Mar 2027 at 09:00, {original['From']} wrote:"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(original["Reply-To"])
    msg["Subject"] = f"Re: {original['Subject']}"
    msg["Date"] = "Wed, 31 Mar 2027 12:12:31 +0200"
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = str(original["Message-ID"])
    msg["References"] = f"{original['References']} {original['Message-ID']}"
    msg.set_content(f"{text}\n\n{signature}\n\n{attribution}\n\n{quoted}\n")
    msg.add_alternative(
        f'<div dir="ltr">{escape(text)}<br><br>{escape(signature)}</div><br>'
        f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{escape(attribution)}'
        f'<br></div><blockquote class="gmail_quote">{html.get_content()}</blockquote></div>',
        subtype="html",
    )
    return msg.as_bytes(policy=policy.SMTP)


def plain_text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def corpus(name: str, token: str) -> bytes:
    """A corpus reply, answering the reminder ``token`` names instead of the corpus's own."""
    raw = (CORPUS / f"{name}.eml").read_bytes()
    return re.sub(re.escape(CORPUS_TOKEN), token.encode(), raw, flags=re.IGNORECASE)


async def rows(store: Store, model: type[Any]) -> list[Any]:
    async with store.transaction() as session:
        return list(await session.scalars(select(model)))


# --------------------------------------------------------------------------- the conversation


async def test_a_french_delegate_records_a_need_by_replying_to_the_reminder(
    loaded_bot: Bot,
) -> None:
    """A reply that starts with its keyword is recorded at once: one mail, one receipt."""
    bot = loaded_bot
    delegate = "delegue@diplomatie.gouv.fr"
    reminder = await remind(bot.store, delegate, "FRA", name="Jean Martin")
    need = "BESOIN : enquête non technique dans le nord (Borkou), environ 250 000 USD."
    first_id = "<CAF3bGQm7x2Vb0n1sJx=need@mail.gmail.com>"
    raw = gmail_reply(
        reminder.email,
        sender=f"Jean Martin <{delegate}>",
        text=need,
        message_id=first_id,
        signature="Cordialement,\nJean Martin",
    )

    code = await bot.deliver(raw)

    assert code == 250
    [receipt] = bot.sent_to(delegate)
    assert receipt["Subject"].startswith("Enregistré sous la référence N-2027-0001.")
    assert f"[CCM-{reminder.token}]" in receipt["Subject"]
    assert receipt["In-Reply-To"] == first_id
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["Content-Language"] == "fr"
    assert receipt["Message-ID"] != reminder.email["Message-ID"]
    text = " ".join(plain_text(receipt).split())
    assert "Enregistré aussitôt sous la référence N-2027-0001 : il n'y a rien à confirmer." in text
    assert "enquête non technique dans le nord (Borkou)" in text
    assert "250 000,00 $US" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Référence : N-2027-0001" in text
    assert "CORRIGER N-2027-0001" in text
    assert "RETIRER N-2027-0001" in text
    assert "Cordialement" not in text
    [entry] = await rows(bot.store, Entry)
    assert (entry.kind, entry.state_iso3, entry.amount, entry.currency) == (
        EntryKind.NEED,
        "FRA",
        Decimal("250000.00"),
        "USD",
    )
    assert (entry.original_text, entry.via, entry.message_id) == (need, Via.EMAIL, first_id)
    assert entry.confirmed_by_id == reminder.contact_id
    assert await rows(bot.store, Draft) == []
    assert [row.action for row in await rows(bot.store, AuditEntry) if row.entity == "entries"] == [
        "create:keyword"
    ]

    # The same mail again (the sender's server never got our 250): nothing stored twice.
    await bot.deliver(raw)
    assert len(bot.sent_to(delegate)) == 1
    assert len(await rows(bot.store, Entry)) == 1
    assert [(m.status, m.message_id) for m in await bot.inbound()] == [
        (InboundStatus.PROCESSED, first_id),
        (InboundStatus.IGNORED, first_id),
    ]
    assert bot.sent_to(ISU) == []


async def test_a_reply_is_answered_in_the_thread_with_the_raw_mail_kept(bot: Bot) -> None:
    reminder = await remind(bot.store, "ana@minrel.gob.cl", "CHL")
    raw = gmail_reply(
        reminder.email, sender="ana@minrel.gob.cl", text="MÁS TARDE", message_id="<later@x>"
    )

    await bot.deliver(raw, sender="ana@minrel.gob.cl")

    [answer] = bot.sent_to("ana@minrel.gob.cl")
    assert answer["Content-Language"] == "es"
    assert answer["References"].split()[0] == "<later@x>"
    assert f"<{reminder.token}@{REPLY_DOMAIN}>" in answer["References"]
    assert parseaddr(str(answer["Reply-To"]))[1] == f"reply+{reminder.token}@{REPLY_DOMAIN}"
    [row] = await bot.inbound()
    assert row.raw == re.sub(rb"\r?\n", b"\r\n", raw)
    assert row.envelope_from == "ana@minrel.gob.cl"
    assert row.envelope_to == [f"reply+{reminder.token}@{REPLY_DOMAIN}"]
    assert row.status is InboundStatus.PROCESSED
    assert row.outcome is not None
    assert row.outcome.startswith("answered ana@minrel.gob.cl about CHL:")


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class CorpusCase:
    name: str
    sender: str
    state: str
    intent: str
    text: str
    subject: str
    details: dict[str, str]
    stated: bool = True  # starts with its keyword: recorded at once; else a guess, proposed


CORPUS_CASES = [
    CorpusCase(
        "gmail_en",
        "john.mwale@gmail.com",
        "ZMB",
        "need",
        "NEED: non-technical survey in the north, about USD 250,000",
        "Recorded as N-2027-0001.",
        {"amount": "250000", "currency": "USD"},
    ),
    CorpusCase(
        "outlook_desktop_fr",
        "jean.dupont@diplomatie.example.fr",
        "FRA",
        "report_submitted",
        "Nous avons soumis notre rapport le 3 mars.",
        "Veuillez confirmer",
        {"on": "2027-03-03", "year": "2026"},
        stated=False,
    ),
    CorpusCase(
        "outlook_web_es",
        "agarcia@exteriores.example.es",
        "ESP",
        "need",
        "NECESIDAD: formación en gestión de la información, unos 40.000 USD",
        "Registrado con la referencia N-2027-0001.",
        {"amount": "40000", "currency": "USD"},
    ),
    CorpusCase(
        "apple_iphone_en",
        "m.chanda@icloud.com",
        "ZMB",
        "report_submitted",
        "SUBMITTED. We filed the report on 28 March.",
        "Report recorded",
        {"on": "2027-03-28", "year": "2026"},
    ),
    CorpusCase(
        "thunderbird_es",
        "cperez@maec.example.es",
        "ESP",
        "report_submitted",
        "PRESENTADO. Enviamos el informe a la Oficina de Asuntos de Desarme de las Naciones "
        "Unidas el 25 de marzo, con el anexo sobre asistencia a las víctimas.",
        "Informe registrado",
        {"on": "2027-03-25", "year": "2026"},
    ),
    CorpusCase(
        "iphone_fr",
        "a.kone@diplomatie.example.ml",
        "MLI",
        "need",
        "BESOIN : enquête non technique dans le nord, environ 250 000 USD",
        "Enregistré sous la référence N-2027-0001.",
        {"amount": "250000", "currency": "USD"},
    ),
]


async def what_was_read(store: Store, case: CorpusCase) -> tuple[str | None, dict[str, Any]]:
    """What the reply left in the store: the record's words and fields if it was stated
    plainly, else the pending draft's (and then nothing is recorded)."""
    if not case.stated:
        [draft] = await rows(store, Draft)
        assert (draft.intent, draft.status) == (case.intent, DraftStatus.PENDING)
        assert await rows(store, Entry) == await rows(store, Report) == []
        return draft.original_text, draft.payload
    assert await rows(store, Draft) == []
    if case.intent == "report_submitted":
        [report] = await rows(store, Report)
        values = {"on": report.submitted_on.isoformat(), "year": report.year}
        return report.learned_note, values
    [entry] = await rows(store, Entry)
    return entry.original_text, {"amount": entry.amount, "currency": entry.currency}


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda case: case.name)
async def test_corpus_replies_record_what_the_person_wrote_and_nothing_quoted(
    bot: Bot, case: CorpusCase
) -> None:
    reminder = await remind(bot.store, case.sender, case.state)
    raw = corpus(case.name, reminder.token)

    await bot.deliver(raw)

    [answer] = bot.sent_to(case.sender)
    assert str(answer["Subject"]).strip().startswith(case.subject)
    assert answer["In-Reply-To"].strip() == parse_message(raw)["Message-ID"].strip()
    text, values = await what_was_read(bot.store, case)
    assert text == case.text
    assert {key: str(values.get(key)).removesuffix(".00") for key in case.details} == (case.details)
    assert bot.sent_to(ISU) == []


@pytest.mark.parametrize(
    ("language", "answer", "subject", "note"),
    [
        (
            "fr",
            "NOT ME kofi.mensah@mfa.example.gov",
            "Pour l'ISU : un contact requiert votre attention",
            "Jane Doe <jane.doe@mfa.example.gov> (GHA) n'est pas la bonne personne pour ces "
            "rappels et n'en recevra plus. Personne proposée : kofi.mensah@mfa.example.gov ; "
            "veuillez confirmer cette personne comme contact de l'État.",
        ),
        (
            "es",
            "NOT ME",
            "Para la ISU: un contacto requiere su atención",
            "Jane Doe <jane.doe@mfa.example.gov> (GHA) no es la persona adecuada para estos "
            "recordatorios y ya no los recibirá. No ha propuesto a nadie: busque a la persona "
            "adecuada.",
        ),
    ],
)
async def test_a_handover_is_noted_to_the_isu_in_its_language(
    mail_store: Store,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    answer: str,
    subject: str,
    note: str,
) -> None:
    monkeypatch.setenv("CCM_ISU_LANGUAGE", language)
    async with running_bot(mail_store, smtp_server) as bot:
        delegate = "jane.doe@mfa.example.gov"
        reminder = await remind(bot.store, delegate, "GHA", name="Jane Doe")
        await bot.deliver(
            gmail_reply(reminder.email, sender=delegate, text=answer, message_id="<h@x>")
        )

    [reply] = bot.sent_to(delegate)  # the delegate is answered in their own language
    assert (reply["Content-Language"], reply["Subject"].split(" [")[0]) == ("en", "Handed over")
    [notice] = bot.sent_to(ISU)
    assert notice["Content-Language"] == language
    assert notice["Subject"] == subject
    assert plain_text(notice).strip() == note


# --------------------------------------------------------------------------- refused, unanswered


async def test_a_stranger_is_refused_unanswered_and_the_isu_told(bot: Bot) -> None:
    reminder = await remind(bot.store, "delegue@diplomatie.gouv.fr", "FRA")
    stranger = "someone@elsewhere.example"

    await bot.deliver(
        gmail_reply(reminder.email, sender=stranger, text="NEED: money", message_id="<s@x>")
    )

    assert bot.sent_to(stranger) == []
    [notice] = bot.sent()
    assert parseaddr(str(notice["To"]))[1] == ISU
    assert notice["Auto-Submitted"] == "auto-generated"
    assert "someone@elsewhere.example is not a contact of FRA" in notice["Subject"]
    [row] = await bot.inbound()
    assert row.status is InboundStatus.REFUSED
    assert await rows(bot.store, Draft) == []


@pytest.mark.parametrize(
    ("language", "subject", "first_line"),
    [
        (
            "fr",
            "Réponse refusée : someone@elsewhere.example ne figure pas parmi les contacts de FRA",
            "Une réponse a été refusée et son expéditeur n'a pas reçu de réponse : "
            "someone@elsewhere.example ne figure pas parmi les contacts de FRA.",
        ),
        (
            "es",
            "Respuesta rechazada: someone@elsewhere.example no es un contacto de FRA",
            "Se rechazó una respuesta y no se contestó a su remitente: "
            "someone@elsewhere.example no es un contacto de FRA.",
        ),
    ],
)
async def test_the_refusal_notice_is_in_the_isu_language(
    mail_store: Store, smtp_server: SmtpServer, language: str, subject: str, first_line: str
) -> None:
    async with running_bot(mail_store, smtp_server, isu_language=language) as bot:
        reminder = await remind(bot.store, "delegue@diplomatie.gouv.fr", "FRA")
        await bot.deliver(
            gmail_reply(
                reminder.email, sender="someone@elsewhere.example", text="NEED", message_id="<s@x>"
            )
        )

    [notice] = bot.sent_to(ISU)
    assert notice["Content-Language"] == language
    assert notice["Subject"].strip() == subject  # a long one is folded before its first word
    assert plain_text(notice).splitlines()[0] == first_line


async def test_a_delegate_of_another_state_is_refused(bot: Bot) -> None:
    reminder = await remind(bot.store, "delegue@diplomatie.gouv.fr", "FRA")
    await add_contact(bot.store, "ana@minrel.gob.cl", "CHL")

    await bot.deliver(
        gmail_reply(
            reminder.email, sender="ana@minrel.gob.cl", text="SUBMITTED", message_id="<o@x>"
        )
    )

    assert bot.sent_to("ana@minrel.gob.cl") == []
    [row] = await bot.inbound()
    assert row.status is InboundStatus.REFUSED
    assert await rows(bot.store, Draft) == []


async def test_a_tampered_key_is_refused_unanswered_and_the_isu_told(bot: Bot) -> None:
    delegate = "delegue@diplomatie.gouv.fr"
    reminder = await remind(bot.store, delegate, "FRA")
    forged = reminder.token[:-1] + ("a" if reminder.token[-1] != "a" else "b")
    raw = gmail_reply(reminder.email, sender=delegate, text="SUBMITTED", message_id="<t@x>")

    await bot.deliver(raw.replace(reminder.token.encode(), forged.encode()))

    assert bot.sent_to(delegate) == []
    [notice] = bot.sent_to(ISU)
    assert "bad-signature" in notice["Subject"]
    [row] = await bot.inbound()
    assert (row.status, row.outcome) == (
        InboundStatus.REFUSED,
        f"refused from {delegate}: its conversation key is not valid (bad-signature)",
    )
    assert await rows(bot.store, Draft) == []


async def test_a_forged_from_with_a_valid_key_is_refused_unanswered(bot: Bot) -> None:
    """The attack: someone holding a delegate's key writes From: the delegate, from elsewhere."""
    delegate = "delegue@diplomatie.gouv.fr"
    reminder = await remind(bot.store, delegate, "FRA")
    raw = gmail_reply(reminder.email, sender=delegate, text="NEED: money", message_id="<f@x>")

    await bot.deliver(raw, sender="attacker@elsewhere.example")

    assert bot.sent_to(delegate) == []
    assert bot.sent_to("attacker@elsewhere.example") == []
    [notice] = bot.sent_to(ISU)
    assert "attacker@elsewhere.example" in notice["Subject"]
    [row] = await bot.inbound()
    assert row.status is InboundStatus.REFUSED
    assert await rows(bot.store, Draft) == []


async def test_the_envelope_sender_may_differ_in_case_only(bot: Bot) -> None:
    delegate = "delegue@diplomatie.gouv.fr"
    reminder = await remind(bot.store, delegate, "FRA")
    raw = gmail_reply(reminder.email, sender=delegate, text="SOUMIS", message_id="<c@x>")

    await bot.deliver(raw, sender="Delegue@Diplomatie.Gouv.FR")

    [answer] = bot.sent_to(delegate)
    assert answer["In-Reply-To"] == "<c@x>"


OUR_MTA = "mx.ccm.example.org"


def authenticated(raw: bytes, *results: str) -> bytes:
    """The message as our MTA hands it over: its Authentication-Results on top, in order."""
    return b"".join(f"Authentication-Results: {r}\r\n".encode() for r in results) + raw


async def test_a_reply_failing_dmarc_is_refused_and_the_isu_told(
    mail_store: Store, smtp_server: SmtpServer
) -> None:
    delegate = "delegue@diplomatie.gouv.fr"
    async with running_bot(mail_store, smtp_server, authserv_id=OUR_MTA) as bot:
        reminder = await remind(bot.store, delegate, "FRA")
        raw = gmail_reply(reminder.email, sender=delegate, text="SOUMIS", message_id="<d@x>")
        await bot.deliver(
            authenticated(
                raw,
                f"{OUR_MTA}; dmarc=fail (p=reject dis=none) header.from=diplomatie.gouv.fr",
                f"{OUR_MTA}; dkim=pass header.d=elsewhere.example",  # below: not read
            )
        )

    assert bot.sent_to(delegate) == []
    [notice] = bot.sent_to(ISU)
    assert "DMARC" in notice["Subject"]
    [row] = await bot.inbound()
    assert row.status is InboundStatus.REFUSED
    assert (row.auth_spf, row.auth_dkim, row.auth_dmarc) == (None, None, "fail")
    assert await rows(bot.store, Draft) == []


async def test_authentication_results_are_read_only_from_our_own_mta(
    mail_store: Store, smtp_server: SmtpServer
) -> None:
    delegate = "delegue@diplomatie.gouv.fr"
    async with running_bot(mail_store, smtp_server, authserv_id=OUR_MTA) as bot:
        reminder = await remind(bot.store, delegate, "FRA")
        ours = f"{OUR_MTA}; spf=pass smtp.mailfrom={delegate}; dkim=pass; dmarc=pass"
        for number, on_top in enumerate([ours, "mx.elsewhere.example; dmarc=fail"]):
            raw = gmail_reply(
                reminder.email, sender=delegate, text="SOUMIS", message_id=f"<a{number}@x>"
            )
            await bot.deliver(authenticated(raw, on_top))

    assert len(bot.sent_to(delegate)) == 2  # both answered: the foreign verdict is not ours
    first, second = await bot.inbound()
    assert (first.auth_spf, first.auth_dkim, first.auth_dmarc) == ("pass", "pass", "pass")
    assert (second.auth_spf, second.auth_dkim, second.auth_dmarc) == (None, None, None)


async def test_a_reply_without_any_key_from_a_stranger_is_refused_silently(bot: Bot) -> None:
    raw = (
        b"From: spammer@example.net\nTo: reply+hello@reply.ccm.example.org\n"
        b"Subject: Great offer\nMessage-ID: <spam@x>\n\nNEED: nothing, buy this\n"
    )

    await bot.deliver(raw)

    assert bot.sent() == []
    [row] = await bot.inbound()
    assert row.status is InboundStatus.REFUSED


async def test_out_of_office_notices_and_lists_record_nothing_and_are_not_answered(
    bot: Bot,
) -> None:
    robots = ["ooo_en_auto_submitted", "ooo_fr_outlook", "ooo_es_x_autoreply"]
    for name in robots:
        headers = parse_message((CORPUS / f"{name}.eml").read_bytes())
        reminder = await remind(bot.store, parseaddr(str(headers["From"]))[1], "NGA")
        await bot.deliver(
            corpus(name, reminder.token), to=[f"reply+{reminder.token}@{REPLY_DOMAIN}"]
        )
    await bot.deliver(
        (CORPUS / "mailing_list.eml").read_bytes(), to=["reply+x@reply.ccm.example.org"]
    )

    assert bot.sent() == []
    assert [(row.status, (row.outcome or "").split(":")[0]) for row in await bot.inbound()] == [
        *[(InboundStatus.IGNORED, "auto_reply")] * len(robots),
        (InboundStatus.IGNORED, "mailing_list"),
    ]
    assert await rows(bot.store, Draft) == []


# --------------------------------------------------------------------------- bounces


async def bouncing(store: Store, email: str) -> bool:
    async with store.transaction() as session:
        contact = await session.scalar(select(Contact).where(Contact.email == email))
        assert contact is not None
        return contact.email_bouncing


async def test_a_hard_bounce_marks_the_contact_bouncing_and_tells_the_isu(bot: Bot) -> None:
    alternate = await add_contact(bot.store, "deputy@mfa.example.gov", "GHA", name="Kofi Mensah")
    await add_contact(
        bot.store, "jane.doe@mfa.example.gov", "GHA", name="Jane Doe", alternate=alternate
    )
    reminder = await remind(bot.store, "jane.doe@mfa.example.gov", "GHA", name="Jane Doe")

    await bot.deliver(corpus("bounce_hard_511", reminder.token), sender="")

    assert await bouncing(bot.store, "jane.doe@mfa.example.gov")
    assert not await bouncing(bot.store, "deputy@mfa.example.gov")
    [notice] = bot.sent()
    assert parseaddr(str(notice["To"]))[1] == ISU
    assert notice["Subject"] == "Address bouncing: jane.doe@mfa.example.gov"
    assert "Kofi Mensah <deputy@mfa.example.gov>" in plain_text(notice)
    [row] = await bot.inbound()
    assert row.status is InboundStatus.IGNORED
    assert bot.service.counts["bounce_hard"] == 1


async def test_spam_blocks_and_soft_bounces_leave_the_address_alone(bot: Bot) -> None:
    cases = [
        ("bounce_spam_571", "focal.point@mofa.example.gh", "bounce_spam_block"),
        ("bounce_soft_422", "delegate.ccm@gmail.com", "bounce_soft"),
    ]
    for name, address, _kind in cases:
        reminder = await remind(bot.store, address, "GHA")
        await bot.deliver(
            corpus(name, reminder.token), to=["bounces@reply.ccm.example.org"], sender=""
        )

    for _name, address, kind in cases:
        assert not await bouncing(bot.store, address), address
        assert bot.service.counts[kind] == 1, kind
    assert bot.sent() == []
    for row in await bot.inbound():
        assert row.status is InboundStatus.IGNORED
        assert row.outcome is not None
        assert "address kept" in row.outcome


async def test_a_bounce_with_a_forged_key_marks_nobody(bot: Bot) -> None:
    reminder = await remind(bot.store, "jane.doe@mfa.example.gov", "GHA")
    forged = sign_token(reminder.message_id, b"someone else's key", TODAY)

    await bot.deliver(corpus("bounce_hard_511", forged), sender="")

    assert not await bouncing(bot.store, "jane.doe@mfa.example.gov")
    [notice] = bot.sent()  # a contact named without proof: the ISU hears of it
    assert parseaddr(str(notice["To"]))[1] == ISU


def delivery_report(address: str, returned_headers: str = "") -> bytes:
    """An RFC 3464 report that ``address`` does not exist (5.1.1), as anyone can write one."""
    returned = (
        "--b\nContent-Type: text/rfc822-headers\n\n" + returned_headers.strip() + "\n\n"
        if returned_headers
        else ""
    )
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
        "To: bounces@reply.ccm.example.org\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Message-ID: <report.{abs(hash(returned_headers))}.{address}>\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {address}\nAction: failed\nStatus: 5.1.1\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{address}>: User unknown\n\n"
        f"{returned}--b--\n"
    ).encode()


async def deliver_bounce(bot: Bot, raw: bytes) -> None:
    await bot.deliver(raw, to=["bounces@reply.ccm.example.org"], sender="")


async def test_a_forged_bounce_marks_nobody_and_the_isu_is_told_once_a_day(bot: Bot) -> None:
    """The attack: a report naming a contact, with no key of anything we mailed them."""
    await remind(bot.store, "jane.doe@mfa.example.gov", "GHA", name="Jane Doe")

    await deliver_bounce(bot, delivery_report("jane.doe@mfa.example.gov"))
    await deliver_bounce(bot, delivery_report("jane.doe@mfa.example.gov", "Subject: again"))

    assert not await bouncing(bot.store, "jane.doe@mfa.example.gov")
    [notice] = bot.sent_to(ISU)  # the second forgery of the day is only logged
    assert notice["Subject"] == "Bounce without proof, address kept: jane.doe@mfa.example.gov"
    assert "the address was kept and its reminders go on" in plain_text(notice)
    for row in await bot.inbound():
        assert row.status is InboundStatus.IGNORED
        assert "no proof that we mailed jane.doe@mfa.example.gov" in (row.outcome or "")

    bot.clock.at = NOW + timedelta(days=1)
    await deliver_bounce(bot, delivery_report("jane.doe@mfa.example.gov", "Subject: later"))
    assert len(bot.sent_to(ISU)) == 2
    assert not await bouncing(bot.store, "jane.doe@mfa.example.gov")


async def test_a_bounce_naming_a_stranger_tells_nobody(bot: Bot) -> None:
    await deliver_bounce(bot, delivery_report("someone@elsewhere.example"))

    assert bot.sent() == []
    [row] = await bot.inbound()
    assert "no contact to mark" in (row.outcome or "")


async def test_the_key_of_one_contacts_reminder_does_not_prove_another_address(bot: Bot) -> None:
    await remind(bot.store, "jane.doe@mfa.example.gov", "GHA")
    peru = await remind(bot.store, "delegado@rree.gob.pe", "CHL")
    headers = f"Message-ID: <{peru.token}@{REPLY_DOMAIN}>\nTo: jane.doe@mfa.example.gov"

    await bot.deliver(
        delivery_report("jane.doe@mfa.example.gov", headers),
        to=[f"reply+{peru.token}@{REPLY_DOMAIN}"],
        sender="",
    )

    assert not await bouncing(bot.store, "jane.doe@mfa.example.gov")
    assert not await bouncing(bot.store, "delegado@rree.gob.pe")
    [notice] = bot.sent_to(ISU)
    assert "jane.doe@mfa.example.gov" in notice["Subject"]


async def test_a_bounce_of_our_answer_is_proven_by_its_message_id(bot: Bot) -> None:
    """An answer to a colleague carries the reminder's key, which names someone else: the
    answer's own Message-ID, stored with the address it went to, is the proof."""
    reminder = await remind(bot.store, "jane.doe@mfa.example.gov", "GHA")
    colleague = "kofi.mensah@mfa.example.gov"
    await add_contact(bot.store, colleague, "GHA")
    await bot.deliver(
        gmail_reply(reminder.email, sender=colleague, text="LATER", message_id="<k@x>")
    )
    [answer] = bot.sent_to(colleague)
    returned = "".join(
        f"{name}: {answer[name]}\n" for name in ("From", "To", "Subject", "Reply-To", "Message-ID")
    )

    await deliver_bounce(bot, delivery_report(colleague, returned))

    assert await bouncing(bot.store, colleague)
    assert not await bouncing(bot.store, "jane.doe@mfa.example.gov")
    [notice] = bot.sent_to(ISU)
    assert notice["Subject"] == f"Address bouncing: {colleague}"


async def test_a_bounce_with_our_message_id_in_the_returned_headers_marks_the_contact(
    bot: Bot,
) -> None:
    reminder = await remind(bot.store, "jane.doe@mfa.example.gov", "GHA")
    returned = f"To: jane.doe@mfa.example.gov\nMessage-ID: {reminder.email['Message-ID']}"

    await deliver_bounce(bot, delivery_report("jane.doe@mfa.example.gov", returned))

    assert await bouncing(bot.store, "jane.doe@mfa.example.gov")


async def test_a_reply_from_a_bouncing_address_clears_the_mark(bot: Bot) -> None:
    reminder = await remind(bot.store, "jane.doe@mfa.example.gov", "GHA")
    await bot.deliver(corpus("bounce_hard_511", reminder.token), sender="")
    assert await bouncing(bot.store, "jane.doe@mfa.example.gov")

    await bot.deliver(
        gmail_reply(
            reminder.email, sender="jane.doe@mfa.example.gov", text="LATER", message_id="<b@x>"
        )
    )

    assert not await bouncing(bot.store, "jane.doe@mfa.example.gov")


# --------------------------------------------------------------------------- robustness


def send_without_size(port: int, data: bytes) -> tuple[int, bytes]:
    """DATA without declaring SIZE, so the server must count the bytes itself."""
    with smtplib.LMTP("127.0.0.1", port, timeout=WAIT) as client:
        client.ehlo()
        client.mail("a@b.example")
        client.rcpt("reply+x@reply.ccm.example.org")
        return client.data(data)


async def test_oversized_mail_is_refused_with_552_and_nothing_stored(
    mail_store: Store,
) -> None:
    service = mail_service(mail_store, _NoMail(), FixedClock(NOW), data_size_limit=4096)
    await service.start()
    try:
        big = b"From: a@b.example\r\nSubject: big\r\n\r\n" + (b"z" * 70 + b"\r\n") * 100
        code, text = await asyncio.to_thread(send_without_size, service.bound_port, big)
        await asyncio.wait_for(service.idle(), WAIT)
    finally:
        await service.stop()

    assert (code, text) == (552, b"5.3.4 Message too big: the limit is 4096 bytes")
    assert await rows(mail_store, InboundMail) == []


class _NoMail:
    async def send_message(self, msg: EmailMessage) -> str:
        raise AssertionError(f"nothing should be mailed, got {msg['Subject']!r}")


async def test_several_recipients_get_one_status_each_and_one_answer(bot: Bot) -> None:
    reminder = await remind(bot.store, "ana@minrel.gob.cl", "CHL")
    raw = gmail_reply(
        reminder.email, sender="ana@minrel.gob.cl", text="MÁS TARDE", message_id="<r@x>"
    )
    recipients = [
        f"reply+{reminder.token}@{REPLY_DOMAIN}",
        "isu-copy@reply.ccm.example.org",
        "archive@reply.ccm.example.org",
    ]

    code = await bot.deliver(raw, to=recipients)  # lmtp_send checks one status per recipient

    assert code == 250
    [row] = await bot.inbound()
    assert row.envelope_to == recipients
    assert len(bot.sent_to("ana@minrel.gob.cl")) == 1


async def test_a_processing_crash_is_recorded_and_the_next_message_still_answered(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    reminder = await remind(bot.store, "ana@minrel.gob.cl", "CHL")

    async def crash(session: Any, turn: Turn) -> Reply:
        raise RuntimeError("the conversation core fell over")

    monkeypatch.setattr(bot.service.conversation, "handle_in", crash)
    first = gmail_reply(
        reminder.email, sender="ana@minrel.gob.cl", text="MÁS TARDE", message_id="<c1@x>"
    )
    assert await bot.deliver(first) == 250
    monkeypatch.undo()
    await bot.deliver(
        gmail_reply(
            reminder.email, sender="ana@minrel.gob.cl", text="PRESENTADO", message_id="<c2@x>"
        )
    )

    failed, processed = await bot.inbound()
    assert failed.status is InboundStatus.FAILED
    assert failed.outcome == "RuntimeError: the conversation core fell over"
    assert failed.raw == re.sub(rb"\r?\n", b"\r\n", first)
    assert processed.status is InboundStatus.PROCESSED
    [answer] = bot.sent_to("ana@minrel.gob.cl")
    assert answer["In-Reply-To"] == "<c2@x>"


async def test_mail_left_received_by_a_crash_is_processed_on_start(mail_store: Store) -> None:
    loaded_store = mail_store
    reminder = await remind(loaded_store, "ana@minrel.gob.cl", "CHL")
    raw = gmail_reply(
        reminder.email, sender="ana@minrel.gob.cl", text="PRESENTADO", message_id="<l@x>"
    )
    async with loaded_store.transaction() as session:
        session.add(
            InboundMail(
                received_at=NOW,
                envelope_from="ana@minrel.gob.cl",
                envelope_to=[f"reply+{reminder.token}@{REPLY_DOMAIN}"],
                message_id="<l@x>",
                raw=raw,
            )
        )
    sent: list[EmailMessage] = []

    class Capture:
        async def send_message(self, msg: EmailMessage) -> str:
            sent.append(msg)
            return str(msg["Message-ID"])

    service = mail_service(loaded_store, Capture(), FixedClock(NOW))
    await service.start()
    try:
        await asyncio.wait_for(service.idle(), WAIT)
    finally:
        await service.stop()

    [row] = await rows(loaded_store, InboundMail)
    assert row.status is InboundStatus.PROCESSED
    [answer] = sent
    assert answer["In-Reply-To"] == "<l@x>"


async def test_a_message_delivered_twice_is_answered_once(bot: Bot) -> None:
    reminder = await remind(bot.store, "ana@minrel.gob.cl", "CHL")
    raw = gmail_reply(
        reminder.email, sender="ana@minrel.gob.cl", text="MÁS TARDE", message_id="<d@x>"
    )

    await bot.deliver(raw)
    await bot.deliver(raw)  # the mail system never got our 250 the first time

    assert len(bot.sent_to("ana@minrel.gob.cl")) == 1
    first, second = await bot.inbound()
    assert (second.status, second.outcome) == (
        InboundStatus.IGNORED,
        f"duplicate of inbound mail #{first.id}",
    )


@dataclass(frozen=True)
class HostileCase:
    name: str
    sender: str
    expect: str  # what the answer must say, in the plain-text part
    outcome: str  # what the inbound row's outcome must contain


HOSTILE_CASES = [
    HostileCase(
        "cp1252_fr",
        "mc.ngoma@affaires-etrangeres.example.cd",
        "l\u2019information \u2013 environ 15",
        "Enregistré sous la référence N-2027-0001",
    ),
    HostileCase("utf16_en", "p.okafor@mfa.example.ng", "I have told the ISU", "answered"),
    HostileCase("html_script_en", "lars.berg@gov.example.se", "two EOD", "Recorded as C-2027-0001"),
    HostileCase(
        "attachment_en",
        "n.dlamini@dirco.example.za",
        "Attachments are not stored: Article7_Report_2026.pdf, annexe_déminage.png",
        "attachments not stored: Article7_Report_2026.pdf",
    ),
    HostileCase("empty_en", "t.nguyen@gmail.com", "SUBMITTED", "Sorry, I did not understand"),
    HostileCase("malformed_no_boundary", "it.desk@mfa.example.lk", "", "malformed MIME"),
    HostileCase(
        "malformed_truncated",
        "mra@mfa.example.af",
        "Recorded at once as N-2027-0002",
        "CloseBoundaryNotFoundDefect",
    ),
]


async def test_broken_and_odd_mail_each_get_a_defined_answer(bot: Bot) -> None:
    for case in HOSTILE_CASES:
        reminder = await remind(
            bot.store, case.sender, "FRA" if case.name.endswith("_fr") else "ZAF"
        )
        await bot.deliver(corpus(case.name, reminder.token))

    for case, row in zip(HOSTILE_CASES, await bot.inbound(), strict=True):
        assert row.status is InboundStatus.PROCESSED, (case.name, row.outcome)
        assert case.outcome in (row.outcome or ""), (case.name, row.outcome)
        [answer] = bot.sent_to(case.sender)
        assert case.expect in plain_text(answer), (case.name, plain_text(answer))
