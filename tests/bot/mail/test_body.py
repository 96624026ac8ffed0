"""What the person wrote: the corpus of real-looking replies, then the ugly corners."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mail.body.html_text import html_to_text
from bot.mail.body.quotes import new_text
from bot.mail.body.reply import extract_reply, parse_message

CORPUS = Path(__file__).parent / "corpus"


def load(name: str) -> EmailMessage:
    return parse_message((CORPUS / f"{name}.eml").read_bytes())


def raw_message(headers: str, body: bytes) -> EmailMessage:
    return parse_message(headers.strip().encode("ascii") + b"\n\n" + body)


@dataclass(frozen=True)
class Reply:
    name: str
    text: str
    was_html: bool = False
    attachments: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


REPLIES = [
    Reply("gmail_en", "NEED: non-technical survey in the north, about USD 250,000"),
    Reply("outlook_desktop_fr", "Nous avons soumis notre rapport le 3 mars."),
    Reply("outlook_web_es", "NECESIDAD: formación en gestión de la información, unos 40.000 USD"),
    Reply("apple_iphone_en", "SUBMITTED. We filed the report on 28 March."),
    Reply(
        "thunderbird_es",
        "PRESENTADO. Enviamos el informe a la Oficina de Asuntos de Desarme de las Naciones "
        "Unidas el 25 de marzo, con el anexo sobre asistencia a las víctimas.",
    ),
    Reply("iphone_fr", "BESOIN : enquête non technique dans le nord, environ 250 000 USD"),
    Reply(
        "cp1252_fr", "BESOIN : formation à la gestion de l\u2019information \u2013 environ 15 000 €"
    ),
    Reply(
        "utf16_en", "NOT ME. Please write to Maria Lopez, our new focal point for the Convention."
    ),
    Reply(
        "html_script_en",
        "OFFER: two EOD & survey trainers for six weeks in 2027 \u2013 at no cost",
        was_html=True,
    ),
    Reply(
        "attachment_en",
        "SUBMITTED. The signed report and its annex are attached.",
        attachments=("Article7_Report_2026.pdf", "annexe_déminage.png"),
    ),
    Reply("empty_en", ""),
    Reply(
        "malformed_no_boundary",
        "LATER please, the report is with our legal office until May.",
        problems=(
            "malformed MIME: multipart without a usable boundary",
            "malformed MIME: NoBoundaryInMultipartDefect",
            "malformed MIME: MultipartInvariantViolationDefect",
        ),
    ),
    Reply(
        "malformed_truncated",
        "NEED: mine risk education materials in Pashto and Dari, about 5,000 copies.",
        attachments=("needs_assessment.docx",),
        problems=("malformed MIME: CloseBoundaryNotFoundDefect",),
    ),
]

# Words and sentences that only the quoted reminder contains. Keywords count as whole words
# in capitals (a person writing "soumis" is fine; the reminder's "SOUMIS" is not).
REMINDER_KEYWORDS = (
    "SUBMITTED NEED OFFER LATER NOT ME SOUMIS BESOIN OFFRE PLUS TARD PAS MOI "
    "PRESENTADO NECESIDAD OFERTA MÁS TARDE NO SOY YO"
)
REMINDER_SENTENCES = (
    "Implementation Support Unit",
    "transparency report",
    "Unité d'appui",
    "rapport de transparence",
    "Unidad de Apoyo",
    "informe de transparencia",
    "Reply to this email",
    "Répondez à ce courriel",
    "Responda a este correo",
    "wrote:",
    "a écrit",
    "escribió",
)


def keywords(text: str) -> set[str]:
    found = set()
    for phrase in ("NOT ME", "PLUS TARD", "PAS MOI", "MÁS TARDE", "NO SOY YO"):
        if phrase in text:
            found.add(phrase)
            text = text.replace(phrase, " ")
    words = set(re.findall(r"\b[A-ZÁ]{4,}\b", text))
    return found | (words & set(REMINDER_KEYWORDS.split()))


@pytest.mark.parametrize("case", REPLIES, ids=lambda case: case.name)
def test_corpus_reply_text(case: Reply) -> None:
    reply = extract_reply(load(case.name))

    assert reply.text == case.text
    assert reply.was_html is case.was_html
    assert reply.attachments == case.attachments
    assert reply.problems == case.problems


@pytest.mark.parametrize("case", REPLIES, ids=lambda case: case.name)
def test_no_keyword_or_sentence_leaks_from_the_quoted_reminder(case: Reply) -> None:
    reply = extract_reply(load(case.name))

    assert keywords(reply.text) <= keywords(case.text)
    for sentence in REMINDER_SENTENCES:
        assert sentence not in reply.text


@pytest.mark.parametrize(
    ("name", "quoted_line"),
    [
        ("gmail_en", "SUBMITTED - we have submitted the report"),
        ("outlook_desktop_fr", "BESOIN : <ce dont vous avez besoin>"),
        ("thunderbird_es", "NECESIDAD: <lo que necesita>"),
        ("utf16_en", "NOT ME - I am not the right contact"),
        ("html_script_en", "NEED: <what you need>"),
    ],
)
def test_full_text_keeps_the_whole_body_for_the_audit_log(name: str, quoted_line: str) -> None:
    assert quoted_line in extract_reply(load(name)).full_text


@pytest.mark.parametrize("name", ["html_script_en"])
def test_no_script_style_or_head_text_survives(name: str) -> None:
    reply = extract_reply(load(name))

    for leaked in ("leaked", "document.write", "SUBMITTED via script", "var t", "font-family"):
        assert leaked not in reply.text
        assert leaked not in reply.full_text


def html_alternative(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


@pytest.mark.parametrize(
    "name", ["gmail_en", "outlook_desktop_fr", "outlook_web_es", "apple_iphone_en"]
)
def test_html_alternative_alone_gives_the_same_text(name: str) -> None:
    """Clients that send HTML only must be read as well as those that send both."""
    expected = next(case.text for case in REPLIES if case.name == name)
    html = html_alternative(load(name))

    assert new_text(html_to_text(html, drop_quotes=True)) == expected


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize("name", sorted(path.stem for path in CORPUS.glob("*.eml")))
@pytest.mark.parametrize("keep", [0.1, 0.35, 0.5, 0.8, 0.97])
def test_truncated_corpus_never_raises(name: str, keep: float) -> None:
    data = (CORPUS / f"{name}.eml").read_bytes()
    reply = extract_reply(parse_message(data[: int(len(data) * keep)]))

    assert isinstance(reply.text, str)
    assert isinstance(reply.full_text, str)


def test_message_without_text_part_says_so() -> None:
    msg = raw_message(
        """
