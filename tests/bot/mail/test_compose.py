"""The reminder as an email: both parts in the reader's language, keyed three ways, valid MIME."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from babel.messages.catalog import Catalog

import handlers.i18n
from bot.mail.compose import render_email
from bot.mail.tokens import find_token, message_id_for, sign_token, verify_token
from handlers.reminders import compose_reminder
from handlers.replies import Choice, Reply, Section
from handlers.understanding.keywords import Intent
from tests.bot.mail.conftest import (
    NOW,
    REPLY_DOMAIN,
    SENDER,
    SIGNING_KEY,
    TODAY,
    compose_email,
    make_outgoing,
)

# The templates' framing text as a translator would give it. The shipped catalogs are
# filled separately; these prove the templates go through the catalog at all.
FRAMING = {
    "fr": {
        "Just reply to this message with one of these words:": (
            "Répondez simplement à ce message avec l'un de ces mots :"
        ),
        "colleague@ministry.gov": "collegue@ministere.gouv",
        "A plain sentence works too, for example: “We submitted our report on 30 April.”": (
            "Une phrase simple fonctionne aussi, par exemple : "
            "« Nous avons soumis notre rapport le 30 avril. »"
        ),
        "Reference: %(reference)s": "Référence : %(reference)s",
    },
    "es": {
        "Just reply to this message with one of these words:": (
            "Basta con responder a este mensaje con una de estas palabras:"
        ),
        "colleague@ministry.gov": "colega@ministerio.gob",
        "A plain sentence works too, for example: “We submitted our report on 30 April.”": (
            "También sirve una frase sencilla, por ejemplo: "
            "«Presentamos nuestro informe el 30 de abril.»"
        ),
        "Reference: %(reference)s": "Referencia: %(reference)s",
    },
}


@pytest.fixture(autouse=True)
def framing_catalogs(monkeypatch: pytest.MonkeyPatch) -> None:
    def load_catalog(language: str) -> Catalog | None:
        if language == "en":
            return None
        catalog = Catalog(locale=language)
        for source, translation in FRAMING[language].items():
            catalog.add(source, translation)
        return catalog

    monkeypatch.setattr(handlers.i18n, "load_catalog", load_catalog)


def render(reply: Reply, **overrides: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "to": "ana.ruiz@ministry.test",
        "sender": SENDER,
        "message_key": 41,
        "key": SIGNING_KEY,
        "reply_domain": REPLY_DOMAIN,
        "issued": TODAY,
        "sent_at": NOW,
    }
    arguments.update(overrides)
    return render_email(reply, **arguments)  # type: ignore[arg-type]


def reminder(language: str = "en", name: str = "Ana Ruiz") -> Reply:
    return compose_reminder(make_outgoing(language=language, name=name), TODAY)


def plain(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def html(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def reparsed(msg: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(msg.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Just reply to this message with one of these words:",
                "  SUBMITTED — Report submitted",
                "  NEED … — ",
                "  OFFER … — ",
                "  LATER — ",
                "  NOT ME colleague@ministry.gov — ",
                "  STOP — ",
                "A plain sentence works too",
            ],
        ),
        (
            "fr",
            [
                "Répondez simplement à ce message avec l'un de ces mots :",
                "  SOUMIS — ",
                "  BESOIN … — ",
                "  OFFRE … — ",
                "  PLUS TARD — ",
                "  PAS MOI collegue@ministere.gouv — ",
                "  STOP — ",
                "Une phrase simple fonctionne aussi",
            ],
        ),
        (
            "es",
            [
                "Basta con responder a este mensaje con una de estas palabras:",
                "  PRESENTADO — ",
                "  NECESIDAD … — ",
                "  OFERTA … — ",
                "  MÁS TARDE — ",
                "  NO SOY YO colega@ministerio.gob — ",
                "  STOP — ",
                "También sirve una frase sencilla",
            ],
        ),
    ],
)
def test_plain_part_lists_reply_keywords_in_readers_language(
    language: str, expected: list[str]
) -> None:
    text = plain(reparsed(render(reminder(language))))

    positions = [text.find(snippet) for snippet in expected]
    assert -1 not in positions, [s for s, p in zip(expected, positions, strict=True) if p < 0]
    assert positions == sorted(positions)  # offered in the reminder's order


def test_text_part_is_complete_on_its_own() -> None:
    reply = Reply(
        language="en",
        subject="Reminder",
        intro="Dear Ana Ruiz,\n\nThis is a reminder.",
        sections=(Section("Article 7 report — Spain", ("Deadline: 30 April 2027", "Send it.")),),
        fields=(("State", "Spain"), ("Due date", "30 April 2027")),
        choices=(
            Choice(Intent.REPORT_SUBMITTED, "Report submitted", "SUBMITTED"),
            Choice(Intent.NEED, "We need assistance", "NEED"),
            Choice(Intent.NOT_ME, "Not the right person", "NOT ME"),
        ),
        footer="You can answer in English, French or Spanish.",
        reference="ESP-2027-7",
    )

    assert plain(render(reply)) == (
        "Dear Ana Ruiz,\n"
        "\n"
        "This is a reminder.\n"
        "\n"
        "Article 7 report — Spain\n"
        "  Deadline: 30 April 2027\n"
        "  Send it.\n"
        "\n"
        "State     Spain\n"
        "Due date  30 April 2027\n"
        "\n"
        "Reference: ESP-2027-7\n"
        "\n"
        "Just reply to this message with one of these words:\n"
        "  SUBMITTED — Report submitted\n"
        "  NEED … — We need assistance\n"
        "  NOT ME colleague@ministry.gov — Not the right person\n"
        "Put the details after the word: what you need or can offer, "
        "or your colleague's address.\n"
        "A plain sentence works too, for example: “We submitted our report on 30 April.”\n"
        "\n"
        "You can answer in English, French or Spanish.\n"
    )


def test_reply_without_choices_offers_no_keywords() -> None:
    reply = Reply(language="en", subject="Escalation", intro="Dear coordinator,")

    msg = render(reply)

    assert plain(msg) == "Dear coordinator,\n"
    assert "one of these words" not in html(msg)


def test_html_part_shows_the_same_content() -> None:
    body = html(render(reminder("fr")))

    for snippet in (
        '<html lang="fr"',
        "Dear Ana Ruiz,",  # handler strings untranslated in this test's catalog
        # Catalog text is trusted like template source (Jinja's rule); values are escaped.
        "Répondez simplement à ce message avec l'un de ces mots :",
        ">SOUMIS<",
        ">PAS MOI collegue@ministere.gouv<",
        "Une phrase simple fonctionne aussi",
    ):
        assert snippet in body


HOSTILE = "<script>alert('x')</script> <!channel> <@U024BE7LH> & <img src=http://evil.test/p.gif>"


def test_html_part_escapes_every_value() -> None:
    reply = Reply(
        language="en",
        subject=HOSTILE,
        intro=f"Dear {HOSTILE},",
        sections=(Section(HOSTILE, (HOSTILE,)),),
        fields=((HOSTILE, HOSTILE),),
        choices=(Choice(Intent.NEED, HOSTILE, "NEED"),),
        footer=HOSTILE,
        reference=HOSTILE,
    )

    msg = render(reply)
    body = html(msg)

    assert "<script" not in body
    assert "<img" not in body
    assert "<!channel>" not in body
    assert "<@U024BE7LH>" not in body
    # Title, intro, section title and line, field label and value, reference, answer, footer.
    escaped = (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;!channel&gt; &lt;@U024BE7LH&gt; &amp;"
    )
    assert body.count(escaped) == 9
    assert HOSTILE in plain(msg)  # plain text is shown as typed


def test_headers_mark_the_message_automatic_and_carry_the_key() -> None:
    msg = reparsed(render(reminder("fr"), list_unsubscribe="https://ccm-bot.test/u/abc"))
    token = sign_token(41, SIGNING_KEY, TODAY)
    message_id = message_id_for(token, REPLY_DOMAIN)

    assert msg["From"] == SENDER
    assert msg["To"] == "ana.ruiz@ministry.test"
    assert msg["Message-ID"] == message_id
    assert msg["Subject"].endswith(f" [CCM-{token}]")
    assert msg["Subject"].startswith("Reminder: ")
    assert msg["Reply-To"] == f"CCM ISU <reply+{token}@{REPLY_DOMAIN}>"
    assert message_id in msg["References"].split()
    assert "In-Reply-To" not in msg
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Content-Language"] == "fr"
    assert msg["Date"].datetime == NOW
    assert msg["List-Unsubscribe"] == "<https://ccm-bot.test/u/abc>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    ("message_key", "issued", "same"),
    [
        (41, TODAY, True),
        (42, TODAY, False),
        (41, date(2027, 4, 1), False),
    ],
)
def test_message_id_is_stable_for_one_message(message_key: int, issued: date, same: bool) -> None:
    first = render(reminder("en"))
    # Recomposed later (after a crash), possibly with changed wording: only the key matters.
    again = render(reminder("es"), message_key=message_key, issued=issued, sent_at=None)

    assert (first["Message-ID"] == again["Message-ID"]) is same


def test_each_place_of_the_key_leads_back_to_the_message() -> None:
    sent = render(reminder("en"))

    def answer(**headers: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = "ana.ruiz@ministry.test"
        msg["To"] = headers.pop("To", "isu@ccm-bot.test")
        msg["Subject"] = headers.pop("Subject", "Re: Reminder")
        for name, value in headers.items():
            msg[name.replace("_", "-")] = value
        msg.set_content("SUBMITTED")
        return msg

    # The client kept the Reply-To; only the thread headers; only the subject (Exchange).
    for reply in (
        answer(To=str(sent["Reply-To"])),
        answer(In_Reply_To=str(sent["Message-ID"]), References=str(sent["References"])),
        answer(Subject=f"RE: {sent['Subject']}"),
    ):
        token = find_token(reparsed(reply))
        assert token is not None
        assert verify_token(token, SIGNING_KEY, today=TODAY) == 41


def test_answering_a_person_threads_under_their_mail() -> None:
    theirs = "<CAF=abc123@mail.ministry.test>"

    msg = reparsed(render(reminder("en"), in_reply_to=theirs))

    assert msg["In-Reply-To"] == theirs
    assert msg["References"].split() == [theirs, msg["Message-ID"]]
    assert msg["Auto-Submitted"] == "auto-replied"  # RFC 3834: a response to a message


@pytest.mark.parametrize(
    ("given", "header", "one_click"),
    [
        (None, None, False),
        ("mailto:unsubscribe@ccm-bot.test", "<mailto:unsubscribe@ccm-bot.test>", False),
        (
            "mailto:u@ccm-bot.test, https://ccm-bot.test/u/1",
            "<mailto:u@ccm-bot.test>, <https://ccm-bot.test/u/1>",
            True,
        ),
    ],
)
def test_list_unsubscribe_one_click_only_with_https(
    given: str | None, header: str | None, one_click: bool
) -> None:
    msg = reparsed(render(reminder("en"), list_unsubscribe=given))

    assert msg["List-Unsubscribe"] == header
    assert ("List-Unsubscribe-Post" in msg) is one_click


def test_email_is_valid_seven_bit_mime_with_utf8_parts() -> None:
    reply = Reply(
        language="es",
        subject="Recordatorio: informe — España",
        intro="Estimada Señora Núñez,",
        choices=(Choice(Intent.SNOOZE, "Recuérdeme más tarde", "MÁS TARDE"),),
    )
    raw = render(reply).as_bytes(policy=policy.SMTP)

    raw.decode("ascii")  # quoted-printable parts and encoded headers: any relay carries it
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert not msg.defects
    assert not any(p.defects for p in parts)
    assert msg["Subject"].startswith("Recordatorio: informe — España [CCM-")
    assert "Estimada Señora Núñez," in plain(msg)
    assert "MÁS TARDE — Recuérdeme más tarde" in plain(msg)
    assert "Estimada Señora Núñez," in html(msg)


def test_subject_line_breaks_cannot_inject_headers() -> None:
    reply = Reply(language="en", subject="Reminder\r\nBcc: everyone@example.test", intro="Hi")

    msg = reparsed(render(reply))

    assert "Bcc" not in msg
    assert msg["Subject"].startswith("Reminder Bcc: everyone@example.test [CCM-")


def test_composer_renders_the_reminder_for_its_outgoing_message() -> None:
    outgoing = make_outgoing(message_id=9, language="es")

    msg = compose_email(outgoing)

    assert msg["To"] == outgoing.email
    assert msg["Message-ID"] == message_id_for(sign_token(9, SIGNING_KEY, TODAY), REPLY_DOMAIN)
    assert "PRESENTADO" in plain(msg)
