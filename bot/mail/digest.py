"""The weekly digest by email: rendering, sending once per person and week, and replies to it.

``DigestService.run`` is what the timetable calls every few minutes: it works out which week's
digest is due (``handlers.digest.due_period``: the last complete week once the send time has
passed) and sends it to every subscriber who has not had it. The ledger (``storage.digest``)
makes that once per person and week across restarts, misfires and bot processes.

The email carries a reply token signed over the send's id (``storage.digest.digest_key``), in
Reply-To, Message-ID and the subject like a reminder, and a ``List-Unsubscribe`` mailto to the
same reply address: replying STOP, or a client's unsubscribe button, switches the digest off
(``answer_digest_reply``, called by ``bot.mail.inbound``). ``List-Unsubscribe-Post`` (RFC 8058
one-click) needs an HTTPS endpoint, which the bot does not have, so it is not claimed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.answers import answer_email
from bot.mail.body.reply import extract_reply
from bot.mail.compose import render_email
from bot.mail.tokens import reply_address_for, sign_token
from bot.mail.transports import MessageSender
from bot.settings import Settings
from handlers.digest import (
    Digest,
    DigestSchedule,
    SharedFacts,
    compose_digest,
    compose_summary,
    digest_switch,
    due_period,
    load_digest_facts,
    load_shared_facts,
    window_start,
)
from handlers.i18n import _
from handlers.replies import Reply
from handlers.turns import Speaker, speaker_for
from handlers.understanding._text import fold
from handlers.understanding.keywords import Intent
from handlers.understanding.reader import understand
from schedules.clock import Clock, Elapsed
from schedules.delivery import as_delivery_error, within_send_timeout
from schedules.periods import Period
from schedules.zones import resolve_zone
from storage.contacts import contact_by_email
from storage.db import Store
from storage.digest import (
    claim_digest,
    digest_key,
    digest_send_by_id,
    digest_send_id,
    digest_send_of,
    digest_subscribers,
    gets_digest,
    record_digest_failure,
    record_digest_sent,
    settled,
)
from storage.models import Contact, Role, Via
from storage.visibility import Viewer

__all__ = [
    "BAR_WIDTH",
    "DigestPreview",
    "DigestReplyOutcome",
    "DigestRun",
    "DigestService",
    "MessageSender",
    "SummaryPoster",
    "answer_digest_reply",
    "is_digest_key",
    "render_digest_email",
    "render_digest_html",
    "render_digest_text",
]

log = logging.getLogger(__name__)

BAR_WIDTH = 200  # pixels of a full bar: with its caption, fits a phone's 360-pixel screen
TEXT_BAR = 20  # characters of a full bar in the plain-text chart

SummaryPoster = Callable[[str], Awaitable[object]]
"""Posts the week's summary to the digest channel (wired to Slack by the composition root);
what it returns (a Slack ``ts``) is recorded as the post's id."""


def is_digest_key(key: int) -> bool:
    """Whether a verified reply-token key names a digest rather than a reminder."""
    return digest_send_id(key) is not None


# --- rendering --------------------------------------------------------------------------------


def _paragraphs(value: str) -> list[str]:
    return [part.strip("\n") for part in value.split("\n\n") if part.strip()]


def _nl2br(value: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in value.split("\n"))


def _bar_pixels(rate: float) -> int:
    return round(max(0.0, min(rate, 1.0)) * BAR_WIDTH)


def _text_bar(rate: float) -> str:
    filled = round(max(0.0, min(rate, 1.0)) * TEXT_BAR)
    return "[" + "#" * filled + "." * (TEXT_BAR - filled) + "]"


