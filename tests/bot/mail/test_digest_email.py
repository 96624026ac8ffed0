"""The weekly digest as email: sent through a real aiosmtpd server, and replied to over LMTP.

The content itself is tested in tests/handlers/test_digest.py; here, what a mail client gets:
the parts, the Outlook-safe chart, escaping, the headers, and STOP doing what it says.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from sqlalchemy import select

from bot.mail.digest_rendering import render_digest_html
from bot.mail.digest_sending import DigestService, MessageSender
from bot.mail.tokens import verify_token
from bot.mail.transports import SmtpTransport
from bot.settings import SmtpTarget
from schedules.clock import FixedClock
from storage.contacts import contact_by_email
from storage.db import Store
from storage.digest import SENT, digest_key
from storage.models import Contact, DigestSend, InboundMail, InboundStatus
from tests.bot.mail.conftest import SmtpServer
from tests.bot.mail.test_inbound import ISU as ISU_DESK
from tests.bot.mail.test_inbound import Bot, gmail_reply, running_bot, settings
from tests.handlers.test_digest import (
    ALL_SECTIONS,
    COORDINATOR,
    DELEGATE,
    HOSTILE,
    ISU,
    PARTNER,
    SECRET_NEED,
    SUBSCRIBERS,
    WEEK,
    World,
    build_week,
    load_examples,
    plain,
)

# The Monday after the week, 08:00 in Geneva (summer time since Sunday): the digest is due.
SEND_TIME = datetime(2027, 3, 29, 6, 0, tzinfo=UTC)


class Outbox:
    """Keeps what it is given, as a transport's ``send_message`` would send it."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send_message(self, msg: EmailMessage) -> str:
        wire = message_from_bytes(msg.as_bytes(policy=policy.SMTP), policy=policy.default)
        assert isinstance(wire, EmailMessage)
        self.sent.append(wire)
        return str(msg["Message-ID"])

    def to(self, address: str) -> EmailMessage:
        [found] = [m for m in self.sent if m["To"] == address]
        return found


def service(store: Store, sender: MessageSender, at: datetime = SEND_TIME) -> DigestService:
    return DigestService.from_settings(
        settings(),
        store=store,
        sender=sender,
        clock=FixedClock(at),
        worker="test-worker",
    )


