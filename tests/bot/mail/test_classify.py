"""Mail hygiene: people get answers, robots never do."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mail.body.reply import parse_message
from bot.mail.classify import (
    BounceVerdict,
    Classification,
    Kind,
    classify,
    is_auto_submitted,
    verdict_for_status,
)

CORPUS = Path(__file__).parent / "corpus"


def load(name: str) -> EmailMessage:
    return parse_message((CORPUS / f"{name}.eml").read_bytes())


def message(headers: str, body: str = "Hello\n") -> EmailMessage:
    base = "From: Jane <jane@mfa.example.gov>\nTo: reply+x@reply.ccm.example.org\n"
    return parse_message((base + headers.strip() + "\n\n" + body).encode())


@dataclass(frozen=True)
class Expected:
    name: str
    kind: Kind
    reason: str
    verdict: BounceVerdict | None = None
    failed: tuple[str, ...] = ()
    statuses: tuple[tuple[str, str], ...] = ()  # (action, status) per reported recipient


HUMAN = "no robot signal"
CORPUS_CASES = [
    *(
        Expected(name, "human", HUMAN)
        for name in (
            "gmail_en",
            "outlook_desktop_fr",  # carries X-Auto-Response-Suppress: All, like much Outlook mail
            "outlook_web_es",
            "apple_iphone_en",
            "thunderbird_es",
            "iphone_fr",
            "cp1252_fr",
            "utf16_en",
            "html_script_en",
            "attachment_en",
            "empty_en",
            "malformed_no_boundary",
            "malformed_truncated",
        )
    ),
    Expected("ooo_en_auto_submitted", "auto_reply", "Auto-Submitted: auto-replied (vacation)"),
    Expected("ooo_fr_outlook", "auto_reply", "auto-reply subject"),
    Expected("ooo_es_x_autoreply", "auto_reply", "X-Autoreply header"),
    Expected("mailing_list", "mailing_list", "List-Id header"),
    Expected(
        "bounce_hard_511",
        "bounce",
        "RFC 3464 delivery report",
        "hard",
        ("jane.doe@mfa.example.gov",),
        (("failed", "5.1.1"),),
    ),
    Expected(
        "bounce_soft_422",
        "bounce",
        "RFC 3464 delivery report",
        "soft",
        (),  # delayed, not failed: Gmail is still trying
        (("delayed", "4.2.2"),),
    ),
    Expected(
        "bounce_spam_571",
        "bounce",
        "RFC 3464 delivery report",
        "spam_block",
        ("focal.point@mofa.example.gh",),
        (("failed", "5.7.1"),),
    ),
    Expected(
        "bounce_o365_ndr",
        "bounce",
        "Exchange NDR",
        "hard",
        ("delegate@mfa.example.gov",),
        (("failed", "5.1.10"),),
    ),
    Expected(
        "bounce_plain_qmail",
        "bounce",
        "sent by a mail server (mailer-daemon/postmaster)",
        "hard",
        ("desk.officer@mofa.example.bd",),
        (("", "5.1.1"),),
    ),
]


def test_every_corpus_message_has_an_expectation() -> None:
    assert {case.name for case in CORPUS_CASES} == {path.stem for path in CORPUS.glob("*.eml")}


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda case: case.name)
def test_classify_corpus(case: Expected) -> None:
    result = classify(load(case.name))

    assert (result.kind, result.reason, result.verdict) == (case.kind, case.reason, case.verdict)
    assert result.failed_recipients == case.failed
    assert tuple((r.action, r.status) for r in result.recipients) == case.statuses
    assert result.is_human is (case.kind == "human")


def test_bounce_keeps_the_servers_diagnostic() -> None:
    (recipient,) = classify(load("bounce_o365_ndr")).recipients

    assert recipient.diagnostic.startswith("smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound")


@pytest.mark.parametrize(
    ("headers", "mail_from", "kind", "reason"),
    [
        pytest.param("Subject: Re: report", None, "human", HUMAN, id="plain"),
        pytest.param("Auto-Submitted: no", None, "human", HUMAN, id="auto-submitted-no"),
        pytest.param(
            "Auto-Submitted: No (manual)", None, "human", HUMAN, id="auto-submitted-no-comment"
        ),
        pytest.param(
            "X-Auto-Response-Suppress: All\nSubject: RE: [CCM-x] rapport",
            None,
            "human",
            HUMAN,
            id="xars-alone-is-not-a-robot",
        ),
        pytest.param(
            "X-Auto-Response-Suppress: DR, OOF, AutoReply", None, "human", HUMAN, id="xars-oof"
        ),
        pytest.param(
            "Subject: Re: out of office hours we need help",
            None,
            "human",
            HUMAN,
            id="oof-words-after-re",
        ),
        pytest.param(
            "Auto-Submitted: auto-generated",
            None,
            "auto_reply",
            "Auto-Submitted: auto-generated",
            id="auto-generated",
        ),
        pytest.param(
            "Auto-Submitted: auto-notified",
            None,
            "auto_reply",
            "Auto-Submitted: auto-notified",
            id="auto-notified",
        ),
        pytest.param(
            "X-Autorespond: yes", None, "auto_reply", "X-Autorespond header", id="x-autorespond"
        ),
        pytest.param(
            "Precedence: bulk", None, "auto_reply", "Precedence: bulk", id="precedence-bulk"
        ),
        pytest.param(
            "Precedence: junk", None, "auto_reply", "Precedence: junk", id="precedence-junk"
        ),
        pytest.param(
            "Precedence: list", None, "mailing_list", "Precedence: list", id="precedence-list"
        ),
        pytest.param(
            "List-Id: <x.lists.example.org>\nPrecedence: bulk",
            None,
            "mailing_list",
            "List-Id header",
            id="list-id",
        ),
        *(
            pytest.param(
                f"Subject: {subject}",
                None,
                "auto_reply",
                "auto-reply subject",
                id=f"subject-{subject[:24]}",
            )
            for subject in (
                "Automatic reply: [CCM-x] Article 7 report",
                "Out of Office: [CCM-x] Article 7 report",
                "Out of Office AutoReply: Article 7",
                "=?utf-8?q?R=C3=A9ponse_automatique=C2=A0:_RE:_Rapport?=",
                "Absence du bureau : Rapport",
                "=?utf-8?q?Respuesta_autom=C3=A1tica:_Informe?=",
                "Fuera de la oficina: Informe",
                "AutoReply: report",
            )
        ),
        pytest.param("Subject: Re: report", "", "auto_reply", "null envelope sender", id="lmtp-<>"),
        pytest.param(
            "Return-Path: <>\nSubject: Re: report",
            None,
            "auto_reply",
            "null envelope sender",
            id="return-path-<>",
        ),
        pytest.param(
            "Return-Path: <>\nSubject: Re: report",
            "jane@mfa.example.gov",
            "human",
            HUMAN,
            id="envelope-overrides-return-path",
        ),
        pytest.param(
            "Sender: no-reply@portal.example.org",
            None,
            "human",
            HUMAN,
            id="sender-header-alone",
        ),
        pytest.param(
            "Subject: Undeliverable: Article 7",
            None,
            "bounce",
            "delivery failure subject",
            id="ndr-without-dsn",
        ),
        pytest.param(
            "X-Failed-Recipients: gone@mfa.example.gov",
            None,
            "bounce",
            "X-Failed-Recipients header",
            id="x-failed-recipients",
        ),
    ],
)
def test_classify_headers(headers: str, mail_from: str | None, kind: Kind, reason: str) -> None:
    result = classify(message(headers), mail_from=mail_from)

    assert (result.kind, result.reason) == (kind, reason)


def test_no_reply_sender_is_a_robot() -> None:
    msg = parse_message(b"From: Portal <no-reply@portal.example.org>\nSubject: Hi\n\nHello\n")

    assert classify(msg) == Classification("auto_reply", "no-reply sender")


def test_read_receipt_is_not_a_person() -> None:
    msg = message(
        "Subject: Read: Article 7\nContent-Type: multipart/report; "
        'report-type=disposition-notification; boundary="b"',
        "--b\nContent-Type: text/plain\n\nYour message was read.\n"
        "--b\nContent-Type: message/disposition-notification\n\n"
        "Final-Recipient: rfc822;jane@mfa.example.gov\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n"
        "--b--\n",
    )

    assert classify(msg) == Classification(
        "auto_reply", "multipart/report (disposition-notification)"
    )


def test_success_notification_is_not_a_bounce() -> None:
    msg = message(
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
        "Final-Recipient: rfc822; jane@mfa.example.gov\nAction: delivered\nStatus: 2.0.0\n"
        "\n--b--\n",
    )

    assert classify(msg) == Classification("auto_reply", "delivery notification (delivered)")


def test_forwarded_bounce_is_a_person_writing() -> None:
    """A delegate forwarding a bounce as an attachment is still a person."""
    bounce = (CORPUS / "bounce_hard_511.eml").read_text()
    msg = message(
        'Subject: Fwd: look at this\nContent-Type: multipart/mixed; boundary="outer"',
        "--outer\nContent-Type: text/plain\n\nWhat does this mean?\n"
        f"--outer\nContent-Type: message/rfc822\n\n{bounce}\n--outer--\n",
    )

    assert classify(msg).kind == "human"


def test_transfer_encoded_delivery_status_is_still_read() -> None:
    fields = (
        "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; gone@mfa.example.gov\n"
        "Action: failed\nStatus: 5.1.1\n"
    )
    msg = message(
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        "--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
        + base64.b64encode(fields.encode()).decode()
        + "\n--b--\n",
    )
    result = classify(msg)

    assert (result.kind, result.verdict, result.failed_recipients) == (
        "bounce",
        "hard",
        ("gone@mfa.example.gov",),
    )


@pytest.mark.parametrize(
    ("status", "diagnostic", "verdict"),
    [
        ("5.1.1", "", "hard"),
        ("5.1.10", "", "hard"),
        ("5.1.2", "", "hard"),
        ("5.4.1", "Recipient address rejected: Access denied", "hard"),
        ("5.4.4", "", "hard"),
        ("5.2.1", "The email account that you tried to reach is disabled", "hard"),
        ("5.2.2", "mailbox full", "soft"),
        ("4.2.2", "", "soft"),
        ("4.4.7", "", "soft"),
        ("4.7.1", "greylisted, try again later", "soft"),
        ("5.3.4", "message too big", "soft"),
        ("5.7.1", "", "spam_block"),
        ("5.7.1", "Recipient address rejected: User unknown", "spam_block"),
        ("5.7.26", "DMARC policy", "spam_block"),
        ("5.7.606", "Access denied, banned sending IP", "spam_block"),
        ("5.1.8", "Sender address rejected: Domain not found", "spam_block"),
        ("5.0.0", "550 User unknown", "hard"),
        ("5.0.0", "Message rejected as spam", "spam_block"),
        ("5.5.0", "Requested action not taken: mailbox unavailable", "unknown"),
        ("5.0.0", "", "unknown"),
        ("", "smtp; 550 5.1.1 no such user", "hard"),
        ("", "550 Utilisateur inconnu", "hard"),
        ("", "550 Usuario desconocido", "hard"),
        ("", "452 Boîte aux lettres pleine", "soft"),
        ("", "421 Service not available", "soft"),
        ("", "", "unknown"),
        ("2.0.0", "", "unknown"),
    ],
)
def test_verdict_for_status(status: str, diagnostic: str, verdict: BounceVerdict) -> None:
    assert verdict_for_status(status, diagnostic) == verdict


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("no", False),
        ("No", False),
        ("no; comment", False),
        ("auto-replied", True),
        ("auto-generated", True),
        ("auto-notified", True),
        ("auto-replied; owner-email=jane@mfa.example.gov", True),
        ("garbage", True),
    ],
)
def test_is_auto_submitted(value: str | None, expected: bool) -> None:
    headers = f"Auto-Submitted: {value}" if value is not None else "Subject: x"

    assert is_auto_submitted(message(headers)) is expected


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.eml")), ids=lambda path: path.stem)
@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_truncated_corpus_never_raises(path: Path, keep: float) -> None:
    data = path.read_bytes()

    assert classify(parse_message(data[: int(len(data) * keep)])).kind