From: a@example.org
Content-Type: application/pdf; name="report.pdf"
Content-Transfer-Encoding: base64
""",
        b"JVBERi0xLjQK",
    )
    reply = extract_reply(msg)

    assert reply.text == ""
    assert reply.attachments == ("report.pdf",)
    assert "no text part" in reply.problems


def test_forwarded_message_attachment_is_not_read_as_the_reply() -> None:
    msg = raw_message(
        """
From: a@example.org
Content-Type: multipart/mixed; boundary="b"
""",
        b"""--b
Content-Type: text/plain

OFFER: see the forwarded note.
--b
Content-Type: message/rfc822

From: someone@example.org
Subject: old

NEED: this is someone else's old text.
--b--
""",
    )
    reply = extract_reply(msg)

    assert reply.text == "OFFER: see the forwarded note."
    assert reply.attachments == ("(message/rfc822)",)


def test_empty_plain_alternative_falls_back_to_html() -> None:
    msg = raw_message(
        """
From: a@example.org
Content-Type: multipart/alternative; boundary="b"
""",
        b"""--b
Content-Type: text/plain

--b
Content-Type: text/html

<p>NEED: radios</p>
--b--
""",
    )
    reply = extract_reply(msg)

    assert reply.text == "NEED: radios"
    assert reply.was_html


# --------------------------------------------------------------------------- charsets

CHARSET_CASES = [
    # (label, body bytes, expected text, expected problem or None)
    (
        "windows-1252",
        "Besoin d\u2019aide \u2013 15 000 €".encode("cp1252"),
        "Besoin d\u2019aide \u2013 15 000 €",
        None,
    ),
    # Mislabelled as Latin-1 but written by Windows: read as windows-1252, as browsers do.
    ("iso-8859-1", "l\u2019été \u2013 5 €".encode("cp1252"), "l\u2019été \u2013 5 €", None),
    ("ISO-8859-1", "déminage".encode("latin-1"), "déminage", None),
    ("us-ascii", "año".encode(), "año", None),
    (None, "répondu".encode("cp1252"), "répondu", None),
    ('"utf-8"', "quoted label ✓".encode(), "quoted label ✓", None),
    ("x-bogus-42", "señor".encode(), "señor", "unknown charset 'x-bogus-42'"),
    ("x-bogus-42", "señor".encode("latin-1"), "señor", "unknown charset 'x-bogus-42'"),
    ("unicode_escape", b"\\u0041 stays literal", "\\u0041 stays literal", "unknown charset"),
    ("undefined", b"plain", "plain", "unknown charset"),
    ("base64", b"aGVsbG8=", "aGVsbG8=", "unknown charset"),
    # Declared utf-8, written in latin-1 by an old client: no utf-8 sequence at all.
    ("utf-8", b"caf\xe9 ok", "café ok", "undecodable charset 'utf-8'"),
    # Real utf-8 with one damaged byte: keep the utf-8, replace the byte.
    ("utf-8", b"caf\xc3\xa9 \xff ok", "café \ufffd ok", "undecodable charset 'utf-8'"),
    ("iso-2022-jp", b"\x1b$B$3\x1b(B \x80", "\u3053 \ufffd", "undecodable charset"),
    ("utf-16", "\ufeffhola señor".encode("utf-16-le"), "hola señor", None),
    ("utf-16", "sin BOM".encode("utf-16-le"), "sin BOM", None),
    ("utf-16", "sans BOM".encode("utf-16-be"), "sans BOM", None),
    ("windows-1252", "BOM wins".encode("utf-16"), "BOM wins", None),
    ("utf-8", "\ufeffBOM utf-8".encode(), "BOM utf-8", None),
]


@pytest.mark.parametrize(
    ("label", "body", "expected", "problem"),
    CHARSET_CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CHARSET_CASES)],
)
def test_charsets(label: str | None, body: bytes, expected: str, problem: str | None) -> None:
    charset = f"; charset={label}" if label else ""
    msg = raw_message(
        f"""