def part(msg: EmailMessage, subtype: str) -> str:
    body = msg.get_body((subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())


@pytest.fixture
async def week(store: Store) -> World:
    return await build_week(store)


async def test_digest_goes_out_through_smtp_with_both_parts_and_its_headers(
    store: Store, week: World, smtp_server: SmtpServer
) -> None:
    target = SmtpTarget(
        host="127.0.0.1",
        port=smtp_server.port,
        username=None,
        password=None,
        use_tls=False,
        start_tls=False,
    )
    transport = SmtpTransport(target, lambda _outgoing: EmailMessage(), timeout=10)
    try:
        result = await service(store, transport).run()
    finally:
        await transport.close()

    assert set(result.sent) == set(SUBSCRIBERS)
    received = {r.rcpt_tos[0]: r.message for r in smtp_server.handler.received}
    assert set(received) == set(SUBSCRIBERS)
    msg = received[COORDINATOR]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Content-Language"] == "en"
    assert msg["Auto-Submitted"] == "auto-generated"

    async with store.transaction() as session:
        contact = await contact_by_email(session, COORDINATOR)
        assert contact is not None
        send = await session.scalar(select(DigestSend).where(DigestSend.contact_id == contact.id))
        assert send is not None
    assert (send.status, send.period_start, send.period_end) == (SENT, WEEK.start, WEEK.end)
    token = parseaddr(str(msg["Reply-To"]))[1].removeprefix("reply+").split("@")[0]
    key = verify_token(token, settings().signing_key, today=SEND_TIME.date())
    assert key == digest_key(send.id)
    assert msg["Message-ID"] == send.message_id == f"<{token}@{settings().reply_domain}>"
    assert msg["Subject"].endswith(f"[CCM-{token}]")
    # Unsubscribing by mail goes to the same reply address; no HTTPS endpoint, so no one-click.
    assert msg["List-Unsubscribe"] == (
        f"<mailto:reply+{token}@{settings().reply_domain}?subject=unsubscribe>"
    )
    assert "List-Unsubscribe-Post" not in msg


async def test_html_escapes_hostile_text_and_draws_an_outlook_safe_chart(
    store: Store, week: World
) -> None:
    outbox = Outbox()
    await service(store, outbox).run()
    html = part(outbox.to(COORDINATOR), "html")
    text = part(outbox.to(COORDINATOR), "plain")

    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;orthèses&lt;/b&gt;" in html
    assert HOSTILE in text  # the plain part shows the text as written
    for key in ALL_SECTIONS:
        assert f'<h2 id="{key}"' in html
    # Bars are table cells with both bgcolor (Outlook) and inline CSS (everyone else), in
    # pixels of a 200-pixel track: 25% this year, 12.5% a year earlier.
    assert re.search(r'<td width="50" height="16" bgcolor="#1f5f99"', html)
    assert re.search(r'<td width="150" height="16" bgcolor="#e6e9ed"', html)
    assert re.search(r'<td width="25" height="16" bgcolor="#8c9bab"', html)
    assert "<style" not in html
    assert "<img" not in html
    # The plain part carries the same chart in characters.
    assert "  [#####...............]  2 of 8 (25%)" in text
    assert "  [##..................]  1 of 8 (12%)" in text


async def test_a_delegate_who_opted_in_never_gets_coordinators_only_items(
    store: Store, week: World
) -> None:
    outbox = Outbox()
    await service(store, outbox).run()
    for address in (DELEGATE, PARTNER):
        msg = outbox.to(address)
        for body in (part(msg, "plain"), part(msg, "html")):
            assert SECRET_NEED not in body
            assert week.secret not in body
            assert week.secret_updated not in body
    for address in (COORDINATOR, ISU):
        assert SECRET_NEED in part(outbox.to(address), "plain")
    assert outbox.to(DELEGATE)["Content-Language"] == "fr"
    assert outbox.to(ISU)["Content-Language"] == "es"


async def test_a_quiet_week_is_two_lines_of_plain_text(store: Store) -> None:
    await load_examples(store)
    outbox = Outbox()
    quiet = datetime(2027, 8, 2, 6, 0, tzinfo=UTC)  # for 26 July to 1 August 2027
    await service(store, outbox, quiet).run()

    msg = outbox.to(COORDINATOR)
    assert msg.get_content_type() == "text/plain"
    assert plain(part(msg, "plain")).splitlines() == [
        "CCM weekly digest, 26 Jul - 1 Aug 2027: nothing new this week.",
        "No new or updated needs or offers, no reports received, no unanswered reminders or "
        "escalations, and no treaty deadline in the next 90 days.",
    ]


async def test_preview_renders_the_same_mail_without_sending_or_recording(
    store: Store, week: World
) -> None:
    outbox = Outbox()
    shown = await service(store, outbox).preview(WEEK, COORDINATOR)

    assert outbox.sent == []
    async with store.transaction() as session:
        assert (await session.scalars(select(DigestSend))).all() == []
    assert shown.subscribed
    assert "<script" not in render_digest_html(shown.digest).lower()
    assert shown.message["To"] == COORDINATOR


# --------------------------------------------------------------------------- replies


@pytest.fixture
async def mail_bot(store: Store, week: World, smtp_server: SmtpServer) -> AsyncIterator[Bot]:
    async with running_bot(store, smtp_server) as bot:
        yield bot


async def digest_mail(bot: Bot, address: str) -> EmailMessage:
    outbox = Outbox()
    await service(bot.store, outbox).run()
    return outbox.to(address)


async def digest_flag(store: Store, address: str) -> bool | None:
    async with store.transaction() as session:
        contact = await session.scalar(select(Contact).where(Contact.email == address))
        assert contact is not None
        return contact.digest


async def test_replying_stop_to_a_digest_unsubscribes(mail_bot: Bot) -> None:
    digest = await digest_mail(mail_bot, DELEGATE)

    await mail_bot.deliver(
        gmail_reply(digest, sender=f"Claire Dubois <{DELEGATE}>", text="STOP", message_id="<s@x>")
    )

    assert await digest_flag(mail_bot.store, DELEGATE) is False
    [answer] = mail_bot.sent_to(DELEGATE)
    assert answer["Content-Language"] == "fr"
    assert "Vous ne recevrez plus le résumé hebdomadaire" in part(answer, "plain")
    [row] = await mail_bot.inbound()
    assert row.status is InboundStatus.PROCESSED
    assert row.outcome is not None
    assert "digest switched off" in row.outcome


async def test_a_mail_clients_unsubscribe_button_unsubscribes(mail_bot: Bot) -> None:
    """What List-Unsubscribe's mailto makes a client send: the subject, no body."""
    digest = await digest_mail(mail_bot, COORDINATOR)
    address = re.fullmatch(r"<mailto:([^?]+)\?subject=unsubscribe>", digest["List-Unsubscribe"])
    assert address is not None
    msg = EmailMessage()
    msg["From"] = COORDINATOR
    msg["To"] = address[1]
    msg["Subject"] = "unsubscribe"
    msg["Message-ID"] = "<unsubscribe-1@mail.example>"
    msg.set_content("")

    await mail_bot.deliver(msg.as_bytes(policy=policy.SMTP))

    assert await digest_flag(mail_bot.store, COORDINATOR) is False


async def test_other_replies_to_a_digest_change_nothing(mail_bot: Bot) -> None:
    digest = await digest_mail(mail_bot, COORDINATOR)

    await mail_bot.deliver(
        gmail_reply(
            digest, sender=COORDINATOR, text="Thanks, very useful.", message_id="<thanks@x>"
        )
    )
    # Someone else presenting Jonas's digest key cannot unsubscribe him.
    await mail_bot.deliver(gmail_reply(digest, sender=ISU, text="STOP", message_id="<other@x>"))

    assert await digest_flag(mail_bot.store, COORDINATOR) is None  # still on, by role
    [pointer] = mail_bot.sent_to(COORDINATOR)
    assert "reply STOP" in part(pointer, "plain")
    assert mail_bot.sent_to(ISU) == []  # a refused sender is never answered
    [notice] = mail_bot.sent_to(ISU_DESK)
    assert "is not the person this digest was sent to" in part(notice, "plain")
    statuses = [row.status for row in await mail_bot.inbound()]
    assert statuses == [InboundStatus.PROCESSED, InboundStatus.REFUSED]
    async with mail_bot.store.transaction() as session:
        refused = await session.scalar(
            select(InboundMail).where(InboundMail.status == InboundStatus.REFUSED)
        )
        assert refused is not None
        assert refused.outcome is not None
        assert "is not the person this digest was sent to" in refused.outcome


def test_the_chart_fits_its_track() -> None:
    from bot.mail.digest_rendering import BAR_WIDTH, _bar_pixels, _text_bar

    assert [_bar_pixels(r) for r in (0.0, 0.125, 0.5, 1.0, 1.7, -1.0)] == [
        0,
        25,
        100,
        BAR_WIDTH,
        BAR_WIDTH,
        0,
    ]
    assert _text_bar(0.0) == "[" + "." * 20 + "]"
    assert _text_bar(1.0) == "[" + "#" * 20 + "]"