@cache
def _environment() -> Environment:
    # No gettext here: every word comes translated from handlers.digest.
    environment = Environment(
        loader=PackageLoader("bot.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["paragraphs"] = _paragraphs
    environment.filters["nl2br"] = _nl2br
    environment.filters["bar_pixels"] = _bar_pixels
    environment.filters["text_bar"] = _text_bar
    return environment


def _values(digest: Digest) -> dict[str, Any]:
    return {
        "language": digest.language,
        "subject": digest.subject,
        "intro": digest.intro,
        "sections": digest.sections,
        "chart": digest.chart,
        "footer": digest.footer,
        "bar_width": BAR_WIDTH,
    }


def render_digest_text(digest: Digest) -> str:
    """The plain-text part; a quiet week is its two lines."""
    if digest.quiet:
        return digest.intro + "\n"
    return _environment().get_template("digest.txt.j2").render(_values(digest))


def render_digest_html(digest: Digest) -> str:
    return _environment().get_template("digest.html.j2").render(_values(digest))


def render_digest_email(
    digest: Digest,
    *,
    to: str,
    sender: str,
    send_id: int,
    key: bytes,
    reply_domain: str,
    issued: date,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """The digest as an email: text and HTML (text only for a quiet week), keyed for replies.

    ``send_id`` and ``issued`` must be stable for one send (the DigestSend id and the digest's
    day): they make the token, hence the Message-ID, so a resend is recognised as the same mail.
    """
    message_key = digest_key(send_id)
    token = sign_token(message_key, key, issued)
    unsubscribe = f"mailto:{reply_address_for(token, reply_domain)}?subject=unsubscribe"
    # render_email sets the headers every bot mail shares (token, threading, Auto-Submitted);
    # the body is then replaced by the digest's own templates.
    msg = render_email(
        digest.reply(),
        to=to,
        sender=sender,
        message_key=message_key,
        key=key,
        reply_domain=reply_domain,
        issued=issued,
        list_unsubscribe=unsubscribe,
        sent_at=sent_at,
    )
    msg.clear_content()  # removes the payload and Content-* headers only
    msg.set_content(
        render_digest_text(digest), subtype="plain", charset="utf-8", cte="quoted-printable"
    )
    if not digest.quiet:
        msg.add_alternative(
            render_digest_html(digest), subtype="html", charset="utf-8", cte="quoted-printable"
        )
    msg["Content-Language"] = digest.language
    return msg


# --- sending ----------------------------------------------------------------------------------


@dataclass
class DigestRun:
    """What one run did, for logs and ``ccm-bot digest send``."""

    period: Period
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0  # already sent, being sent by another process, or waiting for a retry
    summary_posted: bool = False


@dataclass(frozen=True)
class DigestPreview:
    contact: Contact
    subscribed: bool
    digest: Digest
    message: EmailMessage


class NobodyToPreview(LookupError):
    """No digest to show: ``email`` names no contact, or (None) nobody is subscribed."""

    def __init__(self, email: str | None) -> None:
        super().__init__(email)
        self.email = email


@dataclass
class DigestService:
    """Sends the weekly digest; the composition root builds one and the timetable runs it."""

    store: Store
    sender: MessageSender
    clock: Clock
    mail_from: str
    signing_key: bytes
    reply_domain: str
    zone: ZoneInfo
    worker: str
    schedule: DigestSchedule = field(default_factory=DigestSchedule)
    post_summary: SummaryPoster | None = None
    summary_channel: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        store: Store,
        sender: MessageSender,
        clock: Clock,
        worker: str,
        schedule: DigestSchedule | None = None,
        post_summary: SummaryPoster | None = None,
    ) -> DigestService:
        return cls(
            store=store,
            sender=sender,
            clock=clock,
            mail_from=settings.mail_from,
            signing_key=settings.signing_key,
            reply_domain=settings.reply_domain,
            zone=resolve_zone(settings.timezone),
            worker=worker,
            schedule=schedule or DigestSchedule(),
            post_summary=post_summary,
            summary_channel=settings.digest_channel,
        )

    def due_period(self, now: datetime | None = None) -> Period:
        return due_period(now or self.clock.now(), self.zone, self.schedule)

    async def run(self, now: datetime | None = None) -> DigestRun:
        """Send the digest that is due now to whoever has not had it; safe to call any time."""
        moment = now or self.clock.now()
        return await self.send(self.due_period(moment), moment)

    async def run_logged(self) -> None:
        """The scheduled form: a failing run is logged and tried again at the next tick."""
        try:
            result = await self.run()
        except Exception:
            log.exception("weekly digest failed; it is tried again at the next tick")
            return
        if result.sent or result.failed:
            log.info(
                "digest for the week from %s: %d sent, %d failed",
                result.period.start.astimezone(self.zone).date(),
                len(result.sent),
                len(result.failed),
            )

    async def send(self, period: Period, now: datetime | None = None) -> DigestRun:
        """Send one week's digest to every subscriber who has not had it (once each)."""
        moment = now or self.clock.now()
        result = DigestRun(period)
        post, channel = self.post_summary, self.summary_channel
        async with self.store.transaction() as session:
            subscribers = await digest_subscribers(session)
            done, posted = await settled(session, period.start, moment)
            waiting = [c for c in subscribers if c.id not in done]
            result.skipped = len(subscribers) - len(waiting)
            summary_due = post is not None and bool(channel) and channel not in posted
            if not waiting and not summary_due:
                return result  # the usual check: everything went out already
            shared = await load_shared_facts(session, period, self.zone)
        # Each claim is stamped with the moment it is taken: its lease runs from its own send.
        elapsed = Elapsed(moment)
        for contact in waiting:
            await self._send_one(contact, shared, elapsed.now(), result)
        if summary_due and post is not None and channel:
            await self._post_summary(post, channel, shared, elapsed.now(), result)
        return result

    async def _send_one(
        self, contact: Contact, shared: SharedFacts, now: datetime, result: DigestRun
    ) -> None:
        period = shared.period
        async with self.store.transaction() as session:
            claimed = await claim_digest(
                session,
                contact_id=contact.id,
                period_start=period.start,
                period_end=period.end,
                worker=self.worker,
                now=now,
            )
        if claimed is None:
            result.skipped += 1
            return
        assert contact.email is not None  # digest_subscribers has an address for everyone
        try:
            async with self.store.transaction() as session:
                digest = await self._compose(session, contact, shared)
            msg = render_digest_email(
                digest,
                to=contact.email,
                sender=self.mail_from,
                send_id=claimed.id,
                key=self.signing_key,
                reply_domain=self.reply_domain,
                issued=shared.today,
                sent_at=now,
            )
            message_id = await within_send_timeout(self.sender.send_message(msg))
        except Exception as exc:
            failure = as_delivery_error(exc)
            if failure is exc:
                log.warning("digest to contact %s failed: %s", contact.id, failure)
            else:
                log.exception("digest to contact %s failed", contact.id)
            async with self.store.transaction() as session:
                await record_digest_failure(
                    session, claimed.id, self.worker, now, str(failure), permanent=failure.permanent
                )
            result.failed.append(contact.email)
            return
        async with self.store.transaction() as session:
            await record_digest_sent(session, claimed.id, self.worker, now, message_id)
        result.sent.append(contact.email)

    async def _compose(
        self, session: AsyncSession, contact: Contact, shared: SharedFacts
    ) -> Digest:
        speaker = await speaker_for(session, contact, self.zone.key)
        since = await window_start(session, contact.id, shared.period)
        facts = await load_digest_facts(session, Viewer.of(contact), shared, since)
        return compose_digest(facts, name=contact.name, language=speaker.language)

    async def _post_summary(
        self,
        post: SummaryPoster,
        channel: str,
        shared: SharedFacts,
        now: datetime,
        result: DigestRun,
    ) -> None:
        period = shared.period
        async with self.store.transaction() as session:
            claimed = await claim_digest(
                session,
                slack_channel=channel,
                period_start=period.start,
                period_end=period.end,
                worker=self.worker,
                now=now,
            )
        if claimed is None:
            return
        try:
            async with self.store.transaction() as session:
                # A shared channel is read as a delegate would: no coordinators-only item.
                facts = await load_digest_facts(
                    session, Viewer(Role.DELEGATE), shared, period.start
                )
            posted = await within_send_timeout(post(compose_summary(facts)))
        except Exception as exc:
            log.exception("digest summary to %s failed", channel)
            async with self.store.transaction() as session:
                await record_digest_failure(
                    session, claimed.id, self.worker, now, str(exc), permanent=False
                )
            return
        async with self.store.transaction() as session:
            await record_digest_sent(
                session, claimed.id, self.worker, now, posted if isinstance(posted, str) else None
            )
        result.summary_posted = True

    async def preview(self, period: Period, email: str | None = None) -> DigestPreview:
        """Exactly what a person gets for a week, composed without sending or recording.

        Without ``email``, the first subscriber's. Raises NobodyToPreview when there is nobody.
        """
        async with self.store.transaction() as session:
            if email is not None:
                contact = await contact_by_email(session, email)
                if contact is None or contact.forgotten_at is not None or not contact.email:
                    raise NobodyToPreview(email)
            else:
                subscribers = await digest_subscribers(session)
                if not subscribers:
                    raise NobodyToPreview(None)
                contact = subscribers[0]
            shared = await load_shared_facts(session, period, self.zone)
            digest = await self._compose(session, contact, shared)
            sent = await digest_send_of(session, contact.id, period.start)
        assert contact.email is not None
        message = render_digest_email(
            digest,
            to=contact.email,
            sender=self.mail_from,
            send_id=sent or 0,
            key=self.signing_key,
            reply_domain=self.reply_domain,
            issued=shared.today,
            sent_at=self.clock.now(),
        )
        return DigestPreview(contact, gets_digest(contact), digest, message)


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestReplyOutcome:
    """What ``bot.mail.inbound`` records and mails for a reply to a digest.

    ``refused`` is a reason marked for translation (with ``values``) when the reply is refused.
    """

    text: str
    mails: tuple[EmailMessage, ...] = ()
    refused: str | None = None
    values: dict[str, str] = field(default_factory=dict)


def _subject_of(msg: EmailMessage) -> str:
    try:
        return str(msg.get("Subject", ""))
    except Exception:  # a hostile header must not stop mail processing
        return ""


def _message_id_of(msg: EmailMessage) -> str | None:
    try:
        value = msg.get("Message-ID")
    except Exception:
        return None
    if value is None:
        return None
    return " ".join(str(value).split())[:998] or None


def _from_address(msg: EmailMessage) -> str:
    try:
        return parseaddr(str(msg.get("From", "")))[1] or "?"
    except Exception:
        return "?"


def wants_out(text: str, subject: str, speaker: Speaker, now: datetime) -> bool:
    """STOP (in any of our languages, or "please unsubscribe me"), or a client's unsubscribe."""
    if "unsubscribe" in fold(subject):
        return True
    understood = understand(text, today=speaker.today(now), default_language=speaker.language)
    return understood.intent is Intent.STOP


async def answer_digest_reply(
    session: AsyncSession,
    key: int,
    speaker: Speaker | None,
    msg: EmailMessage,
    *,
    settings: Settings,
    inbound_id: int,
    now: datetime,
) -> DigestReplyOutcome:
    """A reply to a digest: STOP switches the digest off; anything else gets a short pointer."""
    send_id = digest_send_id(key)
    send = await digest_send_by_id(session, send_id) if send_id is not None else None
    if send is None or send.contact_id is None:
        return DigestReplyOutcome("", refused=_("its conversation key names no message"))
    if speaker is None or speaker.contact_id != send.contact_id or not speaker.email:
        return DigestReplyOutcome(
            "",
            refused=_("{sender} is not the person this digest was sent to"),
            values={"sender": _from_address(msg)},
        )
    t = speaker.t
    stop = wants_out(extract_reply(msg).text, _subject_of(msg), speaker, now)
    if stop:
        reply = await digest_switch(session, speaker, False, now=now, via=Via.EMAIL)
    else:
        reply = Reply(
            t.language,
            t.gettext("Weekly digest"),
            t.gettext(
                "To stop the weekly digest, reply STOP. For anything else, answer one of your "
                "reminders or write to the ISU."
            ),
        )
    email = answer_email(
        reply,
        settings=settings,
        to=speaker.email,
        message_key=key,
        issued=speaker.today(now),
        in_reply_to=_message_id_of(msg),
        inbound_id=inbound_id,
        now=now,
    )
    what = "digest switched off" if stop else "pointed to STOP"
    return DigestReplyOutcome(f"reply to digest #{send.id} from {speaker.email}: {what}", (email,))