From: a@example.org
Content-Type: text/plain{charset}
Content-Transfer-Encoding: base64
""",
        base64.b64encode(body),
    )
    reply = extract_reply(msg)

    assert reply.full_text == expected
    if problem is None:
        assert reply.problems == ()
    else:
        assert any(p.startswith(problem) for p in reply.problems), reply.problems


def test_format_flowed_is_unwrapped_with_delsp() -> None:
    msg = raw_message(
        """
From: a@example.org
Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes
""",
        b"NEED: a long line that the client wr \r\napped for us.\r\n\r\n-- \r\nAna\r\n",
    )

    assert (
        extract_reply(msg).full_text
        == "NEED: a long line that the client wrapped for us.\n\n-- \nAna"
    )


# --------------------------------------------------------------------------- text stripping


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "On Wed, 31 Mar 2027, CCM wrote:\n> NEED: x\n> SUBMITTED\n\nOFFER: a vehicle\n",
            "OFFER: a vehicle",
            id="bottom-posted",
        ),
        pytest.param(
            "> NEED: <what you need>\nNEED: dogs\n> OFFER: <...>\nOFFER: nothing\n",
            "NEED: dogs\nOFFER: nothing",
            id="inline-without-attribution",
        ),
        pytest.param(
            "NEED:\n- survey in the north\n- clearance in the east\n",
            "NEED:\n- survey in the north\n- clearance in the east",
            id="hyphen-list-is-not-a-signature",
        ),
        pytest.param(
            "Merci !\nNous avons soumis le rapport.\n",
            "Merci !\nNous avons soumis le rapport.",
            id="opening-thanks-is-not-a-closing",
        ),
        pytest.param(
            "Nous avons soumis le rapport.\n\nBien à vous,\nA. Diallo\n",
            "Nous avons soumis le rapport.",
            id="fr-closing",
        ),
        pytest.param(
            "Ya lo presentamos.\n\nUn cordial saludo,\nLuis\nMinisterio\n",
            "Ya lo presentamos.",
            id="es-closing",
        ),
        pytest.param(
            "Gracias\n" + "\n".join(f"line {i}" for i in range(12)),
            "Gracias\n" + "\n".join(f"line {i}" for i in range(12)),
            id="closing-word-followed-by-a-long-text-is-kept",
        ),
        pytest.param(
            "OFFRE : deux véhicules\n\nDe : CCM <r@example.org>\nDate : mercredi 31 mars 2027\n"
            "À : moi\nObjet : Rappel\n\nBESOIN : <...>\n",
            "OFFRE : deux véhicules",
            id="new-outlook-fr-date-header-block",
        ),
        pytest.param(
            "LATER\n\n-----Mensaje original-----\nDe: CCM\nNECESIDAD: <...>\n",
            "LATER",
            id="es-original-message-separator",
        ),
        pytest.param(
            "SUBMITTED\n\nEnviado desde mi Samsung Galaxy\n", "SUBMITTED", id="es-sent-from"
        ),
        pytest.param(
            "NEED: maps\n\nThis e-mail and any attachments are confidential and intended solely "
            "for the addressee.\n",
            "NEED: maps",
            id="en-disclaimer",
        ),
        pytest.param(
            "Nous avons soumis le rapport.\n\nCe message et ses pi\u00e8ces jointes sont "
            "confidentiels.\nSi vous n'en \u00eates pas destinataire, d\u00e9truisez-le.",
            "Nous avons soumis le rapport.",
            id="fr-disclaimer-without-closing",
        ),
        pytest.param(
            "PRESENTADO\n\nEste mensaje y sus anexos son confidenciales y para uso exclusivo "
            "del destinatario.\n",
            "PRESENTADO",
            id="es-disclaimer",
        ),
        pytest.param("  \n\u200b\n> only a quote\n", "", id="only-quote"),
        pytest.param(
            "NEED:   two\t\tspaces\u00a0here\n\n\n\nend",
            "NEED: two spaces here\n\nend",
            id="whitespace",
        ),
    ],
)
def test_new_text(body: str, expected: str) -> None:
    assert new_text(body) == expected


# --------------------------------------------------------------------------- HTML to text


@pytest.mark.parametrize(
    ("html", "drop_quotes", "expected"),
    [
        pytest.param(
            "<p>a&nbsp;&amp;&lt;b&gt; &#233;&eacute;</p><div>c<br>d</div>"
            "<ul><li>x</li><li>y</li></ul>",
            False,
            "a &<b> éé\nc\nd\n- x\n- y",
            id="blocks-and-entities",
        ),
        pytest.param(
            "<p>mine</p><blockquote><p>theirs</p></blockquote>",
            False,
            "mine\n> theirs",
            id="blockquote-becomes-quote-lines",
        ),
        pytest.param(
            "<p>mine</p><blockquote type='cite'>On x wrote:<p>theirs</p></blockquote>",
            True,
            "mine",
            id="apple-cite-dropped",
        ),
        pytest.param(
            "<p>mine</p><div class='moz-cite-prefix'>El 31/3/27, X escribió:</div>"
            "<blockquote type='cite'>theirs</blockquote><p>after</p>",
            True,
            "mine\nafter",
            id="thunderbird-cite-dropped",
        ),
        pytest.param(
            "<div>mine</div><div id='x_appendonsend'></div><hr><div id='x_divRplyFwdMsg'>"
            "<b>From:</b> CCM</div><div>theirs</div>",
            True,
            "mine",
            id="outlook-web-reply-of-reply-drops-to-end",
        ),
        pytest.param(
            "<div>mine<div id='mail-editor-reference-message-container'>theirs</div></div>",
            True,
            "mine",
            id="new-outlook-container",
        ),
        pytest.param(
            "<p>mine</p><span style='display: none'>hidden preheader</span>",
            False,
            "mine",
            id="display-none",
        ),
        pytest.param("<p>mine</p><script>var never = 1;", False, "mine", id="unclosed-script"),
        pytest.param("<p>a<pre>  x\n  y</pre>b", False, "a\nx\ny\nb", id="pre"),
        pytest.param(
            "<head><title>t</title><p>body without head end",
            False,
            "body without head end",
            id="unclosed-head",
        ),
        pytest.param(
            "<head><title>t</title><body><p>body after head",
            False,
            "body after head",
            id="body-closes-head",
        ),
        pytest.param("<<<>>><p x='>'>ok</p></div></div>", False, "<<<>>>\nok", id="garbage"),
        pytest.param("<img src=x><br/><img/>ok", False, "ok", id="void-elements"),
    ],
)
def test_html_to_text(html: str, drop_quotes: bool, expected: str) -> None:
    assert html_to_text(html, drop_quotes=drop_quotes) == expected


def test_long_line_starting_with_on_is_kept_and_quick() -> None:
    """mail-parser-reply's "On ... wrote:" pattern is cubic on such lines (minutes at 20 kB)."""
    paragraph = "On behalf of the ministry " + "we thank the unit for its support " * 600
    started = time.perf_counter()

    text = new_text(paragraph + "\n\nOn Wed, 31 Mar 2027, CCM wrote:\n> NEED: x\n")

    assert time.perf_counter() - started < 5
    assert text == paragraph.strip()


@pytest.mark.parametrize("depth", [40, 5000])
def test_deeply_nested_mime_never_raises(depth: int) -> None:
    """The stdlib parser recurses per MIME level; 5,000 levels exhaust its stack."""
    nesting = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth)
    )
    msg = parse_message(f"From: a@example.org\n{nesting}\nNEED: deep\n".encode())
    reply = extract_reply(msg)

    assert reply.text == ""
    assert "no text part" in reply.problems
